package bench

// The wake-after-idle stage: the latency of the first frame after a
// quiet period. A writer child sends a 64-byte frame, stays idle for a
// gap, sends the next, and so on, for each gap; each frame carries the
// CLOCK_MONOTONIC time just before its WriteFrame, and the reader (this
// process) records now − that. Every frame is a first frame after idle:
// where a spin budget runs out, the reader is asleep in the kernel when
// it comes, and its latency is the wake-up's.

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// Sample counts of a gap: budget ÷ gap, at least wakeMinSamples and at
// most wakeMaxSamples (the presets lower both).
const (
	wakeMinSamples = 5
	wakeMaxSamples = 1000
)

// wakeSamples is how many frames a gap records: as many as fit in
// budget, within [lo, hi].
func wakeSamples(gap, budget time.Duration, lo, hi int) int {
	if gap <= 0 {
		return hi
	}
	return min(max(int(budget/gap), lo), hi)
}

// wakeWriterReport is the wake writer child's RESULT: its counters over
// the frames of each gap.
type wakeWriterReport struct {
	Stats []notify.Stats `json:"stats"`
}

// wakeWriter is the writer child of the wake stage: args NAME GAPS
// SAMPLES (comma-separated, as many of each). On "go" it sends an
// unrecorded frame, then for each gap its samples, each after the gap
// idle since the one before (paced like the open-loop writer, so that
// the gap is exact and the sleep's overshoot is not counted), then a
// quit frame.
func (c *childIO) wakeWriter(args []string) error {
	if err := wantArgs(args, 3, "NAME GAPS SAMPLES"); err != nil {
		return err
	}
	gaps, samples, err := parseWakePlan(args[1], args[2])
	if err != nil {
		return err
	}
	w, err := ring.Connect(args[0], ring.WithWriteTimeout(childWait))
	if err != nil {
		return err
	}
	defer w.Close()
	p := &pacedWriter{w: w, payload: benchPayload(openLoopFrameBytes)}
	if err := precisePacing(); err != nil {
		return err
	}
	c.say("READY")
	if line, err := c.readLine(); err != nil || line != "go" {
		return fmt.Errorf("waiting for go: got %q, %v", line, err)
	}
	runtime.GC()
	if err := p.send(monoNow(), olWarm, 0); err != nil {
		return err
	}
	last := monoNow()
	rep := wakeWriterReport{Stats: make([]notify.Stats, len(gaps))}
	for k, gap := range gaps {
		if k > 0 {
			runtime.GC() // between gaps, not within one
		}
		for j := range samples[k] {
			now := p.waitUntil(last+int64(gap), false)
			before := w.Stats()
			if err := p.send(now, olMeasured, uint64(k)<<32|uint64(j)); err != nil {
				return err
			}
			rep.Stats[k] = rep.Stats[k].Add(statsSub(w.Stats(), before))
			last = monoNow()
		}
	}
	if err := p.send(0, olQuit, 0); err != nil {
		return err
	}
	b, _ := json.Marshal(rep)
	c.say("RESULT " + string(b))
	return nil
}

// parseWakePlan parses the wake writer's GAPS and SAMPLES arguments.
func parseWakePlan(gapList, sampleList string) ([]time.Duration, []int, error) {
	gs, ns := strings.Split(gapList, ","), strings.Split(sampleList, ",")
	if len(gs) != len(ns) {
		return nil, nil, fmt.Errorf("%d gaps but %d sample counts", len(gs), len(ns))
	}
	gaps, samples := make([]time.Duration, len(gs)), make([]int, len(ns))
	for i := range gs {
		g, err := time.ParseDuration(gs[i])
		if err != nil || g <= 0 {
			return nil, nil, fmt.Errorf("bad gap %q", gs[i])
		}
		n, err := strconv.Atoi(ns[i])
		if err != nil || n <= 0 {
			return nil, nil, fmt.Errorf("bad sample count %q", ns[i])
		}
		gaps[i], samples[i] = g, n
	}
	return gaps, samples, nil
}

