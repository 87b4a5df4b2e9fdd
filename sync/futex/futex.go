// Package futex is a ZeroBuffer notifier over futex words kept in the
// buffer's own control block: no named resources, no system call while
// both sides are busy. It speaks only to Go peers (the C++, C# and Python
// implementations wait on POSIX semaphores); a reader using it creates no
// semaphores, so a foreign writer fails to connect instead of hanging.
//
// # Words
//
// The OIEB's notifier area (0x68-0x7f, layout.OIEB.NotifierWord32) holds,
// per direction, a sequence word and a waiter count:
//
//	word 0  data sequence      the reader sleeps on it; the writer bumps it
//	word 1  data sleeper       1 while the reader is (about to be) asleep
//	word 2  space sequence     the writer sleeps on it; the reader bumps it
//	word 3  space sleeper      1 while the writer is (about to be) asleep
//	word 4  writer closes      bumped by each writer's Close
//	word 5  reader closes      bumped by the reader's Close
//
// A Close bumps its count and wakes the peer, whose wait then returns
// false at once (rather than at its timeout) so the ring looks at the
// closer's liveness. Any other wake-up without the condition holding (a
// bump meant for an earlier wait) sends the waiter back to sleep.
//
// The futexes are shared (no FUTEX_PRIVATE_FLAG): the peers are processes.
//
// # Why no wake-up is lost
//
// A waiter reads the sequence, raises its sleeper flag, and checks its
// condition (e.g. the OIEB's written count moved) before it sleeps on the
// sequence value it read. A poster first publishes (the OIEB store the
// condition reads), then reads the flag, and only if it is raised takes it
// (swaps it to 0), bumps the sequence and calls FUTEX_WAKE. All of these
// are sequentially consistent atomics, so either the waiter's check sees
// the publication, or the poster's read sees the flag; in the second case
// the bump happens after the waiter read the sequence, so its FUTEX_WAIT
// either fails at once (the value changed) or is woken. The flag may also
// be taken by a late post of an earlier frame (one the waiter already
// consumed) between the waiter raising it and sleeping: that poster's bump
// then also comes after the waiter's read of the sequence, so the waiter
// does not sleep on it and raises the flag again. (With the sequence read
// after the flag instead, that late post could bump it in between and the
// waiter would sleep on the new value with no flag raised, missing the
// next post: package model's FlagBeforeSeqLoad mutant.) While nobody
// sleeps, a post costs one atomic load and no system call; and since the
// first poster takes the flag, a sleep costs one FUTEX_WAKE however many
// posts arrive before the woken waiter runs again (on a loaded machine
// that can be milliseconds). Each direction has one waiter: the ring is
// single-producer, single-consumer.
//
// # Hybrid
//
// NewHybrid first polls the condition for a budget (pausing between
// polls), and only then registers and sleeps: a busy peer is met without
// any system call on either side, and an idle one costs the budget's CPU
// per wait. On this project's 2-core VMs a budget below about 20 µs often
// expires while the peer is still producing, so the waiter sleeps, the
// poster pays a FUTEX_WAKE, and the two fall into lock-step sleeping; the
// default budget is 50 µs.
//
// # Adaptive
//
// NewAdaptive chooses the budget per wait from the gaps between the
// events it has consumed, as adaptive mutexes choose their spin count
// from past spins. It keeps an exponentially weighted moving average of
// the gaps (each gap moves it by 1/8; a gap counts as at most twice the
// largest budget; events found at the first look are counted, not timed,
// and the next timed event's gap is spread over them). While the mean
// gap is within the largest budget (default 50 µs, like the hybrid's), a
// wait that misses its first look spins for twice the mean gap, at least
// MinAdaptiveSpin (10 µs, about what a sleep and its wake-up cost) and at
// most the largest budget, then sleeps on the futex; beyond, it sleeps at
// once, as New does, except that one wait in 64 of those spins the
// largest budget, so that a mean inflated by the sleepers' own wake-up
// latency can come down. Busy peers so meet the hybrid's behaviour
// (spin, no system call), and peers whose events are further apart than
// the largest budget on average meet the futex's (no CPU spent spinning
// for a frame that is far off).
//
// # Counters
//
// Each Notifier counts its waits and posts in plain fields (notify.Stats,
// through Stats): the waits that found the condition at once, spun, or
// slept; the FUTEX_WAIT calls and the wake-ups that found the condition
// still false; the polls spun; the FUTEX_WAKE calls made, and the posts
// that made none because the peer's sleeper flag was down.
package futex

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	ifutex "github.com/zerobuffer/zerobuffer-go/internal/futex"
	"github.com/zerobuffer/zerobuffer-go/internal/pause"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
)

