package ring

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// mib is a mebibyte.
const mib = 1 << 20

// checkDrained checks the free-byte accounting once every frame is read
// and released: the whole ring is free again and every frame and marker
// written was read.
func checkDrained(r *Reader) error {
	o := r.OIEB()
	if free := o.PayloadFreeBytes.Load(); free != r.PayloadSize() {
		return fmt.Errorf("free bytes %d after draining, want %d", free, r.PayloadSize())
	}
	if rc, wc := o.PayloadReadCount.Load(), o.PayloadWrittenCount.Load(); rc != wc {
		return fmt.Errorf("read count %d != written count %d after draining", rc, wc)
	}
	return nil
}

// noShortTail is an after-hook checking that the Go writer never left a
// tail of 1-15 bytes for the reader.
func noShortTail(r *Reader) func(int) error {
	return func(k int) error {
		if tail := r.PayloadSize() - r.readPos; tail > 0 && tail < layout.FrameHeaderSize {
			return fmt.Errorf("after frame %d the read position %d leaves a %d-byte tail", k, r.readPos, tail)
		}
		return nil
	}
}

// readAll reads count frames, expects the writer's close, and checks the
// accounting.
func readAll(count int, size func(int) int) func(r *Reader) error {
	return func(r *Reader) error {
		return errors.Join(readFrames(r, count, size, noShortTail(r)), expectEnd(r), checkDrained(r))
	}
}

func writeAll(count int, size func(int) int) func(w *Writer) error {
	return func(w *Writer) error { return writeFrames(w, count, size) }
}

var testMetadata = []byte("codec=yuv420;width=1920;height=1080")

