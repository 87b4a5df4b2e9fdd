package bench

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// within reports whether got is within rel (relative) of want.
func within(t *testing.T, name string, got, want, rel float64) {
	t.Helper()
	assert.InDeltaf(t, want, got, want*rel, "%s = %v, want %v ± %.2g%%", name, got, want, rel*100)
}

func TestLatencyHistPercentiles(t *testing.T) {
	h := newLatencyHist()
	// 1 µs, 2 µs, ..., 1000 µs.
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	s := h.Summary()
	require.EqualValues(t, 1000, s.Count)
	// Three significant digits: every figure within 0.1 %.
	within(t, "min", s.MinNs, 1e3, 1e-3)
	within(t, "p50", s.P50Ns, 500e3, 1e-3)
	within(t, "p90", s.P90Ns, 900e3, 1e-3)
	within(t, "p99", s.P99Ns, 990e3, 1e-3)
	within(t, "p99.9", s.P999Ns, 999e3, 1e-3)
	within(t, "max", s.MaxNs, 1000e3, 1e-3)
	within(t, "avg", s.AvgNs, 500.5e3, 1e-3)
	assert.Equal(t, []float64{s.P50Ns, s.P90Ns, s.P99Ns, s.P999Ns}, s.percentiles())
	assert.Len(t, percentileNames, len(s.percentiles()))
}

func TestLatencyHistClampsOutOfRange(t *testing.T) {
	h := newLatencyHist()
	h.RecordNs(0)
	h.RecordNs(-5)
	h.Record(time.Minute)
	s := h.Summary()
	assert.EqualValues(t, 3, s.Count)
	assert.EqualValues(t, 3, h.clamped)
	assert.Equal(t, 1.0, s.MinNs)
	within(t, "max", s.MaxNs, float64(10*time.Second), 1e-3)
}

func TestLatencyHistEmpty(t *testing.T) {
	assert.Equal(t, Latency{}, newLatencyHist().Summary())
	var nilHist *latencyHist
	assert.Equal(t, Latency{}, nilHist.Summary())
}

func TestDerivedFigures(t *testing.T) {
	assert.Equal(t, 2.0, ratio(4, 2))
	for _, bad := range [][2]float64{{0, 1}, {1, 0}, {-1, 1}, {math.NaN(), 1}, {math.Inf(1), 1}, {1, math.Inf(1)}} {
		assert.Zero(t, ratio(bad[0], bad[1]), "ratio(%v, %v)", bad[0], bad[1])
	}
	assert.Equal(t, 1000.0, perSecond(500, 500*time.Millisecond))
	assert.Zero(t, perSecond(5, 0))
	assert.InDelta(t, 2.0, secondsPerMillion(2*time.Second, 1_000_000), 1e-9)
	assert.Zero(t, secondsPerMillion(time.Second, 0))
	assert.InDelta(t, 6.4, gbPerSecond(100e6, 64), 1e-9)
}

func TestGoalVerdicts(t *testing.T) {
	g := newGoal("g", "s", "m", 1.2, "<=", 1.5, rowKey{})
	assert.True(t, g.Pass)
	assert.InDelta(t, 0.2, g.By, 1e-9)
	assert.Equal(t, "PASS (20% headroom)", g.Verdict)

	g = newGoal("g", "s", "m", 3, "<=", 1.5, rowKey{})
	assert.False(t, g.Pass)
	assert.Equal(t, "MISS by 100%", g.Verdict)

	g = newGoal("g", "s", "frames/s", 4e6, ">=", 5e6, rowKey{})
	assert.False(t, g.Pass)
	assert.Equal(t, "MISS by 20%", g.Verdict)
	assert.Equal(t, "≥ 5.00 M/s", describeGoal(g))

	g = newGoal("g", "s", "m", 0.84, ">=", 0.8, rowKey{})
	assert.True(t, g.Pass)
	assert.Equal(t, "PASS (5.0% headroom)", g.Verdict)
	assert.Equal(t, "≥ 0.80×", describeGoal(g))
}

func TestEvaluateGoalsTargets(t *testing.T) {
	r := sampleResults()
	goals := evaluateGoals(r)
	bySubject := map[string]goalResult{}
	for _, g := range goals {
		bySubject[g.Metric+": "+g.Subject] = g
	}
	for subject, target := range map[string]float64{
		"p50 ÷ spin floor: spin 64 B":                     goalSpinOverFloor,
		"p50 ÷ spin floor: hybrid 64 B":                   goalSpinOverFloor,
		"p50 ÷ futex floor: futex 64 B":                   goalFutexOverFloor,
		"p50 ÷ futex floor: semaphore 64 B":               goalFutexOverFloor,
		"p50 ÷ (2 copies + 2 wake-ups): semaphore 30 FPS": goalRelayOverFloor,
		"GB/s ÷ memcpy GB/s: semaphore 3,110,416 B":       goalLargeOverMemcpy,
	} {
		g, ok := bySubject[subject]
		if assert.True(t, ok, "no goal for %s", subject) {
			assert.Equal(t, target, g.Target, subject)
		}
	}
	// 64 B streaming: frames/s for spin, hybrid and semaphore only.
	var fpsGoals []string
	for _, g := range goals {
		if g.Metric == "frames/s" {
			fpsGoals = append(fpsGoals, g.Subject)
			want := goalSmallSpinFPS
			if g.Subject == "semaphore 64 B" {
				want = goalSmallSemFPS
			}
			assert.Equal(t, want, g.Target, g.Subject)
		}
	}
	assert.ElementsMatch(t, []string{"spin 64 B", "hybrid 64 B", "semaphore 64 B"}, fpsGoals)

	// Without floors there is nothing to compare the ping-pong with.
	r.PingPong[0].P50OverFloor = 0
	for _, g := range evaluateGoals(r) {
		assert.NotEqual(t, pingPongKey(r.PingPong[0]), g.key)
	}
}

func TestFloorOf(t *testing.T) {
	for n, want := range map[string]Floor{"semaphore": FloorFutex, "futex": FloorFutex, "hybrid": FloorSpin, "spin": FloorSpin,
		"yield": FloorSpin, "backoff": FloorSpin, "adaptive": FloorSpin} {
		got, ok := FloorOf(n)
		assert.True(t, ok, n)
		assert.Equal(t, want, got, n)
	}
	_, ok := FloorOf("pigeon")
	assert.False(t, ok, "an unknown notifier has no floor")
}

func TestSetFloor(t *testing.T) {
	t.Cleanup(func() {
		notifierFloors.Lock()
		delete(notifierFloors.m, "pigeon")
		notifierFloors.Unlock()
	})
	SetFloor("pigeon", FloorFutex)
	got, ok := FloorOf("pigeon")
	assert.True(t, ok)
	assert.Equal(t, FloorFutex, got)
	assert.PanicsWithValue(t, `bench: SetFloor("pigeon", "carrier"): no such floor (have spin, futex, semaphore)`,
		func() { SetFloor("pigeon", "carrier") })
}