// DefaultHybridSpin is NewHybrid's budget when given 0; MaxHybridSpin
// bounds it (and the budget a writer adopts from its reader's record).
const (
	DefaultHybridSpin = 50 * time.Microsecond
	MaxHybridSpin     = 100 * time.Millisecond
)

// ErrClosed is returned by a Notifier used after Close or before it was
// attached to a buffer.
var ErrClosed = errors.New("futex notifier: not attached")

const (
	wordDataSeq = iota
	wordDataSleeper
	wordSpaceSeq
	wordSpaceSleeper
	wordWriterCloses
	wordReaderCloses
)

// direction is one of the two event channels, as one side sees it.
type direction struct {
	seq     *atomic.Uint32
	sleeper *atomic.Uint32
	closes  *atomic.Uint32 // the posting side's close count
}

// Notifier waits on futex words in the OIEB. It is a notify.Notifier,
// registered as "futex" (New, kind 1), "hybrid" (NewHybrid, kind 2) and
// "adaptive" (NewAdaptive, kind 6), and a notify.StatsReporter. A
// Notifier serves one side of one buffer and is used by one goroutine at a
// time; its counters (Stats, Wakes) are read from that goroutine or after
// it stopped.
type Notifier struct {
	kind   notify.Kind
	spin   time.Duration // hybrid: the budget; adaptive: the largest budget
	data   direction
	space  direction
	writer bool // attached with Open
	stats  notify.Stats
	gaps   gapEstimator // adaptive only
}

// New returns a futex notifier that sleeps as soon as its condition is
// false (Disruptor's BlockingWaitStrategy, without a lock).
func New() *Notifier { return &Notifier{kind: Kind} }

// NewHybrid returns a notifier that polls for spin (0: DefaultHybridSpin)
// before it sleeps on the futex. The budget is recorded in the OIEB, so a
// writer that adopts the reader's notifier spins as long.
func NewHybrid(spin time.Duration) *Notifier {
	if spin <= 0 {
		spin = DefaultHybridSpin
	}
	spin = min(spin, MaxHybridSpin).Truncate(time.Microsecond)
	return &Notifier{kind: HybridKind, spin: spin}
}

// FromWord returns the notifier a recorded OIEB word describes, or false
// when the word is not a futex or hybrid notifier's. A budget beyond
// MaxHybridSpin is clamped.
func FromWord(word uint64) (*Notifier, bool) {
	kind, param, err := notify.ParseWord(word)
	if err != nil {
		return nil, false
	}
	switch kind {
	case Kind:
		return New(), param == 0
	case HybridKind:
		return NewHybrid(time.Duration(param) * time.Microsecond), param != 0
	case AdaptiveKind:
		return NewAdaptive(time.Duration(param) * time.Microsecond), param != 0
	}
	return nil, false
}

// Word is what the reader records: the kind, and the hybrid's budget (the
// adaptive's largest budget) in microseconds.
func (n *Notifier) Word() uint64 {
	return n.kind.Word(uint32(n.spin / time.Microsecond))
}

// Spin is the hybrid's polling budget, the adaptive's largest one (0 for
// New).
func (n *Notifier) Spin() time.Duration { return n.spin }

// Wakes counts the FUTEX_WAKE calls this notifier's posts made: posts that
// found the peer asleep (Stats().Wakes).
func (n *Notifier) Wakes() uint64 { return n.stats.Wakes }

// Stats returns the counters of this side's waits and posts (see
// notify.Stats): every field but Frames and SpaceBatches, which are the
// ring's.
func (n *Notifier) Stats() notify.Stats { return n.stats }

func (n *Notifier) attach(o *layout.OIEB) error {
	if o == nil {
		return fmt.Errorf("futex notifier: no OIEB")
	}
	if n.data.seq != nil {
		return fmt.Errorf("futex notifier: already attached (a Notifier serves one side)")
	}
	n.data = direction{o.NotifierWord32(wordDataSeq), o.NotifierWord32(wordDataSleeper), o.NotifierWord32(wordWriterCloses)}
	n.space = direction{o.NotifierWord32(wordSpaceSeq), o.NotifierWord32(wordSpaceSleeper), o.NotifierWord32(wordReaderCloses)}
	return nil
}

// Create attaches the reader; the words were zeroed with the OIEB.
func (n *Notifier) Create(_ string, o *layout.OIEB, _ os.FileMode) error { return n.attach(o) }

// Open attaches the writer.
func (n *Notifier) Open(_ string, o *layout.OIEB) error {
	n.writer = true
	return n.attach(o)
}

// Remove has nothing to remove: the words live in the segment.
func (n *Notifier) Remove(string) error { return nil }