var coreScenarios = register(
	&scenario{name: "one-frame", cfg: Config{MetadataSize: 1024, PayloadSize: 64 << 10},
		write: writeAll(1, constSize(1024)), read: readAll(1, constSize(1024))},
	&scenario{name: "many-frames", cfg: Config{MetadataSize: 1024, PayloadSize: 64 << 10},
		write: writeAll(2000, cycleSizes(1, 4000, 17, 999, 64, 3000)), read: readAll(2000, cycleSizes(1, 4000, 17, 999, 64, 3000))},
	&scenario{name: "buffer-full-blocks-then-resumes", cfg: Config{PayloadSize: 4096},
		// Four 1000-byte frames fill the 4096-byte ring; the fifth write
		// blocks until the reader, which starts only once the writer is
		// seen waiting on sem-r, frees space.
		write: writeAll(20, constSize(1000)),
		read: func(r *Reader) error {
			if err := waitWriterBlocked(r, 4); err != nil {
				return err
			}
			return readAll(20, constSize(1000))(r)
		}},
	&scenario{name: "metadata-once", cfg: Config{MetadataSize: 256, PayloadSize: 4096},
		write: func(w *Writer) error {
			if err := w.SetMetadata(testMetadata); err != nil {
				return err
			}
			if err := w.SetMetadata([]byte("again")); !errors.Is(err, ErrMetadataAlreadyWritten) {
				return fmt.Errorf("second SetMetadata: %v, want ErrMetadataAlreadyWritten", err)
			}
			return writeFrames(w, 3, constSize(100))
		},
		read: func(r *Reader) error {
			if err := readFrames(r, 3, constSize(100), nil); err != nil {
				return err
			}
			md, err := r.Metadata()
			if err != nil {
				return err
			}
			if !bytes.Equal(md, testMetadata) {
				return fmt.Errorf("metadata %q, want %q", md, testMetadata)
			}
			o := r.OIEB()
			if o.MetadataWrittenBytes.Load() != uint64(8+len(testMetadata)) || o.MetadataFreeBytes.Load() != 256-uint64(8+len(testMetadata)) {
				return fmt.Errorf("metadata accounting: written %d free %d", o.MetadataWrittenBytes.Load(), o.MetadataFreeBytes.Load())
			}
			return expectEnd(r)
		}},
	&scenario{name: "metadata-too-large", cfg: Config{MetadataSize: 64, PayloadSize: 4096},
		write: func(w *Writer) error {
			if err := w.SetMetadata(make([]byte, 57)); !errors.Is(err, ErrMetadataTooLarge) {
				return fmt.Errorf("57 bytes in a 64-byte block: %v, want ErrMetadataTooLarge", err)
			}
			if err := w.SetMetadata(bytes.Repeat([]byte{7}, 56)); err != nil {
				return fmt.Errorf("56 bytes in a 64-byte block: %w", err)
			}
			return writeFrames(w, 1, constSize(10))
		},
		read: func(r *Reader) error {
			if err := readFrames(r, 1, constSize(10), nil); err != nil {
				return err
			}
			md, err := r.Metadata()
			if err != nil || !bytes.Equal(md, bytes.Repeat([]byte{7}, 56)) {
				return fmt.Errorf("metadata %v, %v", md, err)
			}
			return expectEnd(r)
		}},
	&scenario{name: "metadata-none", cfg: Config{MetadataSize: 1024, PayloadSize: 4096},
		write: writeAll(2, constSize(10)),
		read: func(r *Reader) error {
			if err := readFrames(r, 2, constSize(10), nil); err != nil {
				return err
			}
			if md, err := r.Metadata(); md != nil || err != nil {
				return fmt.Errorf("metadata %v, %v; want none", md, err)
			}
			return expectEnd(r)
		}},
	&scenario{name: "metadata-zero-sized-block", cfg: Config{MetadataSize: 0, PayloadSize: 4096},
		write: func(w *Writer) error {
			if err := w.SetMetadata(nil); !errors.Is(err, ErrMetadataTooLarge) {
				return fmt.Errorf("empty metadata in a 0-byte block: %v, want ErrMetadataTooLarge", err)
			}
			return writeFrames(w, 5, constSize(100))
		},
		read: func(r *Reader) error {
			if r.OIEB().MetadataSize.Load() != 0 {
				return fmt.Errorf("metadata_size %d", r.OIEB().MetadataSize.Load())
			}
			if md, err := r.Metadata(); md != nil || err != nil {
				return fmt.Errorf("metadata %v, %v; want none", md, err)
			}
			return readAll(5, constSize(100))(r)
		}},
	&scenario{name: "exact-fit", cfg: Config{PayloadSize: 1024},
		write: writeAll(5, constSize(1024-16)), read: readAll(5, constSize(1024-16))},
	&scenario{name: "one-byte-frames", cfg: Config{PayloadSize: 1024},
		write: writeAll(5000, constSize(1)), read: readAll(5000, constSize(1))},
	&scenario{name: "frame-size-errors", cfg: Config{PayloadSize: 1024},
		write: func(w *Writer) error {
			for _, c := range []struct {
				n    int
				want error
			}{{0, ErrInvalidFrameSize}, {-1, ErrInvalidFrameSize}, {1024 - 15, ErrFrameTooLarge},
				{1 << 20, ErrFrameTooLarge}, {1024 - 20, ErrFrameTooLarge /* leaves a 4-byte tail */}} {
				if _, err := w.Reserve(c.n); !errors.Is(err, c.want) {
					return fmt.Errorf("Reserve(%d): %v, want %v", c.n, err, c.want)
				}
				if err := w.WriteFrame(make([]byte, max(c.n, 0))); !errors.Is(err, c.want) {
					return fmt.Errorf("WriteFrame(%d bytes): %v, want %v", c.n, err, c.want)
				}
			}
			if err := w.Commit(); !errors.Is(err, ErrNothingReserved) {
				return fmt.Errorf("Commit without Reserve: %v", err)
			}
			if _, err := w.Reserve(10); err != nil {
				return err
			}
			if _, err := w.Reserve(10); !errors.Is(err, ErrReservePending) {
				return fmt.Errorf("second Reserve: %v", err)
			}
			if err := w.Commit(); err != nil {
				return err
			}
			return writePatternFrame(w, 1, 500, true)
		},
		read: func(r *Reader) error {
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			f, err := r.ReadFrame(ctx)
			if err != nil || f.Len() != 10 {
				return fmt.Errorf("first frame: %v (%d bytes)", err, f.Len())
			}
			f.Release()
			return errors.Join(readFramesFrom(r, 1, 1, constSize(500)), expectEnd(r), checkDrained(r))
		}},
	// The smallest ring, 64 bytes (a 1-byte request rounds up), holds one
	// 48-byte frame exactly, or small frames that wrap often.
	&scenario{name: "minimum-size-buffer-exact", cfg: Config{PayloadSize: 1},
		write: writeAll(200, constSize(48)), read: readAll(200, constSize(48))},
	&scenario{name: "minimum-size-buffer-small", cfg: Config{PayloadSize: 1},
		write: writeAll(500, cycleSizes(1, 8, 4, 2, 7, 3)), read: readAll(500, cycleSizes(1, 8, 4, 2, 7, 3))},
	&scenario{name: "wrap-with-marker", cfg: Config{PayloadSize: 1024},
		// Three 316-byte spans fill 948 bytes; the fourth frame wraps and
		// leaves a 76-byte tail holding a marker.
		write: writeAll(30, constSize(300)),
		read: func(r *Reader) error {
			err := readFrames(r, 30, constSize(300), nil)
			if wc := r.OIEB().PayloadWrittenCount.Load(); err == nil && wc != 30+9 {
				err = fmt.Errorf("written count %d, want 39 (30 frames and 9 markers)", wc)
			}
			return errors.Join(err, expectEnd(r), checkDrained(r))
		}},
	&scenario{name: "wrap-wasted-space-accounted", cfg: Config{PayloadSize: 1024},
		// A 600-byte frame after a 300-byte one cannot fit the 708 bytes
		// left; 708 bytes are wasted, then given back when the reader
		// passes the marker.
		write: writeAll(40, cycleSizes(300, 300, 100)),
		read:  readAll(40, cycleSizes(300, 300, 100))},
	&scenario{name: "writer-avoids-short-tail", cfg: Config{PayloadSize: 1024},
		// A 480-byte frame (496 with its header) after a 500-byte one (516)
		// would end 12 bytes before the end of the ring: the writer wraps
		// early, with a marker, instead of leaving that tail.
		write: writeAll(300, cycleSizes(500, 480, 320, 7, 496, 496, 200)),
		read:  readAll(300, cycleSizes(500, 480, 320, 7, 496, 496, 200))},
	&scenario{name: "alternating-large-small", cfg: Config{PayloadSize: 4096},
		write: writeAll(400, cycleSizes(1500, 10, 1500, 10, 3000, 1)),
		read:  readAll(400, cycleSizes(1500, 10, 1500, 10, 3000, 1))},
	&scenario{name: "rapid-cycles-10000-in-10KB", cfg: Config{PayloadSize: 10 << 10},
		write: writeAll(10000, cycleSizes(1, 100, 1000, 3000, 17, 4000, 64)),
		read:  readAll(10000, cycleSizes(1, 100, 1000, 3000, 17, 4000, 64))},
	&scenario{name: "burst-read-late", cfg: Config{PayloadSize: 64 << 10},
		write: writeAll(50, constSize(1000)),
		read: func(r *Reader) error {
			// Start only once the writer has written everything and left.
			o := r.OIEB()
			if err := waitUntil("the writer to finish", func() bool {
				return o.PayloadWrittenCount.Load() == 50 && o.WriterPID.Load() == 0
			}); err != nil {
				return err
			}
			return readAll(50, constSize(1000))(r)
		}},
	&scenario{name: "slow-reader", cfg: Config{PayloadSize: 8 << 10},
		write: writeAll(200, cycleSizes(1000, 3000, 10)),
		read: func(r *Reader) error {
			err := readFrames(r, 200, cycleSizes(1000, 3000, 10), func(int) error {
				time.Sleep(200 * time.Microsecond)
				return nil
			})
			return errors.Join(err, expectEnd(r), checkDrained(r))
		}},
	&scenario{name: "frames-pending-before-reader-wakes", cfg: Config{PayloadSize: 64 << 10},
		write: writeAll(10, constSize(2000)),
		read: func(r *Reader) error {
			if err := waitUntil("ten frames", func() bool { return r.OIEB().PayloadWrittenCount.Load() == 10 }); err != nil {
				return err
			}
			return readAll(10, constSize(2000))(r)
		}},
	&scenario{name: "pattern-1B", cfg: Config{PayloadSize: 4096},
		write: writeAll(300, constSize(1)), read: readAll(300, constSize(1))},
	&scenario{name: "pattern-1KB", cfg: Config{PayloadSize: 64 << 10},
		write: writeAll(300, constSize(1024)), read: readAll(300, constSize(1024))},
	&scenario{name: "pattern-1MB", cfg: Config{PayloadSize: 4 * mib},
		write: writeAll(20, constSize(mib)), read: readAll(20, constSize(mib))},
	&scenario{name: "pattern-10MB", cfg: Config{PayloadSize: 32 * mib},
		write: writeAll(6, constSize(10*mib)), read: readAll(6, constSize(10*mib))},
)

