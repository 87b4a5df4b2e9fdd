package bench

// The open-loop stage: a writer child sends 64-byte frames at a fixed
// offered rate, on a schedule that never waits for the reader (this
// process). Each frame carries its intended send time, CLOCK_MONOTONIC
// in ns, and the reader records now − intended: the intended-time method
// of correcting for coordinated omission. A writer that falls behind its
// schedule (descheduled, or blocked on a full ring) sends at once with
// the intended stamp, skipping nothing, so the delay it suffered is in
// the latency, as a user's request would have suffered it.
//
// The writer paces itself by sleeping while the next frame is more than
// openLoopSpinWindow away and spinning on the clock for the last
// stretch. That spinning costs the writer CPU that is the harness's, not
// the notifier's: the writer measures it (pacing spin) and the report
// shows it apart.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

const (
	// openLoopFrameBytes is the frame of the open-loop and wake stages.
	openLoopFrameBytes = 64
	// openLoopRing is the ring of the open-loop and wake stages: room
	// for about 50,000 small frames of backlog.
	openLoopRing = 4 << 20
	// openLoopSpinWindow: the writer sleeps until this long before a
	// frame is due, then spins on the clock. With a timer slack of 1 ns
	// (precisePacing) a nanosleep overshoots by a wake-up's latency,
	// not by the default 50 µs slack.
	openLoopSpinWindow = 50 * time.Microsecond
	// saturatedShare: a rate counts as sustained when the writer sent,
	// and the reader took, at least this share of it; below
	// overwhelmedShare the higher rates are not tried.
	saturatedShare   = 0.9
	overwhelmedShare = 0.5
)

// rateWindow measures the rate of a run of n events between its 10th
// and its 90th percentile events, so that a stall at either end (the
// first frames, a last frame descheduled) does not read as saturation.
type rateWindow struct {
	lo, hi     int64 // the indices of the two events
	tLo, tHi   int64 // their times (ns)
	seenLo, ok bool
}

func newRateWindow(n int64) rateWindow {
	lo := n / 10
	return rateWindow{lo: lo, hi: max(n*9/10, lo+1)}
}

// mark notes event i at time t (ns).
func (w *rateWindow) mark(i, t int64) {
	switch i {
	case w.lo:
		w.tLo, w.seenLo = t, true
	case w.hi:
		w.tHi, w.ok = t, w.seenLo
	}
}

// rate is events per second between the two events, 0 when the second
// never came.
func (w rateWindow) rate() float64 {
	if !w.ok || w.tHi <= w.tLo {
		return 0
	}
	return float64(w.hi-w.lo) / float64(w.tHi-w.tLo) * 1e9
}

// Phases of an open-loop or wake frame, in its tag's top byte.
const (
	olWarm     = 0
	olMeasured = 1
	olQuit     = 2
	olPhaseBit = 56
)

func putOpenLoopHeader(p []byte, intendedNs int64, phase int, index uint64) {
	binary.LittleEndian.PutUint64(p[0:8], uint64(intendedNs))
	binary.LittleEndian.PutUint64(p[8:16], uint64(phase)<<olPhaseBit|index&(1<<olPhaseBit-1))
}

// putSentAt stamps the frame with the time it is actually sent.
func putSentAt(p []byte, ns int64) { binary.LittleEndian.PutUint64(p[16:24], uint64(ns)) }

// sentAt is the time a frame was actually sent.
func sentAt(p []byte) int64 { return int64(binary.LittleEndian.Uint64(p[16:24])) }

func openLoopHeader(p []byte) (intendedNs int64, phase int, index uint64) {
	tag := binary.LittleEndian.Uint64(p[8:16])
	return int64(binary.LittleEndian.Uint64(p[0:8])), int(tag >> olPhaseBit), tag & (1<<olPhaseBit - 1)
}

