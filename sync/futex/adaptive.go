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
	// when it spins at all: events arriving back to back give a mean gap
	// near 0, and a budget of 0 would sleep on the next short gap.
	MinAdaptiveSpin = 2 * time.Microsecond
	// adaptiveWeight: each gap moves the mean by 1/adaptiveWeight of its
	// difference to it (glibc's adaptive mutexes move their spin count by
	// 1/8 of the last count's difference).
	adaptiveWeight = 8
	// adaptiveFactor: the budget is this many mean gaps, so that a gap
	// somewhat longer than the mean is still met spinning.
	adaptiveFactor = 2
	// adaptiveSampleCap: a gap counts as at most this many largest
	// budgets, so that one idle spell of seconds does not keep the mean
	// high for hundreds of events once the stream resumes (from the cap
	// back below the spinning threshold takes about 16 events).
	adaptiveSampleCap = 4
	// adaptiveProbeEvery: after this many waits in a row that slept
	// without spinning, one wait spins the largest budget. The gaps a
	// sleeper observes include its own wake-up latency; in a ping-pong
	// of two sleeping sides they can stay above the threshold only
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
// before it sleeps: adaptiveFactor mean gaps, at least MinAdaptiveSpin,
// when that is within maxSpin; else 0 (straight to the futex), except
// that every adaptiveProbeEvery-th such wait spins maxSpin.
func (g *gapEstimator) budget(maxSpin time.Duration) time.Duration {
	if b := adaptiveFactor * g.mean; b <= maxSpin {
		g.sleptOnly = 0
		return min(max(b, MinAdaptiveSpin), maxSpin)
	}
	g.sleptOnly++
	if g.sleptOnly >= adaptiveProbeEvery {
		g.sleptOnly = 0
		return maxSpin
	}
	return 0
}
