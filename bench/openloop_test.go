package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/notify"
)

func TestIntendedScheduleDoesNotDrift(t *testing.T) {
	const start = int64(1_000)
	for _, c := range []struct {
		rate int
		i    int64
		want int64
	}{
		{1000, 0, start},
		{1000, 1, start + 1_000_000},
		{1000, 2500, start + 2_500_000_000},
		// A period that is not a whole number of ns: 333,333,333.3 ns.
		// Frame 3 is due exactly one second in, frame 3 million exactly
		// a million seconds in, with no accumulated rounding.
		{3, 1, start + 333_333_333},
		{3, 3, start + 1_000_000_000},
		{3, 3_000_000, start + 1_000_000_000_000_000},
		{1_000_000, 7, start + 7_000},
	} {
		assert.Equal(t, c.want, intendedNs(start, c.i, c.rate), "rate %d frame %d", c.rate, c.i)
	}
}

func TestPaceStep(t *testing.T) {
	w := 100 * time.Microsecond // a window of the test's own
	for _, c := range []struct {
		name      string
		now, due  int64
		wantSleep time.Duration
		wantSpin  bool
	}{
		{"due now: send", 5_000, 5_000, 0, false},
		{"late: send at once", 9_000, 5_000, 0, false},
		{"inside the window: spin", 0, 100_000, 0, true},
		{"just inside: spin", 0, 1, 0, true},
		{"far ahead: sleep until the window", 0, 1_000_000, 900 * time.Microsecond, false},
		{"just outside: sleep a nanosecond", 0, 100_001, time.Nanosecond, false},
	} {
		sleep, spin := paceStep(c.now, c.due, w)
		assert.Equal(t, c.wantSleep, sleep, c.name)
		assert.Equal(t, c.wantSpin, spin, c.name)
	}
}

func TestOpenLoopFramesAndLag(t *testing.T) {
	assert.Equal(t, 1_000_000, openLoopFrames(1_000_000, time.Second, 2000))
	assert.Equal(t, 2000, openLoopFrames(1000, time.Second, 2000), "at least the minimum")
	assert.Equal(t, 15_000, openLoopFrames(100_000, 150*time.Millisecond, 300))
	assert.Equal(t, 500*time.Millisecond, openLoopMaxLag(time.Second))
	assert.Equal(t, 50*time.Millisecond, openLoopMaxLag(10*time.Millisecond), "at least 50 ms")
}

func TestRateWindow(t *testing.T) {
	// 100 events, 1 µs apart: events 10 to 90 span 80 µs → 1 M/s.
	w := newRateWindow(100)
	for i := range int64(100) {
		w.mark(i, 5_000+i*1_000)
	}
	assert.InDelta(t, 1e6, w.rate(), 1)

	// A stall before the last event does not count.
	w = newRateWindow(100)
	for i := range int64(100) {
		ts := 5_000 + i*1_000
		if i == 99 {
			ts += 1e9
		}
		w.mark(i, ts)
	}
	assert.InDelta(t, 1e6, w.rate(), 1)

	// A run that stopped early has no rate.
	w = newRateWindow(100)
	for i := range int64(50) {
		w.mark(i, i*1_000)
	}
	assert.Zero(t, w.rate())

	// Tiny runs still have two distinct events.
	w = newRateWindow(1)
	w.mark(0, 0)
	w.mark(1, 1_000)
	assert.InDelta(t, 1e6, w.rate(), 1)
}

func TestSaturated(t *testing.T) {
	assert.False(t, saturated(1000, 1000, 990, false, saturatedShare))
	assert.True(t, saturated(1000, 1000, 800, false, saturatedShare), "the reader fell behind")
	assert.True(t, saturated(1000, 850, 850, false, saturatedShare), "the writer fell behind")
	assert.True(t, saturated(1000, 1000, 1000, true, saturatedShare), "the writer gave up")
	assert.True(t, saturated(1000, 1000, 0, false, saturatedShare), "no rate measured")
	assert.False(t, saturated(1000, 800, 800, false, overwhelmedShare))
}