// intendedNs is when frame i of a schedule at rate frames/s starting at
// start (ns) is due: start + i × 10⁹ / rate, in integers, so that the
// schedule does not drift however long it runs.
func intendedNs(start, i int64, rate int) int64 {
	return start + i*int64(time.Second)/int64(rate)
}

// paceStep says what a paced writer does at now for a frame due at due:
// sleep for the returned duration when the frame is more than window
// away (it wakes window before it is due, or later if the sleep
// overshoots), spin when it is nearer, and send when it is due or late.
func paceStep(now, due int64, window time.Duration) (sleep time.Duration, spin bool) {
	switch d := due - now; {
	case d <= 0:
		return 0, false
	case d > int64(window):
		return time.Duration(d) - window, false
	}
	return 0, true
}

// openLoopFrames is how many frames a rate records: rate × d, and at
// least minFrames so that the tail of a low rate has samples.
func openLoopFrames(rate int, d time.Duration, minFrames int) int {
	return max(int(float64(rate)*d.Seconds()), minFrames)
}

// openLoopMaxLag is how far behind its schedule the writer may fall
// before it gives up on the rate as saturated: half the window, at least
// 50 ms.
func openLoopMaxLag(d time.Duration) time.Duration {
	return max(d/2, 50*time.Millisecond)
}

// openLoopWriterReport is the writer child's RESULT.
type openLoopWriterReport struct {
	CPUNs    int64        `json:"cpu_ns"`         // CPU time over the measured frames
	PacingNs int64        `json:"pacing_spin_ns"` // of which spinning on the clock
	Frames   int64        `json:"frames"`         // measured frames sent
	SentFPS  float64      `json:"sent_fps"`       // 10th to 90th percentile frame
	LagP99Ns float64      `json:"lag_p99_ns"`     // how late frames went out
	LagMaxNs float64      `json:"lag_max_ns"`
	GaveUp   bool         `json:"gave_up"` // fell openLoopMaxLag behind
	Stats    notify.Stats `json:"stats"`   // over the measured frames
}

// pacedWriter sends frames on a schedule through w.
type pacedWriter struct {
	w       *ring.Writer
	payload []byte
	spinNs  int64 // time spent spinning on the clock, while counting
	lag     *latencyHist
}

// precisePacing readies the calling goroutine to pace frames: it stays
// on its OS thread, whose timer slack becomes 1 ns, so that a nanosleep
// ends when asked rather than up to 50 µs later. A writer that sleeps
// most of each period stays cheap, and a scheduler under load wakes it
// promptly; one that spun through every period would be a CPU hog,
// preempted for milliseconds at a time.
func precisePacing() error {
	runtime.LockOSThread() // for the rest of the child's life
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("timer slack: %w", err)
	}
	return nil
}

// waitUntil sleeps or spins until due and returns the clock then.
func (p *pacedWriter) waitUntil(due int64, counting bool) int64 {
	now := monoNow()
	for {
		sleep, spin := paceStep(now, due, openLoopSpinWindow)
		switch {
		case sleep > 0:
			// nanosleep, not time.Sleep: the runtime's timers wake
			// no sooner than a millisecond (epoll_wait's unit) for
			// a shorter sleep. A signal ends it early: the loop
			// looks at the clock again. See precisePacing.
			ts := unix.NsecToTimespec(int64(sleep))
			_ = unix.Nanosleep(&ts, nil)
			now = monoNow()
		case spin:
			from := now
			for now < due {
				now = monoNow()
			}
			if counting {
				p.spinNs += now - from
			}
		default:
			return now
		}
	}
}

// send writes frame index of phase, stamped with its intended time.
func (p *pacedWriter) send(intended int64, phase int, index uint64) error {
	putOpenLoopHeader(p.payload, intended, phase, index)
	putSentAt(p.payload, monoNow())
	return p.w.WriteFrame(p.payload)
}

