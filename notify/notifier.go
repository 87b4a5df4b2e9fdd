package notify

import (
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

// Notifier is the seam between the ring and a wait strategy. The ring knows
// when to wake the other side and what it waits for; a Notifier knows how.
//
// There are two directions: "data available" (the writer posts after each
// committed frame, the reader waits before each frame) and "space
// available" (the reader posts when it returns released space, the writer
// waits while the ring lacks room).
//
// A Notifier value serves one side of one buffer and is used by one
// goroutine at a time. Its life:
//
//   - The reader calls Create once, after initialising the OIEB and before
//     recording its PID; the writer calls Open once, after validating the
//     OIEB. Both get the buffer's name and the OIEB view; perm is the mode
//     for any file the notifier creates.
//   - Then, on the hot path: the writer calls PostData exactly once per
//     committed frame and WaitSpace while it lacks room; the reader calls
//     WaitData exactly once before each frame it reads, and PostSpace once
//     each time it returns released space to the OIEB — in batches of
//     frames, and always before it waits itself or when WriterWaiting
//     says the writer may be asleep for space.
//   - Close releases what Create or Open acquired in this process; the
//     reader's ring then removes the named resources with Remove.
//
// The contract of the waits, which notifytest.Run checks:
//
//   - Wait returns (true, nil) when it consumed an event: for a counting
//     notifier (POSIX semaphores) one post of the peer; for a conditional
//     notifier (futex, spin) an observation that ready() is true. A counting
//     notifier's WaitData is waited exactly once per posted frame, so ready
//     may be ignored there; WaitSpace's ready may still be false after a
//     consumed event, and the ring checks it again.
//   - Wait returns (false, nil) when timeout elapsed first (timeout 0:
//     poll once, never sleep), or earlier when the peer closed. Timeouts
//     are the ring's liveness interval, so a dead peer is noticed.
//   - ready is called from the waiting goroutine only and must be cheap;
//     it loads OIEB fields atomically.
//   - Everything the poster wrote before Post (the frame, the OIEB fields)
//     is visible to the waiter after a Wait that returns true.
//   - A post is never lost: a post that happens before or during a wait
//     lets that wait (or the next one) return true.
//   - Errors are for broken resources (a failed system call, a notifier
//     used after Close), never for a timeout.
//
// The hot-path methods (the waits, the posts, WriterWaiting) should not
// allocate: the ring promises zero allocations per frame.
type Notifier interface {
	// Word is what the reader records in OIEB Reserved[0] (reserved_1):
	// the notifier's kind and its one parameter, encoded by Kind.Word.
	// The word 0 means POSIX semaphores, the v1 protocol's own notifier.
	// A writer that adopts its reader's notifier rebuilds it from this
	// word (see FromWord), so it must carry every parameter both sides
	// need to agree on.
	Word() uint64
	// Create makes the notifier's resources for buffer name (reader side).
	Create(name string, oieb *layout.OIEB, perm os.FileMode) error
	// Open attaches to the resources the reader created (writer side).
	Open(name string, oieb *layout.OIEB) error
	// Remove deletes the named resources of buffer name, if any. It is
	// called by the reader on Close and during stale cleanup, and must
	// succeed when the resources do not exist.
	Remove(name string) error
	// WaitData waits for the writer's next post (reader side).
	WaitData(ready func() bool, timeout time.Duration) (bool, error)
	// PostData signals one committed frame (writer side).
	PostData() error
	// WaitSpace waits for the reader's next post (writer side).
	WaitSpace(ready func() bool, timeout time.Duration) (bool, error)
	// PostSpace signals that the reader returned space (reader side).
	PostSpace() error
	// WriterWaiting reports whether the writer may be asleep waiting for
	// space (reader side), so the reader returns space at once instead
	// of batching it. A notifier that cannot tell returns false: the
	// reader still returns space in bounded batches and before it waits.
	WriterWaiting() bool
	// Close releases this process's hold on the resources. Closing twice
	// is a no-op.
	Close() error
}
