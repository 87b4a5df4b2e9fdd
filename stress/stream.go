package stress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// streamSpec is everything both sides of a stream need to know; a child
// process gets it as JSON.
type streamSpec struct {
	Buffer   string
	Notifier string
	Seed     uint64
	Ring     uint64 // payload size, a multiple of 64
	Metadata uint64 // metadata block size
	MaxFrame int    // frames are 1..MaxFrame bytes

	// Fields makes frames arrays of u64 fields stored in place (the memory
	// ordering suite); sizes are then multiples of 8.
	Fields bool

	// The writer streams for Duration, or exactly Frames frames when
	// Frames is set.
	Duration time.Duration
	Frames   uint64

	WriterPause pause
	ReaderPause pause
	// SlowCommit puts random delays between Reserve and Commit and fills
	// the slot piecewise.
	SlowCommit bool
	// Hold is how many frames the reader may hold at once; it releases
	// them in random order. 0 or 1: each frame is released at once.
	Hold int
	// Continued marks a stream into a ring that already carried frames
	// (a replacement writer): the writer's first frame may be a wrap the
	// reader cannot see as one, so wrap counts are not compared.
	Continued bool

	// Fault roles: frames written before the fault, and the size of the
	// slot filled byte by byte.
	Before   uint64
	BigFrame int
}

func (sp *streamSpec) size(seq uint64) int { return frameSize(sp.Seed, seq, sp.MaxFrame, sp.Fields) }

// verify checks frame seq: its size and every byte (or field).
func (sp *streamSpec) verify(b []byte, seq uint64) error {
	if want := sp.size(seq); len(b) != want {
		return fmt.Errorf("frame %d: %d bytes, want %d", seq, len(b), want)
	}
	if sp.Fields {
		return checkFields(b, sp.Seed, seq)
	}
	return checkPayload(b, sp.Seed, seq)
}

// streamStats are one side's figures, compared between the sides and
// logged.
type streamStats struct {
	Frames, Bytes uint64
	// Wraps counts frames placed at offset 0 after the first: the writer
	// sees them in its write position, the reader in the frames' addresses.
	Wraps      uint64
	Markers    uint64 // wrap markers written (writer)
	EarlyWraps uint64 // wraps of a frame that fitted before the end but would have left a 1-15 byte tail (writer)
	EndWraps   uint64 // wraps because the previous frame ended exactly at the end of the ring (writer)
	Wasted     uint64 // tail bytes skipped by wraps (writer)
	ZeroCopy   uint64 // frames written with Reserve/Commit (writer)
	Copied     uint64 // frames written with WriteFrame (writer)
	Pauses     uint64
	MaxHeld    int    // most frames held at once (reader)
	OutOfOrder uint64 // releases of a frame while an older one was held (reader)
	BufferFull uint64 // ErrBufferFull seen and retried (writer, SIGSTOP suite)
	Elapsed    time.Duration
}

// ---- Writer side ----

type streamWriter struct {
	w       *ring.Writer
	sp      *streamSpec
	rnd     *rng
	scratch []byte
	st      streamStats
}

func newStreamWriter(w *ring.Writer, sp *streamSpec) *streamWriter {
	return &streamWriter{w: w, sp: sp, rnd: newRNG(sp.Seed ^ 0x77726974), scratch: make([]byte, max(sp.MaxFrame, sp.BigFrame))}
}

// run writes the metadata, then the stream, and reports the figures.
func (sw *streamWriter) run() (streamStats, error) {
	start := time.Now()
	if meta := metadataFor(sw.sp); meta != nil {
		if err := sw.w.SetMetadata(meta); err != nil {
			return sw.st, fmt.Errorf("set metadata: %w", err)
		}
	}
	deadline := start.Add(sw.sp.Duration)
	for seq := uint64(1); ; seq++ {
		if sw.sp.Frames > 0 {
			if seq > sw.sp.Frames {
				break
			}
		} else if seq > 1 && !time.Now().Before(deadline) {
			break
		}
		if err := sw.write(seq); err != nil {
			return sw.st, err
		}
		if sw.sp.WriterPause.maybe(sw.rnd) {
			sw.st.Pauses++
		}
	}
	sw.st.Elapsed = time.Since(start)
	return sw.st, nil
}

