package ring

import (
	"context"
	"os"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

// pair makes a reader and a connected writer in this goroutine, so each
// step's effect on the OIEB can be checked exactly.
func pair(t *testing.T, cfg Config, opts ...Option) (*Reader, *Writer) {
	t.Helper()
	name := uniqueName(t)
	r, err := NewReader(name, cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	// The writer gets the same options but its own notifier, adopted
	// from the reader's record: a Notifier serves one side.
	w, err := Connect(name, append(opts, WithNotifier(nil))...)
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	return r, w
}

func TestOIEBAfterEachOperation(t *testing.T) {
	r, w := pair(t, Config{MetadataSize: 100, PayloadSize: 1000})
	o := r.OIEB()
	pid := uint64(os.Getpid())
	want := layout.Snapshot{
		OIEBSize: 128, Version: layout.Version{Major: 1},
		MetadataSize: 128, MetadataFreeBytes: 128,
		PayloadSize: 1024, PayloadFreeBytes: 1024,
		ReaderPID: pid, WriterPID: pid,
		// The semaphore mode's Go reader marks its batched releases.
		Reserved: [4]uint64{3: layout.BatchedReleaseMark},
	}
	check := func(step string) {
		t.Helper()
		got := o.Snapshot()
		require.Equal(t, want, got, step)
		require.NoError(t, got.Validate(uint64(len(r.seg.Data))), step)
	}
	check("after connect")

	require.NoError(t, w.SetMetadata([]byte("hello")))
	want.MetadataWrittenBytes, want.MetadataFreeBytes = 13, 115
	check("after metadata")

	ctx := context.Background()
	// Two frames: 316 + 416 bytes of the ring.
	require.NoError(t, w.WriteFrame(make([]byte, 300)))
	want.PayloadFreeBytes, want.PayloadWritePos, want.PayloadWrittenCount = 1024-316, 316, 1
	check("after frame 1")
	buf, err := w.Reserve(400)
	require.NoError(t, err)
	check("a reservation publishes nothing")
	buf[0] = 1
	require.NoError(t, w.Commit())
	want.PayloadFreeBytes, want.PayloadWritePos, want.PayloadWrittenCount = 1024-732, 732, 2
	check("after frame 2")

	// The reader publishes its position, count and released bytes
	// together, when it returns space: here at every release, since each
	// frame is over the ring's flush threshold (1024/16 bytes).
	f1, err := r.ReadFrame(ctx)
	require.NoError(t, err)
	check("reading a frame publishes nothing yet")
	require.NoError(t, f1.Release())
	want.PayloadReadPos, want.PayloadReadCount = 316, 1
	want.PayloadFreeBytes += 316
	check("after releasing frame 1")

	// A 300-byte frame does not fit the 292 bytes left: a marker, the
	// tail wasted, the frame at 0.
	require.NoError(t, w.WriteFrame(make([]byte, 300)))
	want.PayloadFreeBytes -= 292 + 316
	want.PayloadWritePos, want.PayloadWrittenCount = 316, 4
	check("after a wrapping frame")

	f2, err := r.ReadFrame(ctx)
	require.NoError(t, err)
	// Frame 3 is read while frame 2 is held: the marker's tail must not
	// be handed back before frame 2 is.
	f3, err := r.ReadFrame(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), f3.Seq())
	check("reading frames 2 and 3 (past the marker) publishes nothing")
	require.NoError(t, f3.Release())
	check("releasing frame 3 before frame 2 frees nothing yet")
	require.NoError(t, f2.Release())
	want.PayloadReadPos, want.PayloadReadCount = 316, 4
	want.PayloadFreeBytes = 1024
	check("after releasing frame 2: everything is free")
	require.NoError(t, f2.Release(), "double release is harmless")
	check("after a double release")

	require.NoError(t, w.Close())
	want.WriterPID = 0
	check("after the writer's close")
}

func TestFramesReleasedOutOfOrder(t *testing.T) {
	r, w := pair(t, Config{PayloadSize: 4096})
	require.NoError(t, writeFrames(w, 6, constSize(100)))
	var frames []Frame
	for range 6 {
		f, err := r.ReadFrame(context.Background())
		require.NoError(t, err)
		frames = append(frames, f)
	}
	o := r.OIEB()
	free := func() uint64 { return o.PayloadFreeBytes.Load() }
	base := free()
	for _, step := range []struct {
		release int
		freed   uint64 // bytes returned so far
		back    uint64 // frames returned so far
	}{{2, 0, 0}, {1, 0, 0}, {0, 3 * 116, 3}, {5, 3 * 116, 3},
		// Frame 3 alone is under the 256-byte flush threshold of a
		// 4096-byte ring: it is returned with frames 4 and 5.
		{3, 3 * 116, 3}, {4, 6 * 116, 6}} {
		require.NoError(t, checkPattern(frames[step.release].Bytes(), step.release), "held frames keep their bytes")
		require.NoError(t, frames[step.release].Release())
		assert.Equal(t, base+step.freed, free(), "after releasing frame %d", step.release)
		// read_pos and read_count stop at the oldest held frame, so that
		// a writer deciding from positions (the C++ one) leaves it alone.
		assert.Equal(t, step.freed, o.PayloadReadPos.Load(), "read_pos after releasing frame %d", step.release)
		assert.Equal(t, step.back, o.PayloadReadCount.Load(), "read_count after releasing frame %d", step.release)
	}
}

func TestBlocksAreAligned(t *testing.T) {
	for _, cfg := range []Config{{0, 1}, {1, 1}, {63, 65}, {4096, 1 << 20}, {100, 3110416}} {
		r, err := NewReader(uniqueName(t), cfg)
		require.NoError(t, err)
		o := r.OIEB()
		md, pl := o.MetadataSize.Load(), o.PayloadSize.Load()
		assert.Zero(t, md%64, "metadata size %d", md)
		assert.Zero(t, pl%64, "payload size %d", pl)
		assert.GreaterOrEqual(t, md, cfg.MetadataSize)
		assert.GreaterOrEqual(t, pl, cfg.PayloadSize)
		base := uintptr(unsafe.Pointer(&r.seg.Data[0]))
		assert.Zero(t, base%4096, "mapping is page aligned")
		if md > 0 {
			assert.Equal(t, uintptr(128), uintptr(unsafe.Pointer(&r.metadata[0]))-base)
		}
		assert.Zero(t, (uintptr(unsafe.Pointer(&r.ring[0]))-base)%64)
		assert.Equal(t, uint64(len(r.seg.Data)), 128+md+pl)
		require.NoError(t, r.Close())
	}
}

// foreignWrite writes a frame the way the C++ and C# writers do: when the
// frame does not fit before the end it wraps, writing a marker only if
// 16 bytes are left, so it may leave a 1-15 byte tail.
func foreignWrite(t *testing.T, w *Writer, payload []byte, seq uint64) {
	t.Helper()
	o := w.oieb
	span := uint64(16 + len(payload))
	pos := o.PayloadWritePos.Load()
	toEnd := w.size - pos
	need := span
	if toEnd < span {
		need += toEnd
	}
	require.GreaterOrEqual(t, o.PayloadFreeBytes.Load(), need, "test writes only into free space")
	if toEnd < span {
		if toEnd >= 16 {
			layout.PutFrameHeader(w.ring[pos:], layout.FrameHeader{})
			o.PayloadWrittenCount.Add(1)
		}
		o.PayloadFreeBytes.Add(-toEnd)
		pos = 0
	}
	layout.PutFrameHeader(w.ring[pos:], layout.FrameHeader{PayloadSize: uint64(len(payload)), SequenceNumber: seq})
	copy(w.ring[pos+16:], payload)
	o.PayloadWritePos.Store(pos + span)
	o.PayloadFreeBytes.Add(-span)
	o.PayloadWrittenCount.Add(1)
	require.NoError(t, w.notifier.PostData())
}

func TestReaderToleratesForeignShortTail(t *testing.T) {
	r, w := pair(t, Config{PayloadSize: 1024})
	ctx := context.Background()
	// 1024 = 2*(16+490) + 12: every second 490-byte frame leaves a
	// 12-byte tail with no room for a marker.
	sizes := []int{490, 490, 490, 490, 992, 7, 490, 490, 100}
	for k, n := range sizes {
		p := make([]byte, n)
		fillPattern(p, k)
		foreignWrite(t, w, p, uint64(k+1))
		f, err := r.ReadFrame(ctx)
		require.NoError(t, err, "frame %d", k)
		require.Equal(t, n, f.Len())
		require.NoError(t, checkPattern(f.Bytes(), k))
		require.NoError(t, f.Release())
	}
	assert.Equal(t, uint64(1024), r.OIEB().PayloadFreeBytes.Load(), "short tails were reclaimed")
}

// Space released below the flush threshold is held back only while the
// reader keeps reading: before it waits for data, it is all returned.
func TestReleasedSpaceIsReturnedBeforeTheReaderWaits(t *testing.T) {
	forEachNotifier(t, func(t *testing.T, notifier string) {
		r, w := pair(t, Config{PayloadSize: 1 << 20}, withNotifier(t, notifier))
		require.NoError(t, writeFrames(w, 2, constSize(10)))
		for range 2 {
			f, err := r.ReadFrame(context.Background())
			require.NoError(t, err)
			require.NoError(t, f.Release())
		}
		o := r.OIEB()
		assert.Less(t, o.PayloadFreeBytes.Load(), r.PayloadSize(), "26-byte frames are under the threshold")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		_, err := r.ReadFrame(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, r.PayloadSize(), o.PayloadFreeBytes.Load())
		assert.Equal(t, uint64(2), o.PayloadReadCount.Load())
		assert.Equal(t, uint64(52), o.PayloadReadPos.Load())
	})
}

// TestSlowFramesReturnSpaceBeforeTheWait: once a wait has slept through
// unflushedWait, the next wait returns the released space first and waits
// once, instead of waiting out the window (a timed-out wait of its own)
// and then waiting again. A sleeping notifier saves a sleep per frame.
func TestSlowFramesReturnSpaceBeforeTheWait(t *testing.T) {
	forEachNotifier(t, func(t *testing.T, notifier string) {
		r, w := pair(t, Config{PayloadSize: 1 << 20}, withNotifier(t, notifier))
		o := r.OIEB()
		wait := func() {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			_, err := r.ReadFrame(ctx)
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
		readOne := func() {
			t.Helper()
			require.NoError(t, writeFrames(w, 1, constSize(10)))
			f, err := r.ReadFrame(context.Background())
			require.NoError(t, err)
			require.NoError(t, f.Release())
			require.Less(t, o.PayloadFreeBytes.Load(), r.PayloadSize(), "a 26-byte frame is under the threshold")
		}

		// No wait yet has outlasted the window: the first one waits it
		// out, returns the space, and waits again.
		readOne()
		before := r.Stats().Timeouts
		wait()
		assert.Equal(t, uint64(2), r.Stats().Timeouts-before, "the window's wait, then the wait for the deadline")
		assert.Equal(t, r.PayloadSize(), o.PayloadFreeBytes.Load())

		// A notifier that slept through that window returns the space
		// first next time and waits once. One that spun through it keeps
		// the window (its spin covers a frame just after it): spin and
		// yield never sleep; semaphore (20 µs of spin) and futex always
		// sleep inside 50 µs; hybrid, backoff and adaptive depend on
		// their budgets and are checked for the space only.
		readOne()
		before = r.Stats().Timeouts
		wait()
		switch got := r.Stats().Timeouts - before; notifier {
		case "semaphore", "futex":
			assert.Equal(t, uint64(1), got, "one wait, the space returned before it")
		case "spin", "yield":
			assert.Equal(t, uint64(2), got, "the window kept: it never slept")
		default:
			assert.Contains(t, []uint64{1, 2}, got)
		}
		assert.Equal(t, r.PayloadSize(), o.PayloadFreeBytes.Load())
	})
}
