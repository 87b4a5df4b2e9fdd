package ring

import (
	"context"
	"errors"
	"math/bits"
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/proc"
	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// Reader owns a buffer: it creates the segment, the notifier's resources
// and the lock file, reads frames, and removes everything on Close.
//
// A Reader is not safe for concurrent use: ReadFrame, Frame.Release,
// Metadata and Close must be called from one goroutine at a time.
type Reader struct {
	name     string
	opts     options
	seg      *shm.Segment
	lock     *lockFile
	oieb     *layout.OIEB
	notifier Notifier
	ring     []byte // the payload block
	metadata []byte // the metadata block
	size     uint64 // payload_size, cached at creation

	// Reader-owned state, kept here and published to the OIEB in batches
	// (see flush).
	readPos   uint64 // the next header to read
	readCount uint64 // items read (frames and wrap markers)
	// The release point: where the oldest item whose space is not back
	// yet starts, and the items before it. This, not the read position,
	// is what the OIEB's read_pos and read_count show, so that a writer
	// deciding from the positions (the C++ writer does) never reuses a
	// frame the caller still holds.
	relPos       uint64
	relCount     uint64
	expectedSeq  uint64
	knownWritten uint64 // the written count last loaded from the OIEB
	unpublished  uint64 // bytes released but not yet added to the OIEB
	releases     uint64 // frames released so far
	frames       uint64 // frames read, for Stats
	spaceBatches uint64 // flushes that returned space, for Stats
	flushAt      uint64 // publish released space once this much is pending
	// flushFirst: the last wait with space pending outlasted
	// unflushedWait, so the next one returns the space before it waits
	// (see waitData).
	flushFirst bool

	// Frames handed out but not released yet, plus wasted tails waiting for
	// the frames before them: space is returned to the writer strictly in
	// ring order. See release.
	pending   []pendingSpan
	pendHead  uint64
	pendTail  uint64
	sawWriter bool
	writer    proc.Peer // the writer last seen, by PID and start time
	dataReady func() bool
	err       error // sticky: a corrupt ring is not read further
	closed    bool
}

// pendingSpan is a held frame's span, or a wasted tail behind held frames.
type pendingSpan struct {
	size     uint64
	end      uint64 // the ring offset after it
	items    uint64 // 1 for a frame or a wrap marker's tail, 0 for a short tail
	released bool
}

// NewReader creates the buffer name with the sizes of cfg and returns its
// reader. It first removes what dead readers left behind (CleanupStale);
// a name held by a live reader fails with ErrReaderAlreadyConnected.
func NewReader(name string, cfg Config, opts ...Option) (*Reader, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	if cfg.PayloadSize == 0 {
		return nil, errorf("%w: payload size 0", ErrInvalidConfig)
	}
	mdSize, ok1 := layout.RoundUp(cfg.MetadataSize)
	plSize, ok2 := layout.RoundUp(cfg.PayloadSize)
	total := layout.SegmentSize(mdSize, plSize)
	if !ok1 || !ok2 || total < plSize || total < mdSize || total > 1<<47 {
		return nil, errorf("%w: sizes %d + %d do not fit a mapping", ErrInvalidConfig, cfg.MetadataSize, cfg.PayloadSize)
	}
	if o.notifier == nil {
		o.notifier = semaphore.New()
	}
	if _, _, err := notify.ParseWord(o.notifier.Word()); err != nil {
		return nil, errorf("%w: the notifier %T records %#x, which is not a notifier word", ErrInvalidConfig, o.notifier, o.notifier.Word())
	}

	_ = CleanupStale() // best effort: another process's leftovers must not stop us
	lock, err := acquireLock(name, o.perm)
	if err != nil {
		return nil, err
	}
	r := &Reader{name: name, opts: o, lock: lock, notifier: o.notifier}
	if err := r.create(mdSize, plSize); err != nil {
		r.teardown()
		return nil, err
	}
	return r, nil
}

func (r *Reader) create(mdSize, plSize uint64) error {
	// We hold the lock, so any segment of this name belongs to a reader
	// that is gone (every implementation holds the lock for its reader's
	// life; the PID it recorded may have been reused since).
	if err := removeBufferFiles(r.name, r.notifier); err != nil {
		return errorf("zerobuffer: remove stale %s: %w", r.name, err)
	}
	// The segment is built under a hidden name and linked to its real name
	// only when complete, so a writer never sees it half made.
	seg, err := shm.CreateHidden(layout.SegmentSize(mdSize, plSize), r.opts.perm)
	if err != nil {
		return err
	}
	r.seg = seg
	r.oieb, err = layout.View(seg.Data)
	if err != nil {
		return err
	}
	seg.Prefault(true)
	r.oieb.Init(mdSize, plSize, r.notifier.Word())
	r.metadata = seg.Data[layout.OIEBSize : layout.OIEBSize+mdSize : layout.OIEBSize+mdSize]
	r.ring = seg.Data[layout.PayloadOffset(mdSize):layout.SegmentSize(mdSize, plSize):layout.SegmentSize(mdSize, plSize)]
	r.size = plSize
	r.expectedSeq = 1
	r.flushAt = min(plSize/16, 64<<10)
	if r.opts.unbatched {
		r.flushAt = 1 // every release publishes (WithUnbatchedRelease)
	}

	// At most one frame per 17 bytes and one tail per frame can be pending.
	capacity := min(2*(plSize/(layout.FrameHeaderSize+1))+2, 4096)
	r.pending = make([]pendingSpan, 1<<bits.Len64(capacity-1))
	// The written count is re-read only when the frames known to be
	// there are used up: a reader behind its writer reads a run of
	// frames without touching the writer's cache line.
	r.dataReady = func() bool {
		if r.knownWritten != r.readCount {
			return true
		}
		r.knownWritten = r.oieb.PayloadWrittenCount.Load()
		return r.knownWritten != r.readCount
	}

	if err := r.notifier.Create(r.name, r.oieb, r.opts.perm); err != nil {
		return errorf("zerobuffer: notifier for %s: %w", r.name, err)
	}
	r.oieb.ReaderPID.Store(uint64(os.Getpid()))
	// Last: publish. A writer can connect from now on.
	if err := seg.Publish(r.name); err != nil {
		if errors.Is(err, os.ErrExist) {
			return errorf("%w: %v", ErrReaderAlreadyConnected, err)
		}
		return err
	}
	return nil
}

// teardown undoes whatever create managed, for failures and Close.
func (r *Reader) teardown() error {
	var errs []error
	if r.oieb != nil {
		r.oieb.ReaderPID.Store(0)
	}
	if r.notifier != nil {
		errs = append(errs, r.notifier.Close())
	}
	if r.seg != nil {
		errs = append(errs, removeBufferFiles(r.name, r.notifier), r.seg.Close())
	}
	errs = append(errs, r.lock.release())
	r.oieb = nil
	return errors.Join(errs...)
}

// Name is the buffer's name.
func (r *Reader) Name() string { return r.name }

// OIEB is the live control block in the shared mapping, for tests and
// tools that must write it (fault injection); a store to it can break the
// ring for both sides. To look at the fields, take a Snapshot; for the
// notifier, NotifierName.
func (r *Reader) OIEB() *layout.OIEB { return r.oieb }

// Snapshot is a copy of the control block's fields, loaded one by one.
func (r *Reader) Snapshot() layout.Snapshot { return r.oieb.Snapshot() }

// NotifierName names the reader's wait strategy, as recorded in the
// buffer (see NotifierNames).
func (r *Reader) NotifierName() string { return notify.Name(r.notifier.Word()) }

// MetadataSize is the size of the metadata block (Config.MetadataSize,
// rounded up): the most metadata a writer can set is 8 bytes less.
func (r *Reader) MetadataSize() uint64 { return uint64(len(r.metadata)) }

// PayloadSize is the ring's size after rounding.
func (r *Reader) PayloadSize() uint64 { return r.size }

// Metadata returns the metadata the writer stored, without its length
// prefix, as a slice into the shared memory (valid until Close); nil when
// none has been written.
func (r *Reader) Metadata() ([]byte, error) {
	if r.closed {
		return nil, ErrClosed
	}
	return layout.ParseMetadata(r.metadata, r.oieb.MetadataWrittenBytes.Load())
}

// Available reports whether the writer has committed a frame this reader
// has not read yet, so that ReadFrame would not wait. (With a writer of
// another implementation, which counts a wrap marker before the frame
// after it, ReadFrame may still wait for that frame's commit.) The OIEB's
// read count lags the reader (see flush), so compare through here, not
// through the OIEB.
func (r *Reader) Available() bool {
	if r.closed {
		return false
	}
	return r.dataReady()
}

// Stats returns the reader's counters (see notify.Stats): the frames it
// read and the batches of released space it returned, with its notifier's
// counts of the waits for data and the posts of space when the notifier
// keeps them (notify.StatsReporter; all of this module's do). Like the
// Reader's other methods it is for the goroutine that reads, or for after
// that goroutine stopped; it may be called after Close, and never
// allocates.
func (r *Reader) Stats() notify.Stats {
	var s notify.Stats
	if sr, ok := r.notifier.(notify.StatsReporter); ok {
		s = sr.Stats()
	}
	s.Frames, s.SpaceBatches = r.frames, r.spaceBatches
	return s
}

// Close marks the reader gone and removes the segment, the notifier's
// resources and the lock file. Frames still held become invalid: their
// bytes are unmapped. Close is idempotent.
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.teardown()
}

