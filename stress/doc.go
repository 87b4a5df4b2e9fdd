// Package stress holds the ZeroBuffer stress suites. It has no API: it is
// run with go test, and every suite runs once per notifier the ring offers
// (ring.NotifierNames), so a new notifier joins the suites by being
// registered there.
//
// # Running
//
// The default budget is short, for CI:
//
//	GORACE=atexit_sleep_ms=0 go test -race -count=1 ./stress/...
//
// Long runs raise the budget and lift go test's timeout:
//
//	ZB_STRESS_DURATION=1h GORACE=atexit_sleep_ms=0 go test -race -timeout 0 ./stress/...
//	ZB_STRESS_DURATION=30s go test -count=1 -v ./stress/...   # no race detector: more frames
//
// Add -v to see the figures each suite logs (frames, bytes, frames/s, MB/s,
// wraps, wrap markers, early wraps, wasted tail bytes, held frames, pauses)
// and -run to pick suites and notifiers, e.g.
// -run 'TestStreamRandomSizes/futex/'.
//
// # Knobs
//
//   - ZB_STRESS_DURATION (a Go duration, default 2s) is the time budget of
//     each streaming suite for each notifier. A suite with several legs
//     (goroutine pair, process pair with the child writing, process pair
//     with the child reading) or several profiles splits the budget evenly
//     between them. The fault-injection and churn suites do not depend on
//     it: they run a fixed scenario (churn: 1,000 cycles per notifier, then a
//     connect race against 200 reader instances, 100 under the race
//     detector).
//   - ZB_STRESS_SEED (an unsigned integer, default time-based) seeds every
//     random choice: frame sizes and contents, ring sizes, pauses, hold and
//     release orders. Every test logs the seed (t.Logf, so go test prints it
//     with a failure, and with -v); each test derives its own seed from it
//     and its name, so one test reruns alone with the same choices:
//     ZB_STRESS_SEED=1234 go test -race -run 'TestStreamReserveHold/semaphore/proc-writer' ./stress.
//     Thread scheduling is not reproducible; the choices are.
//
// # Suites
//
//   - TestStreamRandomSizes: frames of random sizes (1 B to a third of the
//     ring) through small rings (4-16 KiB), so that wrap markers, wasted
//     tails and early wraps happen all the time; the payload of frame s of
//     n bytes is a stream derived from (seed, s, n) and the reader checks
//     every byte, every sequence number and every size: nothing lost,
//     duplicated or torn. Legs: goroutine pair, process pair with the child
//     as writer, process pair with the child as reader (the test binary
//     re-executes itself with ZB_STRESS_CHILD set).
//   - TestStreamPauses: the same with a slow reader and a fast writer, then
//     a fast reader and a slow writer (random pauses of 1 µs to 1 ms).
//   - TestStreamReserveHold: Reserve/Commit with random delays and slow
//     fills between them; the reader holds up to 8 frames and releases them
//     in random order, checking each again just before its release (a
//     writer that reused held bytes would show there).
//   - TestMemoryOrdering: frames are arrays of u64 fields (field i =
//     f(seq, i)) stored in order with plain stores straight into the
//     reserved slot; the reader checks them last field first, so it never
//     accepts a later field without the earlier ones.
//   - TestFaults: real processes. SIGKILL of the writer between Reserve
//     and Commit, in the middle of filling a large slot byte by byte, and
//     while blocked on a full ring; SIGKILL of the reader while it holds
//     frames and while it waits. The survivor reports ErrWriterDead or
//     ErrReaderDead (well within 30 s, at a 20 ms liveness interval), never
//     returns a torn or uncommitted frame, and a new reader then takes the
//     name and streams with a new writer. SIGSTOP of either peer: the other
//     side sees its waits time out, never a death, and after SIGCONT the
//     stream finishes intact. Children are coordinated through the lines
//     they print (state, not timing) and always reaped.
//   - TestChurn: create/connect/write/read/close cycles on a few reused
//     names, then a writer goroutine connecting in a loop while readers
//     come and go (it gets ErrBufferNotFound, ErrReaderDead or a working
//     writer, never a panic or a hang). Afterwards no files of those names
//     are left in /dev/shm or /tmp/zerobuffer, no descriptors, goroutines
//     or child processes.
//
// No test judges speed: every time bound is a hang guard. TestMain also
// checks, after all tests, that no file named with this run's prefix
// (zbtest-stress-PID-) is left and that no goroutine or child process
// survived.
package stress
