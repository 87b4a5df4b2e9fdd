// Package stress holds the ZeroBuffer stress suites, for any registered
// notifier: this module's and one written elsewhere. A caller runs them
// from its own go test, like testing/fstest's TestFS:
//
//	package mynotifier_test
//
//	import (
//		"testing"
//
//		"github.com/zerobuffer/zerobuffer-go/stress"
//		_ "example.com/mynotifier" // registers the notifier "mine"
//	)
//
//	// Main plays the child roles of the two-process legs (the test binary
//	// re-executes itself) and checks for leftovers after the tests.
//	func TestMain(m *testing.M) { stress.Main(m) }
//
//	func TestStress(t *testing.T) {
//		stress.All(t, stress.Options{Notifiers: []string{"mine", "semaphore"}})
//	}
//
// # API
//
//   - All runs every suite as a subtest named after it; RandomSizes,
//     Pauses, ReserveHold, MemoryOrdering, Faults and Churn run one each.
//     Each takes the *testing.T to run in and Options: the notifiers by
//     name (empty: every one registered, ring.NotifierNames), the time
//     budget and the seed (zero: the knobs below). A notifier is only
//     known once the package that registers it is linked in: import it,
//     with _ if nothing else uses it.
//   - Main is the TestMain of a package that runs the suites. The
//     two-process legs start the test binary again, with ZB_STRESS_CHILD
//     naming the child's role; Main plays the role instead of running the
//     tests. Otherwise it runs the tests and then fails the run if a file
//     of the suites' buffers (zbtest-stress-PID-N) is left in /dev/shm or
//     /tmp/zerobuffer, or a child process or goroutine outlived them.
//   - RunChild is for a TestMain of one's own: it plays the child role
//     and exits when there is one, and returns at once otherwise. A test
//     binary that does neither fails the two-process legs with a message
//     saying so.
//
// The suites fail the test they are given (require), so call them from
// the test goroutine; Churn compares the process's descriptors,
// goroutines and children before and after, so do not run it in parallel
// with other tests. This module's own stress tests (stress_test.go) are
// such a caller, over every notifier of the module.
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
// -run 'TestStreamRandomSizes/futex/'. The same works in a caller's
// package, with its own test names (-run 'TestStress/Faults/mine/').
//
// # Knobs
//
// Options.Duration and Options.Seed, when set, take the place of these.
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
// Below, each suite by its function (and the test of this module that
// calls it).
//
//   - RandomSizes (TestStreamRandomSizes): frames of random sizes (1 B to a
//     third of the ring) through small rings (4-16 KiB), so that wrap
//     markers, wasted tails and early wraps happen all the time; the
//     payload of frame s of n bytes is a stream derived from (seed, s, n)
//     and the reader checks every byte, every sequence number and every
//     size: nothing lost, duplicated or torn. Legs: goroutine pair, process
//     pair with the child as writer, process pair with the child as reader
//     (the test binary re-executes itself with ZB_STRESS_CHILD set).
//   - Pauses (TestStreamPauses): the same with a slow reader and a fast
//     writer, then a fast reader and a slow writer (random pauses of 1 µs
//     to 1 ms).
//   - ReserveHold (TestStreamReserveHold): Reserve/Commit with random
//     delays and slow fills between them; the reader holds up to 8 frames
//     and releases them in random order, checking each again just before
//     its release (a writer that reused held bytes would show there).
//   - MemoryOrdering (TestMemoryOrdering): frames are arrays of u64 fields
//     (field i = f(seq, i)) stored in order with plain stores straight into
//     the reserved slot; the reader checks them last field first, so it
//     never accepts a later field without the earlier ones.
//   - Faults (TestFaults): real processes. SIGKILL of the writer between
//     Reserve and Commit, in the middle of filling a large slot byte by
//     byte, and while blocked on a full ring; SIGKILL of the reader while
//     it holds frames and while it waits. The survivor reports
//     ErrWriterDead or ErrReaderDead (well within 30 s, at a 20 ms liveness
//     interval), never returns a torn or uncommitted frame, and a new
//     reader then takes the name and streams with a new writer. SIGSTOP of
//     either peer: the other side sees its waits time out, never a death,
//     and after SIGCONT the stream finishes intact. Children are
//     coordinated through the lines they print (state, not timing) and
//     always reaped.
//   - Churn (TestChurn): create/connect/write/read/close cycles on a few
//     reused names, then a writer goroutine connecting in a loop while
//     readers come and go (it gets ErrBufferNotFound, ErrReaderDead or a
//     working writer, never a panic or a hang). Afterwards no files of
//     those names are left in /dev/shm or /tmp/zerobuffer, no descriptors,
//     goroutines or child processes.
//
// No test judges speed: every time bound is a hang guard.
package stress