// openLoopWriter is the writer child of the open-loop stage: args NAME
// RATE WARM FRAMES MAXLAG. On "go" it sends WARM frames then FRAMES
// measured ones at RATE frames/s, stopping early when it falls MAXLAG
// behind, then a quit frame, and reports openLoopWriterReport.
func (c *childIO) openLoopWriter(args []string) error {
	if err := wantArgs(args, 5, "NAME RATE WARM FRAMES MAXLAG"); err != nil {
		return err
	}
	rate, err1 := strconv.Atoi(args[1])
	warm, err2 := strconv.Atoi(args[2])
	frames, err3 := strconv.Atoi(args[3])
	maxLag, err4 := time.ParseDuration(args[4])
	if err := errors.Join(err1, err2, err3, err4); err != nil || rate <= 0 || warm < 0 || frames <= 0 || maxLag <= 0 {
		return fmt.Errorf("bad arguments %q", args)
	}
	w, err := ring.Connect(args[0], ring.WithWriteTimeout(childWait))
	if err != nil {
		return err
	}
	defer w.Close()
	p := &pacedWriter{w: w, payload: benchPayload(openLoopFrameBytes), lag: newLatencyHist()}
	if err := precisePacing(); err != nil {
		return err
	}
	c.say("READY")
	if line, err := c.readLine(); err != nil || line != "go" {
		return fmt.Errorf("waiting for go: got %q, %v", line, err)
	}
	runtime.GC() // not during the measurement
	var rep openLoopWriterReport
	start := monoNow() + int64(time.Millisecond)
	var cpu0 time.Duration
	var stats0 notify.Stats
	sent := newRateWindow(int64(frames))
	for i := range int64(warm + frames) {
		due := intendedNs(start, i, rate)
		measured := i >= int64(warm)
		if i == int64(warm) {
			cpu0, stats0 = cpuTime(), w.Stats()
		}
		now := p.waitUntil(due, measured)
		if now-due > int64(maxLag) {
			rep.GaveUp = true
			break
		}
		phase := olWarm
		if measured {
			phase = olMeasured
			p.lag.RecordNs(max(now-due, 1))
		}
		if err := p.send(due, phase, uint64(i)); err != nil {
			return err
		}
		if measured {
			sent.mark(rep.Frames, now)
			rep.Frames++
		}
	}
	if rep.Frames > 0 {
		rep.CPUNs = int64(cpuTime() - cpu0)
		rep.Stats = statsSub(w.Stats(), stats0)
		rep.PacingNs = p.spinNs
		rep.SentFPS = sent.rate()
		l := p.lag.Summary()
		rep.LagP99Ns, rep.LagMaxNs = l.P99Ns, l.MaxNs
	}
	if err := p.send(0, olQuit, 0); err != nil {
		return err
	}
	b, _ := json.Marshal(rep)
	c.say("RESULT " + string(b))
	return nil
}

// resultInto waits for the child's RESULT line and decodes it into v.
func (c *benchChild) resultInto(v any) error {
	line, err := c.expect("RESULT ")
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(line), v); err != nil {
		return c.failure(fmt.Sprintf("bad RESULT %q", line))
	}
	return nil
}

// OpenLoopFigures are what one offered rate measured.
type OpenLoopFigures struct {
	Latency     Latency // now − intended send time, at the reader
	FromSend    Latency // now − actual send time: without the writer's lateness (uncorrected)
	SentFPS     float64 // the writer's, 10th to 90th percentile frame (see rateWindow)
	ReceivedFPS float64 // the reader's, the same way
	// CPU per measured frame: this process (the reader), the writer
	// child, and the part of the writer's that was pacing spin.
	ReaderCPUNsPerFrame float64
	WriterCPUNsPerFrame float64
	PacingNsPerFrame    float64
	LagP99Ns, LagMaxNs  float64     // how late the writer sent
	Saturated           bool        // below saturatedShare of the rate
	Overwhelmed         bool        // below overwhelmedShare: higher rates are not tried
	GaveUp              bool        // the writer fell maxLag behind and stopped
	Counters            *OpCounters // both processes' counters over the measured frames
	Placement           Placement   // where the two processes ran while measured
}