func TestOpenLoopHeader(t *testing.T) {
	p := make([]byte, openLoopFrameBytes)
	putOpenLoopHeader(p, 123_456_789_012, olMeasured, 3<<32|17)
	putSentAt(p, 987_654_321)
	due, phase, index := openLoopHeader(p)
	assert.EqualValues(t, 123_456_789_012, due)
	assert.Equal(t, olMeasured, phase)
	assert.EqualValues(t, 3<<32|17, index)
	assert.EqualValues(t, 987_654_321, sentAt(p))

	// The index never spills into the phase.
	putOpenLoopHeader(p, 0, olQuit, ^uint64(0))
	_, phase, index = openLoopHeader(p)
	assert.Equal(t, olQuit, phase)
	assert.EqualValues(t, uint64(1)<<olPhaseBit-1, index)
}

func TestMonoNowIsClockMonotonic(t *testing.T) {
	// The same clock as the clock_gettime(CLOCK_MONOTONIC) system call:
	// a reading between two of its readings lies between them, whatever
	// the load (a different clock, or an offset, would fall outside in
	// one order or the other).
	for range 1000 {
		a := monoNs()
		b := monoNow()
		c := monoNs()
		require.LessOrEqual(t, a, b)
		require.LessOrEqual(t, b, c)
	}
}

func TestWakeSamples(t *testing.T) {
	for _, c := range []struct {
		gap, budget time.Duration
		lo, hi      int
		want        int
	}{
		{100 * time.Microsecond, 3 * time.Second, 5, 1000, 1000},
		{time.Millisecond, 3 * time.Second, 5, 1000, 1000},
		{10 * time.Millisecond, 3 * time.Second, 5, 1000, 300},
		{100 * time.Millisecond, 3 * time.Second, 5, 1000, 30},
		{time.Second, 3 * time.Second, 5, 1000, 5},
		{time.Millisecond, 200 * time.Millisecond, 3, 200, 200},
		{100 * time.Millisecond, 200 * time.Millisecond, 3, 200, 3},
		{0, time.Second, 3, 200, 200},
	} {
		assert.Equal(t, c.want, wakeSamples(c.gap, c.budget, c.lo, c.hi), "%v in %v", c.gap, c.budget)
	}
}

func TestParseWakePlan(t *testing.T) {
	gaps, n, err := parseWakePlan("1ms,100ms", "200,3")
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Millisecond, 100 * time.Millisecond}, gaps)
	assert.Equal(t, []int{200, 3}, n)
	for _, bad := range [][2]string{{"1ms", "1,2"}, {"x", "1"}, {"0s", "1"}, {"1ms", "0"}, {"1ms", "many"}} {
		_, _, err := parseWakePlan(bad[0], bad[1])
		assert.Error(t, err, "%q", bad)
	}
}

func TestOpCounters(t *testing.T) {
	assert.Nil(t, newOpCounters(0, notify.Stats{Wakes: 1}, notify.Stats{}))
	r := notify.Stats{Frames: 100, Waits: 100, WaitsSlept: 40, Sleeps: 50, Spurious: 3, SpinIterations: 1000, Wakes: 2}
	w := notify.Stats{Frames: 100, Wakes: 48, WakesSkipped: 52}
	c := newOpCounters(100, r, w)
	require.NotNil(t, c)
	assert.InDelta(t, 0.5, c.WakesPerOp, 1e-9, "48 data wakes + 2 space wakes over 100 frames")
	assert.InDelta(t, 0.5, c.SleepsPerOp, 1e-9)
	assert.InDelta(t, 0.4, c.SleptWaitsPerOp, 1e-9)
	assert.EqualValues(t, 3, c.Spurious)
	assert.InDelta(t, 10, c.SpinsPerOp, 1e-9)

	end := notify.Stats{Frames: 10, Waits: 9, WaitsAtOnce: 8, WaitsSpun: 7, WaitsSlept: 6, Polls: 5, Timeouts: 4, Sleeps: 3,
		Spurious: 2, SpinIterations: 11, Wakes: 12, WakesSkipped: 13, SpaceBatches: 14}
	start := notify.Stats{Frames: 1, Waits: 1, WaitsAtOnce: 1, WaitsSpun: 1, WaitsSlept: 1, Polls: 1, Timeouts: 1, Sleeps: 1,
		Spurious: 1, SpinIterations: 1, Wakes: 1, WakesSkipped: 1, SpaceBatches: 1}
	assert.Equal(t, end, statsSub(end, start).Add(start), "every field")

	assert.Equal(t, []string{"0", "0.0020", "1.50", "2,351"}, []string{fmtPerOp(0), fmtPerOp(0.002), fmtPerOp(1.5), fmtPerOp(2351.2)})
	assert.Equal(t, []string{"-", "-", "-", "-"}, counterCells(nil))
}

