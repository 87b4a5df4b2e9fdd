// Package spin is a family of ZeroBuffer notifiers that never sleep in the
// kernel to be woken: the waiter polls the OIEB counters the ring already
// publishes (written count for data, free bytes for space), and a post is
// nothing at all. They are the idle strategies of LMAX Disruptor and Aeron:
//
//   - Busy (Disruptor BusySpinWaitStrategy, Aeron BusySpinIdleStrategy):
//     poll with the CPU's pause hint between polls. The lowest latency —
//     a frame is seen within a cache-line transfer — at the price of a
//     whole core per waiting side, busy or idle.
//   - Yield (Disruptor YieldingWaitStrategy, Aeron YieldingIdleStrategy):
//     poll Spins times, then call runtime.Gosched between polls. Lets other
//     goroutines of the process run on the core; still 100 % of a core
//     while waiting (Gosched does not give the core to other processes).
//   - Backoff (Aeron BackoffIdleStrategy, Disruptor's
//     SleepingWaitStrategy): poll Spins times, yield Yields times and
//     then on until the wait has lasted ParkFraction × MinPark, then
//     sleep between polls, each sleep a ParkFraction-th of the time
//     waited so far and at most MaxPark. Near-zero CPU when idle; the
//     first frame after an idle spell is seen up to MaxPark late (plus
//     the timer's slack, about 50 µs).
//
// Why a backoff sleep is a fraction of the time waited, not a doubling:
// a frame posted while the waiter sleeps is seen when the sleep ends, so
// the waiter's overshoot becomes its peer's next wait. With doubling
// sleeps the overshoot is about as long as the wait so far, and two
// sides of a ping-pong that once fell into sleeping keep each other
// there (the overshoot neither grows nor decays). Bounded by an eighth
// of the time waited, it shrinks by a factor of eight or so per hop
// until the peer's wait ends before it would sleep. The sleeps are
// nanosleep calls, not time.Sleep: an idle Go program's timers fire
// with millisecond granularity (its netpoller's), so any time.Sleep
// longer than a few µs lasts about 1 ms.
//
// They speak only to Go peers. A reader using one creates no semaphores,
// so a foreign writer fails to connect instead of hanging. Deadlines are
// honoured: every wait polls the clock every few dozen polls.
package spin

import (
	"errors"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/pause"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
)

// Defaults for the parameters.
const (
	DefaultSpins   = 100
	DefaultYields  = 100
	DefaultMinPark = 20 * time.Microsecond
	DefaultMaxPark = time.Millisecond

	// ParkFraction bounds a backoff sleep by the time already waited:
	// a sleep is at most 1/ParkFraction of it, and there is none before
	// the wait has lasted ParkFraction × MinPark.
	ParkFraction = 8

	// MaxSpins and MaxPark bound the parameters, including those a
	// writer adopts from the word its reader recorded: a corrupt word
	// must not make a wait ignore its deadline for minutes.
	MaxSpins = 1 << 20
	MaxPark  = time.Second
)

// ErrClosed is returned by a Notifier used after Close or before Create or
// Open.
var ErrClosed = errors.New("spin notifier: not attached")

// Notifier polls. It is a notify.Notifier, registered as "spin" (NewBusy,
// kind 3), "yield" (NewYield, kind 4) and "backoff" (NewBackoff, kind 5).
// A Notifier serves one side of one buffer and is used by one goroutine at
// a time; its counters (Stats) are read from that goroutine or after it
// stopped.
type Notifier struct {
	kind     notify.Kind
	spins    int
	yields   int
	minPark  time.Duration
	maxPark  time.Duration
	attached bool
	stats    notify.Stats
}

// NewBusy returns the busy-spin strategy.
func NewBusy() *Notifier { return &Notifier{kind: BusyKind} }

// NewYield returns the yielding strategy: spins polls (0: DefaultSpins),
// then a runtime.Gosched between polls.
func NewYield(spins int) *Notifier {
	if spins <= 0 {
		spins = DefaultSpins
	}
	spins = min(spins, MaxSpins)
	return &Notifier{kind: YieldKind, spins: spins}
}

// NewBackoff returns the backoff strategy: spins polls, yields
// Gosched-separated polls (more until the wait has lasted ParkFraction ×
// minPark), then sleeps of 1/ParkFraction of the time waited, at least
// minPark and at most maxPark (zeros take the defaults). maxPark is
// recorded in the OIEB in microseconds, so a writer adopting it backs
// off as far.
func NewBackoff(spins, yields int, minPark, maxPark time.Duration) *Notifier {
	if spins <= 0 {
		spins = DefaultSpins
	}
	if yields <= 0 {
		yields = DefaultYields
	}
	spins, yields = min(spins, MaxSpins), min(yields, MaxSpins)
	maxPark = min(maxPark, MaxPark)
	if minPark <= 0 {
		minPark = DefaultMinPark
	}
	if maxPark <= 0 {
		maxPark = DefaultMaxPark
	}
	// maxPark is what the word records, so it is kept as given (in µs);
	// a minPark above it is lowered to it.
	maxPark = max(maxPark.Truncate(time.Microsecond), time.Microsecond)
	minPark = min(minPark, maxPark)
	return &Notifier{kind: BackoffKind, spins: spins, yields: yields, minPark: minPark, maxPark: maxPark}
}

