package harmony

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// idleCPUCeiling is the most CPU, in percent of one core, a process whose
// reader is blocked on an empty ring may use: a blocked waiter uses none,
// a busy-waiting one a whole core; what is left is the Go runtime's own
// housekeeping.
const idleCPUCeiling = 5.0

// copyCPUCeiling is the most CPU time, per GiB moved, that "efficient data
// copying" allows: one copy into the ring and one comparison out of it cost
// well under a second per GiB; a byte-at-a-time path costs several.
const copyCPUCeiling = 10 * time.Second

// saturationFloor is the least fraction of the memory bandwidth (a plain
// copy of a buffer larger than the caches) the ring's best throughput must
// reach to "saturate memory bandwidth": the ring copies once and its reader
// compares once, so an efficient ring moves data at a good part of it.
const saturationFloor = 0.2

// registerPerf: feature 9 (CPU usage) and feature 14 (benchmarks).
func registerPerf(r *Registry) {
	r.add(Given, `benchmark environment is prepared`, func(_ context.Context, w *world, _ []string) error {
		load, _ := os.ReadFile("/proc/loadavg")
		w.logf(LevelInformation, "benchmark environment: %d CPUs, GOMAXPROCS %d, load average %s; figures are this machine's at this moment, not a verdict",
			runtime.NumCPU(), runtime.GOMAXPROCS(0), strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
		n, err := openFiles()
		w.baselineFDs = n
		return err
	})
	r.add(Given, `the `+q+` process creates buffer `+q+` with large config(?:uration)?`, func(_ context.Context, w *world, a []string) error {
		return w.createReader(a[1], defaultMetadataSize, largePayloadSize)
	})

	// Feature 9: CPU usage.
	r.add(Then, `monitor CPU usage during idle \(blocked on semaphore\)`, func(ctx context.Context, w *world, _ []string) error {
		p, err := w.openPair(w.perfBase("idle"), 64<<10)
		if err != nil {
			return err
		}
		defer func() { _ = p.close() }()
		start, err := cpuNow()
		if err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, rerr := p.r.ReadFrame(rctx) // nothing is written: the reader blocks
		end, err := cpuNow()
		if err != nil {
			return err
		}
		if !errors.Is(rerr, context.DeadlineExceeded) {
			return fmt.Errorf("the idle reader should have waited out its second, got: %v", rerr)
		}
		use := start.until(end)
		w.perfState().idle = &use
		w.logf(LevelInformation, "idle: reader blocked on the data semaphore for %s; the process used %s of CPU (%.2f%% of a core)", use.wall.Round(time.Millisecond), use.cpu, use.percent())
		return nil
	})
	r.add(Then, `verify near-zero CPU when waiting`, func(_ context.Context, w *world, _ []string) error {
		idle := w.perfState().idle
		if idle == nil {
			return errors.New("no idle measurement was made")
		}
		if idle.percent() > idleCPUCeiling {
			return fmt.Errorf("%.2f%% of a core while blocked; a blocked reader should use under %.0f%%", idle.percent(), idleCPUCeiling)
		}
		return nil
	})
	r.add(When, `transfer data actively`, func(ctx context.Context, w *world, _ []string) error {
		res, err := w.transfer(ctx, w.perfBase("active"), 64<<10, time.Second)
		if err != nil {
			return err
		}
		w.perfState().active = &res
		w.logf(LevelInformation, "active: %d frames of 64 KiB in %s: %s, %.0f frames/s", res.frames, res.use.wall.Round(time.Millisecond), mbps(res.bytesPerSec()), res.framesPerSec())
		return nil
	})
	r.add(Then, `monitor CPU during active transfer`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		if st.active == nil {
			return errors.New("no transfer was measured")
		}
		a := st.active
		w.logf(LevelInformation, "active transfer: %.1f%% CPU (of one core; writer and reader together), %s CPU per GiB moved", a.use.percent(), cpuPerGiB(*a))
		if st.idle != nil {
			w.logf(LevelInformation, "idle was %.2f%%", st.idle.percent())
		}
		if a.use.cpu <= 0 {
			return errors.New("the transfer used no CPU time at all: the measurement is broken")
		}
		return nil
	})
	r.add(Then, `verify efficient data copying`, func(_ context.Context, w *world, _ []string) error {
		a := w.perfState().active
		if a == nil {
			return errors.New("no transfer was measured")
		}
		if a.corrupt > 0 {
			return fmt.Errorf("%d of %d frames arrived with bytes other than written", a.corrupt, a.frames)
		}
		if per := cpuPerGiB(*a); per > copyCPUCeiling {
			return fmt.Errorf("%s of CPU per GiB moved; an efficient copy needs under %s", per, copyCPUCeiling)
		}
		return nil
	})

	// 14.1: latency.
	r.add(Then, `measure latency for frame sizes:`, func(ctx context.Context, w *world, _ []string) error {
		rows, err := w.tableOr([][]string{{"1KB", "10000", "sub-millisecond"}, {"64KB", "10000", "sub-millisecond"},
			{"1MB", "10000", "low milliseconds"}, {"10MB", "10000", "low milliseconds"}})
		if err != nil {
			return err
		}
		st := w.perfState()
		st.latency = nil
		for i, row := range rows {
			if len(row) < 2 {
				return fmt.Errorf("latency table row %d: want size and iterations", i+1)
			}
			size, err := parseSize(row[0])
			if err != nil {
				return err
			}
			iters, err := atoi(row[1], "iterations")
			if err != nil {
				return err
			}
			l, err := w.measureLatency(ctx, w.perfBase("latency-"+strconv.Itoa(i)), size, iters)
			if err != nil {
				return err
			}
			l.label = row[0]
			if len(row) > 2 {
				l.expected = row[2]
			}
			if l.integrity > 0 {
				return fmt.Errorf("%s: %d frames arrived with bytes other than written", row[0], l.integrity)
			}
			if len(l.samples) < iters {
				w.logf(LevelInformation, "%s: %d of the %d iterations asked (bounded to %s and %d MiB per size on a shared machine)", row[0], len(l.samples), iters, perfSliceBudget, perfBytesBudget>>20)
			}
			w.logf(LevelInformation, "%s: P50 %s, P99 %s over %d frames", row[0], ms(l.pct(50)), ms(l.pct(99)), len(l.samples))
			st.latency = append(st.latency, l)
		}
		return nil
	})
	r.add(Then, `report Min, Max, Mean, P50, P90, P99, P99\.9`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		if len(st.latency) == 0 {
			return errors.New("no latency was measured")
		}
		for _, l := range st.latency {
			w.logf(LevelInformation, "%-6s n=%d  Min %s  Max %s  Mean %s  P50 %s  P90 %s  P99 %s  P99.9 %s  (expected: %s; %s)",
				l.label, len(l.samples), ms(l.samples[0]), ms(l.samples[len(l.samples)-1]), ms(l.mean()),
				ms(l.pct(50)), ms(l.pct(90)), ms(l.pct(99)), ms(l.pct(99.9)), l.expected, latencyVerdict(l))
		}
		return nil
	})

	// 14.2: throughput.
	r.add(Then, `measure throughput for `+q+` seconds with frame sizes:`, func(ctx context.Context, w *world, a []string) error {
		secs, err := strconv.ParseFloat(a[0], 64)
		if err != nil || secs <= 0 {
			return fmt.Errorf("duration %q is not a positive number of seconds", a[0])
		}
		rows, err := w.tableOr([][]string{{"1KB", "frames/sec, MB/sec"}, {"64KB", "frames/sec, MB/sec"},
			{"1MB", "frames/sec, MB/sec"}, {"10MB", "frames/sec, MB/sec"}})
		if err != nil {
			return err
		}
		d := min(time.Duration(secs*float64(time.Second)), perfSliceBudget)
		if d < time.Duration(secs*float64(time.Second)) {
			w.logf(LevelInformation, "measuring %s per frame size of the %s s asked: a step must answer within the serve's step timeout, and the machine is shared", d, a[0])
		}
		st := w.perfState()
		st.throughput = nil
		for i, row := range rows {
			size, err := parseSize(row[0])
			if err != nil {
				return err
			}
			res, err := w.transfer(ctx, w.perfBase("throughput-"+strconv.Itoa(i)), size, d)
			if err != nil {
				return err
			}
			if res.corrupt > 0 {
				return fmt.Errorf("%s: %d frames arrived with bytes other than written", row[0], res.corrupt)
			}
			st.throughput = append(st.throughput, throughputRow{label: row[0], res: res})
			w.logf(LevelInformation, "%-6s %10.0f frames/s  %s  (%d frames in %s)", row[0], res.framesPerSec(), mbps(res.bytesPerSec()), res.frames, res.use.wall.Round(time.Millisecond))
		}
		return nil
	})
	r.add(Then, `report CPU usage percentage`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		if len(st.throughput) == 0 {
			return errors.New("no throughput was measured")
		}
		for _, t := range st.throughput {
			w.logf(LevelInformation, "%-6s CPU %.1f%% of one core (writer and reader together), %s CPU per GiB", t.label, t.res.use.percent(), cpuPerGiB(t.res))
		}
		return nil
	})
	r.add(Then, `expect to saturate memory bandwidth`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		if len(st.throughput) == 0 {
			return errors.New("no throughput was measured")
		}
		best := slices.MaxFunc(st.throughput, func(a, b throughputRow) int {
			return cmpFloat(a.res.bytesPerSec(), b.res.bytesPerSec())
		})
		bw := copyBandwidth()
		st.memBW = bw
		ratio := best.res.bytesPerSec() / bw
		w.logf(LevelInformation, "best ring throughput %s (%s frames); memory bandwidth of a plain 64 MiB copy here: %s; ratio %.2f", mbps(best.res.bytesPerSec()), best.label, mbps(bw), ratio)
		if ratio < saturationFloor {
			return fmt.Errorf("the ring moves %s, %.0f%% of the %s a plain copy reaches; want at least %.0f%%", mbps(best.res.bytesPerSec()), 100*ratio, mbps(bw), 100*saturationFloor)
		}
		return nil
	})

	// 14.3: wrap-around overhead.
	r.add(Given, `buffer size is `+q+` frame size to force wrap`, func(_ context.Context, w *world, a []string) error {
		f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(a[0]), "x"), 64)
		if err != nil || f <= 1 || f >= 2 {
			return fmt.Errorf("factor %q: want a number between 1 and 2 (like 1.5x), so that one frame fits and every next one wraps", a[0])
		}
		w.perfState().wrapFactor = f
		return nil
	})
	r.add(When, `measure performance with wrap-around`, func(ctx context.Context, w *world, _ []string) error {
		st := w.perfState()
		if st.wrapFactor == 0 {
			return errors.New("no buffer-to-frame factor was given")
		}
		res, err := w.wrapRun(ctx, w.perfBase("wrap"), st.wrapFactor)
		if err != nil {
			return err
		}
		if res.wraps == 0 {
			return fmt.Errorf("no frame wrapped in a ring %.2fx the frame", st.wrapFactor)
		}
		st.wrapped = &res
		w.logf(LevelInformation, "with wrap-around (ring %.2fx the frame): %s", st.wrapFactor, res)
		return nil
	})
	r.add(When, `measure performance without wrap-around`, func(ctx context.Context, w *world, _ []string) error {
		res, err := w.wrapRun(ctx, w.perfBase("straight"), 2)
		if err != nil {
			return err
		}
		if res.wraps != 0 {
			return fmt.Errorf("%d frames wrapped in a ring of exactly two frames", res.wraps)
		}
		w.perfState().straight = &res
		w.logf(LevelInformation, "without wrap-around (ring of exactly 2 frames): %s", res)
		return nil
	})
	r.add(Then, `calculate overhead percentage`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		if st.wrapped == nil || st.straight == nil {
			return errors.New("both runs, with and without wrap-around, must be measured first")
		}
		st.overhead = 100 * (st.wrapped.cost - st.straight.cost) / st.straight.cost
		st.overheadSet = true
		w.logf(LevelInformation, "wrap-around overhead: %+.1f%% per write, against a plain copy made beside each (%.3fx with, %.3fx without); raw medians: write %s with, %s without; write-to-read %s with, %s without",
			st.overhead, st.wrapped.cost, st.straight.cost, st.wrapped.write, st.straight.write, st.wrapped.trip, st.straight.trip)
		return nil
	})
	r.add(Then, `expect less than `+q+` performance impact`, func(_ context.Context, w *world, a []string) error {
		st := w.perfState()
		if !st.overheadSet {
			return errors.New("no overhead was calculated")
		}
		limit, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(a[0]), "%"), 64)
		if err != nil {
			return fmt.Errorf("limit %q is not a percentage", a[0])
		}
		if st.overhead >= limit {
			return fmt.Errorf("wrap-around costs %+.1f%% per write, want less than %s (a loaded machine makes this figure noisy)", st.overhead, a[0])
		}
		return nil
	})
}

