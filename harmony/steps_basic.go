package harmony

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// defaultMetadataSize and defaultPayloadSize are a buffer's sizes when a
// scenario asks for the "default config".
const (
	defaultMetadataSize = 1024
	defaultPayloadSize  = 10240
)

// registerCommon: steps every process receives (the Background's).
func registerCommon(r *Registry) {
	noop := func(what string) func(context.Context, *world, []string) error {
		return func(_ context.Context, w *world, _ []string) error {
			w.logf(LevelInformation, "%s (role %q)", what, w.role)
			return nil
		}
	}
	r.add(Given, `the test environment is initialized`, func(_ context.Context, w *world, _ []string) error {
		w.reset()
		w.logf(LevelInformation, "test environment initialized (role %q)", w.role)
		return nil
	})
	r.add(Given, `all processes are ready`, noop("ready"))
	r.add(Given, `we run in harmony`, noop("running in harmony"))
	r.add(Given, `the system is ready`, noop("system ready"))
}

// registerBasic: feature 1, basic communication, and the read/write
// phrasings the other features share.
func registerBasic(r *Registry) {
	create := func(_ context.Context, w *world, a []string) error {
		meta, err := atou(a[2], "metadata size")
		if err != nil {
			return err
		}
		payload, err := atou(a[3], "payload size")
		if err != nil {
			return err
		}
		return w.createReader(a[1], meta, payload)
	}
	r.add(Given, `the `+q+` process creates buffer `+q+` with metadata size `+q+` and payload size `+q, create)
	r.add(Given, `the `+q+` process creates buffer `+q+` with default config(?:uration)?`, func(_ context.Context, w *world, a []string) error {
		return w.createReader(a[1], defaultMetadataSize, defaultPayloadSize)
	})
	r.add(Given, `the `+q+` process creates buffer `+q+` with minimum viable size `+q, func(_ context.Context, w *world, a []string) error {
		n, err := atou(a[2], "size")
		if err != nil {
			return err
		}
		return w.createReader(a[1], 0, n)
	})
	r.add(When, `the `+q+` process connects to buffer `+q, func(_ context.Context, w *world, a []string) error {
		return w.connectWriter(a[1])
	})
	r.add(When, `the `+q+` process writes metadata with size `+q, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "metadata size")
		if err != nil {
			return err
		}
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		if err := wr.SetMetadata(simplePattern(n)); err != nil {
			return fmt.Errorf("write %d bytes of metadata: %w", n, err)
		}
		return nil
	})
	r.add(When, `the `+q+` process writes frame with size `+q+` and sequence `+q, func(ctx context.Context, w *world, a []string) error {
		size, err := atoi(a[1], "size")
		if err != nil {
			return err
		}
		seq, err := atou(a[2], "sequence")
		if err != nil {
			return err
		}
		if next := w.nextSeq[w.current]; next != seq {
			return fmt.Errorf("the scenario expects this frame to carry sequence %d, but the writer's next sequence is %d", seq, next)
		}
		return w.write(ctx, size)
	})
	r.add(When, `the `+q+` process writes frame with sequence `+q, func(ctx context.Context, w *world, a []string) error {
		seq, err := atou(a[1], "sequence")
		if err != nil {
			return err
		}
		if next := w.nextSeq[w.current]; next != seq {
			return fmt.Errorf("the scenario expects this frame to carry sequence %d, but the writer's next sequence is %d", seq, next)
		}
		return w.write(ctx, 1024)
	})
	// A frame of a given size alone carries the simple pattern (byte i = i),
	// as the other serves write and check it.
	r.add(When, `the `+q+` process writes frame with (?:exact )?size `+q, func(ctx context.Context, w *world, a []string) error {
		size, err := atoi(a[1], "size")
		if err != nil {
			return err
		}
		if size < 0 {
			return fmt.Errorf("size %d is negative", size)
		}
		return w.writeBytes(ctx, simplePattern(size))
	})
	r.add(When, `the `+q+` process writes frame with data `+q, func(ctx context.Context, w *world, a []string) error {
		return w.writeBytes(ctx, []byte(a[1]))
	})
	r.add(Then, `the `+q+` process should read frame with sequence `+q+` and size `+q, func(ctx context.Context, w *world, a []string) error {
		seq, err := atou(a[1], "sequence")
		if err != nil {
			return err
		}
		size, err := atoi(a[2], "size")
		if err != nil {
			return err
		}
		f, err := w.read(ctx, readTimeout)
		if err != nil {
			return err
		}
		if f.Seq() != seq || f.Len() != size {
			return fmt.Errorf("read frame %d of %d bytes, want frame %d of %d bytes", f.Seq(), f.Len(), seq, size)
		}
		return nil
	})
	r.add(Then, `the `+q+` process should read frame with sequence `+q+`;?`, func(ctx context.Context, w *world, a []string) error {
		seq, err := atou(a[1], "sequence")
		if err != nil {
			return err
		}
		f, err := w.read(ctx, readTimeout)
		if err != nil {
			return err
		}
		if f.Seq() != seq {
			return fmt.Errorf("read frame %d, want frame %d", f.Seq(), seq)
		}
		return nil
	})
	r.add(Then, `the `+q+` process should read frame with size `+q, func(ctx context.Context, w *world, a []string) error {
		size, err := atoi(a[1], "size")
		if err != nil {
			return err
		}
		f, err := w.read(ctx, readTimeout)
		if err != nil {
			return err
		}
		if f.Len() != size {
			return fmt.Errorf("read a frame of %d bytes, want %d", f.Len(), size)
		}
		return nil
	})
	r.add(Then, `the `+q+` process should read frame with data `+q, func(ctx context.Context, w *world, a []string) error {
		f, err := w.read(ctx, readTimeout)
		if err != nil {
			return err
		}
		if !bytes.Equal(f.Bytes(), []byte(a[1])) {
			return fmt.Errorf("read frame data %q, want %q", f.Bytes(), a[1])
		}
		return nil
	})
	r.add(Then, `the `+q+` process should validate frame data`, func(_ context.Context, w *world, _ []string) error {
		if w.lastData == nil {
			return errors.New("no frame has been read to validate")
		}
		if !bytes.Equal(w.lastData, framePattern(len(w.lastData), w.lastSeq)) {
			return fmt.Errorf("frame %d's %d bytes do not hold the test pattern for its sequence", w.lastSeq, len(w.lastData))
		}
		return nil
	})
	r.add(Then, `the `+q+` process should verify frame data matches test pattern`, func(_ context.Context, w *world, _ []string) error {
		if w.lastData == nil {
			return errors.New("no frame has been read to verify")
		}
		if !bytes.Equal(w.lastData, framePattern(len(w.lastData), w.lastSeq)) {
			return fmt.Errorf("frame %d's %d bytes do not hold the test pattern for its sequence", w.lastSeq, len(w.lastData))
		}
		return nil
	})
	r.add(When, `the `+q+` process signals space available`, func(_ context.Context, w *world, _ []string) error {
		if len(w.held) == 0 {
			w.logf(LevelInformation, "no frame held; nothing to release")
			return nil
		}
		return w.releaseAll()
	})
	r.add(Then, `the `+q+` process should verify all frames maintain sequential order`, func(_ context.Context, w *world, _ []string) error {
		return checkSequential(w.sequences, 0)
	})
	r.add(When, `the `+q+` process writes frames until buffer is full`, func(ctx context.Context, w *world, _ []string) error {
		n, err := w.fill(ctx, 1024, 1.0)
		w.logf(LevelInformation, "wrote %d frames until the buffer was full", n)
		return err
	})
	r.add(Then, `the `+q+` process should experience timeout on next write`, func(ctx context.Context, w *world, _ []string) error {
		err := w.write(ctx, 1024)
		if err == nil {
			return errors.New("the write succeeded; the buffer was not full")
		}
		if !errors.Is(err, ring.ErrBufferFull) {
			return fmt.Errorf("want a buffer-full timeout, got: %w", err)
		}
		return nil
	})
	r.add(When, `the `+q+` process reads one frame`, func(ctx context.Context, w *world, _ []string) error {
		_, err := w.read(ctx, readTimeout)
		return err
	})
	r.add(Then, `the `+q+` process should write successfully immediately`, func(ctx context.Context, w *world, _ []string) error {
		return w.write(ctx, 1024)
	})
	r.add(When, `the `+q+` process requests zero-copy frame of size `+q, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "size")
		if err != nil {
			return err
		}
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		buf, err := wr.Reserve(n)
		if err != nil {
			return fmt.Errorf("reserve %d bytes: %w", n, err)
		}
		w.reserved = buf
		return nil
	})
	r.add(When, `the `+q+` process fills zero-copy buffer with test pattern`, func(_ context.Context, w *world, _ []string) error {
		if w.reserved == nil {
			return errors.New("no zero-copy frame is reserved")
		}
		// The frame's sequence-based pattern, as the other serves fill it.
		copy(w.reserved, framePattern(len(w.reserved), w.nextSeq[w.current]))
		return nil
	})
	r.add(When, `the `+q+` process commits zero-copy frame`, func(ctx context.Context, w *world, _ []string) error {
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		if err := wr.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		w.reserved = nil
		w.nextSeq[w.current]++
		return nil
	})
	r.add(Then, `the `+q+` process should read (\d+) frames with sizes `+q+` in order`, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "count")
		if err != nil {
			return err
		}
		sizes := strings.Split(a[2], ",")
		if len(sizes) != n {
			return fmt.Errorf("the step names %d frames but lists %d sizes", n, len(sizes))
		}
		for i, s := range sizes {
			want, err := atoi(strings.TrimSpace(s), "size")
			if err != nil {
				return err
			}
			f, err := w.readAndRelease(ctx, readTimeout)
			if err != nil {
				return fmt.Errorf("frame %d of %d: %w", i+1, n, err)
			}
			if f.Len() != want {
				return fmt.Errorf("frame %d is %d bytes, want %d", i+1, f.Len(), want)
			}
			if !isSimplePattern(w.lastData) {
				return fmt.Errorf("frame %d's bytes do not hold the simple test pattern", i+1)
			}
		}
		return nil
	})
	fast := func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "count")
		if err != nil {
			return err
		}
		size, err := atoi(a[2], "size")
		if err != nil {
			return err
		}
		return w.startBackground(ctx, n, size, true)
	}
	r.add(When, `the `+q+` process writes `+q+` frames of size `+q+` as fast as possible`, fast)
	r.add(When, `the `+q+` process writes `+q+` frames of size `+q+` rapidly`, fast)
	r.add(When, `the `+q+` process reads frames with `+q+` ms delay between each read`, func(ctx context.Context, w *world, a []string) error {
		delay, err := atoi(a[1], "delay")
		if err != nil {
			return err
		}
		return w.readUntilWriterDone(ctx, time.Duration(delay)*time.Millisecond, -1)
	})
	r.add(Then, `the `+q+` process should have read `+q+` frames`, func(_ context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "count")
		if err != nil {
			return err
		}
		if len(w.sequences) != n {
			return fmt.Errorf("read %d frames, want %d", len(w.sequences), n)
		}
		return nil
	})
	r.add(Then, `the `+q+` process should verify all frames have sequential sequence numbers starting from `+q, func(_ context.Context, w *world, a []string) error {
		first, err := atou(a[1], "first sequence")
		if err != nil {
			return err
		}
		return checkSequential(w.sequences, first)
	})
	r.add(Then, `no sequence errors should have occurred`, func(_ context.Context, w *world, _ []string) error {
		if len(w.seqErrors) > 0 {
			return fmt.Errorf("%d sequence errors, the first: %w", len(w.seqErrors), w.seqErrors[0])
		}
		return nil
	})
}

