package ring

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// sleepsWhenIdle reports whether a notifier's waits end in a sleep when
// nothing comes (all but the pure spinners).
func sleepsWhenIdle(notifier string) bool { return notifier != "spin" && notifier != "yield" }

// TestStatsCountWhatHappened checks, per notifier, that the counters of
// both sides move as the scenario says, in scenarios whose outcome does
// not depend on timing.
func TestStatsCountWhatHappened(t *testing.T) {
	forEachNotifier(t, func(t *testing.T, notifier string) {
		t.Run("a frame already there is found at once, and its post wakes nobody", func(t *testing.T) {
			r, w := pair(t, Config{PayloadSize: 4096}, withNotifier(t, notifier))
			require.NoError(t, w.WriteFrame([]byte("x")))
			assert.Equal(t, notify.Stats{Frames: 1, WakesSkipped: 1}, w.Stats(),
				"a post with nobody asleep makes no system call; the writer had room, so it never waited")

			f, err := r.ReadFrame(context.Background())
			require.NoError(t, err)
			require.NoError(t, f.Release())
			assert.Equal(t, notify.Stats{Frames: 1, Waits: 1, WaitsAtOnce: 1}, r.Stats())
		})

		t.Run("a timeout is a wait that slept or spun, not a frame", func(t *testing.T) {
			r, w := pair(t, Config{PayloadSize: 4096}, withNotifier(t, notifier))
			require.NoError(t, w.WriteFrame([]byte("x")))
			f, err := r.ReadFrame(context.Background())
			require.NoError(t, err)
			require.NoError(t, f.Release()) // held back: returned in the wait below

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			_, err = r.ReadFrame(ctx)
			require.ErrorIs(t, err, context.DeadlineExceeded)

			s := r.Stats()
			assert.Equal(t, uint64(1), s.Frames, "the timeout is not a frame")
			assert.Equal(t, uint64(1), s.Polls, "ReadFrame looks once before it waits")
			assert.GreaterOrEqual(t, s.Timeouts, uint64(1))
			assert.Equal(t, 2+s.Timeouts, s.Waits, "the first frame's wait, the poll, and the waits that timed out")
			assert.Equal(t, s.Timeouts, s.WaitsSlept+s.WaitsSpun)
			assert.Equal(t, uint64(1), s.SpaceBatches, "the released frame was returned once, early in the wait")
			assert.Equal(t, notify.Stats{WakesSkipped: 1}, notify.Stats{Wakes: s.Wakes, WakesSkipped: s.WakesSkipped},
				"returning the space woke nobody: the writer was not waiting")
			if sleepsWhenIdle(notifier) {
				assert.GreaterOrEqual(t, s.WaitsSlept, uint64(1), "an idle wait of %s sleeps", notifier)
				assert.GreaterOrEqual(t, s.Sleeps, s.WaitsSlept)
			} else {
				assert.Zero(t, s.WaitsSlept+s.Sleeps, "%s never sleeps", notifier)
				assert.Greater(t, s.SpinIterations, uint64(0))
			}
		})

		t.Run("a writer that finds the ring full waits, and times out without a frame", func(t *testing.T) {
			r, w := pair(t, Config{PayloadSize: 1024}, withNotifier(t, notifier), WithWriteTimeout(20*time.Millisecond))
			frame := make([]byte, 1024-16)
			require.NoError(t, w.WriteFrame(frame))
			require.ErrorIs(t, w.WriteFrame(frame), ErrBufferFull)
			s := w.Stats()
			assert.Equal(t, uint64(1), s.Frames)
			assert.GreaterOrEqual(t, s.Timeouts, uint64(1))
			assert.Equal(t, s.Timeouts, s.Waits, "every wait for space timed out")
			assert.Zero(t, s.WaitsAtOnce)
			if sleepsWhenIdle(notifier) {
				assert.GreaterOrEqual(t, s.WaitsSlept, uint64(1))
			} else {
				assert.Zero(t, s.Sleeps)
			}
			assert.Zero(t, r.Stats().Waits, "the reader never waited")
		})

		if !wakesSleepers(notifier) {
			return
		}
		t.Run("a post to a sleeping reader is one wake system call", func(t *testing.T) {
			r, w := pair(t, Config{PayloadSize: 4096}, withNotifier(t, notifier))
			asleep := readerAsleep(t, r)
			ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				f, err := r.ReadFrame(ctx)
				if err == nil {
					err = f.Release()
				}
				done <- err
			}()
			require.NoError(t, waitUntil("the reader to sleep", asleep))
			require.NoError(t, w.WriteFrame([]byte("x")))
			require.NoError(t, <-done)

			assert.Equal(t, notify.Stats{Frames: 1, Wakes: 1}, w.Stats())
			s := r.Stats()
			assert.Equal(t, uint64(1), s.Frames)
			assert.GreaterOrEqual(t, s.WaitsSlept, uint64(1))
			assert.GreaterOrEqual(t, s.Sleeps, uint64(1))
		})
	})
}

// wakesSleepers reports whether a notifier's posts wake a sleeping peer
// with a system call (the backoff's parks end by themselves).
func wakesSleepers(notifier string) bool {
	switch notifier {
	case "semaphore", "futex", "hybrid", "adaptive":
		return true
	}
	return false
}

// readerAsleep returns a condition that holds once r's notifier sleeps
// for data (or is about to).
func readerAsleep(t *testing.T, r *Reader) func() bool {
	t.Helper()
	if NotifierName(r.oieb.Reserved[0].Load()) == "semaphore" {
		s, err := semaphore.Open(semaphore.DataName(r.Name()))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return func() bool { return s.Waiters() > 0 }
	}
	o := r.oieb
	return func() bool { return o.NotifierWord32(1).Load() > 0 } // the futex's data sleeper flag
}

// TestStatsDoNotAllocate: reading the counters is free, like the hot path.
func TestStatsDoNotAllocate(t *testing.T) {
	r, w := pair(t, Config{PayloadSize: 4096})
	var sink uint64
	assert.Zero(t, testing.AllocsPerRun(100, func() { sink += r.Stats().Frames + w.Stats().Frames }))
	_ = sink
}
