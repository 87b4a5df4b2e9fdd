package harmony

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// registerErrors: feature 3, the metadata block's rules.
func registerErrors(r *Registry) {
	attemptMeta := func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "metadata size")
		if err != nil {
			return err
		}
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		w.attempted, w.lastErr = true, wr.SetMetadata(simplePattern(n))
		w.logf(LevelInformation, "metadata write of %d bytes: %v", n, w.lastErr)
		return nil
	}
	r.add(When, `the `+q+` process attempts to write metadata again with size `+q, attemptMeta)
	r.add(When, `the `+q+` process attempts to write metadata with size `+q, attemptMeta)
	r.add(When, `the `+q+` process attempts to write metadata`, func(ctx context.Context, w *world, a []string) error {
		return attemptMeta(ctx, w, []string{a[0], "100"})
	})
	r.add(Then, `the `+q+` process verifies the second metadata write should fail`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrMetadataAlreadyWritten)
	})
	r.add(Then, `the `+q+` process verifies the metadata write should fail with size error`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrMetadataTooLarge)
	})
	r.add(Then, `the `+q+` process metadata write should fail appropriately`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(ring.ErrMetadataTooLarge)
	})
	r.add(Then, `the `+q+` process verifies the original metadata should remain unchanged`, func(_ context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		meta, err := rd.Metadata()
		if err != nil {
			return fmt.Errorf("read metadata: %w", err)
		}
		if len(meta) == 0 || !bytes.Equal(meta, simplePattern(len(meta))) {
			return fmt.Errorf("the metadata (%d bytes) is not the first write's pattern", len(meta))
		}
		w.logf(LevelInformation, "metadata intact: %d bytes", len(meta))
		return nil
	})
	r.add(When, `the `+q+` process writes frames? without metadata`, func(ctx context.Context, w *world, _ []string) error {
		for range 3 {
			if err := w.write(ctx, 1024); err != nil {
				return err
			}
		}
		return nil
	})
	r.add(Then, `the `+q+` process should read frames successfully`, func(ctx context.Context, w *world, _ []string) error {
		for range 3 {
			f, err := w.readAndRelease(ctx, readTimeout)
			if err != nil {
				return err
			}
			if !bytes.Equal(w.lastData, framePattern(f.Len(), w.lastSeq)) {
				return fmt.Errorf("frame %d does not hold its test pattern", w.lastSeq)
			}
		}
		return nil
	})
	noMeta := func(ctx context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		meta, err := rd.Metadata()
		if err != nil {
			return fmt.Errorf("read metadata: %w", err)
		}
		if len(meta) != 0 {
			return fmt.Errorf("found %d bytes of metadata, want none", len(meta))
		}
		if len(w.sequences) == 0 {
			f, err := w.readAndRelease(ctx, readTimeout)
			if err != nil {
				return err
			}
			w.logf(LevelInformation, "read frame %d without metadata", f.Seq())
		}
		return nil
	}
	r.add(Then, `the `+q+` process verifies the system should work without metadata`, noMeta)
	r.add(Then, `the `+q+` process should verify system works correctly without metadata`, noMeta)
	r.add(Then, `the `+q+` process should verify (?:frame )?write succeeded`, func(_ context.Context, w *world, _ []string) error {
		wr, ok := w.writers[w.current]
		if !ok {
			return errors.New("this process has no writer")
		}
		if n := wr.OIEB().PayloadWrittenCount.Load(); n == 0 {
			return errors.New("no frame was written")
		}
		return nil
	})
}
