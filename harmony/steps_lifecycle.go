package harmony

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// registerLifecycle: feature 2, processes that die and are replaced.
func registerLifecycle(r *Registry) {
	r.add(Then, `the `+q+` process should timeout or detect writer death on next read`, func(ctx context.Context, w *world, _ []string) error {
		_, err := w.read(ctx, 2*time.Second)
		switch {
		case err == nil:
			return errors.New("a frame was read; want a timeout or the writer's death")
		case errors.Is(err, ring.ErrWriterDead), errors.Is(err, ring.ErrWriterClosed), errors.Is(err, context.DeadlineExceeded):
			w.logf(LevelInformation, "as expected: %v", err)
			return nil
		}
		return fmt.Errorf("want a timeout or the writer's death, got: %w", err)
	})
	r.add(When, `the `+q+` process fills buffer completely`, func(ctx context.Context, w *world, _ []string) error {
		n, err := w.fill(ctx, 1024, 1.0)
		w.logf(LevelInformation, "filled the buffer with %d frames", n)
		return err
	})
	r.add(Then, `the `+q+` process should detect reader death on next write`, func(ctx context.Context, w *world, _ []string) error {
		err := w.write(ctx, 1024)
		if err == nil {
			// The dead reader's frames may have left room; the next one must fail.
			err = w.write(ctx, 1024)
		}
		if !errors.Is(err, ring.ErrReaderDead) {
			return fmt.Errorf("want the reader's death noticed, got: %v", err)
		}
		return nil
	})
	r.add(When, `a new `+q+` process attempts to create buffer `+q+` with metadata size `+q+` and payload size `+q, func(_ context.Context, w *world, a []string) error {
		meta, err := atou(a[2], "metadata size")
		if err != nil {
			return err
		}
		payload, err := atou(a[3], "payload size")
		if err != nil {
			return err
		}
		_, statErr := os.Stat("/dev/shm/" + w.bufferName(a[1]))
		w.stale = statErr == nil
		w.attempted = true
		w.lastErr = w.createReader(a[1], meta, payload)
		w.logf(LevelInformation, "stale segment present before create: %v; create: %v", w.stale, w.lastErr)
		return nil
	})
	r.add(Then, `the new reader should detect stale resources`, func(_ context.Context, w *world, _ []string) error {
		if !w.stale {
			return errors.New("no stale segment was left under the buffer's name")
		}
		return nil
	})
	r.add(Then, `the new reader should clean up stale resources`, func(_ context.Context, w *world, _ []string) error {
		if w.lastErr != nil {
			return fmt.Errorf("the stale buffer was not replaced: %w", w.lastErr)
		}
		rd, err := w.reader()
		if err != nil {
			return err
		}
		if o := rd.OIEB(); o.PayloadWrittenCount.Load() != 0 || o.WriterPID.Load() != 0 {
			return errors.New("the buffer still holds the dead reader's state")
		}
		return nil
	})
	r.add(Then, `the new reader should create fresh buffer successfully`, func(_ context.Context, w *world, _ []string) error {
		if w.lastErr != nil {
			return w.lastErr
		}
		_, err := w.reader()
		return err
	})
	r.add(When, `the `+q+` process detects reader death and reconnects to buffer `+q, func(ctx context.Context, w *world, a []string) error {
		if wr, ok := w.writers[a[1]]; ok {
			_ = wr.Close()
			delete(w.writers, a[1])
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			err := w.connectWriter(a[1])
			if err == nil || time.Now().After(deadline) {
				return err
			}
			select {
			case <-time.After(50 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	attemptConnect := func(_ context.Context, w *world, a []string) error {
		wr, err := ring.Connect(w.bufferName(a[1]), ring.WithWriteTimeout(writeTimeout))
		if err == nil {
			_ = wr.Close()
		}
		w.attempted, w.lastErr = true, err
		w.logf(LevelInformation, "connect attempt: %v", err)
		return nil
	}
	r.add(When, `a second `+q+` process attempts to connect to buffer `+q, attemptConnect)
	r.add(When, `the `+q+` process a second writer process attempts to connect to buffer `+q, attemptConnect)
	r.add(When, `a `+q+` process attempts to connect to non-existent buffer `+q, attemptConnect)
	writerExists := func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrWriterAlreadyConnected)
	}
	r.add(Then, `the connection should fail with writer exists error`, writerExists)
	r.add(Then, `the `+q+` process the second writer should fail with writer exists error`, writerExists)
	r.add(Then, `the connection should fail with appropriate error`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(nil)
	})
	r.add(Then, `error should indicate no shared memory found`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrBufferNotFound)
	})
}

// expectFailure checks the last attempt failed (with want, when not nil).
func (w *world) expectFailure(want error) error {
	if !w.attempted {
		return errors.New("no attempt was made")
	}
	if w.lastErr == nil {
		return errors.New("the attempt succeeded; it should have failed")
	}
	if want != nil && !errors.Is(w.lastErr, want) {
		return fmt.Errorf("want %v, got: %w", want, w.lastErr)
	}
	return nil
}
