package harmony

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// The measuring steps of features 9 (CPU usage) and 14 (benchmarks) run on
// real rings, but on private ones that the measuring serve creates and reads
// itself (a reader goroutine beside the writer): in those scenarios every
// measuring step is routed to one process, and the scenario's other serve
// gets no step that would read while it measures. The private rings are
// named after the scenario's buffer, carry the scenario's suffix, and are
// removed when the step ends.
//
// Durations and frame counts are bounded so that every step answers well
// inside the serve's 30 s step timeout and a shared machine is not held
// busy for minutes: a step that does less than its scenario asks (fewer
// iterations, a shorter run) says so in its log. Figures go to the step's
// log; a check fails only on an expectation the scenario states.

// perfSliceBudget is how long one measured slice (one frame size, one rate)
// may run.
const perfSliceBudget = 2500 * time.Millisecond

// perfBytesBudget bounds the bytes one latency slice moves.
const perfBytesBudget = 512 << 20

// perfState is what the measuring steps observed, for the steps that check
// or report it.
type perfState struct {
	idle       *cpuUse
	active     *transferResult
	latency    []latencyRow
	throughput []throughputRow
	memBW      float64 // bytes/s of a plain copy

	wrapFactor        float64
	wrapped, straight *wrapResult
	overhead          float64
	overheadSet       bool

	barrierNs, plainNs float64
	barrierCompared    bool

	semOpNs, semWakeNs float64
	semRates           []rateRow

	fasterWriter bool
	util         *utilRun
	threshold    float64
	degradeAt    time.Duration
	recovery     time.Duration
	degraded     bool
}

func (w *world) perfState() *perfState {
	if w.perf == nil {
		w.perf = &perfState{}
	}
	return w.perf
}

// cpuClock is a point in wall time and in the process's CPU time.
type cpuClock struct {
	wall time.Time
	cpu  time.Duration
}

func cpuNow() (cpuClock, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return cpuClock{}, fmt.Errorf("getrusage: %w", err)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpuClock{wall: time.Now(), cpu: cpu}, nil
}

// cpuUse is the CPU the process used over a stretch of wall time.
type cpuUse struct {
	wall, cpu time.Duration
}

// percent is CPU time over wall time, in percent of one core.
func (u cpuUse) percent() float64 {
	if u.wall <= 0 {
		return 0
	}
	return 100 * float64(u.cpu) / float64(u.wall)
}

func (c cpuClock) until(end cpuClock) cpuUse {
	return cpuUse{wall: end.wall.Sub(c.wall), cpu: end.cpu - c.cpu}
}

// patternSource hands out the family's frame pattern (byte i is
// (i + sequence) mod 256, as framePattern) for any sequence without
// allocating: frame seq is a window into one longer run of bytes.
type patternSource []byte

func newPatternSource(size int) patternSource { return patternSource(simplePattern(size + 256)) }

func (p patternSource) frame(size int, seq uint64) []byte {
	o := int(seq % 256)
	return p[o : o+size]
}

// privatePair is a ring this serve both writes and reads.
type privatePair struct {
	name string
	r    *ring.Reader
	wr   *ring.Writer
}

// openPair creates a private ring named after base, with a payload of
// payload bytes, and connects a writer to it.
func (w *world) openPair(base string, payload uint64) (*privatePair, error) {
	name := w.bufferName(base)
	r, err := ring.NewReader(name, ring.Config{PayloadSize: payload})
	if err != nil {
		return nil, fmt.Errorf("create the private ring %s: %w", name, err)
	}
	wr, err := ring.Connect(name, ring.WithWriteTimeout(readTimeout))
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("connect to the private ring %s: %w", name, err)
	}
	return &privatePair{name: name, r: r, wr: wr}, nil
}

func (p *privatePair) close() error {
	var errs []error
	if p.wr != nil {
		if err := p.wr.Close(); err != nil && !errors.Is(err, ring.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if err := p.r.Close(); err != nil && !errors.Is(err, ring.ErrClosed) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// transferResult is one run of frames through a private ring.
type transferResult struct {
	size          int
	frames, bytes int64
	use           cpuUse
	corrupt       int64
}

func (t transferResult) framesPerSec() float64 { return float64(t.frames) / t.use.wall.Seconds() }
func (t transferResult) bytesPerSec() float64  { return float64(t.bytes) / t.use.wall.Seconds() }

// transfer writes frames of size for d through a fresh private ring while a
// reader goroutine reads them, compares every byte with the pattern and
// releases them. The writer then closes and the reader drains the rest.
func (w *world) transfer(ctx context.Context, base string, size int, d time.Duration) (transferResult, error) {
	p, err := w.openPair(base, uint64(max(4*(size+16), 64<<10)))
	if err != nil {
		return transferResult{}, err
	}
	defer func() { _ = p.close() }()
	src := newPatternSource(size)
	type readOut struct {
		n, corrupt int64
		err        error
	}
	done := make(chan readOut, 1)
	go func() {
		var out readOut
		for {
			f, err := p.r.ReadFrame(ctx)
			if errors.Is(err, ring.ErrWriterClosed) {
				break
			}
			if err != nil {
				out.err = err
				break
			}
			if !bytes.Equal(f.Bytes(), src.frame(size, f.Seq())) {
				out.corrupt++
			}
			out.n++
			if err := f.Release(); err != nil {
				out.err = err
				break
			}
		}
		done <- out
	}()
	start, err := cpuNow()
	if err != nil {
		return transferResult{}, err
	}
	var written int64
	var werr error
	for seq := uint64(1); ; seq++ {
		if werr = p.wr.WriteFrame(src.frame(size, seq)); werr != nil {
			break
		}
		written++
		if written&15 == 0 && time.Since(start.wall) >= d {
			break
		}
	}
	cerr := p.wr.Close()
	p.wr = nil
	out := <-done
	end, err := cpuNow()
	if err != nil {
		return transferResult{}, err
	}
	if err := errors.Join(werr, cerr, out.err); err != nil {
		return transferResult{}, fmt.Errorf("frames of %d bytes through %s: %w", size, p.name, err)
	}
	if out.n != written {
		return transferResult{}, fmt.Errorf("frames of %d bytes through %s: %d written, %d read", size, p.name, written, out.n)
	}
	return transferResult{size: size, frames: written, bytes: written * int64(size), use: start.until(end), corrupt: out.corrupt}, nil
}

// latencyRow is the one-way latency of one frame size: from the start of
// WriteFrame to the reader's ReadFrame returning the frame.
type latencyRow struct {
	label     string
	size      int
	asked     int
	expected  string
	samples   []time.Duration // sorted
	integrity int             // frames whose bytes were not the pattern
}

func (l latencyRow) pct(p float64) time.Duration {
	if len(l.samples) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(l.samples))-1e-9)) - 1 // nearest rank; the epsilon absorbs 0.999*1000 > 999
	return l.samples[min(max(i, 0), len(l.samples)-1)]
}