// WaitData waits until ready holds (a frame is there), up to timeout.
func (n *Notifier) WaitData(ready func() bool, timeout time.Duration) (bool, error) {
	return n.wait(&n.data, ready, timeout)
}

// WaitSpace waits until ready holds (the ring has room), up to timeout.
func (n *Notifier) WaitSpace(ready func() bool, timeout time.Duration) (bool, error) {
	return n.wait(&n.space, ready, timeout)
}

// PostData wakes a reader sleeping for data, if there is one.
func (n *Notifier) PostData() error { return n.post(&n.data) }

// PostSpace wakes a writer sleeping for space, if there is one.
func (n *Notifier) PostSpace() error { return n.post(&n.space) }

func (n *Notifier) post(d *direction) error {
	if d.seq == nil {
		return ErrClosed
	}
	if d.sleeper.Load() == 0 || d.sleeper.Swap(0) == 0 {
		n.stats.WakesSkipped++
		return nil
	}
	d.seq.Add(1)
	n.stats.Wakes++
	_, err := ifutex.Wake(seqAddr(d.seq), 1)
	return err
}

// wait returns true once ready holds. It returns false when timeout
// passed, and early when the poster closed meanwhile.
func (n *Notifier) wait(d *direction, ready func() bool, timeout time.Duration) (bool, error) {
	if d.seq == nil {
		return false, ErrClosed
	}
	n.stats.Waits++
	if ready() {
		n.stats.WaitsAtOnce++
		if n.kind == AdaptiveKind {
			n.gaps.atOnce()
		}
		return true, nil
	}
	if timeout == 0 {
		n.stats.Polls++
		return false, nil
	}
	start := time.Now()
	budget := n.spin
	if n.kind == AdaptiveKind {
		budget = n.gaps.budget(n.spin)
	}
	polls := n.stats.SpinIterations
	ok, slept, err := n.block(d, ready, start, min(budget, timeout), timeout)
	if slept {
		n.stats.WaitsSlept++
	} else {
		n.stats.WaitsSpun++
	}
	if !ok && err == nil {
		n.stats.Timeouts++
	}
	if ok && n.kind == AdaptiveKind {
		at := start
		if slept || n.stats.SpinIterations-polls > quickPolls {
			at = time.Now()
		}
		n.gaps.event(at, n.spin)
	}
	return ok, err
}

// block polls ready for budget, then sleeps on d's sequence until ready
// holds, timeout (counted from start) passes, or the poster closes. It
// reports whether it slept.
func (n *Notifier) block(d *direction, ready func() bool, start time.Time, budget, timeout time.Duration) (ok, slept bool, err error) {
	closes := d.closes.Load()
	if budget > 0 && pause.Until(ready, start, budget, &n.stats.SpinIterations) {
		return true, false, nil
	}
	for {
		left := timeout - time.Since(start)
		if left <= 0 {
			return ready(), slept, nil
		}
		// The sequence first, then the flag: see "Why no wake-up is lost".
		// The flag is raised with a swap, a read-modify-write, so that
		// the re-check below cannot be performed before it: under the
		// race detector a plain atomic store does not order a later load
		// of another word (store buffering), and the stream conformance
		// test lost wake-ups that way (about 1 run in 40 with -race).
		seq := d.seq.Load()
		d.sleeper.Swap(1)
		if ready() {
			d.sleeper.Store(0)
			return true, slept, nil
		}
		slept = true
		n.stats.Sleeps++
		err := ifutex.Wait(seqAddr(d.seq), seq, left)
		d.sleeper.Store(0) // a poster that took it already woke us
		if ready() {
			return true, true, nil
		}
		switch err {
		case nil, unix.EAGAIN, unix.EINTR:
			// Woken, the sequence moved, or a signal: sleep again
			// unless the poster closed.
			if d.closes.Load() != closes {
				return false, true, nil
			}
			n.stats.Spurious++
		case unix.ETIMEDOUT:
			return false, true, nil
		default:
			return false, true, err
		}
	}
}

// WriterWaiting reports whether the writer raised its sleeper flag for
// space.
func (n *Notifier) WriterWaiting() bool {
	return n.space.sleeper != nil && n.space.sleeper.Load() != 0
}

// Close detaches, first waking a peer asleep on the other direction so it
// looks at this side's liveness at once instead of at its next timeout.
func (n *Notifier) Close() error {
	if n.data.seq == nil {
		return nil
	}
	peer := &n.space // the reader's Close wakes the writer waiting for space
	if n.writer {
		peer = &n.data
	}
	peer.closes.Add(1)
	peer.seq.Add(1)
	_, err := ifutex.Wake(seqAddr(peer.seq), 1)
	n.data, n.space = direction{}, direction{}
	return err
}
