//go:build linux

package semaphore

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
)

// DataName is the semaphore the writer posts once per committed frame and
// the reader waits on: "sem-w-" + buffer.
func DataName(buffer string) string { return "sem-w-" + buffer }

// SpaceName is the semaphore the reader posts once per released frame and
// the writer waits on: "sem-r-" + buffer.
func SpaceName(buffer string) string { return "sem-r-" + buffer }

// Option configures a Notifier.
type Option func(*Notifier)

// WithSpin sets how long each wait polls in user space before sleeping in
// the kernel (0 disables spinning; the default is DefaultSpin). A longer
// spin saves system calls on both sides when the peer is busy, at the cost
// of CPU while it is idle.
func WithSpin(d time.Duration) Option {
	return func(n *Notifier) {
		if d < 0 {
			d = 0
		}
		n.spin = d
	}
}

// Notifier is the v1 protocol's notifier: two named POSIX semaphores per
// buffer, counted. It is a notify.Notifier, registered as "semaphore"
// (kind 0).
//
// A Notifier serves one side of one buffer and is used by one goroutine at
// a time; its counters (Stats) are read from that goroutine or after it
// stopped.
type Notifier struct {
	data  *Sem // DataName: writer posts, reader waits
	space *Sem // SpaceName: reader posts, writer waits
	spin  time.Duration
	held  uint32 // data posts taken from the semaphore, not yet handed out
	// spaceTaken counts the space posts this (writer) side consumed: by
	// waiting and by draining. See SpacePosts.
	spaceTaken uint64
	stats      notify.Stats
}

// New returns a Notifier that is not yet attached to a buffer; the ring
// calls Create (reader) or Open (writer).
func New(opts ...Option) *Notifier {
	n := &Notifier{spin: DefaultSpin}
	for _, o := range opts {
		o(n)
	}
	return n
}

// Word returns 0: POSIX semaphores, the notifier of protocol v1.
func (n *Notifier) Word() uint64 { return Kind.Word(0) }

// Create creates both semaphores of buffer name with value 0 (reader side).
// If either exists, it fails with an error wrapping os.ErrExist and leaves
// nothing of its own behind; the ring removes stale semaphores with Remove
// first. oieb is not used: the semaphores live outside the segment.
func (n *Notifier) Create(name string, _ *layout.OIEB, perm os.FileMode) error {
	if n.data != nil || n.space != nil {
		return errors.New("semaphore: notifier already attached")
	}
	data, err := Create(DataName(name), 0, perm)
	if err != nil {
		return fmt.Errorf("create data semaphore: %w", err)
	}
	space, err := Create(SpaceName(name), 0, perm)
	if err != nil {
		// Undo only what this call made.
		_ = data.Close()
		_ = Unlink(DataName(name))
		return fmt.Errorf("create space semaphore: %w", err)
	}
	n.attach(data, space)
	return nil
}

// Open opens both semaphores of buffer name (writer side). A missing one
// gives an error wrapping os.ErrNotExist.
func (n *Notifier) Open(name string, _ *layout.OIEB) error {
	if n.data != nil || n.space != nil {
		return errors.New("semaphore: notifier already attached")
	}
	data, err := Open(DataName(name))
	if err != nil {
		return fmt.Errorf("open data semaphore: %w", err)
	}
	space, err := Open(SpaceName(name))
	if err != nil {
		_ = data.Close()
		return fmt.Errorf("open space semaphore: %w", err)
	}
	n.attach(data, space)
	return nil
}

func (n *Notifier) attach(data, space *Sem) {
	data.SetSpin(n.spin)
	space.SetSpin(n.spin)
	n.data, n.space = data, space
}

// Remove unlinks both semaphores of buffer name; absent ones are fine.
func (n *Notifier) Remove(name string) error {
	return errors.Join(Unlink(DataName(name)), Unlink(SpaceName(name)))
}