// checkSequential checks that seqs rise by one (from first, when non-zero).
func checkSequential(seqs []uint64, first uint64) error {
	if len(seqs) == 0 {
		return errors.New("no frames were read")
	}
	if first != 0 && seqs[0] != first {
		return fmt.Errorf("the first frame read has sequence %d, want %d", seqs[0], first)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			return fmt.Errorf("frame %d has sequence %d after %d", i+1, seqs[i], seqs[i-1])
		}
	}
	return nil
}

// readUntilWriterDone reads (and releases) frames until the writer closes or
// dies, limit frames were read (limit < 0: no limit), or no frame comes for
// three seconds, sleeping delay after each frame.
func (w *world) readUntilWriterDone(ctx context.Context, delay time.Duration, limit int) error {
	w.sequences, w.seqErrors, w.writerGone = nil, nil, false
	idle := 0
	for limit < 0 || len(w.sequences) < limit {
		_, err := w.readAndRelease(ctx, time.Second)
		switch {
		case err == nil:
			idle = 0
			if delay > 0 {
				select {
				case <-time.After(delay):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			continue
		case errors.Is(err, ring.ErrWriterClosed), errors.Is(err, ring.ErrWriterDead):
			w.logf(LevelInformation, "read %d frames; the writer is gone (%v)", len(w.sequences), err)
			w.writerGone = true
			return w.joinBackground(ctx)
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			idle++
			if idle >= 3 {
				w.logf(LevelInformation, "read %d frames; none for three seconds", len(w.sequences))
				return w.joinBackground(ctx)
			}
		case errors.Is(err, ring.ErrSequence):
			w.logf(LevelError, "sequence error after %d frames: %v", len(w.sequences), err)
			return nil // recorded; the scenario's checks report it
		default:
			return err
		}
	}
	return nil
}

// fill writes frames of size until the buffer is full, or until the used part
// of the ring reaches fraction of it, and returns how many it wrote.
func (w *world) fill(ctx context.Context, size int, fraction float64) (int, error) {
	wr, err := w.writer(ctx)
	if err != nil {
		return 0, err
	}
	o := wr.OIEB()
	total := o.PayloadSize.Load()
	n := 0
	for n < 100000 {
		free := o.PayloadFreeBytes.Load()
		need := needed(total, o.PayloadWritePos.Load(), uint64(16+size))
		if free < need || float64(total-free+need) > fraction*float64(total) {
			return n, nil
		}
		if err := w.write(ctx, size); err != nil {
			if errors.Is(err, ring.ErrBufferFull) {
				return n, nil
			}
			return n, err
		}
		n++
	}
	return n, fmt.Errorf("the buffer took %d frames without filling", n)
}

// needed is the free space a frame of total bytes needs at write position
// pos: the frame, plus the wasted tail when it wraps (a tail of 1 to 15 bytes
// after the frame makes the Go writer wrap first).
func needed(size, pos, total uint64) uint64 {
	toEnd := size - pos
	if toEnd >= total {
		if rest := toEnd - total; rest == 0 || rest >= 16 {
			return total
		}
	}
	return toEnd + total
}