// largePayloadSize is the payload of "large config": room for the
// benchmarks' largest frames (10 MB) several times over.
const largePayloadSize = 64 << 20

// throughputRow is one frame size of the throughput benchmark.
type throughputRow struct {
	label string
	res   transferResult
}

// perfBase names a private ring after the scenario's buffer.
func (w *world) perfBase(what string) string {
	base := w.current
	if base == "" { // a process that neither created nor connected (14.6's writer)
		base = "serve-" + w.role
	}
	return base + "-" + what
}

func cpuPerGiB(t transferResult) time.Duration {
	if t.bytes == 0 {
		return 0
	}
	return time.Duration(float64(t.use.cpu) * float64(1<<30) / float64(t.bytes)).Round(time.Millisecond)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// latencyVerdict compares a row's median with the scenario's words; it is
// reported, not enforced: one-way latency on a shared machine is the
// scheduler's as much as the ring's.
func latencyVerdict(l latencyRow) string {
	p50 := l.pct(50)
	switch strings.ToLower(l.expected) {
	case "sub-millisecond":
		if p50 < time.Millisecond {
			return "P50 is sub-millisecond"
		}
		return "P50 is NOT sub-millisecond here"
	case "low milliseconds":
		if p50 < 10*time.Millisecond {
			return "P50 is within low milliseconds"
		}
		return "P50 is NOT within low milliseconds here"
	}
	return "no expectation read"
}

// copyBandwidth is the memory bandwidth a plain copy reaches: the best of
// a few copies of a buffer far larger than any cache, in bytes per second.
func copyBandwidth() float64 {
	const size = 64 << 20
	src, dst := simplePattern(size), make([]byte, size)
	best := 0.0
	for trial := 0; trial < 5; trial++ {
		n := 0
		start := time.Now()
		for time.Since(start) < 100*time.Millisecond {
			copy(dst, src)
			n++
		}
		if bw := float64(n*size) / time.Since(start).Seconds(); bw > best {
			best = bw
		}
	}
	return best
}

// wrapResult is a lockstep run of frames through a private ring.
type wrapResult struct {
	frames int
	wraps  uint64        // frames placed at the start after a wasted tail
	write  time.Duration // median WriteFrame
	trip   time.Duration // median from WriteFrame's start to the reader having the frame
	cost   float64       // median of each write's time over a plain copy's just before it
}

func (r wrapResult) String() string {
	return fmt.Sprintf("%d frames, %d wrapped; median write %s (%.3fx a plain copy of the frame), median write-to-read %s", r.frames, r.wraps, r.write, r.cost, r.trip)
}

// wrapFrameSize is the frame the wrap-around benchmark moves: with its
// 16-byte header, 1 MiB: large enough that copying it, not the
// scheduler, sets the time of a write.
const wrapFrameSize = 1<<20 - 16

// wrapRun sends frames one at a time through a ring factor times a frame
// (header included), in a few trials on fresh rings. Each write is timed
// against a plain copy of the same frame made just before it: the machine's
// load and memory bandwidth change from one moment (and one step) to the
// next, and the ratio of the two, taken side by side, cancels most of it.
func (w *world) wrapRun(ctx context.Context, base string, factor float64) (wrapResult, error) {
	slot := wrapFrameSize + 16
	// Rings are rounded up to 64 bytes; so is the slot, so that a ring of
	// exactly two slots tiles without a wasted tail.
	payload := (uint64(float64(slot)*factor) + 63) &^ 63
	var all wrapSamples
	scratch := make([]byte, wrapFrameSize)
	var wraps uint64
	for trial := 0; trial < 9; trial++ {
		n, err := w.wrapTrial(ctx, base, payload, 200, scratch, &all)
		if err != nil {
			return wrapResult{}, err
		}
		wraps += n
	}
	return wrapResult{frames: len(all.writes), wraps: wraps, write: median(all.writes), trip: median(all.trips), cost: medianFloat(all.costs)}, nil
}

type wrapSamples struct {
	writes, trips []time.Duration
	costs         []float64
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianFloat(f []float64) float64 {
	s := slices.Clone(f)
	slices.Sort(s)
	return s[len(s)/2]
}

// wrapTrial runs frames through a fresh ring of payload bytes, adds its
// samples to all and returns how many frames wrapped.
func (w *world) wrapTrial(ctx context.Context, base string, payload uint64, frames int, scratch []byte, all *wrapSamples) (uint64, error) {
	p, err := w.openPair(base, payload)
	if err != nil {
		return 0, err
	}
	defer func() { _ = p.close() }()
	src := newPatternSource(wrapFrameSize)
	for seq := uint64(1); seq <= uint64(frames); seq++ {
		frame := src.frame(wrapFrameSize, seq)
		c0 := time.Now()
		copy(scratch, frame)
		t0 := time.Now()
		if err := p.wr.WriteFrame(frame); err != nil {
			return 0, fmt.Errorf("write frame %d: %w", seq, err)
		}
		t1 := time.Now()
		f, err := p.r.ReadFrame(ctx)
		if err != nil {
			return 0, fmt.Errorf("read frame %d: %w", seq, err)
		}
		t2 := time.Now()
		if f.Len() != wrapFrameSize || f.Seq() != seq {
			return 0, fmt.Errorf("frame %d came back as frame %d of %d bytes", seq, f.Seq(), f.Len())
		}
		if err := f.Release(); err != nil {
			return 0, err
		}
		all.writes, all.trips = append(all.writes, t1.Sub(t0)), append(all.trips, t2.Sub(t0))
		all.costs = append(all.costs, float64(t1.Sub(t0))/float64(max(t0.Sub(c0), 1)))
	}
	return p.wr.OIEB().PayloadWrittenCount.Load() - uint64(frames), nil // wrap markers count as frames
}