// write writes frame seq, in place or by copy, and counts its wrap. A
// failed write changes nothing and can be retried.
func (sw *streamWriter) write(seq uint64) error {
	sp, o := sw.sp, sw.w.OIEB()
	n := sp.size(seq)
	span := uint64(n) + 16
	before, count := o.PayloadWritePos.Load(), o.PayloadWrittenCount.Load()
	zeroCopy := sp.Fields || sw.rnd.intn(4) != 0
	if zeroCopy {
		buf, err := sw.w.Reserve(n)
		if err != nil {
			return fmt.Errorf("reserve frame %d (%d bytes): %w", seq, n, err)
		}
		if err := sw.fill(buf, seq); err != nil {
			return err
		}
		if sp.SlowCommit && sw.rnd.chance(2) {
			delay(sw.rnd.logDuration(time.Microsecond, time.Millisecond))
		}
		if err := sw.w.Commit(); err != nil {
			return fmt.Errorf("commit frame %d: %w", seq, err)
		}
		sw.st.ZeroCopy++
	} else {
		buf := sw.scratch[:n]
		fillPayload(buf, sp.Seed, seq)
		if err := sw.w.WriteFrame(buf); err != nil {
			return fmt.Errorf("write frame %d (%d bytes): %w", seq, n, err)
		}
		sw.st.Copied++
	}
	after := o.PayloadWritePos.Load()
	if pos := after - span; pos < before {
		size := sw.w.PayloadSize()
		sw.st.Wraps++
		sw.st.Wasted += size - before
		switch {
		case before == size:
			sw.st.EndWraps++
		case size-before >= span:
			sw.st.EarlyWraps++
		}
	}
	sw.st.Markers += o.PayloadWrittenCount.Load() - count - 1
	sw.st.Frames++
	sw.st.Bytes += uint64(n)
	return nil
}

// fill writes frame seq's content into its reserved slot: fields in
// order, or bytes, piecewise with delays for SlowCommit.
func (sw *streamWriter) fill(buf []byte, seq uint64) error {
	sp := sw.sp
	if sp.Fields {
		return fillFields(buf, sp.Seed, seq)
	}
	if !sp.SlowCommit {
		fillPayload(buf, sp.Seed, seq)
		return nil
	}
	if sw.rnd.chance(2) {
		delay(sw.rnd.logDuration(time.Microsecond, time.Millisecond))
	}
	want := sw.scratch[:len(buf)]
	fillPayload(want, sp.Seed, seq)
	pieces := 1 + sw.rnd.intn(4)
	for i := range pieces {
		copy(buf[i*len(buf)/pieces:(i+1)*len(buf)/pieces], want[i*len(buf)/pieces:])
		if i < pieces-1 && sw.rnd.chance(2) {
			delay(sw.rnd.logDuration(time.Microsecond, 200*time.Microsecond))
		}
	}
	return nil
}

// ---- Reader side ----

type heldFrame struct {
	f   ring.Frame
	seq uint64
}

type streamReader struct {
	r      *ring.Reader
	sp     *streamSpec
	rnd    *rng
	held   []heldFrame
	target int
	next   uint64 // the sequence number expected next
	prev   uintptr
	st     streamStats
	meta   bool
}

func newStreamReader(r *ring.Reader, sp *streamSpec) *streamReader {
	sr := &streamReader{r: r, sp: sp, rnd: newRNG(sp.Seed ^ 0x72656164), next: 1}
	sr.target = sr.newTarget()
	return sr
}

func (sr *streamReader) newTarget() int { return 1 + sr.rnd.intn(max(sr.sp.Hold, 1)) }

// run reads until the writer closes, checking every frame, then releases
// what it holds.
func (sr *streamReader) run() (streamStats, error) {
	ctx, cancel := readCtx(sr.sp.Duration + hangGuard)
	defer cancel()
	start := time.Now()
	for {
		err := sr.read(ctx)
		if errors.Is(err, ring.ErrWriterClosed) {
			break
		}
		if err != nil {
			return sr.st, err
		}
	}
	if err := sr.releaseAll(); err != nil {
		return sr.st, err
	}
	sr.st.Elapsed = time.Since(start)
	if sr.sp.Frames > 0 && sr.st.Frames != sr.sp.Frames {
		return sr.st, fmt.Errorf("read %d frames, the writer was to write %d", sr.st.Frames, sr.sp.Frames)
	}
	return sr.st, nil
}