// ReadFrame waits for the next frame and returns it. The frame's bytes
// point into the ring (no copy) and stay valid until Frame.Release, which
// hands the space back to the writer; frames must be released, in any
// order, and the space returns in ring order.
//
// The wait ends at ctx's deadline (context.DeadlineExceeded) or
// cancellation (noticed within the liveness interval), when the writer
// died (ErrWriterDead), or when the writer closed and every frame it wrote
// has been read (ErrWriterClosed). A frame whose sequence number or header
// is wrong yields a *SequenceError or *CorruptionError, and the reader
// returns that same error from then on: a ring that lies is not read on.
func (r *Reader) ReadFrame(ctx context.Context) (Frame, error) {
	if r.closed {
		return Frame{}, ErrClosed
	}
	if r.err != nil {
		return Frame{}, r.err
	}
	if r.pendTail-r.pendHead+2 > uint64(len(r.pending)) {
		return Frame{}, errorf("%w: %d frames held", ErrTooManyHeldFrames, r.pendTail-r.pendHead)
	}
	// Fast path: an event is already there.
	ok, err := r.notifier.WaitData(r.dataReady, 0)
	if err != nil {
		return Frame{}, errorf("zerobuffer: wait for data: %w", err)
	}
	for !ok || !r.dataReady() {
		// A post with no frame behind it (the written count has not
		// moved) is stray — a buggy peer, or a writer that posted to a
		// semaphore it took for another generation's — and is dropped
		// rather than read as a frame.
		if err := r.waitData(ctx); err != nil {
			return Frame{}, err
		}
		ok = true
	}
	return r.takeFrame()
}

