package harmony

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// oiebView is the control block as both sides see it.
type oiebView = layout.OIEB

// writeTimeout is how long a serve's writer waits for space before it reports
// a full buffer. Shorter than the ring's default, so that the scenarios that
// fill a buffer on purpose do not wait long.
const writeTimeout = 2 * time.Second

// readTimeout bounds one read a step expects to succeed.
const readTimeout = 5 * time.Second

// world is what one serve's steps act on: the buffers it opened as a reader
// or a writer and what its earlier steps observed.
type world struct {
	suffix string
	role   string

	logMu sync.Mutex
	sink  func(level int, msg string)

	readers map[string]*ring.Reader
	writers map[string]*ring.Writer
	current string // the buffer the last create/connect named

	held      []ring.Frame // frames read and not yet released
	lastData  []byte       // a copy of the last frame read
	lastSeq   uint64
	sequences []uint64 // every sequence read, in order
	seqErrors []error
	lastErr   error // the outcome of the last "attempts to" step
	attempted bool
	nextSeq   map[string]uint64 // the writer's next sequence per buffer
	reserved  []byte
	stale     bool // a create step found a stale segment under its name

	largeFrame    int           // the size the "large frame" steps write
	readDelay     time.Duration // the delay a later read loop sleeps per frame
	writerGone    bool          // the last read loop ended because the writer left
	raceErrs      []error       // the outcomes of concurrent creators
	corruptFrames int           // frames read whose bytes were not their pattern
	closedNames   []string      // buffers the last shutdown/destroy step closed
	maxNameErr    error
	tooLongErr    error
	baselineFDs   int
	iterations    int
	writeChecks   []oiebStep
	readChecks    []oiebStep
	ctxIn         map[string]string // the scenario context the step came with
	ctxOut        map[string]string // what the step adds to it
	params        map[string]string // the step's parameters
	pendingCreate string
	createdNames  []string
	churn         *connector
	server        *duplexServer
	exhaust       *exhaustion
	crash         func() // ends the process at once (ServeConfig.Crash)
	client        *duplexClient
	perf          *perfState // features 9 and 14 (steps_perf.go, steps_bench.go)
	perm          *permState // feature 10.6 (steps_permissions.go)

	bg      *backgroundWriter
	stopped *backgroundWriter // the last background writer a step stopped

	wrap       *wrapAttempt // the last write that may wrap (5.5)
	wrapRd     *wrapRead    // the last read that may cross a wrap marker (5.5)
	freeChecks int          // continuous free space cases checked (5.6)
	freeFails  []string     // and those that did not match
	layoutLog  []frameSpot  // where "writes various sized frames" put them (12.2)
	corruption []string     // outcomes of "test multiple corruption scenarios" (10.2)
}

func newWorld(suffix string, logf func(level int, format string, args ...any)) *world {
	w := &world{suffix: suffix}
	w.sink = func(level int, msg string) { logf(level, "%s", msg) }
	w.clear()
	return w
}

func (w *world) clear() {
	w.readers = map[string]*ring.Reader{}
	w.writers = map[string]*ring.Writer{}
	w.nextSeq = map[string]uint64{}
	w.current, w.held, w.lastData, w.lastSeq = "", nil, nil, 0
	w.sequences, w.seqErrors, w.lastErr, w.attempted = nil, nil, nil, false
	w.reserved, w.stale, w.bg, w.stopped = nil, false, nil, nil
	w.largeFrame, w.readDelay, w.writerGone, w.raceErrs = 0, 0, false, nil
	w.corruptFrames = 0
	w.closedNames, w.maxNameErr, w.tooLongErr, w.baselineFDs, w.iterations = nil, nil, nil, 0, 0
	w.writeChecks, w.readChecks = nil, nil
	w.ctxOut = map[string]string{}
	w.pendingCreate, w.createdNames = "", nil
	w.server, w.client, w.exhaust = nil, nil, nil
	w.wrap, w.wrapRd, w.freeChecks, w.freeFails, w.layoutLog, w.corruption = nil, nil, 0, nil, nil, nil
	w.perf, w.perm = nil, nil
}

// crashSoon ends the process after d, as a crash would: the step that
// asks for it answers first.
func (w *world) crashSoon(d time.Duration) {
	w.logf(LevelWarning, "crashing in %s", d)
	time.AfterFunc(d, w.crash)
}

// setLog points the world's log at the running step's collector.
func (w *world) setLog(sink func(level int, msg string)) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	w.sink = sink
}

func (w *world) logf(level int, format string, args ...any) {
	w.logMu.Lock()
	sink := w.sink
	w.logMu.Unlock()
	sink(level, fmt.Sprintf(format, args...))
}