// openLoopRate measures notifier at one offered rate: warm frames
// unrecorded, then frames recorded; the writer gives up when it falls
// maxLag behind.
func (e *Engine) openLoopRate(notifier string, rate, warm, frames int, maxLag time.Duration) (OpenLoopFigures, error) {
	var fig OpenLoopFigures
	name := e.name("openloop")
	n, err := ring.NewNotifier(notifier)
	if err != nil {
		return fig, err
	}
	r, err := ring.NewReader(name, ring.Config{PayloadSize: openLoopRing}, ring.WithNotifier(n))
	if err != nil {
		return fig, err
	}
	defer r.Close()
	c, err := e.start("openloop-writer", nil, name, strconv.Itoa(rate), strconv.Itoa(warm), strconv.Itoa(frames), maxLag.String())
	if err != nil {
		return fig, err
	}
	defer c.kill()
	if _, err := c.expect("READY"); err != nil {
		return fig, err
	}
	if err := c.send("go"); err != nil {
		return fig, err
	}
	h, hSent := newLatencyHist(), newLatencyHist()
	var cpu0, cpu1 time.Duration
	var stats0, stats1 notify.Stats
	var got int64
	received := newRateWindow(int64(frames))
	for {
		f, err := r.ReadFrame(e.ctx)
		if err != nil {
			return fig, fmt.Errorf("read: %w (%v)", err, c.stderr.String())
		}
		now := monoNow()
		due, phase, _ := openLoopHeader(f.Bytes())
		sent := sentAt(f.Bytes())
		if err := f.Release(); err != nil {
			return fig, err
		}
		if phase == olQuit {
			cpu1, stats1 = cpuTime()-c.samplerCPU(), r.Stats()
			break
		}
		if phase != olMeasured {
			continue
		}
		if got == 0 {
			c.resample()
			// The reader's CPU: this process's, less the placement
			// sampler's thread.
			cpu0, stats0 = cpuTime()-c.samplerCPU(), r.Stats()
		}
		h.RecordNs(now - due)
		hSent.RecordNs(now - sent)
		received.mark(got, now)
		got++
	}
	fig.Placement = c.resample()
	var rep openLoopWriterReport
	if err := c.resultInto(&rep); err != nil {
		return fig, err
	}
	if err := c.wait(); err != nil {
		return fig, err
	}
	fig.Latency, fig.FromSend = h.Summary(), hSent.Summary()
	fig.SentFPS, fig.GaveUp = rep.SentFPS, rep.GaveUp
	fig.LagP99Ns, fig.LagMaxNs = rep.LagP99Ns, rep.LagMaxNs
	if got > 0 {
		fig.ReceivedFPS = received.rate()
		fig.ReaderCPUNsPerFrame = float64(cpu1-cpu0) / float64(got)
		fig.Counters = newOpCounters(got, statsSub(stats1, stats0), rep.Stats)
	}
	if rep.Frames > 0 {
		fig.WriterCPUNsPerFrame = float64(rep.CPUNs) / float64(rep.Frames)
		fig.PacingNsPerFrame = float64(rep.PacingNs) / float64(rep.Frames)
	}
	fig.Saturated = saturated(rate, fig.SentFPS, fig.ReceivedFPS, fig.GaveUp, saturatedShare)
	fig.Overwhelmed = saturated(rate, fig.SentFPS, fig.ReceivedFPS, fig.GaveUp, overwhelmedShare)
	return fig, nil
}

// saturated says whether an offered rate was not sustained: the writer
// gave up, or it or the reader kept less than share of the rate.
func saturated(rate int, sent, received float64, gaveUp bool, share float64) bool {
	limit := share * float64(rate)
	return gaveUp || sent < limit || received < limit
}