// latencySample adds made-up open-loop and wake rows, with counters, to
// sampleResults.
func latencySample() *benchResults {
	r := sampleResults()
	lat := func(p50 float64) Latency {
		return Latency{Count: 1000, MinNs: p50 / 2, AvgNs: p50 * 1.1, P50Ns: p50, P90Ns: p50 * 1.2, P99Ns: p50 * 2, P999Ns: p50 * 5, MaxNs: p50 * 10}
	}
	ctr := newOpCounters(1000, notify.Stats{Sleeps: 500, WaitsSlept: 400, Spurious: 2, SpinIterations: 3000}, notify.Stats{Wakes: 250})
	for i := range r.PingPong {
		r.PingPong[i].Counters = ctr
	}
	for i := range r.Stream {
		r.Stream[i].Counters = ctr
	}
	for _, n := range []string{"futex", "hybrid", "adaptive"} {
		p50 := map[string]float64{"futex": 20e3, "hybrid": 1e3, "adaptive": 1.1e3}[n]
		cpu := map[string]float64{"futex": 10e3, "hybrid": 900e3, "adaptive": 11e3}[n]
		for _, rate := range []int{1000, 1_000_000} {
			f := OpenLoopFigures{Latency: lat(p50), FromSend: lat(p50 / 2), SentFPS: float64(rate), ReceivedFPS: float64(rate),
				ReaderCPUNsPerFrame: cpu, WriterCPUNsPerFrame: 5e3, PacingNsPerFrame: 4e3, Counters: ctr}
			if rate > 1000 {
				f.ReaderCPUNsPerFrame = 300
			}
			r.OpenLoop = append(r.OpenLoop, openLoopResultOf(n, rate, f, time.Second))
		}
		for _, g := range []time.Duration{time.Millisecond, 100 * time.Millisecond} {
			r.Wake = append(r.Wake, wakeResult{Notifier: n, FrameBytes: openLoopFrameBytes, GapNs: int64(g), GapP50Ns: float64(g) * 1.05,
				Latency: lat(p50), Counters: ctr})
		}
	}
	r.OpenLoop = append(r.OpenLoop, openLoopResult{Notifier: "spin", FrameBytes: 64, OfferedFPS: 1_000_000, Skipped: true, Saturated: true,
		Note: "not run: 100 k/s was not sustained"})
	return r
}

func TestOpenLoopRowFigures(t *testing.T) {
	f := OpenLoopFigures{ReaderCPUNsPerFrame: 300, WriterCPUNsPerFrame: 5000, PacingNsPerFrame: 4500}
	row := openLoopResultOf("futex", 1000, f, time.Second)
	assert.InDelta(t, 800, row.NotifierCPUNsPerFrame, 1e-9, "reader + writer − pacing")
	f.PacingNsPerFrame = 6000 // wall time spun can exceed the CPU time under load
	row = openLoopResultOf("futex", 1000, f, time.Second)
	assert.InDelta(t, 300, row.NotifierCPUNsPerFrame, 1e-9, "never below the reader's")
	f.GaveUp, f.Saturated = true, true
	assert.Contains(t, openLoopResultOf("futex", 1000, f, 500*time.Millisecond).Note, "500ms behind")
}

func TestAdaptiveVersus(t *testing.T) {
	s := adaptiveVersus(latencySample().OpenLoop)
	// p50 1.1 µs ÷ 1 µs at 1 M/s; CPU (11 + 1) µs ÷ (10 + 1) µs at 1 k/s.
	assert.Equal(t, "adaptive: p50 at 1.00 M/s 1.10× hybrid's (goal ≤ 1.2×); CPU/frame (both−pacing) at 1.00 k/s 1.09× futex's (goal ≤ 1.2×).", s)
	assert.Empty(t, adaptiveVersus(sampleResults().OpenLoop), "nothing to compare")
	// Hybrid saturated at 1 M/s: the p50s are compared at 1 k/s.
	r := latencySample()
	for i := range r.OpenLoop {
		if r.OpenLoop[i].Notifier == "hybrid" && r.OpenLoop[i].OfferedFPS == 1_000_000 {
			r.OpenLoop[i].Saturated = true
		}
	}
	assert.Contains(t, adaptiveVersus(r.OpenLoop), "p50 at 1.00 k/s 1.10× hybrid's")
}

