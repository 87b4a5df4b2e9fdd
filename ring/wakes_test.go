package ring

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
)

// TestFutexWakesAreFarFewerThanFrames streams small frames to a reader
// that keeps up, and counts FUTEX_WAKE system calls on both sides. The
// futex notifiers make one only when the peer registered to sleep, so
// while both sides are busy they make none: the total must be far below
// one per frame. It is a count, never a time.
// A sleep costs one wake however many posts find the sleeper flag raised
// before the sleeper runs again.
func TestFutexWakesAreFarFewerThanFrames(t *testing.T) {
	frames := 200_000
	if testsupport.RaceEnabled {
		frames = 50_000
	}
	for _, notifier := range []string{"hybrid", "futex"} {
		t.Run(notifier, func(t *testing.T) {
			// The ring holds every frame, so the writer never waits: the
			// count is the data direction's, a reader that keeps up.
			r, w := pair(t, Config{PayloadSize: uint64(frames) * 80}, withNotifier(t, notifier))
			payload := make([]byte, 64)
			done := make(chan error, 1)
			go func() {
				for range frames {
					if err := w.WriteFrame(payload); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			for range frames {
				f, err := r.ReadFrame(ctx)
				require.NoError(t, err)
				require.NoError(t, f.Release())
			}
			require.NoError(t, <-done)
			wakes := r.notifier.(interface{ Wakes() uint64 }).Wakes() + w.notifier.(interface{ Wakes() uint64 }).Wakes()
			t.Logf("%s: %d FUTEX_WAKE calls for %d frames (%.4f per frame)", notifier, wakes, frames, float64(wakes)/float64(frames))
			assert.Less(t, wakes, uint64(frames/10), "a busy peer must not cost a system call per frame")
		})
	}
}