// FromWord returns the notifier a recorded OIEB word describes, or false
// when the word is not a spin-family notifier's.
func FromWord(word uint64) (*Notifier, bool) {
	kind, param, err := notify.ParseWord(word)
	if err != nil {
		return nil, false
	}
	switch kind {
	case BusyKind:
		return NewBusy(), param == 0
	case YieldKind:
		return NewYield(int(param)), param != 0
	case BackoffKind:
		return NewBackoff(0, 0, 0, time.Duration(param)*time.Microsecond), param != 0
	}
	return nil, false
}

// Word is what the reader records: the kind and its parameter (the
// yield's spins, the backoff's MaxPark in µs).
func (n *Notifier) Word() uint64 {
	var param uint32
	switch n.kind {
	case YieldKind:
		param = uint32(n.spins)
	case BackoffKind:
		param = uint32(n.maxPark / time.Microsecond)
	}
	return n.kind.Word(param)
}

// Create attaches the reader side. Nothing is created.
func (n *Notifier) Create(string, *layout.OIEB, os.FileMode) error { return n.attach() }

// Open attaches the writer side.
func (n *Notifier) Open(string, *layout.OIEB) error { return n.attach() }

func (n *Notifier) attach() error {
	if n.attached {
		return errors.New("spin notifier: already attached (a Notifier serves one side)")
	}
	n.attached = true
	return nil
}

// Remove has nothing to remove.
func (n *Notifier) Remove(string) error { return nil }

// PostData does nothing (it counts as a skipped wake): the ring's store
// of the written count is the signal.
func (n *Notifier) PostData() error { return n.post() }

// PostSpace does nothing (it counts as a skipped wake): the ring's add to
// the free bytes is the signal.
func (n *Notifier) PostSpace() error { return n.post() }

// Stats returns the counters of this side's waits and posts (see
// notify.Stats). A spin notifier never wakes anyone: every post is a
// skipped wake; its sleeps are the backoff's parks.
func (n *Notifier) Stats() notify.Stats { return n.stats }

// WaitData polls ready until it holds or timeout passes.
func (n *Notifier) WaitData(ready func() bool, timeout time.Duration) (bool, error) {
	return n.wait(ready, timeout)
}

// WaitSpace polls ready until it holds or timeout passes.
func (n *Notifier) WaitSpace(ready func() bool, timeout time.Duration) (bool, error) {
	return n.wait(ready, timeout)
}

// WriterWaiting is false: a polling writer is never asleep, and sees the
// space the reader returns (in bounded batches) by itself.
func (n *Notifier) WriterWaiting() bool { return false }

// Close detaches.
func (n *Notifier) Close() error {
	n.attached = false
	return nil
}

func (n *Notifier) post() error {
	if !n.attached {
		return ErrClosed
	}
	n.stats.WakesSkipped++
	return nil
}

func (n *Notifier) wait(ready func() bool, timeout time.Duration) (bool, error) {
	if !n.attached {
		return false, ErrClosed
	}
	n.stats.Waits++
	if ready() {
		n.stats.WaitsAtOnce++
		return true, nil
	}
	if timeout <= 0 {
		n.stats.Polls++
		return false, nil
	}
	start := time.Now()
	sleeps := n.stats.Sleeps
	var ok bool
	switch n.kind {
	case BusyKind:
		ok = pause.Until(ready, start, timeout, &n.stats.SpinIterations)
	case YieldKind:
		ok = n.yieldWait(ready, start, timeout, -1)
	default:
		ok = n.backoffWait(ready, start, timeout)
	}
	if n.stats.Sleeps != sleeps {
		n.stats.WaitsSlept++
	} else {
		n.stats.WaitsSpun++
	}
	if !ok {
		n.stats.Timeouts++
	}
	return ok, nil
}

// yieldWait polls n.spins times, then yields between polls; yields < 0
// yields until the timeout, else that many times.
func (n *Notifier) yieldWait(ready func() bool, start time.Time, timeout time.Duration, yields int) bool {
	for i := 0; i < n.spins; i++ {
		n.stats.SpinIterations++
		if ready() {
			return true
		}
		if i%64 == 63 && time.Since(start) >= timeout {
			return ready()
		}
		pause.Pause(1)
	}
	for i := 0; yields < 0 || i < yields; i++ {
		n.stats.SpinIterations++
		if ready() {
			return true
		}
		if i%16 == 15 && time.Since(start) >= timeout {
			return ready()
		}
		runtime.Gosched()
	}
	return ready()
}

func (n *Notifier) backoffWait(ready func() bool, start time.Time, timeout time.Duration) bool {
	if n.yieldWait(ready, start, timeout, n.yields) {
		return true
	}
	for {
		waited := time.Since(start)
		if waited >= timeout {
			return ready()
		}
		park := backoffPark(waited, timeout, n.minPark, n.maxPark)
		if park == 0 {
			n.stats.SpinIterations++
			runtime.Gosched()
		} else {
			sleep(park)
			n.stats.Sleeps++
		}
		if ready() {
			return true
		}
	}
}

// backoffPark is how long a backoff wait that has waited so far sleeps
// before its next poll: a ParkFraction-th of that, at most maxPark and
// the time left; 0 (yield instead) while that is under minPark, so that
// no sleep overshoots the wait by more than a fraction of its length.
func backoffPark(waited, timeout, minPark, maxPark time.Duration) time.Duration {
	park := min(waited/ParkFraction, maxPark, timeout-waited)
	if park < minPark {
		return 0
	}
	return park
}

// sleep blocks the thread for d with nanosleep, which ends within the
// timer slack of d; an interrupted sleep (a signal) just ends early.
func sleep(d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	_ = unix.Nanosleep(&ts, nil)
}
