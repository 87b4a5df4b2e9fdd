package futex

import "time"

// The adaptive notifier's parameters. The largest budget is NewAdaptive's
// argument (recorded in the OIEB like the hybrid's budget); the rest are
// fixed.
const (
	// DefaultAdaptiveSpin is NewAdaptive's largest budget when given 0:
	// the hybrid's default, so that at high rates the two spin alike.
	DefaultAdaptiveSpin = DefaultHybridSpin
	// MinAdaptiveSpin is the shortest budget the adaptive notifier spins
	// when it spins at all: about what a sleep costs the two sides (a
	// FUTEX_WAIT, a FUTEX_WAKE and the switches, some 10 µs on this
	// project's VMs), the budget of competitive spinning — spinning that
	// long at most doubles what sleeping at once would have cost, and
	// events arriving back to back (a mean gap near 0) or a peer
	// preempted for a few µs do not send the waiter to sleep.
	MinAdaptiveSpin = 10 * time.Microsecond
	// adaptiveWeight: each gap moves the mean by 1/adaptiveWeight of its
	// difference to it (glibc's adaptive mutexes move their spin count by
	// 1/8 of the last count's difference).
	adaptiveWeight = 8
	// adaptiveFactor: the budget is this many mean gaps, so that a gap
	// somewhat longer than the mean is still met spinning.
	adaptiveFactor = 2
	// adaptiveSampleCap: a gap counts as at most this many largest
	// budgets. A gap that long says "sleep" whatever its length, so one
	// idle spell of seconds does not keep the mean high for hundreds of
	// events once the stream resumes (from the cap back to the largest
	// budget takes 6 events), and one hiccup in a busy stream (a peer
	// preempted for milliseconds) moves the mean by a quarter of the
	// largest budget at most: it keeps spinning.
	adaptiveSampleCap = 2
	// adaptiveProbeEvery: after this many waits in a row that slept
	// without spinning, one wait spins the largest budget. The gaps a
	// sleeper observes include its own wake-up latency; in a ping-pong
	// of two sleeping sides they can stay above the largest budget only
	// because both sleep, and a probe lets the mean learn the gap the
	// peer takes when met spinning.
	adaptiveProbeEvery = 64
)

// NewAdaptive returns a notifier that chooses its spin budget from the
// gaps between the events it observes, as adaptive mutexes choose theirs
// from past spins, and sleeps on the futex (with the futex notifier's
// sleeper flags) when the budget runs out or when the gaps are long.
// maxSpin (0: DefaultAdaptiveSpin, at most MaxHybridSpin) is the largest
// budget, recorded in the OIEB so that a writer adopting the reader's
// notifier spins as far. See the package documentation for the rule.
func NewAdaptive(maxSpin time.Duration) *Notifier {
	if maxSpin <= 0 {
		maxSpin = DefaultAdaptiveSpin
	}
	maxSpin = max(min(maxSpin, MaxHybridSpin).Truncate(time.Microsecond), time.Microsecond)
	return &Notifier{kind: AdaptiveKind, spin: maxSpin}
}

// quickPolls: a wait that found its event within this many polls (before
// pause.Until first read the clock, about a µs) takes its start as the
// event's time instead of reading the clock again: at tens of millions
// of frames a second a clock read per wait is a cost, and a µs is below
// what the estimate needs.
const quickPolls = 64

// MeanGap is the adaptive notifier's current estimate of the gap between
// events (0 before it has seen two, and for the other kinds).
func (n *Notifier) MeanGap() time.Duration { return n.gaps.mean }

// gapEstimator keeps the exponentially weighted moving average of the
// gaps between the events one side's waits consumed, and turns it into a
// spin budget.
//
// Events found at the first look are not timed (a clock read is as dear
// as dozens of polls, and such events come back to back): they are
// counted, and the next timed event's gap is spread over them — the mean
// then learns (time since the last timed event) ÷ (events since), which
// is the rate, one sample per timed event.
type gapEstimator struct {
	mean      time.Duration // the moving average of the gaps
	last      time.Time     // the last timed event; zero before the first
	untimed   uint64        // events found at once since last
	sleptOnly uint32        // waits in a row that slept without spinning
}

// atOnce counts an event a wait found at its first look.
func (g *gapEstimator) atOnce() { g.untimed++ }

// event records an event a wait found after looking more than once, at now.
func (g *gapEstimator) event(now time.Time, maxSpin time.Duration) {
	if !g.last.IsZero() {
		gap := now.Sub(g.last) / time.Duration(g.untimed+1)
		gap = max(min(gap, adaptiveSampleCap*maxSpin), 0)
		g.mean += (gap - g.mean) / adaptiveWeight
	}
	g.last, g.untimed = now, 0
}

// budget is how long the next wait that misses its first look spins
// before it sleeps: while the mean gap is within maxSpin, adaptiveFactor
// mean gaps, at least MinAdaptiveSpin and at most maxSpin; beyond, 0
// (straight to the futex), except that every adaptiveProbeEvery-th such
// wait spins maxSpin.
func (g *gapEstimator) budget(maxSpin time.Duration) time.Duration {
	if g.mean <= maxSpin {
		g.sleptOnly = 0
		return min(max(adaptiveFactor*g.mean, MinAdaptiveSpin), maxSpin)
	}
	g.sleptOnly++
	if g.sleptOnly >= adaptiveProbeEvery {
		g.sleptOnly = 0
		return maxSpin
	}
	return 0
}