// read reads, checks and holds (or releases) the next frame. Before
// waiting for it, it releases held frames when it has reached its target,
// and all of them when no frame is ready: the writer may be waiting for
// that room.
func (sr *streamReader) read(ctx context.Context) error {
	if len(sr.held) > 0 {
		if !sr.r.Available() {
			if err := sr.releaseAll(); err != nil {
				return err
			}
		} else if len(sr.held) >= sr.target {
			if err := sr.release(1 + sr.rnd.intn(len(sr.held))); err != nil {
				return err
			}
		}
	}
	f, err := sr.r.ReadFrame(ctx)
	if err != nil {
		return fmt.Errorf("read frame %d: %w", sr.next, err)
	}
	if f.Seq() != sr.next {
		return fmt.Errorf("got frame %d, want %d (lost or duplicated frames)", f.Seq(), sr.next)
	}
	if err := sr.sp.verify(f.Bytes(), sr.next); err != nil {
		return err
	}
	if !sr.meta && !sr.sp.Continued { // a replacement writer cannot store metadata again
		sr.meta = true
		if err := sr.checkMetadata(); err != nil {
			return err
		}
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(f.Bytes())))
	if sr.next > 1 && p < sr.prev {
		sr.st.Wraps++
	}
	sr.prev = p
	sr.st.Frames++
	sr.st.Bytes += uint64(f.Len())
	sr.held = append(sr.held, heldFrame{f, sr.next})
	sr.st.MaxHeld = max(sr.st.MaxHeld, len(sr.held))
	sr.next++
	if sr.sp.Hold <= 1 {
		if err := sr.releaseAll(); err != nil {
			return err
		}
	}
	if sr.sp.ReaderPause.maybe(sr.rnd) {
		sr.st.Pauses++
	}
	return nil
}

func (sr *streamReader) checkMetadata() error {
	want := metadataFor(sr.sp)
	got, err := sr.r.Metadata()
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if string(got) != string(want) {
		return fmt.Errorf("metadata: %d bytes that differ from the %d written", len(got), len(want))
	}
	return nil
}

// release releases m held frames picked at random, checking each again
// first: a writer that reused the bytes of a held frame shows here.
func (sr *streamReader) release(m int) error {
	for i := len(sr.held) - 1; i > 0; i-- {
		j := sr.rnd.intn(i + 1)
		sr.held[i], sr.held[j] = sr.held[j], sr.held[i]
	}
	for i, h := range sr.held[:m] {
		if err := sr.sp.verify(h.f.Bytes(), h.seq); err != nil {
			return fmt.Errorf("held frame changed before its release: %w", err)
		}
		for _, o := range sr.held[i+1:] {
			if o.seq < h.seq {
				sr.st.OutOfOrder++
				break
			}
		}
		if err := h.f.Release(); err != nil {
			return fmt.Errorf("release frame %d: %w", h.seq, err)
		}
		sr.held[i].f = ring.Frame{}
	}
	sr.held = append(sr.held[:0], sr.held[m:]...)
	sr.target = sr.newTarget()
	return nil
}

func (sr *streamReader) releaseAll() error {
	if len(sr.held) == 0 {
		return nil
	}
	return sr.release(len(sr.held))
}

// ---- Legs: where the two sides run ----

// streamLegs are the ways a stream runs: both sides as goroutines of this
// process, or this process reading from a child writer, or writing to a
// child reader.
var streamLegs = []string{"goroutines", "proc-writer", "proc-reader"}

