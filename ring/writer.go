package ring

import (
	"errors"
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/proc"
	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
)

// Writer connects to a buffer a Reader created and writes frames into it.
//
// A Writer is not safe for concurrent use: one goroutine at a time.
type Writer struct {
	name     string
	opts     options
	seg      *shm.Segment
	oieb     *layout.OIEB
	notifier Notifier
	ring     []byte
	metadata []byte
	size     uint64
	pid      uint64

	// Writer-owned state, cached here and published once per frame.
	writePos     uint64
	writtenCount uint64
	seq          uint64
	// freeBytes is a lower bound of the OIEB's payload_free_bytes: the
	// reader only ever adds to it, so the writer re-reads it only when the
	// bound is too small for the next frame.
	freeBytes uint64

	// The slot handed out by Reserve and not committed yet.
	reserved   bool
	resPos     uint64 // header offset
	resSpan    uint64 // header + payload
	resWasted  uint64 // tail skipped to reach resPos
	resMarkers uint64 // 1 when a wrap marker was written

	frames     uint64 // frames committed, for Stats
	needSpace  uint64
	spaceReady func() bool
	closed     bool
	reader     proc.Peer // the reader, by PID and start time
	// track follows a foreign reader's releases by its sem-r posts (see
	// releaseTrack); nil for a Go reader and in the Go-only modes.
	track *releaseTrack
}

// Connect opens the buffer name as its writer. It fails with
// ErrBufferNotFound when no reader created it, ErrIncompatibleVersion or
// ErrCorrupt when its OIEB is not a sane v1 block, ErrReaderDead when no
// live reader is recorded, ErrWriterAlreadyConnected when a live writer is,
// and ErrNotifierMismatch when WithNotifier differs from the reader's, or
// when the reader's notifier package is not linked in (that error also
// matches ErrNotifierUnavailable and names the package to import).
func Connect(name string, opts ...Option) (*Writer, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	w := &Writer{name: name, opts: buildOptions(opts), pid: uint64(os.Getpid())}
	if err := w.connect(); err != nil {
		w.teardown()
		return nil, err
	}
	return w, nil
}

func (w *Writer) connect() error {
	seg, err := shm.Open(w.name, false, layout.OIEBSize)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return errorf("%w: %s", ErrBufferNotFound, w.name)
		case errors.Is(err, shm.ErrTooSmall):
			return errorf("%w: %v", ErrCorrupt, err)
		}
		return err
	}
	w.seg = seg
	if w.oieb, err = layout.View(seg.Data); err != nil {
		return err
	}
	snap := w.oieb.Snapshot()
	if err := snap.Validate(uint64(len(seg.Data))); err != nil {
		return errorf("zerobuffer: buffer %s: %w", w.name, err)
	}
	if !w.reader.Alive(snap.ReaderPID) {
		return errorf("%w: buffer %s records reader PID %d", ErrReaderDead, w.name, snap.ReaderPID)
	}
	if snap.WriterPID != 0 && proc.Alive(snap.WriterPID) {
		return errorf("%w: PID %d writes to %s", ErrWriterAlreadyConnected, snap.WriterPID, w.name)
	}

	word := snap.Reserved[0] // well-formed: Validate checked it
	n := w.opts.notifier
	if n == nil {
		if n, err = notify.FromWord(word); err != nil {
			return errorf("%w: buffer %s: %w", ErrNotifierMismatch, w.name, err)
		}
	} else if theirs, _, _ := notify.ParseWord(word); notifierKind(n) != int(theirs) {
		// Kinds must agree; parameters (a spin budget) are each side's.
		return errorf("%w: buffer %s uses notifier %s, this writer %s", ErrNotifierMismatch,
			w.name, notify.Describe(word), notify.Describe(n.Word()))
	}
	if err := n.Open(w.name, w.oieb); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errorf("%w: notifier of %s: %v", ErrBufferNotFound, w.name, err)
		}
		return errorf("zerobuffer: notifier of %s: %w", w.name, err)
	}
	w.notifier = n
	// The notifier's resources are found by name: if the reader we mapped
	// was replaced meanwhile, they may be its successor's, and frames
	// written into the old ring would be announced on the new one's
	// semaphore. A reader unlinks its segment before its semaphores and a
	// successor creates its own after, so a segment still current now
	// means the notifier opened above is its own.
	if !seg.IsCurrent(w.name) {
		return errorf("%w: buffer %s was replaced while connecting", ErrReaderDead, w.name)
	}

	md, pl := snap.MetadataSize, snap.PayloadSize
	w.metadata = seg.Data[layout.OIEBSize : layout.OIEBSize+md : layout.OIEBSize+md]
	w.ring = seg.Data[layout.PayloadOffset(md) : layout.PayloadOffset(md)+pl : layout.PayloadOffset(md)+pl]
	w.size = pl
	w.writePos = snap.PayloadWritePos
	w.writtenCount = snap.PayloadWrittenCount
	w.seq = 1
	w.spaceReady = func() bool { return w.free() >= w.needSpace }
	if sp, ok := n.(spacePoster); ok && !snap.BatchedReleases() {
		w.startTrack(sp)
	}
	seg.Prefault(true)

	// Last, and only if nobody beat us to it: record our PID. A connect
	// that failed earlier leaves no PID behind to lock the next writer out.
	if !w.oieb.WriterPID.CompareAndSwap(snap.WriterPID, w.pid) {
		return errorf("%w: another writer connected to %s meanwhile", ErrWriterAlreadyConnected, w.name)
	}
	return nil
}

