package harmony

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// registerIntegrity: features 5, 6 and 10 — corruption, synchronization and
// peers dying mid-operation.
func registerIntegrity(r *Registry) {
	r.add(When, `the test corrupts OIEB field 'operation_size' to wrong value`, func(_ context.Context, w *world, _ []string) error {
		o, err := w.oieb()
		if err != nil {
			return err
		}
		o.OIEBSizeField.Store(64)
		w.logf(LevelWarning, "oieb_size set to 64 (must be 128)")
		return nil
	})
	r.add(Then, `the connection should fail with invalid OIEB error`, func(_ context.Context, w *world, _ []string) error {
		if err := w.expectFailure(nil); err != nil {
			return err
		}
		if !errors.Is(w.lastErr, ring.ErrCorrupt) && !errors.Is(w.lastErr, ring.ErrIncompatibleVersion) {
			return fmt.Errorf("want an invalid-OIEB error, got: %w", w.lastErr)
		}
		return nil
	})
	r.add(When, `the test corrupts frame header 'payload_size' to `+q, func(_ context.Context, w *world, a []string) error {
		v, err := atou(a[0], "payload size")
		if err != nil {
			return err
		}
		return w.patchHeader(w.nextSeq[w.current]-1, 0, v)
	})
	r.add(When, `the test corrupts next frame sequence to `+q, func(_ context.Context, w *world, a []string) error {
		v, err := atou(a[0], "sequence")
		if err != nil {
			return err
		}
		return w.patchHeader(w.lastSeq+1, 8, v)
	})
	r.add(When, `the `+q+` process attempts to read frame`, func(ctx context.Context, w *world, _ []string) error {
		_, err := w.read(ctx, 2*time.Second)
		w.attempted, w.lastErr = true, err
		w.logf(LevelInformation, "read attempt: %v", err)
		return nil
	})
	r.add(Then, `the read should fail with invalid frame size error`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrCorrupt)
	})
	r.add(Then, `the read should fail with sequence error`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrSequence)
	})
	r.add(Then, `the error should show expected `+q+` got `+q, func(_ context.Context, w *world, a []string) error {
		var se *ring.SequenceError
		if !errors.As(w.lastErr, &se) {
			return fmt.Errorf("the last error is not a sequence error: %v", w.lastErr)
		}
		if fmt.Sprint(se.Expected) != a[0] || fmt.Sprint(se.Got) != a[1] {
			return fmt.Errorf("the error shows expected %d got %d, want expected %s got %s. This reader had read the frames with sequences %v, "+
				"so the next frame, the one corrupted, is frame %d, and a reader expects the sequence after the last it read "+
				"(PROTOCOL.md, reading, step 3; the C++, C# and Python readers too): expected %s would need frame %d to have been read first; "+
				"see harmony/CONTRADICTIONS.md",
				se.Expected, se.Got, a[0], a[1], w.sequences, se.Expected, a[0], se.Expected)
		}
		return nil
	})
	startLarge := func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "size")
		if err != nil {
			return err
		}
		w.largeFrame = n
		return w.write(ctx, n)
	}
	r.add(When, `the `+q+` process starts writing large frame of `+q+` bytes`, startLarge)
	r.add(When, `the `+q+` process starts writing large frame `+q+` bytes`, startLarge)
	r.add(When, `the `+q+` process completes write operation`, func(ctx context.Context, w *world, _ []string) error {
		return w.joinBackground(ctx)
	})
	nextOp := func(ctx context.Context, w *world, _ []string) error {
		size := max(w.largeFrame, 1024)
		w.attempted, w.lastErr = true, w.write(ctx, size)
		if w.lastErr == nil { // the dead reader's ring had room for one more
			w.lastErr = w.write(ctx, size)
		}
		w.logf(LevelInformation, "next operation: %v", w.lastErr)
		return nil
	}
	r.add(When, `the `+q+` process attempts next operation`, nextOp)
	r.add(When, `the `+q+` process detects reader death on next operation`, nextOp)
	readerDead := func(_ context.Context, w *world, _ []string) error { return w.expectFailure(ring.ErrReaderDead) }
	r.add(Then, `the `+q+` process should detect reader death`, readerDead)
	r.add(Then, `the `+q+` process should throw reader dead exception`, readerDead)
	r.add(When, `writes frame matching exactly payload size minus header`, func(ctx context.Context, w *world, _ []string) error {
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		return w.write(ctx, int(wr.PayloadSize())-16)
	})
	r.add(Then, `the `+q+` process should verify frame was written successfully`, func(ctx context.Context, w *world, _ []string) error {
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		if n := wr.OIEB().PayloadWrittenCount.Load(); n == 0 {
			return errors.New("no frame was written")
		}
		return nil
	})
	r.add(When, `the `+q+` process attempts to write frame exceeding payload size`, func(ctx context.Context, w *world, _ []string) error {
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		w.attempted, w.lastErr = true, w.write(ctx, int(wr.PayloadSize())+1)
		return nil
	})
	r.add(Then, `the `+q+` process write should be rejected with appropriate error`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrFrameTooLarge)
	})
	r.add(When, `the `+q+` process waits `+q+` seconds? before reading`, func(ctx context.Context, _ *world, a []string) error {
		n, err := atoi(a[1], "seconds")
		if err != nil {
			return err
		}
		return sleep(ctx, time.Duration(n)*time.Second)
	})
	r.add(When, `the `+q+` process reads all `+q+` frames`, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "count")
		if err != nil {
			return err
		}
		return w.readChecked(ctx, n, 0)
	})
	r.add(Then, `all frames should be received correctly`, func(_ context.Context, w *world, _ []string) error {
		return checkSequential(w.sequences, 1)
	})
	r.add(Then, `data integrity should be maintained`, func(_ context.Context, w *world, _ []string) error {
		if w.corruptFrames > 0 {
			return fmt.Errorf("%d frames did not hold their test pattern", w.corruptFrames)
		}
		if len(w.sequences) == 0 {
			return errors.New("no frames were read")
		}
		return nil
	})
	r.add(When, `the `+q+` process writes frames continuously`, func(ctx context.Context, w *world, _ []string) error {
		return w.startBackground(ctx, -1, 1024, false)
	})
	r.add(When, `the `+q+` process reads one frame every `+q+` ms`, func(ctx context.Context, w *world, a []string) error {
		d, err := atoi(a[1], "interval")
		if err != nil {
			return err
		}
		// Enough frames that the writer, with the ring full, must wait.
		return w.readChecked(ctx, 20, time.Duration(d)*time.Millisecond)
	})
	r.add(Then, `the `+q+` process should block when buffer full`, func(_ context.Context, w *world, _ []string) error {
		return w.stopBackground(true)
	})
	r.add(Then, `flow control should work correctly`, func(_ context.Context, w *world, _ []string) error {
		return w.flowControlOK()
	})
	r.add(When, `the `+q+` process writes frame and signal`, func(ctx context.Context, w *world, _ []string) error {
		return w.write(ctx, 1024)
	})
	r.add(When, `the `+q+` process immediately writes another frame before reader wakes`, func(ctx context.Context, w *world, _ []string) error {
		return w.write(ctx, 1024)
	})
	r.add(Then, `the `+q+` process should process both frames correctly`, func(ctx context.Context, w *world, _ []string) error {
		if err := w.readChecked(ctx, 2, 0); err != nil {
			return err
		}
		if w.corruptFrames > 0 {
			return errors.New("a frame did not hold its test pattern")
		}
		return checkSequential(w.sequences, 1)
	})
	r.add(Then, `the semaphore count should reflect pending frames`, func(_ context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		o := rd.OIEB()
		pending := o.PayloadWrittenCount.Load() - o.PayloadReadCount.Load()
		count, ok, err := semaphoreValue("sem-w-" + rd.Name())
		if err != nil || !ok {
			return fmt.Errorf("read the data-available semaphore: %v (present: %v)", err, ok)
		}
		if uint64(count) != pending {
			return fmt.Errorf("the semaphore holds %d, %d frames are pending", count, pending)
		}
		return nil
	})
	r.add(When, `the `+q+` process waits on semaphore for data`, func(ctx context.Context, w *world, _ []string) error {
		_, err := w.read(ctx, 500*time.Millisecond)
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("want the reader to wait for data, got: %v", err)
		}
		return nil
	})
	r.add(Then, `the `+q+` process should detect writer death after timeout `+q+` seconds`, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "seconds")
		if err != nil {
			return err
		}
		_, err = w.read(ctx, time.Duration(n)*time.Second)
		w.attempted, w.lastErr = true, err
		return w.expectFailure(ring.ErrWriterDead)
	})
	r.add(Then, `the `+q+` process should throw writer dead exception`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrWriterDead)
	})
	r.add(When, `the `+q+` process writes complex structure with multiple fields`, func(ctx context.Context, w *world, _ []string) error {
		return w.writeBytes(ctx, complexStructure())
	})
	r.add(When, `the system ensures memory barriers are in place`, func(ctx context.Context, w *world, _ []string) error {
		// The ring publishes a frame with a release store of its counters
		// and a semaphore post; nothing to add, but the frame must be
		// committed: the writer's counters say so.
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		if wr.OIEB().PayloadWrittenCount.Load() == 0 {
			return errors.New("no frame is published")
		}
		return nil
	})
	r.add(Then, `the `+q+` process should read structure after semaphore signal`, func(ctx context.Context, w *world, _ []string) error {
		_, err := w.readAndRelease(ctx, readTimeout)
		return err
	})
	r.add(Then, `all fields should be fully visible`, func(_ context.Context, w *world, _ []string) error {
		if !bytes.Equal(w.lastData, complexStructure()) {
			return fmt.Errorf("the structure read (%d bytes) differs from the one written", len(w.lastData))
		}
		return nil
	})
	r.add(Then, `no partially visible writes should occur`, func(_ context.Context, w *world, _ []string) error {
		s := complexStructure()
		if len(w.lastData) != len(s) || binary.LittleEndian.Uint64(w.lastData[len(s)-8:]) != checksum(w.lastData[:len(s)-8]) {
			return errors.New("the structure's checksum does not match its fields")
		}
		return nil
	})
}