// OpenLoop measures the open-loop latency of notifier at rate frames/s
// over frames recorded frames after a tenth as many (at least 100)
// unrecorded ones: 64-byte frames, each stamped with its intended send
// time. See the open-loop stage in Usage.
func (e *Engine) OpenLoop(notifier string, rate, frames int) (OpenLoopFigures, error) {
	if rate <= 0 || frames <= 0 {
		return OpenLoopFigures{}, fmt.Errorf("open loop at %d frames/s, %d frames: want both > 0", rate, frames)
	}
	d := time.Duration(float64(frames) / float64(rate) * float64(time.Second))
	return e.openLoopRate(notifier, rate, max(frames/10, 100), frames, openLoopMaxLag(d))
}

// ---- results, plan, report ----

// openLoopResult is one notifier at one offered rate.
type openLoopResult struct {
	Notifier    string  `json:"notifier"`
	FrameBytes  int     `json:"frame_bytes"`
	OfferedFPS  int     `json:"offered_fps"`
	SentFPS     float64 `json:"sent_fps,omitempty"`
	ReceivedFPS float64 `json:"received_fps,omitempty"`
	// Latency is one way, writer to reader: the reader's clock at
	// ReadFrame's return minus the frame's intended send time (both
	// CLOCK_MONOTONIC), corrected for coordinated omission by the
	// intended-time method.
	Latency Latency `json:"latency"`
	// FromSend is the same from the time the frame was actually sent:
	// without the writer's own lateness, so not corrected for
	// coordinated omission; the difference is what the writer's
	// schedule slipped (its pacing, or a full ring).
	FromSend Latency `json:"latency_from_send"`
	// CPU per frame, each process over its measured window: the reader
	// (the bench process), the writer (the child; it includes the
	// pacing spin), the pacing spin alone, and the notifier's cost on
	// both sides: reader + writer − pacing spin.
	ReaderCPUNsPerFrame   float64     `json:"reader_cpu_ns_per_frame,omitempty"`
	WriterCPUNsPerFrame   float64     `json:"writer_cpu_ns_per_frame,omitempty"`
	PacingNsPerFrame      float64     `json:"writer_pacing_spin_ns_per_frame,omitempty"`
	NotifierCPUNsPerFrame float64     `json:"cpu_ns_per_frame_both_sides_without_pacing,omitempty"`
	WriterLagP99Ns        float64     `json:"writer_lag_p99_ns,omitempty"`
	WriterLagMaxNs        float64     `json:"writer_lag_max_ns,omitempty"`
	Saturated             bool        `json:"saturated"`
	Skipped               bool        `json:"skipped,omitempty"` // not run: a lower rate saturated
	Note                  string      `json:"note,omitempty"`
	Counters              *OpCounters `json:"counters,omitempty"`
	Placement             Placement   `json:"placement"`
}

// openLoopResultOf makes the row of a rate the writer ran with maxLag.
func openLoopResultOf(notifier string, rate int, f OpenLoopFigures, maxLag time.Duration) openLoopResult {
	r := openLoopResult{Notifier: notifier, FrameBytes: openLoopFrameBytes, OfferedFPS: rate, SentFPS: f.SentFPS,
		ReceivedFPS: f.ReceivedFPS, Latency: f.Latency, FromSend: f.FromSend, ReaderCPUNsPerFrame: f.ReaderCPUNsPerFrame,
		WriterCPUNsPerFrame: f.WriterCPUNsPerFrame, PacingNsPerFrame: f.PacingNsPerFrame,
		WriterLagP99Ns: f.LagP99Ns, WriterLagMaxNs: f.LagMaxNs, Saturated: f.Saturated,
		Counters: f.Counters, Placement: f.Placement}
	r.NotifierCPUNsPerFrame = f.ReaderCPUNsPerFrame + max(f.WriterCPUNsPerFrame-f.PacingNsPerFrame, 0)
	switch {
	case f.GaveUp:
		r.Note = fmt.Sprintf("saturated: the writer fell %s behind its schedule and stopped", fmtNs(float64(maxLag)))
	case f.Saturated:
		r.Note = fmt.Sprintf("saturated: sent %s/s, received %s/s", fmtRate(f.SentFPS), fmtRate(f.ReceivedFPS))
	}
	return r
}