// reset releases everything: background writers stop, frames are released,
// writers and readers close (readers remove their files).
func (w *world) reset() {
	if w.bg != nil {
		w.bg.stop()
	}
	if w.churn != nil {
		w.churn.stop()
		w.churn = nil
	}
	if w.client != nil {
		_ = w.client.c.Close()
	}
	if err := w.releaseLimit(); err != nil {
		w.logf(LevelWarning, "release the exhausted buffers: %v", err)
	}
	if w.server != nil {
		_ = w.server.stop()
	}
	for _, f := range w.held {
		_ = f.Release()
	}
	for name, wr := range w.writers {
		if err := wr.Close(); err != nil && !errors.Is(err, ring.ErrClosed) {
			w.logf(LevelWarning, "close writer %s: %v", name, err)
		}
	}
	for name, r := range w.readers {
		if err := r.Close(); err != nil && !errors.Is(err, ring.ErrClosed) {
			w.logf(LevelWarning, "close reader %s: %v", name, err)
		}
	}
	w.clear()
}

// bufferName is the name every serve of a scenario uses for base.
func (w *world) bufferName(base string) string { return base + "_" + w.suffix }

func (w *world) reader() (*ring.Reader, error) {
	r, ok := w.readers[w.current]
	if !ok {
		return nil, fmt.Errorf("this process has no reader (role %q); a create step must come first", w.role)
	}
	return r, nil
}

// writer returns the current writer, after any background writing on it ended.
func (w *world) writer(ctx context.Context) (*ring.Writer, error) {
	if err := w.joinBackground(ctx); err != nil {
		return nil, err
	}
	wr, ok := w.writers[w.current]
	if !ok {
		return nil, fmt.Errorf("this process has no writer (role %q); a connect step must come first", w.role)
	}
	return wr, nil
}

func (w *world) createReader(base string, meta, payload uint64) error {
	name := w.bufferName(base)
	// Unbatched: each release shows in the OIEB at once, as the protocol's
	// reading rules have it, so that steps that check the control block
	// after each read (12.1) and foreign writers see the space returned.
	r, err := ring.NewReader(name, ring.Config{MetadataSize: meta, PayloadSize: payload}, ring.WithUnbatchedRelease())
	if err != nil {
		return fmt.Errorf("create buffer %s: %w", name, err)
	}
	if old, ok := w.readers[base]; ok {
		_ = old.Close()
	}
	w.readers[base] = r
	w.current = base
	w.ctxOut[contextBuffer] = base
	w.ctxOut[contextBuffer] = base
	w.logf(LevelInformation, "created buffer %s (metadata %d, payload %d)", name, meta, payload)
	return nil
}

func (w *world) connectWriter(base string) error {
	name := w.bufferName(base)
	wr, err := ring.Connect(name, ring.WithWriteTimeout(writeTimeout))
	if err != nil {
		return fmt.Errorf("connect to buffer %s: %w", name, err)
	}
	if old, ok := w.writers[base]; ok {
		_ = old.Close()
	}
	w.writers[base] = wr
	w.current = base
	w.nextSeq[base] = 1
	w.logf(LevelInformation, "connected to buffer %s", name)
	return nil
}

// write writes one frame of the test pattern for its sequence.
func (w *world) write(ctx context.Context, size int) error {
	wr, err := w.writer(ctx)
	if err != nil {
		return err
	}
	seq := w.nextSeq[w.current]
	if err := wr.WriteFrame(framePattern(size, seq)); err != nil {
		return fmt.Errorf("write frame %d of %d bytes: %w%s", seq, size, err, tooLargeWhy(wr, size, err))
	}
	w.nextSeq[w.current] = seq + 1
	return nil
}

func (w *world) writeBytes(ctx context.Context, p []byte) error {
	wr, err := w.writer(ctx)
	if err != nil {
		return err
	}
	if err := wr.WriteFrame(p); err != nil {
		return fmt.Errorf("write frame of %d bytes: %w%s", len(p), err, tooLargeWhy(wr, len(p), err))
	}
	w.nextSeq[w.current]++
	return nil
}

