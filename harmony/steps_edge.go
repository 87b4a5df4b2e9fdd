package harmony

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// registerEdge: feature 4, boundaries and corner cases.
func registerEdge(r *Registry) {
	percent := func(s string) (float64, error) {
		n, err := atoi(strings.TrimSuffix(s, "%"), "percentage")
		if err != nil {
			return 0, err
		}
		if n <= 0 || n > 100 {
			return 0, fmt.Errorf("percentage %q is not in 1..100", s)
		}
		return float64(n) / 100, nil
	}
	r.add(When, `the `+q+` process writes large frame using `+q+` of buffer`, func(ctx context.Context, w *world, a []string) error {
		frac, err := percent(a[1])
		if err != nil {
			return err
		}
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		w.largeFrame = int(frac*float64(wr.PayloadSize())) - 16
		return w.write(ctx, w.largeFrame)
	})
	r.add(When, `the `+q+` process writes small frame of `+q+` byte`, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "size")
		if err != nil {
			return err
		}
		return w.write(ctx, n)
	})
	r.add(When, `the `+q+` process attempts to write large frame again`, func(ctx context.Context, w *world, _ []string) error {
		if w.largeFrame == 0 {
			return errors.New("no large frame was written before")
		}
		w.attempted, w.lastErr = true, w.write(ctx, w.largeFrame)
		w.logf(LevelInformation, "second large frame: %v", w.lastErr)
		return nil
	})
	r.add(Then, `the `+q+` process proper wrap-around handling should occur`, func(_ context.Context, w *world, _ []string) error {
		// With the reader holding the ring's first frames, the second large
		// frame cannot wrap over them: the write must wait and report a full
		// buffer, never overwrite unread data.
		if !w.attempted {
			return errors.New("no second large frame was attempted")
		}
		if w.lastErr != nil && !errors.Is(w.lastErr, ring.ErrBufferFull) {
			return fmt.Errorf("want success or a full buffer, got: %w", w.lastErr)
		}
		return nil
	})
	r.add(Then, `the `+q+` process no deadlocks should happen`, func(ctx context.Context, w *world, _ []string) error {
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		o := wr.OIEB()
		if o.PayloadFreeBytes.Load() > o.PayloadSize.Load() {
			return errors.New("free bytes exceed the ring's size")
		}
		if o.ReaderPID.Load() == 0 {
			return errors.New("the reader is gone")
		}
		return nil
	})
	r.add(When, `the `+q+` process writes `+q+` frames rapidly without reader consuming`, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "count")
		if err != nil {
			return err
		}
		for range n {
			if err := w.write(ctx, 100); err != nil {
				return err
			}
		}
		return nil
	})
	r.add(Then, `the `+q+` process the semaphore count should represent pending frames`, func(ctx context.Context, w *world, _ []string) error {
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		o := wr.OIEB()
		pending := o.PayloadWrittenCount.Load() - o.PayloadReadCount.Load()
		count, ok, err := semaphoreValue("sem-w-" + wr.Name())
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no data-available semaphore for %s (a notifier without one?)", wr.Name())
		}
		if uint64(count) != pending {
			return fmt.Errorf("the data-available semaphore holds %d, but %d frames are pending", count, pending)
		}
		w.logf(LevelInformation, "semaphore count %d = pending frames", count)
		return nil
	})
	r.add(When, `the `+q+` process wakes and processes all frames`, func(ctx context.Context, w *world, _ []string) error {
		w.sequences, w.seqErrors = nil, nil
		for {
			f, err := w.readAndRelease(ctx, 500*time.Millisecond)
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				w.logf(LevelInformation, "processed %d frames", len(w.sequences))
				return nil
			}
			if err != nil {
				return err
			}
			if !bytes.Equal(w.lastData, framePattern(f.Len(), f.Seq())) {
				return fmt.Errorf("frame %d does not hold its test pattern", f.Seq())
			}
		}
	})
	r.add(Then, `the `+q+` process all frames should be read correctly`, func(_ context.Context, w *world, _ []string) error {
		return checkSequential(w.sequences, 1)
	})
	r.add(Then, `the `+q+` process the coalesced signals should be handled properly`, func(_ context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		count, ok, err := semaphoreValue("sem-w-" + rd.Name())
		if err != nil || !ok {
			return fmt.Errorf("read the data-available semaphore: %v (present: %v)", err, ok)
		}
		if count != 0 {
			return fmt.Errorf("the data-available semaphore still holds %d after every frame was read", count)
		}
		return nil
	})
	r.add(When, `the `+q+` process writes single byte frame`, func(ctx context.Context, w *world, _ []string) error {
		return w.write(ctx, 1)
	})
	attemptWrite := func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "size")
		if err != nil {
			return err
		}
		w.attempted, w.lastErr = true, w.write(ctx, n)
		w.logf(LevelInformation, "write of %d bytes: %v", n, w.lastErr)
		return nil
	}
	r.add(When, `the `+q+` process attempts to write `+q+` byte frame`, attemptWrite)
	r.add(When, `the `+q+` process attempts to write frame with size `+q, attemptWrite)
	r.add(Then, `the `+q+` process should receive FrameTooLargeException`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrFrameTooLarge)
	})
	r.add(Then, `the `+q+` process should fail with zero size error`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrInvalidFrameSize)
	})
	r.add(When, `the `+q+` process writes continuously at high speed`, func(ctx context.Context, w *world, _ []string) error {
		return w.startBackground(ctx, -1, 100, false)
	})
	r.add(When, `the `+q+` process reads with `+q+` ms delay per frame`, func(_ context.Context, w *world, a []string) error {
		d, err := atoi(a[1], "delay")
		if err != nil {
			return err
		}
		w.readDelay = time.Duration(d) * time.Millisecond
		return nil
	})
	r.add(When, `the `+q+` process the test runs for `+q+` frames`, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "count")
		if err != nil {
			return err
		}
		return w.readUntilWriterDone(ctx, w.readDelay, n)
	})
	r.add(Then, `the `+q+` process should receive all frames without loss`, func(_ context.Context, w *world, _ []string) error {
		if err := checkSequential(w.sequences, 1); err != nil {
			return err
		}
		if len(w.seqErrors) > 0 {
			return w.seqErrors[0]
		}
		return nil
	})
	r.add(Then, `the `+q+` process should block appropriately`, func(_ context.Context, w *world, _ []string) error {
		b := w.bg
		if b == nil {
			return errors.New("no background writer is running")
		}
		b.stop()
		w.bg = nil
		w.stopped = b
		if b.err != nil {
			return b.err
		}
		if b.blocked == 0 {
			return fmt.Errorf("the writer never found the ring full in %d frames", b.written)
		}
		w.logf(LevelInformation, "the writer waited for space before %d of %d frames", b.blocked, b.written)
		return nil
	})
	r.add(Then, `the `+q+` process flow control should work correctly`, func(_ context.Context, w *world, _ []string) error {
		b := w.stopped
		if b == nil {
			return errors.New("no background writer ran")
		}
		if b.written == 0 {
			return errors.New("the writer wrote nothing")
		}
		return b.err
	})
	r.add(Then, `buffer should be completely full`, func(ctx context.Context, w *world, _ []string) error {
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		if free := wr.OIEB().PayloadFreeBytes.Load(); free != 0 {
			return fmt.Errorf("%d bytes are still free", free)
		}
		return nil
	})
	r.add(Then, `no more writes should be possible`, func(ctx context.Context, w *world, _ []string) error {
		err := w.write(ctx, 1)
		if !errors.Is(err, ring.ErrBufferFull) {
			return fmt.Errorf("want a full buffer, got: %v", err)
		}
		return nil
	})
	r.add(When, `the `+q+` process reads frame`, func(ctx context.Context, w *world, _ []string) error {
		_, err := w.read(ctx, readTimeout)
		return err
	})
	r.add(Then, `the frame should have size `+q, func(_ context.Context, w *world, a []string) error {
		n, err := atoi(a[0], "size")
		if err != nil {
			return err
		}
		if w.lastData == nil || len(w.lastData) != n {
			return fmt.Errorf("the last frame read has %d bytes, want %d", len(w.lastData), n)
		}
		return nil
	})
	r.add(Then, `the `+q+` process should be able to write again`, func(ctx context.Context, w *world, _ []string) error {
		return w.write(ctx, 1024)
	})
	r.add(Then, `frame overhead should be `+q+` bytes`, func(_ context.Context, w *world, a []string) error {
		want, err := atou(a[0], "overhead")
		if err != nil {
			return err
		}
		rd, err := w.reader()
		if err != nil {
			return err
		}
		if len(w.held) == 0 {
			return errors.New("no frame is held to measure")
		}
		o := rd.OIEB()
		used := o.PayloadSize.Load() - o.PayloadFreeBytes.Load()
		var payload uint64
		for _, f := range w.held {
			payload += uint64(f.Len())
		}
		if got := (used - payload) / uint64(len(w.held)); got != want || (used-payload)%uint64(len(w.held)) != 0 {
			return fmt.Errorf("%d held frames of %d payload bytes use %d bytes: overhead is not %d per frame", len(w.held), payload, used, want)
		}
		return nil
	})
	r.add(When, `the `+q+` process reads all frames and signals immediately`, func(ctx context.Context, w *world, _ []string) error {
		return w.readUntilWriterDone(ctx, 0, -1)
	})
	r.add(Then, `all sequence numbers should be correct`, func(_ context.Context, w *world, _ []string) error {
		if len(w.seqErrors) > 0 {
			return w.seqErrors[0]
		}
		return checkSequential(w.sequences, 1)
	})
	r.add(Then, `no frames should be lost`, func(_ context.Context, w *world, _ []string) error {
		if w.stopped != nil { // the writer's side: no write failed or was dropped
			return w.flowControlOK()
		}
		if !w.writerGone {
			return errors.New("the reader stopped before the writer closed: frames may be missing")
		}
		return checkSequential(w.sequences, 1)
	})
	r.add(Then, `no deadlocks should occur`, func(_ context.Context, w *world, _ []string) error {
		if !w.writerGone {
			return errors.New("the reading stalled before the writer finished")
		}
		return nil
	})
	r.add(When, `the `+q+` process fills buffer to `+q+` capacity`, func(ctx context.Context, w *world, a []string) error {
		frac, err := percent(a[1])
		if err != nil {
			return err
		}
		n, err := w.fill(ctx, 1024, frac)
		w.logf(LevelInformation, "wrote %d frames", n)
		return err
	})
	r.add(When, `the `+q+` process continues filling buffer to `+q, func(ctx context.Context, w *world, a []string) error {
		frac, err := percent(a[1])
		if err != nil {
			return err
		}
		n, err := w.fill(ctx, 1024, frac)
		w.logf(LevelInformation, "wrote %d more frames", n)
		return err
	})
	r.add(Then, `the `+q+` process should block waiting for space`, func(ctx context.Context, w *world, _ []string) error {
		err := w.write(ctx, 1024)
		if !errors.Is(err, ring.ErrBufferFull) {
			return fmt.Errorf("want the write to wait and report a full buffer, got: %v", err)
		}
		return nil
	})
	r.add(Given, `two `+q+` processes`, func(_ context.Context, w *world, a []string) error {
		w.logf(LevelInformation, "two %s processes: this serve runs both creators as goroutines", a[0])
		return nil
	})
	r.add(When, `both simultaneously attempt to create buffer `+q, func(_ context.Context, w *world, a []string) error {
		name := w.bufferName(a[0])
		var wg sync.WaitGroup
		var readers [2]*ring.Reader
		var errs [2]error
		start := make(chan struct{})
		for i := range 2 {
			wg.Go(func() {
				<-start
				readers[i], errs[i] = ring.NewReader(name, ring.Config{MetadataSize: defaultMetadataSize, PayloadSize: defaultPayloadSize})
			})
		}
		close(start)
		wg.Wait()
		w.raceErrs = errs[:]
		for i, rd := range readers {
			if rd != nil {
				if old, ok := w.readers[a[0]]; ok {
					_ = old.Close()
				}
				w.readers[a[0]] = rd
				w.current = a[0]
			}
			w.logf(LevelInformation, "creator %d: %v", i+1, errs[i])
		}
		return nil
	})
	r.add(Then, `only one should succeed`, func(_ context.Context, w *world, _ []string) error {
		ok := 0
		for _, err := range w.raceErrs {
			if err == nil {
				ok++
			}
		}
		if len(w.raceErrs) == 0 || ok != 1 {
			return fmt.Errorf("%d of %d creators succeeded, want exactly one", ok, len(w.raceErrs))
		}
		return nil
	})
	r.add(Then, `other should receive appropriate error`, func(_ context.Context, w *world, _ []string) error {
		for _, err := range w.raceErrs {
			if err != nil && !errors.Is(err, ring.ErrReaderAlreadyConnected) {
				return fmt.Errorf("the losing creator got %v, want %v", err, ring.ErrReaderAlreadyConnected)
			}
		}
		return nil
	})
	r.add(Then, `no resource corruption should occur`, func(ctx context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		wr, err := ring.Connect(rd.Name())
		if err != nil {
			return fmt.Errorf("connect to the winner's buffer: %w", err)
		}
		defer wr.Close()
		if err := wr.WriteFrame([]byte("probe")); err != nil {
			return fmt.Errorf("write to the winner's buffer: %w", err)
		}
		f, err := w.readAndRelease(ctx, readTimeout)
		if err != nil {
			return err
		}
		if f.Seq() != 1 || string(w.lastData) != "probe" {
			return fmt.Errorf("read back frame %d %q, want frame 1 \"probe\"", f.Seq(), w.lastData)
		}
		return nil
	})
}

// semaphoreValue reads a glibc named semaphore's count from its file
// (/dev/shm/sem.NAME, the count in its first four bytes, little-endian).
func semaphoreValue(name string) (uint32, bool, error) {
	b, err := os.ReadFile("/dev/shm/sem." + name)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if len(b) < 4 {
		return 0, false, fmt.Errorf("semaphore file %s is %d bytes", name, len(b))
	}
	return binary.LittleEndian.Uint32(b), true, nil
}