// openLoopSteps measures every notifier at every offered rate, lowest
// first; the rates above one a notifier did not sustain are skipped.
func openLoopSteps(o *benchOptions, e *Engine, res *benchResults) []benchStep {
	var steps []benchStep
	for _, n := range o.notifiers {
		saturatedAt := 0
		for _, rate := range o.openLoopRates {
			steps = append(steps, benchStep{fmt.Sprintf("open loop %s %s/s", n, fmtRate(float64(rate))), func() error {
				if saturatedAt > 0 {
					res.OpenLoop = append(res.OpenLoop, openLoopResult{Notifier: n, FrameBytes: openLoopFrameBytes, OfferedFPS: rate,
						Saturated: true, Skipped: true, Note: fmt.Sprintf("not run: %s/s was not sustained", fmtRate(float64(saturatedAt)))})
					return nil
				}
				frames := openLoopFrames(rate, o.openLoopTime, o.openLoopMinFrames)
				d := time.Duration(float64(frames) / float64(rate) * float64(time.Second))
				maxLag := openLoopMaxLag(d)
				warm := max(int(float64(rate)*o.warmup.Seconds()), 10)
				fig, err := e.openLoopRate(n, rate, warm, frames, maxLag)
				if err != nil {
					return err
				}
				row := openLoopResultOf(n, rate, fig, maxLag)
				if fig.Overwhelmed {
					saturatedAt = rate
				}
				res.OpenLoop = append(res.OpenLoop, row)
				return nil
			}})
		}
	}
	return steps
}

func printOpenLoop(w io.Writer, r *benchResults) {
	stageTitle(w, fmt.Sprintf("6. Open loop: %d B frames at fixed offered rates, one way, corrected for coordinated omission", openLoopFrameBytes))
	t := newTable(append([]string{"notifier", ">offered/s", ">sent/s", ">received/s", ">samples", ">p50", ">p99", ">p99.9", ">max", ">p99 from send",
		">reader cpu/f", ">writer cpu/f", ">(pacing)", ">both−pacing", ">writer late p99"}, append(counterHeaders("f"), "note")...)...)
	for _, o := range r.OpenLoop {
		l := o.Latency
		cells := []string{o.Notifier, fmtRate(float64(o.OfferedFPS)), fmtRate(o.SentFPS), fmtRate(o.ReceivedFPS)}
		if o.Skipped {
			for range 11 {
				cells = append(cells, missing)
			}
		} else {
			cells = append(cells, strconv.FormatInt(l.Count, 10), fmtNs(l.P50Ns), fmtNs(l.P99Ns), fmtNs(l.P999Ns), fmtNs(l.MaxNs), fmtNs(o.FromSend.P99Ns),
				fmtNs(o.ReaderCPUNsPerFrame), fmtNs(o.WriterCPUNsPerFrame), fmtNs(o.PacingNsPerFrame), fmtNs(o.NotifierCPUNsPerFrame),
				fmtNs(o.WriterLagP99Ns))
		}
		cells = append(cells, counterCells(o.Counters)...)
		t.add(append(cells, o.Note)...)
	}
	t.render(w)
	fmt.Fprintln(w, "latency: the reader's CLOCK_MONOTONIC when ReadFrame returned minus the frame's intended send time on the")
	fmt.Fprintln(w, "writer's schedule (intended-time correction for coordinated omission: a writer behind schedule sends at")
	fmt.Fprintln(w, "once with the intended stamp, and its delay counts); p99 from send: from the actual send, uncorrected,")
	fmt.Fprintln(w, "without the writer's lateness (writer late p99). cpu/f: CPU time per frame of each process over its")
	fmt.Fprintln(w, "measured window (getrusage): reader = this process, less its placement sampler's thread; writer = the")
	fmt.Fprintf(w, "child, which paces itself by sleeping until %s before a frame is due and spinning on the clock after:\n",
		fmtNs(float64(openLoopSpinWindow)))
	fmt.Fprintln(w, "(pacing) is that spin, the harness's cost; both−pacing = reader + writer − pacing, the notifier's cost on")
	fmt.Fprintln(w, "both sides. sent/received: the rates between the 10th and 90th percentile frames; saturated: either")
	fmt.Fprintf(w, "< %.0f%% of the offered rate, or", 100*saturatedShare)
	fmt.Fprintf(w, " the writer fell half its window behind and stopped; below %.0f%% the\n", 100*overwhelmedShare)
	fmt.Fprintln(w, "higher rates are not run.")
	counterLegend(w, "f")
	if s := adaptiveVersus(r.OpenLoop); s != "" {
		fmt.Fprintln(w, s)
	}
}