func TestPrintLatencyStages(t *testing.T) {
	r := latencySample()
	var b bytes.Buffer
	printOpenLoop(&b, r)
	printWake(&b, r)
	withCounters(printPingPong, pingPongCounters, "rt")(&b, r)
	out := b.String()
	for _, want := range []string{"6. Open loop", "intended-time correction for coordinated omission", "reader cpu/f", "(pacing)",
		"not run: 100 k/s was not sustained", "7. Wake after idle", "wakes/f", "wakes/rt", "slept waits/rt", "adaptive: p50 at"} {
		assert.Contains(t, out, want)
	}
	// futex at 1 k/s: p50 20 µs, p99 40 µs, from-send p99 20 µs, reader
	// 10 µs, writer 5 µs of which 4 µs pacing, 11 µs both; 0.25 wakes,
	// 0.50 sleeps, 2 spurious, 3 spins per frame.
	assert.Regexp(t, `futex +1\.00 k +1\.00 k +1\.00 k +1000 +20\.0µs +40\.0µs +100µs +200µs +20\.0µs +10\.0µs +5\.00µs +4\.00µs +11\.0µs +- +0\.25 +0\.50 +2 +3\.00`, out)
	assert.Regexp(t, `hybrid +100ms +105ms +1000 +500ns +1\.00µs +2\.00µs +10\.0µs +0\.25 +0\.50 +2 +3\.00`, out)
}

func TestLatencyJSONShape(t *testing.T) {
	r := latencySample()
	o, err := parseBenchArgs([]string{"--quick"})
	require.NoError(t, err)
	r.Settings = o.settings()
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	ol := m["openloop"].([]any)[0].(map[string]any)
	for _, k := range []string{"notifier", "frame_bytes", "offered_fps", "sent_fps", "received_fps", "latency", "latency_from_send",
		"reader_cpu_ns_per_frame", "writer_cpu_ns_per_frame", "writer_pacing_spin_ns_per_frame",
		"cpu_ns_per_frame_both_sides_without_pacing", "saturated", "counters", "placement"} {
		assert.Contains(t, ol, k)
	}
	assert.Contains(t, ol["latency"], "p999_ns")
	ctr := ol["counters"].(map[string]any)
	for _, k := range []string{"ops", "readers", "writers", "wakes_per_op", "sleeps_per_op", "slept_waits_per_op", "spurious", "spins_per_op"} {
		assert.Contains(t, ctr, k)
	}
	assert.Contains(t, ctr["readers"], "waits_slept")
	wk := m["wake"].([]any)[0].(map[string]any)
	for _, k := range []string{"notifier", "gap_ns", "gap_seen_p50_ns", "latency", "counters"} {
		assert.Contains(t, wk, k)
	}
	assert.Contains(t, m["pingpong"].([]any)[0], "counters")
	assert.Contains(t, m["stream"].([]any)[0], "counters")
	st := m["settings"].(map[string]any)
	assert.Equal(t, []any{1000.0, 10000.0, 100000.0, 1e6}, st["openloop_offered_fps"])
	assert.Equal(t, []any{1e6, 1e8}, st["wake_gaps_ns"], "--quick keeps 1 ms and 100 ms")
	assert.Equal(t, []any{200.0, 3.0}, st["wake_samples"])

	var back benchResults
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, r.OpenLoop, back.OpenLoop)
	assert.Equal(t, r.Wake, back.Wake)
}

