// Package notifytest checks a wait strategy against the notify.Notifier
// contract, in the manner of testing/fstest.TestFS and
// golang.org/x/net/nettest.TestConn: one call runs the whole contract
// against any registered strategy, this module's or anyone's.
//
//	func TestMain(m *testing.M) { notifytest.Main(m) }
//
//	func TestConformance(t *testing.T) { notifytest.Run(t, "unix-dgram") }
//
// Run drives the two sides of one buffer over a real shared-memory
// segment holding an OIEB and a payload area, without a ring: the reader
// side is notify.New(name) attached with Create, the writer side is
// rebuilt from the recorded word (notify.FromWord) and attached with Open,
// in a goroutine of the test or in a child process. The child is the test
// binary itself, re-executed: the package's TestMain must let Main (or
// ServeChild, for a TestMain of its own) play the child's part.
//
// Events mirror the ring's use: a data event is "payload written, written
// count + 1, then PostData", consumed by exactly one WaitData; a space
// event is "free units + 1, then PostSpace", and the space waiter waits
// while its condition is false. The subtests:
//
//   - word: the notifier's Word parses, names the strategy, and FromWord
//     rebuilds a notifier with the same word.
//   - post-before-wait, wait-before-post (goroutines, processes): no post
//     is lost, whichever comes first.
//   - deadline: a wait with nothing posted ends with (false, nil) at its
//     timeout; a timeout of 0 polls once.
//   - coalescing: every data post is delivered exactly once, without
//     sleeping, and no more; space posts may coalesce, but leave nothing
//     over for a condition that does not hold.
//   - writer-waiting: WriterWaiting is false while nobody waits, and after
//     the wait; with ReportsWriterWaiting it must become true while the
//     writer sleeps for space.
//   - close-while-waiting (goroutines, processes): a peer's Close ends the
//     other side's wait by its timeout at the latest, with no event and no
//     error; Close is idempotent; a closed notifier refuses to post.
//   - stream (window 64 and window 1, goroutines, processes): a producer
//     and a consumer race posts against waits for many events, each
//     carrying a payload written with plain stores before the post; a lost
//     wake-up stalls a wait until the hang guard, and a visibility gap
//     fails the payload check.
//   - remove: after Close and Remove, nothing of the buffer's is left in
//     /dev/shm, and a second Remove succeeds.
//
// Nothing is judged on speed. A wait that must end is given the hang guard
// (HangGuard, a minute by default) as its timeout, and one that lasts all
// of it lost its wake-up, whatever it returns: a conditional notifier
// checks its condition once more at the timeout and would otherwise hide
// the loss.
//
// A subtest removes its buffer from /dev/shm when a check fails, when the
// notifier panics (in the test's goroutine, a helper goroutine or a child
// process), and when a wait in a helper goroutine or a child ignores its
// timeout: that fails the subtest twice the hang guard after the test
// stopped waiting for it, the child is killed, and the goroutine keeps its
// mapping while the buffer's names are removed. A wait in the test's own
// goroutine that never returns still hangs the test until go test's
// -timeout ends the binary, with no cleanup.
//
// The package sits beside notify, not above the ring: it imports notify,
// layout and the module's internal shared-memory helper, never ring, so
// a strategy is checked on its own and the ring's tests cannot mask it.
// Its own tests check it by mutation: each subtest fails on a notifier
// with the defect it exists to catch.
package notifytest