func (w *Writer) teardown() error {
	var errs []error
	if w.oieb != nil {
		w.oieb.WriterPID.CompareAndSwap(w.pid, 0)
	}
	if w.notifier != nil {
		errs = append(errs, w.notifier.Close())
	}
	if w.seg != nil {
		errs = append(errs, w.seg.Close())
	}
	w.oieb = nil
	return errors.Join(errs...)
}

// Close clears the writer's PID and unmaps the buffer. A reserved frame
// that was not committed is dropped. Close is idempotent.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	return w.teardown()
}

// Stats returns the writer's counters (see notify.Stats): the frames it
// committed, with its notifier's counts of the waits for space and the
// posts of data when the notifier keeps them (notify.StatsReporter; all of
// this module's do). Like the Writer's other methods it is for the
// goroutine that writes, or for after that goroutine stopped; it may be
// called after Close, and never allocates.
func (w *Writer) Stats() notify.Stats {
	var s notify.Stats
	if sr, ok := w.notifier.(notify.StatsReporter); ok {
		s = sr.Stats()
	}
	s.Frames, s.SpaceBatches = w.frames, 0
	return s
}

// Name is the buffer's name.
func (w *Writer) Name() string { return w.name }

// OIEB is the live control block in the shared mapping, for tests and
// tools that must write it (fault injection); a store to it can break the
// ring for both sides. To look at the fields, take a Snapshot; for the
// notifier, NotifierName.
func (w *Writer) OIEB() *layout.OIEB { return w.oieb }

// Snapshot is a copy of the control block's fields, loaded one by one.
func (w *Writer) Snapshot() layout.Snapshot { return w.oieb.Snapshot() }

// NotifierName names the writer's wait strategy: the reader's, which it
// adopted or was given (see NotifierNames).
func (w *Writer) NotifierName() string { return notify.Name(w.notifier.Word()) }

// PayloadSize is the ring's size.
func (w *Writer) PayloadSize() uint64 { return w.size }

// MaxFrameSize is the largest payload a single frame can carry: the whole
// ring less its header.
func (w *Writer) MaxFrameSize() int { return int(w.size - layout.FrameHeaderSize) }