// read reads the next frame, keeps it held (until "signals space available")
// and remembers a copy of it.
func (w *world) read(ctx context.Context, timeout time.Duration) (ring.Frame, error) {
	r, err := w.reader()
	if err != nil {
		return ring.Frame{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	f, err := r.ReadFrame(rctx)
	if err != nil {
		if errors.Is(err, ring.ErrSequence) {
			w.seqErrors = append(w.seqErrors, err)
		}
		return ring.Frame{}, fmt.Errorf("read frame: %w", err)
	}
	w.held = append(w.held, f)
	w.lastData = append(w.lastData[:0], f.Bytes()...)
	w.lastSeq = f.Seq()
	w.sequences = append(w.sequences, f.Seq())
	return f, nil
}

// releaseAll releases every held frame, returning their space to the writer.
func (w *world) releaseAll() error {
	var first error
	for _, f := range w.held {
		if err := f.Release(); err != nil && first == nil {
			first = fmt.Errorf("release frame %d: %w", f.Seq(), err)
		}
	}
	w.held = w.held[:0]
	return first
}

// readAndRelease reads one frame and releases it at once.
func (w *world) readAndRelease(ctx context.Context, timeout time.Duration) (ring.Frame, error) {
	f, err := w.read(ctx, timeout)
	if err != nil {
		return f, err
	}
	w.held = w.held[:len(w.held)-1]
	return f, f.Release()
}

// framePattern is the family's test pattern for a frame: byte i is
// (i + sequence) mod 256.
func framePattern(size int, seq uint64) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(uint64(i) + seq)
	}
	return p
}

// simplePattern is byte i = i mod 256 (metadata and zero-copy frames).
func simplePattern(size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

func isSimplePattern(p []byte) bool {
	for i, b := range p {
		if b != byte(i) {
			return false
		}
	}
	return true
}

func atoi(s, what string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", what, s)
	}
	return n, nil
}

func atou(s, what string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a non-negative number", what, s)
	}
	return n, nil
}

// backgroundWriter writes frames on its own goroutine while the scenario's
// other steps run (a writer that blocks for space must not hold up the
// reader's steps). It owns the writer until it ends.
type backgroundWriter struct {
	done    chan struct{}
	quit    chan struct{}
	once    sync.Once
	err     error
	written int
	blocked int // writes that found too little free space and had to wait
}

func (b *backgroundWriter) stop() {
	b.once.Do(func() { close(b.quit) })
	<-b.done
}

// startBackground writes count frames of size (count < 0: until stopped),
// then closes the writer if closeAfter is set.
func (w *world) startBackground(ctx context.Context, count, size int, closeAfter bool) error {
	wr, err := w.writer(ctx)
	if err != nil {
		return err
	}
	base := w.current
	b := &backgroundWriter{done: make(chan struct{}), quit: make(chan struct{})}
	w.bg = b
	seq := w.nextSeq[base]
	go func() {
		defer close(b.done)
		for i := 0; count < 0 || i < count; i++ {
			select {
			case <-b.quit:
				return
			default:
			}
			o := wr.OIEB()
			if o.PayloadFreeBytes.Load() < needed(o.PayloadSize.Load(), o.PayloadWritePos.Load(), uint64(16+size)) {
				b.blocked++
			}
			err := wr.WriteFrame(framePattern(size, seq))
			if err != nil {
				if count < 0 && errors.Is(err, ring.ErrBufferFull) {
					continue // a continuous writer keeps trying until stopped
				}
				b.err = fmt.Errorf("background write of frame %d: %w", seq, err)
				return
			}
			seq++
			b.written++
		}
		if closeAfter {
			if err := wr.Close(); err != nil {
				b.err = fmt.Errorf("close writer after %d frames: %w", b.written, err)
			}
		}
	}()
	w.nextSeq[base] = seq + uint64(max(count, 0))
	if closeAfter {
		delete(w.writers, base)
	}
	w.logf(LevelInformation, "writing %d frames of %d bytes in the background", count, size)
	return nil
}

// joinBackground waits for the background writer to end and reports its error.
func (w *world) joinBackground(ctx context.Context) error {
	b := w.bg
	if b == nil {
		return nil
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		return fmt.Errorf("background writer still running: %w", ctx.Err())
	}
	w.bg = nil
	return b.err
}

// tooLargeWhy explains a frame-too-large refusal in the protocol's terms,
// for the scenarios that expect such a frame to be written (4.8, 7.4; see
// the README's "Scenarios that contradict the protocol").
func tooLargeWhy(wr *ring.Writer, n int, err error) string {
	if !errors.Is(err, ring.ErrFrameTooLarge) {
		return ""
	}
	size, span := wr.PayloadSize(), uint64(16+n)
	if span > size {
		return fmt.Sprintf(". A frame and its 16-byte header must fit the ring, here %d bytes (PROTOCOL.md, frames in the ring: \"frame too large\"); "+
			"see harmony/CONTRADICTIONS.md", size)
	}
	pos := wr.OIEB().PayloadWritePos.Load() % size
	if toEnd := size - pos; toEnd < span {
		return fmt.Sprintf(". At write_pos %d the frame does not fit the %d bytes before the end, so it needs those plus its own %d, %d free bytes, "+
			"more than the %d-byte ring can ever have: no reader progress makes room (PROTOCOL.md, writing a frame, step 1; "+
			"the reference writers wait for it until their timeout); see harmony/CONTRADICTIONS.md",
			pos, toEnd, span, toEnd+span, size)
	}
	return ""
}
