package ring

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHotPathDoesNotAllocate(t *testing.T) {
	r, w := pair(t, Config{PayloadSize: 4 << 20})
	payload := make([]byte, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()

	var err error
	allocs := testing.AllocsPerRun(2000, func() {
		if err == nil {
			err = w.WriteFrame(payload)
		}
	})
	require.NoError(t, err)
	assert.Zero(t, allocs, "WriteFrame")

	allocs = testing.AllocsPerRun(2000, func() {
		if err != nil {
			return
		}
		var f Frame
		if f, err = r.ReadFrame(ctx); err == nil {
			err = f.Release()
		}
	})
	require.NoError(t, err)
	assert.Zero(t, allocs, "ReadFrame+Release")

	allocs = testing.AllocsPerRun(2000, func() {
		if err != nil {
			return
		}
		var buf []byte
		if buf, err = w.Reserve(len(payload)); err == nil {
			buf[0] = 1
			err = w.Commit()
		}
	})
	require.NoError(t, err)
	assert.Zero(t, allocs, "Reserve+Commit")

	allocs = testing.AllocsPerRun(2000, func() {
		if err != nil {
			return
		}
		var f Frame
		if f, err = r.ReadFrame(context.Background()); err == nil {
			err = f.Release()
		}
	})
	require.NoError(t, err)
	assert.Zero(t, allocs, "ReadFrame+Release without a deadline")
}