func init() {
	childRoles["stream-writer"] = func(sp *streamSpec) error {
		w, err := connect(sp)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		st, err := newStreamWriter(w, sp).run()
		if err := errors.Join(err, w.Close()); err != nil {
			return err
		}
		b, _ := json.Marshal(st)
		say("DONE %s", b)
		return nil
	}
	childRoles["stream-reader"] = func(sp *streamSpec) error {
		r, err := newReader(sp)
		if err != nil {
			return fmt.Errorf("new reader: %w", err)
		}
		defer r.Close()
		say("READY")
		st, err := newStreamReader(r, sp).run()
		if err := errors.Join(err, r.Close()); err != nil {
			return err
		}
		b, _ := json.Marshal(st)
		say("DONE %s", b)
		return nil
	}
}

// runLeg streams sp in the given leg and checks that both sides agree:
// the reader got every frame the writer wrote, each intact.
func runLeg(t *testing.T, leg string, sp *streamSpec) (ws, rs streamStats) {
	t.Helper()
	switch leg {
	case "goroutines":
		r := openReader(t, sp)
		type result struct {
			st  streamStats
			err error
		}
		done := make(chan result, 1)
		go func() {
			w, err := connect(sp)
			if err != nil {
				done <- result{err: fmt.Errorf("connect: %w", err)}
				return
			}
			st, err := newStreamWriter(w, sp).run()
			done <- result{st, errors.Join(err, w.Close())}
		}()
		var rerr error
		rs, rerr = newStreamReader(r, sp).run()
		if rerr != nil {
			r.Close() // a writer waiting for room now sees the reader gone
		}
		var res result
		select {
		case res = <-done:
		case <-time.After(sp.Duration + hangGuard):
			t.Fatalf("writer goroutine still running %v after its stream (hang guard); reader: %v", hangGuard, rerr)
		}
		require.NoError(t, rerr, "reader")
		require.NoError(t, res.err, "writer")
		ws = res.st
	case "proc-writer":
		r := openReader(t, sp)
		c := startChild(t, "stream-writer", sp)
		var rerr error
		rs, rerr = newStreamReader(r, sp).run()
		if rerr != nil {
			c.Kill()
			t.Fatalf("reader: %v\nchild writer stderr:\n%s", rerr, c.Stderr())
		}
		require.NoError(t, json.Unmarshal([]byte(c.Expect("DONE ")), &ws))
		require.NoError(t, c.Wait())
	case "proc-reader":
		c := startChild(t, "stream-reader", sp)
		c.Expect("READY")
		w, err := connect(sp)
		require.NoError(t, err, "connect")
		var werr error
		ws, werr = newStreamWriter(w, sp).run()
		if werr = errors.Join(werr, w.Close()); werr != nil {
			c.Kill()
			t.Fatalf("writer: %v\nchild reader stderr:\n%s", werr, c.Stderr())
		}
		require.NoError(t, json.Unmarshal([]byte(c.Expect("DONE ")), &rs))
		require.NoError(t, c.Wait())
	default:
		t.Fatalf("unknown leg %q", leg)
	}
	require.Equal(t, ws.Frames, rs.Frames, "frames written and read")
	require.Equal(t, ws.Bytes, rs.Bytes, "bytes written and read")
	if !sp.Continued {
		require.Equal(t, ws.Wraps, rs.Wraps, "wraps seen by the writer and by the reader")
	}
	return ws, rs
}

// logFigures logs one leg's figures.
func logFigures(t *testing.T, sp *streamSpec, ws, rs streamStats) {
	t.Helper()
	secs := max(ws.Elapsed, rs.Elapsed).Seconds()
	t.Logf("ring %d B, frames ≤ %d B: %d frames, %d bytes in %.2fs = %.0f frames/s, %.1f MB/s; wraps %d (markers %d, early %d, at end %d, %d B wasted); writes zero-copy %d, copied %d; held ≤ %d, out-of-order releases %d; pauses writer %d, reader %d",
		sp.Ring, sp.MaxFrame, rs.Frames, rs.Bytes, secs, float64(rs.Frames)/secs, float64(rs.Bytes)/secs/1e6,
		ws.Wraps, ws.Markers, ws.EarlyWraps, ws.EndWraps, ws.Wasted, ws.ZeroCopy, ws.Copied,
		rs.MaxHeld, rs.OutOfOrder, ws.Pauses, rs.Pauses)
}

