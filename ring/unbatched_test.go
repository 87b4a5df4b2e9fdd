package ring

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnbatchedRelease checks that with WithUnbatchedRelease every release
// shows in the OIEB at once — read count +1, free bytes + the frame's span,
// read position past it — and that without it the same small releases are
// held back (so the test would notice the option doing nothing).
func TestUnbatchedRelease(t *testing.T) {
	sizes := []int{48, 112, 240, 1008} // spans 64, 128, 256, 1024
	run := func(t *testing.T, opts ...Option) (moved int) {
		r, w := pair(t, Config{PayloadSize: 10240}, opts...)
		for _, n := range sizes {
			require.NoError(t, w.WriteFrame(make([]byte, n)))
		}
		o := r.OIEB()
		for i, n := range sizes {
			count, free, pos := o.PayloadReadCount.Load(), o.PayloadFreeBytes.Load(), o.PayloadReadPos.Load()
			f, err := r.ReadFrame(context.Background())
			require.NoError(t, err)
			require.Equal(t, n, f.Len())
			require.NoError(t, f.Release())
			span := uint64(16 + n)
			if o.PayloadReadCount.Load() == count+1 {
				moved++
				assert.Equal(t, free+span, o.PayloadFreeBytes.Load(), "read %d: free bytes", i+1)
				assert.Equal(t, pos+span, o.PayloadReadPos.Load(), "read %d: read position", i+1)
			}
		}
		return moved
	}
	t.Run("unbatched: every release is published", func(t *testing.T) {
		assert.Equal(t, len(sizes), run(t, WithUnbatchedRelease()))
	})
	t.Run("default: small releases wait for a batch", func(t *testing.T) {
		assert.Less(t, run(t), len(sizes))
	})
	t.Run("unbatched: a wrap marker's tail returns with the frame after it", func(t *testing.T) {
		r, w := pair(t, Config{PayloadSize: 1024}, WithUnbatchedRelease())
		o := r.OIEB()
		require.NoError(t, w.WriteFrame(make([]byte, 700))) // 0..716
		f, err := r.ReadFrame(context.Background())
		require.NoError(t, err)
		require.NoError(t, f.Release())
		require.Equal(t, uint64(1024), o.PayloadFreeBytes.Load())
		require.NoError(t, w.WriteFrame(make([]byte, 400))) // marker at 716, frame at 0..416
		f, err = r.ReadFrame(context.Background())
		require.NoError(t, err)
		require.NoError(t, f.Release())
		assert.Equal(t, uint64(1024), o.PayloadFreeBytes.Load(), "the tail and the frame are back")
		assert.Equal(t, uint64(416), o.PayloadReadPos.Load())
		assert.Equal(t, uint64(3), o.PayloadReadCount.Load(), "two frames and the marker")
	})
}
