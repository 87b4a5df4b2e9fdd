// Package ring is the ZeroBuffer ring buffer: one writer process and one
// reader process exchanging frames through POSIX shared memory, with no
// copy on the way, byte-compatible with the C++, C# and Python
// implementations of protocol v1.0.0.
//
// # What a buffer is
//
// A buffer named N is a shared-memory segment (/dev/shm/N) holding a
// 128-byte control block (the OIEB, see package layout), a metadata block
// the writer fills once, and the ring of frames: each frame is a 16-byte
// header (payload size, sequence number) and its payload, and a frame that
// does not fit before the end of the ring is preceded by a wrap marker.
// Beside the segment live the notifier's resources (for the default
// notifier, the named semaphores sem-w-N and sem-r-N) and the reader's lock
// file /tmp/zerobuffer/N.lock; BufferFiles names them. The README's
// sections "Files it creates" and "Limits" list them and the protocol's
// corner cases.
//
// # Who creates and removes it
//
// The reader owns the buffer. NewReader creates every file (after removing
// what dead readers of any name left behind, CleanupStale), builds the
// segment under a hidden name and links it into place only when complete,
// and Close removes everything. Connect attaches a writer to a buffer a live
// reader created; the writer's Close leaves the files alone. One reader and
// one writer at a time: a second of either fails with
// ErrReaderAlreadyConnected or ErrWriterAlreadyConnected while the first
// lives.
//
// # The reader's life
//
// NewReader, then ReadFrame in a loop: each call waits (its context carries
// the timeout) for the next frame and returns a Frame whose Bytes point into
// the shared memory. Frames may be held and released in any order; their
// space returns to the writer in ring order, in batches, as they are
// released (WithUnbatchedRelease returns each at once). Metadata returns what the writer stored in the metadata block
// (nil until it has).
//
// # The writer's life
//
// Connect (it adopts the reader's notifier, see below), SetMetadata once,
// then WriteFrame to copy a frame in, or Reserve and Commit to fill a frame
// in place. A writer that finds no room waits for the reader, up to the
// write timeout (WithWriteTimeout), then fails with ErrBufferFull.
//
// # Guarantees
//
//   - Zero copy: a read frame is a slice of the mapping; a reserved frame is
//     filled in place.
//   - No heap allocation per frame on WriteFrame, Reserve, Commit,
//     ReadFrame and Release.
//   - Order: frames are read in the order they were committed, each with
//     the next sequence number; a frame is never handed out before its
//     commit, and its space is never reused while the reader holds it.
//   - A dead peer is noticed within the liveness interval
//     (WithLivenessInterval, 100 ms by default): the reader gets
//     ErrWriterDead (or ErrWriterClosed once a closed writer's frames are
//     read), the writer ErrReaderDead. PIDs are checked with their start
//     times, so a reused PID does not pass for the peer.
//   - Bad input — a corrupt control block, a hostile frame header, a bad
//     name — yields an error value that errors.Is matches (ErrCorrupt,
//     ErrSequence, ErrInvalidName, …), never a panic or a read outside the
//     mapping; after a corrupt frame the reader stops rather than guess.
//
// A Reader and a Writer are each for one goroutine at a time.
//
// # Wait strategies
//
// How each side sleeps and wakes the other is a Notifier (package notify,
// where strategies register, including ones defined outside this module;
// docs/writing-a-notifier.md is the guide). The default,
// POSIX named semaphores, is the protocol's own and interoperates with the
// other implementations; the futex and spin families (packages sync/futex
// and sync/spin) are for Go-to-Go buffers. The reader chooses one with
// WithNotifier and records it in the control block, and a writer adopts it
// when it connects; NotifierNames lists those linked into the program and
// NewNotifier makes one by name.
package ring