func TestLatencyCSVShape(t *testing.T) {
	r := latencySample()
	rows := csvOf(t, r)
	header := csvFullHeader()
	require.Equal(t, header, rows[0])
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	stages := map[string]int{}
	for _, row := range rows[1:] {
		require.Len(t, row, len(header))
		stages[row[0]]++
		switch {
		case row[0] == "openloop" && row[col["name"]] == "futex" && row[col["fps"]] == "1000":
			assert.Equal(t, "40000", row[col["p99_ns"]])
			assert.Equal(t, "100000", row[col["p999_ns"]])
			assert.Equal(t, "10000", row[col["cpu_a_ns_per_op"]], "the reader's CPU")
			assert.Equal(t, "5000", row[col["cpu_b_ns_per_op"]], "the writer's CPU")
			assert.Equal(t, "4000", row[col["pacing_ns_per_op"]])
			assert.Equal(t, "11000", row[col["cpu_ns_per_op_without_pacing"]])
			assert.Equal(t, "false", row[col["saturated"]])
			assert.Equal(t, "0.25", row[col["wakes_per_op"]])
			assert.Equal(t, "2", row[col["spurious"]])
		case row[0] == "openloop" && row[col["name"]] == "spin":
			assert.Equal(t, "true", row[col["saturated"]])
			assert.Empty(t, row[col["p99_ns"]], "not run")
		case row[0] == "wake" && row[col["name"]] == "hybrid" && row[col["gap_ns"]] == "100000000":
			assert.Equal(t, "1000", row[col["p50_ns"]])
			assert.Equal(t, "0.5", row[col["sleeps_per_op"]])
		case row[0] == "pingpong", row[0] == "stream":
			assert.Equal(t, "0.25", row[col["wakes_per_op"]], "counters of %s %s", row[0], row[1])
			assert.Equal(t, "3", row[col["spins_per_op"]])
		case row[0] == "floor":
			assert.Empty(t, row[col["wakes_per_op"]], "no counters")
		}
	}
	assert.Equal(t, 7, stages["openloop"])
	assert.Equal(t, 6, stages["wake"])
	assert.Equal(t, 4, stages["pingpong"])
}

func TestLatencyCharts(t *testing.T) {
	dir := t.TempDir()
	files, err := writeCharts(dir, latencySample())
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for _, name := range []string{"openloop-latency.svg", "openloop-pareto.svg", "wake-latency.svg"} {
		require.True(t, slices.Contains(names, name), "%s in %v", name, names)
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		svg := string(b)
		assert.True(t, strings.HasPrefix(strings.TrimSpace(svg), "<?xml") || strings.Contains(svg, "<svg"), name)
		for _, n := range []string{"futex", "hybrid", "adaptive"} {
			assert.Contains(t, svg, n, name)
		}
		assert.NotContains(t, svg, ">spin", "%s: a rate not run is not drawn", name)
	}
	assert.Nil(t, openLoopLatencyChart(sampleResults()))
	assert.Nil(t, openLoopParetoChart(sampleResults()))
	assert.Nil(t, wakeChart(sampleResults()))
}

