// Package ring is the ZeroBuffer protocol's state machine over a mapped
// shared-memory segment: a Reader creates a buffer (segment, lock file,
// the notifier's resources) and receives frames as slices of the shared
// memory; a Writer connects to it by name and sends frames, by copy
// (WriteFrame) or in place (Reserve, Commit). One reader and one writer
// per buffer, in two processes or two goroutines, with any of the other
// implementations (C++, C#, Python) on the other side in the default,
// POSIX-semaphore mode.
//
// How a side waits for the other is a Notifier (package notify): the
// reader chooses it (WithNotifier; POSIX semaphores by default) and
// records it in the buffer, and a writer adopts it. BufferFiles names the
// files a buffer is made of; CleanupStale removes those of dead readers.
//
// Errors are values to test with errors.Is and errors.As (see the Err
// variables, SequenceError and CorruptionError). Frames cost no heap
// allocation on either side.
package ring
