package futex

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
)

// feed records events at the given gaps after t0 and returns the time of
// the last.
func feed(g *gapEstimator, t0 time.Time, maxSpin time.Duration, gaps ...time.Duration) time.Time {
	now := t0
	for _, gap := range gaps {
		now = now.Add(gap)
		g.event(now, maxSpin)
	}
	return now
}

func repeat(gap time.Duration, n int) []time.Duration {
	gaps := make([]time.Duration, n)
	for i := range gaps {
		gaps[i] = gap
	}
	return gaps
}

func TestAdaptiveBudgetFollowsTheGaps(t *testing.T) {
	const maxSpin = 50 * time.Microsecond
	t0 := time.Unix(1000, 0)

	t.Run("short steady gaps: spin twice the gap", func(t *testing.T) {
		var g gapEstimator
		feed(&g, t0, maxSpin, repeat(10*time.Microsecond, 100)...)
		assert.InDelta(t, float64(10*time.Microsecond), float64(g.mean), float64(time.Microsecond))
		assert.InDelta(t, float64(20*time.Microsecond), float64(g.budget(maxSpin)), float64(2*time.Microsecond))
	})

	t.Run("back-to-back events: the smallest budget, not none", func(t *testing.T) {
		var g gapEstimator
		feed(&g, t0, maxSpin, repeat(0, 10)...)
		assert.Equal(t, MinAdaptiveSpin, g.budget(maxSpin))
	})

	t.Run("events found at once share the next timed gap", func(t *testing.T) {
		var g gapEstimator
		g.event(t0, maxSpin) // the first timed event sets the clock only
		assert.Zero(t, g.mean)
		for range 9 {
			g.atOnce()
		}
		g.event(t0.Add(80*time.Microsecond), maxSpin)
		assert.Equal(t, 8*time.Microsecond/adaptiveWeight, g.mean, "one sample of 80µs / 10 events")
		assert.Zero(t, g.untimed)
	})

	t.Run("long gaps: straight to the futex, with a probe every 64 waits", func(t *testing.T) {
		var g gapEstimator
		feed(&g, t0, maxSpin, repeat(time.Millisecond, 100)...)
		assert.Equal(t, adaptiveSampleCap*maxSpin, g.mean.Round(time.Microsecond), "a gap counts as at most 2 largest budgets")
		for i := 1; i < adaptiveProbeEvery; i++ {
			require.Zero(t, g.budget(maxSpin), "wait %d", i)
		}
		assert.Equal(t, maxSpin, g.budget(maxSpin), "the probe spins the largest budget")
		assert.Zero(t, g.budget(maxSpin), "and the count starts over")
	})

	// How many 5µs gaps it takes for the budget to come back.
	comeBack := func(t *testing.T, g *gapEstimator, now time.Time) int {
		t.Helper()
		events := 0
		for g.budget(maxSpin) == 0 {
			now = feed(g, now, maxSpin, 5*time.Microsecond)
			events++
			require.Less(t, events, 40, "the mean does not come down")
		}
		return events
	}
	t.Run("one idle spell in a busy stream does not stop the spinning", func(t *testing.T) {
		var g gapEstimator
		now := feed(&g, t0, maxSpin, repeat(5*time.Microsecond, 50)...)
		feed(&g, now, maxSpin, 10*time.Second)
		assert.InDelta(t, float64(2*(5*time.Microsecond+(2*maxSpin-5*time.Microsecond)/8)), float64(g.budget(maxSpin)),
			float64(time.Microsecond), "twice the mean moved by 1/8 of the capped gap")
	})
	t.Run("between the largest budget and twice it, the mean says sleep", func(t *testing.T) {
		var g gapEstimator
		feed(&g, t0, maxSpin, repeat(80*time.Microsecond, 100)...)
		assert.Zero(t, g.budget(maxSpin))
		g = gapEstimator{}
		feed(&g, t0, maxSpin, repeat(40*time.Microsecond, 100)...)
		assert.Equal(t, maxSpin, g.budget(maxSpin), "a mean of 40µs spins the largest budget")
	})
	t.Run("a stream resuming after a long quiet spins again within 6 events", func(t *testing.T) {
		var g gapEstimator
		now := feed(&g, t0, maxSpin, repeat(time.Second, 50)...)
		assert.Equal(t, 6, comeBack(t, &g, now))
	})
}

