package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// newRingPair makes a small buffer and connects a writer; the test's
// cleanup closes both and checks that no file is left.
func newRingPair(t *testing.T) (*ring.Reader, *ring.Writer) {
	name := uniqueName(t)
	r, err := ring.NewReader(name, ring.Config{MetadataSize: 64, PayloadSize: 1 << 16})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, r.Close())
		checkNoBufferFiles(t, name)
	})
	w, err := ring.Connect(name)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, w.Close()) })
	return r, w
}

func TestFrameTimeoutIsPerFrame(t *testing.T) {
	r, w := newRingPair(t)

	const timeout = 30 * time.Millisecond
	ft := newFrameTimeout(context.Background(), timeout)
	defer ft.stop()
	for i := range 3 {
		require.NoError(t, w.WriteFrame([]byte{byte(i)}))
		f, err := ft.read(r)
		require.NoError(t, err, "frame %d", i)
		assert.Equal(t, []byte{byte(i)}, f.Bytes())
		require.NoError(t, f.Release())
		// Outlive the deadline the context was made with: the next frame
		// must still get a wait of its own.
		time.Sleep(2 * timeout)
	}
	wrote := make(chan error, 1)
	go func() {
		time.Sleep(timeout / 3)
		wrote <- w.WriteFrame([]byte("late"))
	}()
	f, err := ft.read(r)
	require.NoError(t, <-wrote)
	require.NoError(t, err, "a frame that comes within its own timeout is read")
	assert.Equal(t, "late", string(f.Bytes()))
	require.NoError(t, f.Release())

	start := time.Now()
	_, err = ft.read(r)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(start), timeout, "the wait lasts the whole timeout")
}

func TestFrameTimeoutAllocatesNothingPerFrame(t *testing.T) {
	r, w := newRingPair(t)
	ft := newFrameTimeout(context.Background(), time.Hour)
	defer ft.stop()
	payload := make([]byte, 100)
	allocs := testing.AllocsPerRun(1000, func() {
		if err := w.WriteFrame(payload); err != nil {
			t.Fatal(err)
		}
		f, err := ft.read(r)
		if err != nil {
			t.Fatal(err)
		}
		_ = f.Release()
	})
	assert.Zero(t, allocs)
}