// adaptiveVersus compares the adaptive notifier with hybrid (p50 at the
// highest rate all three sustained) and futex (CPU per frame, both
// sides without pacing, at the lowest rate all three sustained): the
// goals set for it. A saturated rate is no comparison.
func adaptiveVersus(rows []openLoopResult) string {
	get := func(n string, rate int) (openLoopResult, bool) {
		for _, o := range rows {
			if o.Notifier == n && o.OfferedFPS == rate && !o.Saturated && o.Latency.Count > 0 {
				return o, true
			}
		}
		return openLoopResult{}, false
	}
	lo, hi := 0, 0
	for _, o := range rows {
		if o.Notifier != "adaptive" || o.Saturated {
			continue
		}
		_, okH := get("hybrid", o.OfferedFPS)
		_, okF := get("futex", o.OfferedFPS)
		if !okH || !okF {
			continue
		}
		if lo == 0 || o.OfferedFPS < lo {
			lo = o.OfferedFPS
		}
		hi = max(hi, o.OfferedFPS)
	}
	if lo == 0 {
		return ""
	}
	a, _ := get("adaptive", hi)
	h, _ := get("hybrid", hi)
	al, _ := get("adaptive", lo)
	fl, _ := get("futex", lo)
	return fmt.Sprintf("adaptive: p50 at %s/s %s hybrid's (goal ≤ 1.2×); CPU/frame (both−pacing) at %s/s %s futex's (goal ≤ 1.2×).",
		fmtRate(float64(hi)), fmtRatio(ratio(a.Latency.P50Ns, h.Latency.P50Ns)),
		fmtRate(float64(lo)), fmtRatio(ratio(al.NotifierCPUNsPerFrame, fl.NotifierCPUNsPerFrame)))
}

// openLoopCSV is the open-loop rows of results.csv, by column name.
func openLoopCSV(r *benchResults) []map[string]string {
	var rows []map[string]string
	for _, o := range r.OpenLoop {
		m := map[string]string{"stage": "openloop", "name": o.Notifier, "frame_bytes": strconv.Itoa(o.FrameBytes),
			"fps": strconv.Itoa(o.OfferedFPS), "sent_fps": csvFloat(o.SentFPS), "frames_per_second": csvFloat(o.ReceivedFPS),
			"cpu_a_ns_per_op": csvFloat(o.ReaderCPUNsPerFrame), "cpu_b_ns_per_op": csvFloat(o.WriterCPUNsPerFrame),
			"pacing_ns_per_op": csvFloat(o.PacingNsPerFrame), "cpu_ns_per_op_without_pacing": csvFloat(o.NotifierCPUNsPerFrame),
			"saturated": strconv.FormatBool(o.Saturated), "note": o.Note}
		if !o.Skipped {
			latencyCSV(m, o.Latency)
		}
		countersCSV(m, o.Counters)
		rows = append(rows, m)
	}
	return rows
}