func TestLatencyOptions(t *testing.T) {
	o, err := parseBenchArgs(nil)
	require.NoError(t, err)
	assert.Equal(t, []int{1000, 10_000, 100_000, 1_000_000}, o.openLoopRates)
	assert.Equal(t, []time.Duration{100 * time.Microsecond, time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second}, o.wakeGaps)
	assert.Contains(t, o.stages, "openloop")
	assert.Contains(t, o.stages, "wake")
	// The default wake stage: 1000, 1000, 300, 30 and 5 samples, about
	// 12 s a notifier.
	assert.Equal(t, []int{1000, 1000, 300, 30, 5}, o.settings().WakeSamples)

	o, err = parseBenchArgs([]string{"--quick", "--openloop-rates", "500,2000", "--wake-gaps", "1ms,50ms,100ms"})
	require.NoError(t, err)
	assert.Equal(t, []int{500, 2000}, o.openLoopRates)
	assert.Equal(t, []time.Duration{time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}, o.wakeGaps)

	for _, bad := range [][]string{
		{"--openloop-rates", "0"}, {"--openloop-rates", "fast"}, {"--openloop-rates", "20000000"},
		{"--openloop-time", "0s"}, {"--openloop-min-frames", "0"},
		{"--wake-gaps", "0s"}, {"--wake-gaps", "soon"}, {"--wake-gaps", "2m"}, {"--wake-budget", "-1s"},
		{"--wake-min-samples", "0"}, {"--wake-min-samples", "10", "--wake-max-samples", "5"},
		{"--stages", "openloop,nap"},
	} {
		_, err := parseBenchArgs(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestLatencyChildArguments(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, args := range [][]string{{"x"}, {"name", "0", "1", "1", "1s"}, {"name", "10", "1", "1", "forever"},
		{"name", "10", "-1", "1", "1s"}} {
		errOut.Reset()
		assert.NotZero(t, benchChildMain("openloop-writer", args, strings.NewReader(""), &out, &errOut), "%q", args)
		assert.NotEmpty(t, errOut.String())
	}
	for _, args := range [][]string{{"x"}, {"name", "1ms", "0"}, {"name", "1ms,2ms", "1"}} {
		errOut.Reset()
		assert.NotZero(t, benchChildMain("wake-writer", args, strings.NewReader(""), &out, &errOut), "%q", args)
		assert.NotEmpty(t, errOut.String())
	}
}

// TestEngineOpenLoopAndWake runs both measurements briefly through the
// engine's public calls; it checks their shape, never their figures.
func TestEngineOpenLoopAndWake(t *testing.T) {
	t.Cleanup(func() { checkNoBenchFiles(t) })
	e := NewEngine(context.Background())
	defer e.Close()

	fig, err := e.OpenLoop("futex", 2000, 50)
	require.NoError(t, err)
	assert.EqualValues(t, 50, fig.Latency.Count, "every measured frame recorded")
	assert.EqualValues(t, 50, fig.FromSend.Count)
	assert.Positive(t, fig.Latency.MinNs)
	assert.GreaterOrEqual(t, fig.Latency.P50Ns*1.01, fig.FromSend.P50Ns, "from the intended time ≥ from the send")
	require.NotNil(t, fig.Counters)
	assert.EqualValues(t, 50, fig.Counters.Writers.Frames, "the writer's counters cover the measured frames")
	assert.EqualValues(t, 50, fig.Counters.Readers.Frames)
	assert.Positive(t, fig.WriterCPUNsPerFrame)

	_, err = e.OpenLoop("futex", 0, 10)
	assert.Error(t, err)

	wk, err := e.Wake("hybrid", time.Millisecond, 5)
	require.NoError(t, err)
	assert.EqualValues(t, 5, wk.Latency.Count)
	assert.GreaterOrEqual(t, wk.GapP50Ns, float64(time.Millisecond), "the writer waits the gap at least")
	require.NotNil(t, wk.Counters)
	assert.EqualValues(t, 5, wk.Counters.Writers.Frames)

	_, err = e.Wake("hybrid", 0, 5)
	assert.Error(t, err)
}

func TestDurationTicks(t *testing.T) {
	assert.Equal(t, []string{"500 ns", "2 µs", "10 ms", "1 s"}, []string{shortNs(500), shortNs(2e3), shortNs(1e7), shortNs(1e9)})
	var labels []string
	for _, tk := range durationTicks(900, 2.5e6) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	assert.Equal(t, []string{"1 µs", "2 µs", "5 µs", "10 µs", "20 µs", "50 µs", "100 µs", "200 µs", "500 µs", "1 ms", "2 ms"}, labels)
}

func TestThreadCPUTime(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	own := func() time.Duration {
		var ts unix.Timespec
		require.NoError(t, unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts))
		return time.Duration(ts.Nano())
	}
	// The same clock as the thread's own: between two of its readings.
	for range 100 {
		a := own()
		b := threadCPUTime(tid)
		c := own()
		require.LessOrEqual(t, a, b)
		require.LessOrEqual(t, b, c)
	}
	assert.Zero(t, threadCPUTime(1<<22+12345), "no such thread")
}

func TestSamplerCPU(t *testing.T) {
	t.Cleanup(func() { checkNoBenchFiles(t) })
	e := NewEngine(context.Background())
	defer e.Close()
	c, err := e.start("no-such-role", nil)
	require.NoError(t, err)
	defer c.kill()
	a := c.samplerCPU()
	b := c.samplerCPU()
	assert.LessOrEqual(t, a, b, "a thread's CPU time only grows")
	assert.NotZero(t, c.sampler.tid.Load(), "the sampler named its thread")
}