// baseSpec is a stream through a small ring of random size (4-16 KiB),
// frames of up to a third of it.
func baseSpec(seed uint64, notifier string, d time.Duration) *streamSpec {
	rnd := newRNG(seed)
	size := uint64(4096 + 64*rnd.intn(193))
	return &streamSpec{
		Buffer:   newName(),
		Notifier: notifier,
		Seed:     seed,
		Ring:     size,
		Metadata: uint64(64 * rnd.intn(4)),
		MaxFrame: int(size / 3),
		Duration: d,
	}
}

// streamSuite runs each profile in each leg, for each notifier, splitting
// the budget between them.
func (cfg config) streamSuite(t *testing.T, profiles map[string]func(sp *streamSpec)) {
	cfg.forEachNotifier(t, func(t *testing.T, notifier string) {
		d := cfg.budget / time.Duration(len(profiles)*len(streamLegs))
		var total streamStats
		var elapsed time.Duration
		for _, pname := range slices.Sorted(maps.Keys(profiles)) {
			for _, leg := range streamLegs {
				name := leg
				if len(profiles) > 1 {
					name = pname + "/" + leg
				}
				t.Run(name, func(t *testing.T) {
					sp := baseSpec(cfg.seedFor(t), notifier, d)
					profiles[pname](sp)
					ws, rs := runLeg(t, leg, sp)
					logFigures(t, sp, ws, rs)
					total.Frames += rs.Frames
					total.Bytes += rs.Bytes
					total.Wraps += ws.Wraps
					total.Markers += ws.Markers
					total.EarlyWraps += ws.EarlyWraps
					total.OutOfOrder += rs.OutOfOrder
					elapsed += max(ws.Elapsed, rs.Elapsed)
				})
			}
		}
		t.Logf("suite total for %s: %d frames, %d bytes in %.2fs of streaming = %.0f frames/s; wraps %d (markers %d, early %d); out-of-order releases %d",
			notifier, total.Frames, total.Bytes, elapsed.Seconds(), float64(total.Frames)/elapsed.Seconds(),
			total.Wraps, total.Markers, total.EarlyWraps, total.OutOfOrder)
	})
}

// RandomSizes streams frames of random sizes (1 B to a third of the ring)
// through small rings (4-16 KiB): wraps, wrap markers, wasted and
// early-wrapped tails all the time; every byte, size and sequence number
// checked. Legs: goroutine pair, process pair with the child as writer,
// process pair with the child as reader.
func RandomSizes(t *testing.T, opts Options) {
	run(t, opts, func(cfg config) {
		cfg.streamSuite(t, map[string]func(*streamSpec){"": func(*streamSpec) {}})
	})
}

// Pauses is RandomSizes with a slow reader and a fast writer, then a fast
// reader and a slow writer (random pauses of 1 µs to 1 ms).
func Pauses(t *testing.T, opts Options) {
	run(t, opts, func(cfg config) {
		cfg.streamSuite(t, map[string]func(*streamSpec){
			"slow-reader": func(sp *streamSpec) { sp.ReaderPause = pause{Every: 2, Max: time.Millisecond} },
			"slow-writer": func(sp *streamSpec) { sp.WriterPause = pause{Every: 2, Max: time.Millisecond} },
		})
	})
}

// ReserveHold delays between Reserve and Commit and fills slots
// piecewise, while the reader holds up to 8 frames and releases them in
// random order, checking each again just before its release.
func ReserveHold(t *testing.T, opts Options) {
	run(t, opts, func(cfg config) {
		cfg.streamSuite(t, map[string]func(*streamSpec){"": func(sp *streamSpec) {
			sp.SlowCommit = true
			sp.Hold = 8
		}})
	})
}

// MemoryOrdering streams frames of u64 fields stored in order, with plain
// stores, straight into the reserved slot; the reader checks every field
// of every frame, last first, so it never accepts a later field without
// the earlier ones.
func MemoryOrdering(t *testing.T, opts Options) {
	run(t, opts, func(cfg config) {
		cfg.streamSuite(t, map[string]func(*streamSpec){"": func(sp *streamSpec) {
			sp.Fields = true
			sp.Hold = 4
		}})
	})
}