// waitData blocks in liveness-interval slices until the notifier delivers
// an event, the context ends, or the writer is found gone.
//
// Space released but not yet returned stays with the reader for the first
// unflushedWait of the wait (a writer a frame ahead ends it, and a reader
// that keeps up with its writer would otherwise return space after every
// frame); then it is returned, so a writer waiting for space is never
// kept waiting on a reader that waits for data.
//
// When a wait has slept through that window, frames are arriving slower
// than it, and waiting it out before each sleep would cost a sleeping
// notifier two sleeps per frame (one that ends at unflushedWait to return
// the space, one for the frame). So the next waits return the space first
// and then wait once, until a wait ends inside the window again. Returning
// space early is always safe; it only gives up the batching that a fast
// stream needs, which a slow one does not.
func (r *Reader) waitData(ctx context.Context) error {
	deadline, hasDeadline := ctx.Deadline()
	flushed := !r.needsFlush()
	var flushedAt time.Time // set when the space went back before the wait
	if !flushed && r.flushFirst {
		if err := r.flush(); err != nil {
			return err
		}
		flushed, flushedAt = true, time.Now()
	}
	var sleepsBefore uint64 // a notifier without counters never counts as asleep
	if !flushed {
		sleepsBefore = r.Stats().Sleeps
	}
	for {
		slice := r.opts.liveness
		if !flushed {
			slice = min(slice, unflushedWait)
		}
		if hasDeadline {
			left := time.Until(deadline)
			if left <= 0 {
				return errors.Join(r.flush(), context.DeadlineExceeded)
			}
			slice = min(slice, left)
		}
		ok, err := r.notifier.WaitData(r.dataReady, slice)
		if err != nil {
			return errorf("zerobuffer: wait for data: %w", err)
		}
		if ok {
			if !flushedAt.IsZero() && time.Since(flushedAt) < unflushedWait {
				r.flushFirst = false // the frames came back within the window
			}
			return nil
		}
		if !flushed {
			if err := r.flush(); err != nil {
				return err
			}
			// Only a window that slept costs a sleep: a notifier that
			// spun through it (hybrid, adaptive at short gaps) keeps
			// its spin for the frame that comes just after the window.
			flushed, r.flushFirst = true, r.Stats().Sleeps != sleepsBefore
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.checkWriter(); err != nil {
			return err
		}
	}
}

// checkWriter turns a quiet ring into an error when the writer is gone:
// a recorded writer that is dead, or a writer that cleared its PID after
// every frame it wrote was read.
func (r *Reader) checkWriter() error {
	pid := r.oieb.WriterPID.Load()
	if pid != 0 {
		r.sawWriter = true
		if !r.writer.Alive(pid) {
			return errorf("%w: PID %d", ErrWriterDead, pid)
		}
		return nil
	}
	written := r.oieb.PayloadWrittenCount.Load()
	if (r.sawWriter || written > 0) && written == r.readCount {
		return ErrWriterClosed
	}
	return nil
}

// takeFrame reads the header at the read position, after the notifier
// said a frame is there.
func (r *Reader) takeFrame() (Frame, error) {
	pos := r.readPos
	if r.size-pos < layout.FrameHeaderSize {
		// A tail too short for a header: the writer wrapped without a
		// marker (the C++/C# writers do). Reclaim it and go to 0.
		r.reclaimTail(r.size-pos, 0)
		pos = 0
	}
	h, _ := layout.ParseFrameHeader(r.ring[pos:])
	if h.PayloadSize == 0 && h.SequenceNumber == 0 {
		if pos == 0 {
			return Frame{}, r.poison(&CorruptionError{Offset: pos, RingSize: r.size, Why: "wrap marker at the start of the ring"})
		}
		r.reclaimTail(r.size-pos, 1)
		r.readCount++
		pos = 0
		h, _ = layout.ParseFrameHeader(r.ring[pos:])
	}
	if h.SequenceNumber != r.expectedSeq && !(h.SequenceNumber == 1 && h.PayloadSize != 0) {
		return Frame{}, r.poison(&SequenceError{Expected: r.expectedSeq, Got: h.SequenceNumber})
	}
	if h.PayloadSize == 0 {
		return Frame{}, r.poison(&CorruptionError{Offset: pos, PayloadSize: 0, RingSize: r.size, Why: "zero-length frame"})
	}
	if h.PayloadSize > r.size-pos-layout.FrameHeaderSize {
		return Frame{}, r.poison(&CorruptionError{Offset: pos, PayloadSize: h.PayloadSize, RingSize: r.size, Why: "frame reaches past the end of the ring"})
	}
	start := pos + layout.FrameHeaderSize
	end := start + h.PayloadSize
	span := layout.FrameSpan(h.PayloadSize)

	r.readPos = end
	if r.readPos == r.size {
		r.readPos = 0
	}
	r.readCount++
	r.frames++
	r.expectedSeq = h.SequenceNumber + 1

	slot := r.pendTail
	r.pending[slot&uint64(len(r.pending)-1)] = pendingSpan{size: span, end: r.readPos, items: 1}
	r.pendTail++
	return Frame{r: r, data: r.ring[start:end:end], seq: h.SequenceNumber, slot: slot}, nil
}

func (r *Reader) poison(err error) error {
	r.err = err
	return err
}

// reclaimTail returns a wasted tail of n bytes (behind a wrap marker when
// items is 1) to the writer: at once when no frame is held, else after
// the frames before it are released.
func (r *Reader) reclaimTail(n, items uint64) {
	if r.pendHead == r.pendTail {
		r.unpublished += n
		r.relPos, r.relCount = 0, r.relCount+items
		return
	}
	r.pending[r.pendTail&uint64(len(r.pending)-1)] = pendingSpan{size: n, end: 0, items: items, released: true}
	r.pendTail++
}

// release hands a frame's space back. Space returns in ring order: a frame
// released before older ones waits for them, so the writer never reuses
// bytes a held frame still points at.
func (r *Reader) release(slot uint64) error {
	if r.closed {
		return ErrClosed
	}
	if slot < r.pendHead || slot >= r.pendTail {
		return nil // released already
	}
	mask := uint64(len(r.pending) - 1)
	e := &r.pending[slot&mask]
	if e.released {
		return nil
	}
	e.released = true
	if slot != r.pendHead {
		return nil
	}
	for r.pendHead < r.pendTail {
		e := &r.pending[r.pendHead&mask]
		if !e.released {
			break
		}
		r.unpublished += e.size
		r.relPos, r.relCount = e.end, r.relCount+e.items
		r.pendHead++
	}
	r.releases++
	// Whether the writer sleeps is asked every writerCheckEvery releases
	// only: the futex notifier keeps that flag on the cache line of the
	// written count, and reading it after every frame would pull that
	// line from the writer once per frame (64-byte streams ran at a third
	// of the spin notifier's rate). A sleeping writer waits a few frames
	// longer, or at most unflushedWait once the reader waits.
	if r.unpublished >= r.flushAt || (r.releases%writerCheckEvery == 0 && r.notifier.WriterWaiting()) {
		return r.flush()
	}
	return nil
}

// writerCheckEvery is how many releases go between WriterWaiting checks.
const writerCheckEvery = 8

// unflushedWait is how long a waiting reader keeps released space before
// returning it.
const unflushedWait = 50 * time.Microsecond

// needsFlush reports whether the OIEB lags the reader.
func (r *Reader) needsFlush() bool {
	return r.unpublished != 0 || r.oieb.PayloadReadCount.Load() != r.relCount
}

// flush publishes the reader's progress: its release point (as read_pos
// and read_count: frames still held are not behind it), and the bytes
// released since the last flush, then posts once. The reader
// flushes when the bytes reach flushAt, when the writer is seen waiting,
// and early in any wait of its own (see waitData); in between, a reader streaming small frames
// writes nothing to the cache lines the writer writes, which is most of
// the cost of a frame when both sides keep up. The OIEB's read position,
// read count and free bytes so lag the reader by less than flushAt bytes
// (what a writer sees is always safe: a position behind, fewer free bytes).
func (r *Reader) flush() error {
	if r.oieb == nil {
		return nil
	}
	r.oieb.PayloadReadPos.Store(r.relPos)
	r.oieb.PayloadReadCount.Store(r.relCount)
	if r.unpublished == 0 {
		return nil
	}
	r.oieb.PayloadFreeBytes.Add(r.unpublished)
	r.unpublished = 0
	r.spaceBatches++
	if err := r.notifier.PostSpace(); err != nil {
		return errorf("zerobuffer: post space: %w", err)
	}
	return nil
}