// readFramesFrom is readFrames for frames first..first+count-1.
func readFramesFrom(r *Reader, first, count int, size func(int) int) error {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	for k := first; k < first+count; k++ {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			return fmt.Errorf("read frame %d: %w", k, err)
		}
		if f.Seq() != uint64(k+1) || f.Len() != size(k) {
			return fmt.Errorf("frame %d: seq %d, %d bytes", k, f.Seq(), f.Len())
		}
		if err := checkPattern(f.Bytes(), k); err != nil {
			return err
		}
		f.Release()
	}
	return nil
}

// waitWriterBlocked waits until the writer has written frames frames and
// is stuck waiting for space. With the semaphore or futex notifiers that
// is observable (a waiter registered on sem-r or on the space futex); the
// spin family shows nothing, so after the ring is seen full we give the
// writer a moment to be in its wait. Either way this only sequences the
// test: whether the writer was really asleep decides nothing.
func waitWriterBlocked(r *Reader, frames uint64) error {
	o := r.OIEB()
	return waitBlocked(o, r.Name(), func() bool { return o.PayloadWrittenCount.Load() == frames })
}

// waitBlocked waits until full holds and the writer of buffer name waits
// for space (see waitWriterBlocked).
func waitBlocked(o *layout.OIEB, name string, full func() bool) error {
	switch NotifierName(o.Reserved[0].Load()) {
	case "semaphore":
		s, err := semaphore.Open(semaphore.SpaceName(name))
		if err != nil {
			return err
		}
		defer s.Close()
		return waitUntil("the writer to block", func() bool { return full() && s.Waiters() > 0 })
	case "futex", "hybrid", "adaptive":
		return waitUntil("the writer to block", func() bool { return full() && o.NotifierWord32(3).Load() > 0 })
	}
	if err := waitUntil("the ring to fill", full); err != nil {
		return err
	}
	time.Sleep(20 * time.Millisecond)
	return nil
}