// SetMetadata stores meta in the metadata block. It can be done once per
// buffer, before or between frames.
func (w *Writer) SetMetadata(meta []byte) error {
	if w.closed {
		return ErrClosed
	}
	if w.oieb.MetadataWrittenBytes.Load() != 0 {
		return ErrMetadataAlreadyWritten
	}
	if uint64(len(meta)) > uint64(len(w.metadata)) || uint64(len(w.metadata))-uint64(len(meta)) < layout.MetadataPrefixSize {
		return errorf("%w: %d bytes, the block holds %d after its 8-byte length", ErrMetadataTooLarge,
			len(meta), max(len(w.metadata)-layout.MetadataPrefixSize, 0))
	}
	written, err := layout.EncodeMetadata(w.metadata, meta)
	if err != nil {
		return errorf("%w: %v", ErrMetadataTooLarge, err)
	}
	w.oieb.MetadataFreeBytes.Store(uint64(len(w.metadata)) - written)
	w.oieb.MetadataWrittenBytes.Store(written) // publishes the block
	return nil
}

// WriteFrame copies p into the ring as one frame. It blocks while the ring
// is full, up to the write timeout (ErrBufferFull), and fails with
// ErrReaderDead when the reader is gone.
func (w *Writer) WriteFrame(p []byte) error {
	buf, err := w.Reserve(len(p))
	if err != nil {
		return err
	}
	copy(buf, p)
	return w.Commit()
}

// Reserve claims room for a frame of n bytes and returns the slot, in the
// shared memory, for the caller to fill in place; Commit publishes it.
// Reserve blocks like WriteFrame.
//
// Sizes: 1 ≤ n ≤ MaxFrameSize, except that a frame leaving a tail of 1-15
// bytes after it even at the start of the ring is refused
// (ErrFrameTooLarge): no reader of the other implementations can skip such
// a tail.
func (w *Writer) Reserve(n int) ([]byte, error) {
	if w.closed {
		return nil, ErrClosed
	}
	if w.reserved {
		return nil, ErrReservePending
	}
	if n <= 0 {
		return nil, errorf("%w: %d bytes", ErrInvalidFrameSize, n)
	}
	span := layout.FrameSpan(uint64(n))
	if span > w.size {
		return nil, errorf("%w: %d bytes + 16-byte header > %d-byte ring", ErrFrameTooLarge, n, w.size)
	}
	if rest := w.size - span; rest > 0 && rest < layout.FrameHeaderSize {
		return nil, errorf("%w: %d bytes would leave a %d-byte tail in a %d-byte ring; use at most %d or exactly %d",
			ErrFrameTooLarge, n, rest, w.size, w.size-2*layout.FrameHeaderSize, w.size-layout.FrameHeaderSize)
	}

	pos := w.writePos
	toEnd := w.size - pos
	// Wrap when the frame does not fit before the end, or when it would
	// leave a tail too short for a wrap marker.
	wrap := toEnd < span || (toEnd > span && toEnd-span < layout.FrameHeaderSize)
	need := span
	if wrap {
		need += toEnd
	}
	if need > w.size {
		// The skipped tail and the frame together exceed the ring: the
		// free bytes can never reach need, so waiting would only end in
		// ErrBufferFull. Frames over half the ring meet this after a
		// smaller frame.
		return nil, errorf("%w: %d bytes cannot be placed at offset %d of a %d-byte ring (the %d bytes skipped to wrap plus the frame exceed the ring)",
			ErrFrameTooLarge, n, pos, w.size, toEnd)
	}
	if w.freeBytes < need {
		if err := w.waitSpace(need); err != nil {
			return nil, err
		}
	}
	w.resWasted, w.resMarkers = 0, 0
	if wrap {
		if toEnd >= layout.FrameHeaderSize {
			layout.PutFrameHeader(w.ring[pos:], layout.FrameHeader{}) // wrap marker
			w.resMarkers = 1
		}
		w.resWasted = toEnd
		pos = 0
	}
	layout.PutFrameHeader(w.ring[pos:], layout.FrameHeader{PayloadSize: uint64(n), SequenceNumber: w.seq})
	w.reserved, w.resPos, w.resSpan = true, pos, span
	start := pos + layout.FrameHeaderSize
	return w.ring[start : start+uint64(n) : start+uint64(n)], nil
}