// WakeFigures are what one gap measured.
type WakeFigures struct {
	Gap       time.Duration
	Latency   Latency     // send → ReadFrame returned, one way
	GapP50Ns  float64     // the idle time actually seen between frames (send to send)
	Counters  *OpCounters // both processes' counters over the gap's frames
	Placement Placement   // where the two processes ran (all gaps)
}

// wake measures notifier's first frame after each of gaps, samples[k]
// times gap k, with one child writing them all.
func (e *Engine) wake(notifier string, gaps []time.Duration, samples []int) ([]WakeFigures, error) {
	if len(gaps) == 0 || len(gaps) != len(samples) {
		return nil, fmt.Errorf("wake: %d gaps, %d sample counts", len(gaps), len(samples))
	}
	name := e.name("wake")
	n, err := ring.NewNotifier(notifier)
	if err != nil {
		return nil, err
	}
	r, err := ring.NewReader(name, ring.Config{PayloadSize: openLoopRing}, ring.WithNotifier(n))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	gs, ns := make([]string, len(gaps)), make([]string, len(gaps))
	for i := range gaps {
		gs[i], ns[i] = gaps[i].String(), strconv.Itoa(samples[i])
	}
	c, err := e.start("wake-writer", nil, name, strings.Join(gs, ","), strings.Join(ns, ","))
	if err != nil {
		return nil, err
	}
	defer c.kill()
	if _, err := c.expect("READY"); err != nil {
		return nil, err
	}
	if err := c.send("go"); err != nil {
		return nil, err
	}
	got, err := e.readWakeFrames(r, c, len(gaps))
	if err != nil {
		return nil, err
	}
	placed := c.resample()
	var rep wakeWriterReport
	if err := c.resultInto(&rep); err != nil {
		return nil, err
	}
	if err := c.wait(); err != nil {
		return nil, err
	}
	if len(rep.Stats) != len(gaps) {
		return nil, fmt.Errorf("wake writer reported %d gaps of %d", len(rep.Stats), len(gaps))
	}
	out := make([]WakeFigures, len(gaps))
	for k, g := range gaps {
		l := got.hists[k].Summary()
		out[k] = WakeFigures{Gap: g, Latency: l, GapP50Ns: median(got.seen[k]), Placement: placed,
			Counters: newOpCounters(l.Count, got.stats[k], rep.Stats[k])}
	}
	return out, nil
}

// wakeFrames are the wake stage's measured frames, by gap: their
// latencies, the gaps seen between sends, and the reader's counters.
type wakeFrames struct {
	hists []*latencyHist
	seen  [][]float64
	stats []notify.Stats
}

// readWakeFrames reads the wake writer's frames until it quits.
func (e *Engine) readWakeFrames(r *ring.Reader, c *benchChild, gaps int) (wakeFrames, error) {
	w := wakeFrames{hists: make([]*latencyHist, gaps), seen: make([][]float64, gaps), stats: make([]notify.Stats, gaps)}
	for i := range w.hists {
		w.hists[i] = newLatencyHist()
	}
	snap := r.Stats()
	var lastSent int64
	for {
		f, err := r.ReadFrame(e.ctx)
		if err != nil {
			return wakeFrames{}, fmt.Errorf("read: %w (%v)", err, c.stderr.String())
		}
		now := monoNow()
		sent, phase, index := openLoopHeader(f.Bytes())
		if err := f.Release(); err != nil {
			return wakeFrames{}, err
		}
		s := r.Stats()
		if phase == olQuit {
			return w, nil
		}
		k := int(index >> 32)
		if phase == olMeasured {
			if k >= gaps {
				return wakeFrames{}, fmt.Errorf("wake: frame of gap %d of %d", k, gaps)
			}
			w.hists[k].RecordNs(now - sent)
			w.seen[k] = append(w.seen[k], float64(sent-lastSent))
			w.stats[k] = w.stats[k].Add(statsSub(s, snap))
		}
		snap, lastSent = s, sent
	}
}