func TestNewAdaptiveAndItsWord(t *testing.T) {
	n := NewAdaptive(0)
	assert.Equal(t, DefaultAdaptiveSpin, n.Spin())
	assert.Equal(t, AdaptiveKind.Word(50), n.Word())
	assert.Equal(t, "adaptive", notify.Name(n.Word()))
	assert.Equal(t, MaxHybridSpin, NewAdaptive(time.Hour).Spin())
	assert.Equal(t, time.Microsecond, NewAdaptive(time.Nanosecond).Spin())

	back, ok := FromWord(AdaptiveKind.Word(120))
	require.True(t, ok)
	assert.Equal(t, 120*time.Microsecond, back.Spin())
	assert.Equal(t, AdaptiveKind.Word(120), back.Word())
	_, ok = FromWord(AdaptiveKind.Word(0))
	assert.False(t, ok, "the adaptive word carries its largest budget")

	built, err := notify.New("adaptive")
	require.NoError(t, err)
	assert.Equal(t, n.Word(), built.Word())
}

// attached returns a notifier of each kind attached, as a reader, to an
// OIEB in this process's memory (the futex calls work there too).
func attached(t *testing.T, n *Notifier) (*Notifier, *layout.OIEB) {
	t.Helper()
	o, err := layout.View(make([]byte, layout.OIEBSize))
	require.NoError(t, err)
	require.NoError(t, n.Create("stats", o, 0o600))
	t.Cleanup(func() { n.Close() })
	return n, o
}

// afterLooks is a condition that holds from its k-th look on.
func afterLooks(k int) func() bool {
	looks := 0
	return func() bool { looks++; return looks >= k }
}

// TestWaitsSpinOrSleepAsTheBudgetSays drives single waits whose condition
// holds from the third look on: a notifier with a budget finds it
// spinning (the first 64 polls come before any clock check), one without
// sleeps once (the futex wait times out, nobody posts) and finds it after.
func TestWaitsSpinOrSleepAsTheBudgetSays(t *testing.T) {
	spinning := NewAdaptive(0)
	spinning.gaps.mean = 5 * time.Microsecond
	sleeping := NewAdaptive(0)
	sleeping.gaps.mean = time.Millisecond
	for _, c := range []struct {
		name string
		n    *Notifier
		want notify.Stats
	}{
		{"hybrid", NewHybrid(0), notify.Stats{Waits: 1, WaitsSpun: 1, SpinIterations: 2}},
		{"adaptive, short gaps", spinning, notify.Stats{Waits: 1, WaitsSpun: 1, SpinIterations: 2}},
		{"adaptive, long gaps", sleeping, notify.Stats{Waits: 1, WaitsSlept: 1, Sleeps: 1}},
		{"futex", New(), notify.Stats{Waits: 1, WaitsSlept: 1, Sleeps: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, _ := attached(t, c.n)
			ok, err := n.WaitData(afterLooks(3), time.Millisecond)
			require.NoError(t, err)
			require.True(t, ok)
			assert.Equal(t, c.want, n.Stats())
		})
	}
}

// TestPostsCountWakesAndSkips: a post finds the peer's sleeper flag down
// (skipped) or up (one FUTEX_WAKE, which takes the flag).
func TestPostsCountWakesAndSkips(t *testing.T) {
	n, o := attached(t, New())
	require.NoError(t, n.PostSpace())
	o.NotifierWord32(wordSpaceSleeper).Store(1) // a writer about to sleep
	require.NoError(t, n.PostSpace())
	require.NoError(t, n.PostSpace())
	assert.Equal(t, notify.Stats{Wakes: 1, WakesSkipped: 2}, n.Stats())
	assert.Equal(t, uint64(1), n.Wakes())
}

// TestTimeoutIsASleptWaitWithoutEvent: nothing comes; the wait sleeps
// until its timeout and reports it.
func TestTimeoutIsASleptWaitWithoutEvent(t *testing.T) {
	n, _ := attached(t, NewAdaptive(0))
	ok, err := n.WaitData(func() bool { return false }, 2*time.Millisecond)
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = n.WaitData(func() bool { return false }, 0)
	require.NoError(t, err)
	require.False(t, ok)
	s := n.Stats()
	assert.Equal(t, uint64(2), s.Waits)
	assert.Equal(t, uint64(1), s.Polls)
	assert.Equal(t, uint64(1), s.Timeouts)
	assert.Equal(t, uint64(1), s.WaitsSlept)
	assert.GreaterOrEqual(t, s.Sleeps, uint64(1))
	assert.Less(t, s.Spurious, s.Sleeps+1, "only sleeps that ended early (signals) are spurious")
	assert.Zero(t, n.MeanGap(), "a timeout is not an event")
}