// corruptHeader changes field (0 = size, 8 = sequence) of the header of
// the frame starting at ring offset off.
func corruptHeader(r *Reader, off uint64, field int, value uint64) {
	binary.LittleEndian.PutUint64(r.ring[off+uint64(field):], value)
}

var corruptionScenarios = register(
	&scenario{name: "corrupted-sequence", cfg: Config{PayloadSize: 4096},
		write: writeAll(2, constSize(100)),
		read: func(r *Reader) error {
			if err := waitUntil("two frames", func() bool { return r.OIEB().PayloadWrittenCount.Load() == 2 }); err != nil {
				return err
			}
			corruptHeader(r, 116, 8, 999)
			if err := readFrames(r, 1, constSize(100), nil); err != nil {
				return err
			}
			_, err := r.ReadFrame(context.Background())
			var se *SequenceError
			if !errors.As(err, &se) || se.Expected != 2 || se.Got != 999 || !errors.Is(err, ErrSequence) {
				return fmt.Errorf("got %v, want SequenceError{2, 999}", err)
			}
			if _, again := r.ReadFrame(context.Background()); again != err {
				return fmt.Errorf("second read after a sequence error: %v", again)
			}
			return nil
		}},
	&scenario{name: "corrupted-size-zero", cfg: Config{PayloadSize: 4096},
		write: writeAll(2, constSize(100)),
		read:  expectCorrupt(func(r *Reader) { corruptHeader(r, 116, 0, 0) }),
	},
	&scenario{name: "corrupted-size-past-end", cfg: Config{PayloadSize: 4096},
		write: writeAll(2, constSize(100)),
		read:  expectCorrupt(func(r *Reader) { corruptHeader(r, 116, 0, 4096-116-16+1) }),
	},
	&scenario{name: "corrupted-oieb-writer-refuses", cfg: Config{PayloadSize: 4096},
		setup:      func(r *Reader) error { r.OIEB().PayloadWritePos.Store(4097); return nil },
		connectErr: ErrCorrupt},
	&scenario{name: "corrupted-oieb-free-bytes", cfg: Config{PayloadSize: 4096},
		setup:      func(r *Reader) error { r.OIEB().PayloadFreeBytes.Store(1 << 40); return nil },
		connectErr: ErrCorrupt},
	&scenario{name: "incompatible-version", cfg: Config{PayloadSize: 4096},
		setup:      func(r *Reader) error { r.OIEB().SetVersion(layout.Version{Major: 2}); return nil },
		connectErr: ErrIncompatibleVersion},
	&scenario{name: "incompatible-oieb-size", cfg: Config{PayloadSize: 4096},
		setup:      func(r *Reader) error { r.OIEB().OIEBSizeField.Store(256); return nil },
		connectErr: ErrIncompatibleVersion},
	&scenario{name: "second-writer-refused", cfg: Config{PayloadSize: 4096},
		setup: func(r *Reader) error {
			// A live writer is recorded: this process.
			return nil
		},
		write: func(w *Writer) error {
			w2, err := Connect(w.Name())
			if err == nil {
				w2.Close()
				return errors.New("second writer connected")
			}
			if !errors.Is(err, ErrWriterAlreadyConnected) {
				return fmt.Errorf("second writer: %v, want ErrWriterAlreadyConnected", err)
			}
			return writeFrames(w, 1, constSize(10))
		},
		read: readAll(1, constSize(10))},
)

// expectCorrupt waits for two frames, corrupts the second's header, and
// expects the first to read fine and the second to be a CorruptionError.
func expectCorrupt(corrupt func(r *Reader)) func(r *Reader) error {
	return func(r *Reader) error {
		if err := waitUntil("two frames", func() bool { return r.OIEB().PayloadWrittenCount.Load() == 2 }); err != nil {
			return err
		}
		corrupt(r)
		if err := readFrames(r, 1, constSize(100), nil); err != nil {
			return err
		}
		_, err := r.ReadFrame(context.Background())
		var ce *CorruptionError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Offset != 116 {
			return fmt.Errorf("got %v, want a CorruptionError at offset 116", err)
		}
		return nil
	}
}

func TestScenarios(t *testing.T) {
	forBothModes(t, coreScenarios)
}

func TestCorruption(t *testing.T) {
	forBothModes(t, corruptionScenarios)
}