// WaitData consumes one post of the writer. ready is ignored: the count
// is the protocol, one post per frame. When several posts are waiting it
// takes them all in one compare-and-swap and hands them out from a local
// count, as that many sem_waits would: a reader behind its writer then
// touches the semaphore once per run of frames, not once per frame.
func (n *Notifier) WaitData(_ func() bool, timeout time.Duration) (bool, error) {
	if n.data == nil {
		return false, ErrClosed
	}
	if n.held > 0 {
		n.held--
		n.stats.Waits++
		n.stats.WaitsAtOnce++
		return true, nil
	}
	if taken := n.data.Drain(0); taken > 0 {
		n.held = taken - 1
		n.stats.Waits++
		n.stats.WaitsAtOnce++
		return true, nil
	}
	return n.data.wait(timeout, &n.stats)
}

// Stats returns the counters of this side's waits and posts (see
// notify.Stats). A data wait served from the tokens an earlier wait
// drained counts as found at once; a space post skipped because a token
// is still there counts as a skipped wake.
func (n *Notifier) Stats() notify.Stats { return n.stats }

// PostData signals one committed frame.
//
// It also bounds the space semaphore, which only
// this writer ever waits on: a reader of the other implementations posts it
// once per released frame whether or not the writer waits, so its value
// climbs by about one per frame and would reach SEM_VALUE_MAX (EOVERFLOW in
// the reader's sem_post) after 2^31 frames. Tokens beyond one are worth
// nothing to the writer: it re-checks the free bytes after every wait, and
// what a consumed post announced is already in them.
func (n *Notifier) PostData() error {
	if n.data == nil {
		return ErrClosed
	}
	// One load per frame; the line is only written when the reader
	// posts, which our own reader does only when the value is 0.
	if n.space.Value() > drainAbove {
		n.spaceTaken += uint64(n.space.Drain(drainAbove))
	}
	return n.data.post(&n.stats)
}

// SpacePosts is the number of posts the space semaphore has had since this
// side opened it: those it consumed and those still there. A reader that
// follows the protocol posts once per released frame, so a writer can
// count the frames it has released (ring.Writer does, for readers of the
// other implementations). A post racing the call may be missed: the count
// is never ahead.
func (n *Notifier) SpacePosts() uint64 {
	if n.space == nil {
		return n.spaceTaken
	}
	return n.spaceTaken + uint64(n.space.Value())
}

// drainAbove is the most tokens the writer leaves in the space semaphore.
const drainAbove = 1

// WaitSpace consumes one post of the reader. ready is ignored; the ring
// checks the free space again after each consumed post.
func (n *Notifier) WaitSpace(_ func() bool, timeout time.Duration) (bool, error) {
	if n.space == nil {
		return false, ErrClosed
	}
	ok, err := n.space.wait(timeout, &n.stats)
	if ok {
		n.spaceTaken++
	}
	return ok, err
}

// PostSpace signals one released frame — unless the semaphore already
// holds a token. The writer only needs to learn that space was freed since
// it last looked: a token still unconsumed tells it so, because the ring
// adds the freed bytes before calling PostSpace and the writer re-reads
// them after each consumed token. A writer sleeping on the semaphore saw
// the value 0, so this post is not skipped for it. Skipping keeps the
// value at most 1 (it never creeps towards SEM_VALUE_MAX when the writer
// rarely waits), and spares a compare-and-swap on the shared word per
// frame.
func (n *Notifier) PostSpace() error {
	if n.space == nil {
		return ErrClosed
	}
	if n.space.Value() != 0 {
		n.stats.WakesSkipped++
		return nil
	}
	return n.space.post(&n.stats)
}

// WriterWaiting reports whether a writer is registered as a waiter on the
// space semaphore (asleep in sem_wait, or about to be).
func (n *Notifier) WriterWaiting() bool {
	return n.space != nil && n.space.Waiters() != 0
}

// Close unmaps both semaphores; the names stay until Remove. Closing twice
// is a no-op.
func (n *Notifier) Close() error {
	var errs []error
	if n.data != nil {
		errs = append(errs, n.data.Close())
		n.data = nil
	}
	if n.space != nil {
		errs = append(errs, n.space.Close())
		n.space = nil
	}
	return errors.Join(errs...)
}