func (l latencyRow) mean() time.Duration {
	var sum time.Duration
	for _, s := range l.samples {
		sum += s
	}
	return sum / time.Duration(max(len(l.samples), 1))
}

// measureLatency sends frames one at a time (the next only after the reader
// has the last): each sample is an unloaded one-way latency.
func (w *world) measureLatency(ctx context.Context, base string, size, iterations int) (latencyRow, error) {
	row := latencyRow{size: size, asked: iterations}
	n := min(iterations, max(50, perfBytesBudget/max(size, 1)))
	p, err := w.openPair(base, uint64(2*(size+16)+64))
	if err != nil {
		return row, err
	}
	defer func() { _ = p.close() }()
	src := newPatternSource(size)
	got := make(chan time.Time)
	rerr := make(chan error, 1)
	go func() {
		defer close(got)
		for {
			f, err := p.r.ReadFrame(ctx)
			if errors.Is(err, ring.ErrWriterClosed) {
				return
			}
			if err != nil {
				rerr <- err
				return
			}
			t := time.Now()
			if !bytes.Equal(f.Bytes(), src.frame(size, f.Seq())) {
				row.integrity++
			}
			if err := f.Release(); err != nil {
				rerr <- err
				return
			}
			got <- t
		}
	}()
	start := time.Now()
	var werr error
	for seq := uint64(1); seq <= uint64(n); seq++ {
		t0 := time.Now()
		if werr = p.wr.WriteFrame(src.frame(size, seq)); werr != nil {
			break
		}
		t1, ok := <-got
		if !ok {
			break
		}
		row.samples = append(row.samples, t1.Sub(t0))
		if time.Since(start) > perfSliceBudget {
			break
		}
	}
	cerr := p.wr.Close()
	p.wr = nil
	for range got { // the reader ends on ErrWriterClosed
	}
	select {
	case err := <-rerr:
		werr = errors.Join(werr, err)
	default:
	}
	if err := errors.Join(werr, cerr); err != nil {
		return row, fmt.Errorf("latency of %d-byte frames: %w", size, err)
	}
	if len(row.samples) == 0 {
		return row, fmt.Errorf("latency of %d-byte frames: no frame arrived", size)
	}
	slices.Sort(row.samples)
	return row, nil
}

// parseSize reads "1KB", "64KB", "1MB", "10MB", "512" (binary multiples).
func parseSize(s string) (int, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q is not a positive number of bytes (like 64KB)", s)
	}
	return n * mult, nil
}

// parseRate reads "1Hz", "10kHz", "1MHz".
func parseRate(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "khz"):
		t, mult = strings.TrimSuffix(t, "khz"), 1e3
	case strings.HasSuffix(t, "mhz"):
		t, mult = strings.TrimSuffix(t, "mhz"), 1e6
	case strings.HasSuffix(t, "hz"):
		t = strings.TrimSuffix(t, "hz")
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) {
		return 0, fmt.Errorf("rate %q is not a positive frequency (like 10kHz)", s)
	}
	return f * mult, nil
}

// tableOr returns the step's data table's rows (header excluded), or, when
// the runner passed none (Harmony's never does), the scenario's table as the
// reference feature file writes it.
func (w *world) tableOr(def [][]string) ([][]string, error) {
	if w.params["table"] == "" {
		w.logf(LevelInformation, "no data table passed; using the reference scenario's table")
		return def, nil
	}
	var cols [][]string
	for i := 0; ; i++ {
		col, err := w.tableColumn(i)
		if err == nil && len(col) == 0 {
			err = errors.New("the step's data table has no rows")
		}
		if err != nil {
			if i == 0 {
				return nil, err
			}
			break
		}
		cols = append(cols, col)
	}
	rows := make([][]string, len(cols[0]))
	for i := range rows {
		for _, c := range cols {
			rows[i] = append(rows[i], c[i])
		}
	}
	return rows, nil
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 3, 64) + " ms" }

func mbps(bps float64) string { return strconv.FormatFloat(bps/(1<<20), 'f', 1, 64) + " MiB/s" }