// Wake measures notifier's latency of a frame after an idle gap,
// samples times (see the wake stage in Usage).
func (e *Engine) Wake(notifier string, gap time.Duration, samples int) (WakeFigures, error) {
	if gap <= 0 || samples <= 0 {
		return WakeFigures{}, fmt.Errorf("wake after %v, %d samples: want both > 0", gap, samples)
	}
	figs, err := e.wake(notifier, []time.Duration{gap}, []int{samples})
	if err != nil {
		return WakeFigures{}, err
	}
	return figs[0], nil
}

// ---- results, plan, report ----

// wakeResult is one notifier after one idle gap.
type wakeResult struct {
	Notifier   string  `json:"notifier"`
	FrameBytes int     `json:"frame_bytes"`
	GapNs      int64   `json:"gap_ns"`
	GapP50Ns   float64 `json:"gap_seen_p50_ns"` // send to send, as it came out
	// Latency is one way: the reader's CLOCK_MONOTONIC at ReadFrame's
	// return minus the writer's just before WriteFrame.
	Latency   Latency     `json:"latency"`
	Counters  *OpCounters `json:"counters,omitempty"`
	Placement Placement   `json:"placement"`
}

// wakeSteps measures every notifier after every gap, one step (one
// writer child) per notifier.
func wakeSteps(o *benchOptions, e *Engine, res *benchResults) []benchStep {
	samples := make([]int, len(o.wakeGaps))
	for i, g := range o.wakeGaps {
		samples[i] = wakeSamples(g, o.wakeBudget, o.wakeMin, o.wakeMax)
	}
	var steps []benchStep
	for _, n := range o.notifiers {
		steps = append(steps, benchStep{fmt.Sprintf("wake %s after %s", n, joinDurations(o.wakeGaps)), func() error {
			figs, err := e.wake(n, o.wakeGaps, samples)
			for _, f := range figs {
				res.Wake = append(res.Wake, wakeResult{Notifier: n, FrameBytes: openLoopFrameBytes, GapNs: int64(f.Gap),
					GapP50Ns: f.GapP50Ns, Latency: f.Latency, Counters: f.Counters, Placement: f.Placement})
			}
			return err
		}})
	}
	return steps
}

func joinDurations(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = fmtNs(float64(d))
	}
	return strings.Join(s, ",")
}

func printWake(w io.Writer, r *benchResults) {
	stageTitle(w, fmt.Sprintf("7. Wake after idle: the first %d B frame after a quiet gap, one way", openLoopFrameBytes))
	t := newTable(append([]string{"notifier", ">gap", ">gap seen", ">samples", ">min", ">p50", ">p99", ">max"}, counterHeaders("f")...)...)
	for _, k := range r.Wake {
		l := k.Latency
		t.add(append([]string{k.Notifier, fmtNs(float64(k.GapNs)), fmtNs(k.GapP50Ns), strconv.FormatInt(l.Count, 10),
			fmtNs(l.MinNs), fmtNs(l.P50Ns), fmtNs(l.P99Ns), fmtNs(l.MaxNs)}, counterCells(k.Counters)...)...)
	}
	t.render(w)
	fmt.Fprintln(w, "latency: the reader's CLOCK_MONOTONIC when ReadFrame returned minus the writer's just before WriteFrame;")
	fmt.Fprintln(w, "gap seen: the p50 idle time between two sends. With few samples (long gaps) p99 is the max.")
	counterLegend(w, "f")
}

// wakeCSV is the wake rows of results.csv, by column name.
func wakeCSV(r *benchResults) []map[string]string {
	var rows []map[string]string
	for _, k := range r.Wake {
		m := map[string]string{"stage": "wake", "name": k.Notifier, "frame_bytes": strconv.Itoa(k.FrameBytes),
			"gap_ns": strconv.FormatInt(k.GapNs, 10), "gap_seen_ns": csvFloat(k.GapP50Ns)}
		latencyCSV(m, k.Latency)
		countersCSV(m, k.Counters)
		rows = append(rows, m)
	}
	return rows
}

// wakeGapsOf lists the gaps of rows, shortest first.
func wakeGapsOf(rows []wakeResult) []int64 {
	var gaps []int64
	for _, k := range rows {
		if !slices.Contains(gaps, k.GapNs) {
			gaps = append(gaps, k.GapNs)
		}
	}
	slices.Sort(gaps)
	return gaps
}