// Commit publishes the frame Reserve handed out and wakes the reader.
func (w *Writer) Commit() error {
	if w.closed {
		return ErrClosed
	}
	if !w.reserved {
		return ErrNothingReserved
	}
	w.reserved = false
	used := w.resWasted + w.resSpan
	w.freeBytes -= used
	w.writePos = w.resPos + w.resSpan
	w.writtenCount += w.resMarkers + 1
	w.seq++
	w.frames++
	if w.track != nil {
		w.track.wrote()
	}
	// Take the space before publishing, so the reader's release can never
	// push free bytes past the ring's size; the written count is stored
	// last because conditional notifiers treat it as "frame available".
	w.oieb.PayloadFreeBytes.Add(-used)
	w.oieb.PayloadWritePos.Store(w.writePos)
	w.oieb.PayloadWrittenCount.Store(w.writtenCount)
	if err := w.notifier.PostData(); err != nil {
		return errorf("zerobuffer: post data: %w", err)
	}
	return nil
}

// startTrack starts following a foreign reader's releases. The post
// count is taken before the positions, so that a release in between is
// counted rather than lost.
func (w *Writer) startTrack(sp spacePoster) {
	base := sp.SpacePosts()
	readPos := w.oieb.PayloadReadPos.Load()
	read := w.oieb.PayloadReadCount.Load()
	unread := uint64(0)
	if read < w.writtenCount {
		unread = w.writtenCount - read
	}
	w.track = startReleaseTrack(w.ring, readPos, unread, sp)
	if w.track != nil {
		w.track.counted = base
	}
}

// free is the space the writer may use: payload_free_bytes, but never
// more than the read and write positions leave between them.
//
// The protocol has both sides update payload_free_bytes with atomic adds;
// the C++ reader does a plain `+=`, and a subtract of ours that
// lands inside it is lost, so the field can overstate the free space and
// a writer trusting it would write a lap ahead over unread frames. The
// positions are each written by one side only and cannot lose updates.
// The bytes from write_pos round to read_pos are free, except when the
// two are equal: then the ring is empty if the reader has read every
// frame written (read_count ≥ written_count, both counting wrap
// markers), else full. Loads of read_pos and read_count that straddle a
// reader's update only ever understate the space, and so does a Go
// reader, which publishes read_pos as it reads but returns space as
// frames are released. For a reader of the other implementations the
// release track (see releaseTrack) bounds it further, so that a frame the
// reader holds is not overwritten either.
func (w *Writer) free() uint64 {
	fb := w.oieb.PayloadFreeBytes.Load()
	rc := w.oieb.PayloadReadCount.Load()
	rp := w.oieb.PayloadReadPos.Load() % w.size
	used := (w.writePos%w.size + w.size - rp) % w.size
	if used == 0 && rc < w.writtenCount {
		used = w.size
	}
	free := min(fb, w.size-used)
	if w.track != nil {
		w.track.advance(w.ring)
		free = min(free, w.track.free(w.size, w.writePos))
	}
	return free
}

// waitSpace blocks until the ring has need free bytes, in liveness-interval
// slices, checking the reader at each.
func (w *Writer) waitSpace(need uint64) error {
	if free := w.free(); free >= need {
		w.freeBytes = free
		return nil
	}
	w.needSpace = need
	deadline := time.Now().Add(w.opts.writeTimeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			if err := w.checkReader(); err != nil {
				return err
			}
			return errorf("%w: %d bytes needed, %d free after %v", ErrBufferFull, need,
				w.free(), w.opts.writeTimeout)
		}
		ok, err := w.notifier.WaitSpace(w.spaceReady, min(left, w.opts.liveness))
		if err != nil {
			return errorf("zerobuffer: wait for space: %w", err)
		}
		if free := w.free(); free >= need {
			w.freeBytes = free
			return nil
		}
		if !ok {
			if err := w.checkReader(); err != nil {
				return err
			}
		}
	}
}

func (w *Writer) checkReader() error {
	pid := w.oieb.ReaderPID.Load()
	if pid == 0 || !w.reader.Alive(pid) {
		return errorf("%w: PID %d", ErrReaderDead, pid)
	}
	return nil
}