// complexStructure is a frame with several typed fields and a trailing
// checksum over them.
func complexStructure() []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, struct {
		ID      uint64
		Stamp   int64
		Ratio   float64
		Flags   uint32
		Counter uint32
		Name    [32]byte
	}{ID: 0x1122334455667788, Stamp: 1_700_000_000_000, Ratio: 3.25, Flags: 0xA5A5, Counter: 42, Name: [32]byte{'h', 'a', 'r', 'm', 'o', 'n', 'y'}})
	b.Write(simplePattern(200))
	_ = binary.Write(&b, binary.LittleEndian, checksum(b.Bytes()))
	return b.Bytes()
}

func checksum(p []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range p {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readChecked reads and releases n frames, sleeping delay after each,
// counting those whose bytes are not their sequence's test pattern.
func (w *world) readChecked(ctx context.Context, n int, delay time.Duration) error {
	w.sequences, w.seqErrors, w.corruptFrames = nil, nil, 0
	for i := range n {
		f, err := w.readAndRelease(ctx, readTimeout)
		if err != nil {
			return fmt.Errorf("frame %d of %d: %w", i+1, n, err)
		}
		if !bytes.Equal(w.lastData, framePattern(f.Len(), f.Seq())) {
			w.corruptFrames++
		}
		if err := sleep(ctx, delay); err != nil {
			return err
		}
	}
	return nil
}

// stopBackground stops the background writer; with wantBlocked, it must
// have found the ring full at least once.
func (w *world) stopBackground(wantBlocked bool) error {
	b := w.bg
	if b == nil {
		return errors.New("no background writer is running")
	}
	b.stop()
	w.bg, w.stopped = nil, b
	if b.err != nil {
		return b.err
	}
	if wantBlocked && b.blocked == 0 {
		return fmt.Errorf("the writer never found the ring full in %d frames", b.written)
	}
	w.logf(LevelInformation, "the writer waited for space before %d of %d frames", b.blocked, b.written)
	return nil
}

func (w *world) flowControlOK() error {
	b := w.stopped
	if b == nil {
		return errors.New("no background writer ran in this process")
	}
	if b.written == 0 {
		return errors.New("the writer wrote nothing")
	}
	return b.err
}

// oieb is the control block of the current buffer, from either side.
func (w *world) oieb() (*oiebView, error) {
	if wr, ok := w.writers[w.current]; ok {
		return wr.OIEB(), nil
	}
	if rd, ok := w.readers[w.current]; ok {
		return rd.OIEB(), nil
	}
	return nil, errors.New("this process has no buffer open")
}

// patchHeader overwrites one u64 (at off 0: payload_size, 8: sequence) of the
// header of frame seq of the current buffer, through the segment's file, as a
// faulty peer or a stray write would.
func (w *world) patchHeader(seq uint64, off int64, value uint64) error {
	o, err := w.oieb()
	if err != nil {
		return err
	}
	path := "/dev/shm/" + w.bufferName(w.current)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open the segment to corrupt it: %w", err)
	}
	defer f.Close()
	base := int64(128 + o.MetadataSize.Load())
	size := o.PayloadSize.Load()
	var hdr [16]byte
	for pos, wrapped := uint64(0), false; pos+16 <= size; {
		if _, err := f.ReadAt(hdr[:], base+int64(pos)); err != nil {
			return fmt.Errorf("read frame header at %d: %w", pos, err)
		}
		n, s := binary.LittleEndian.Uint64(hdr[:8]), binary.LittleEndian.Uint64(hdr[8:])
		switch {
		case s == seq && n != 0:
			var v [8]byte
			binary.LittleEndian.PutUint64(v[:], value)
			if _, err := f.WriteAt(v[:], base+int64(pos)+off); err != nil {
				return fmt.Errorf("corrupt frame %d: %w", seq, err)
			}
			w.logf(LevelWarning, "frame %d's header at ring offset %d: field at +%d set to %d", seq, pos, off, value)
			return nil
		case n == 0 && s == 0 && !wrapped && pos != 0:
			pos, wrapped = 0, true
		case n == 0:
			return fmt.Errorf("frame %d is not in the ring", seq)
		default:
			pos += 16 + n
		}
	}
	return fmt.Errorf("frame %d is not in the ring", seq)
}
