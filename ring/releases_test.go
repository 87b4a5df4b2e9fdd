package ring

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

type fakePosts struct{ n uint64 }

func (f *fakePosts) SpacePosts() uint64 { return f.n }

// putFrame writes a frame header of n payload bytes at pos and returns
// the offset after it.
func putFrame(ring []byte, pos uint64, n, seq uint64) uint64 {
	layout.PutFrameHeader(ring[pos:], layout.FrameHeader{PayloadSize: n, SequenceNumber: seq})
	return pos + layout.FrameHeaderSize + n
}

func TestNextItem(t *testing.T) {
	ring := make([]byte, 256)
	end := putFrame(ring, 0, 84, 1)                         // 0..100
	end = putFrame(ring, end, 100, 2)                       // 100..216
	layout.PutFrameHeader(ring[end:], layout.FrameHeader{}) // marker at 216

	next, frame, ok := nextItem(ring, 0)
	assert.Equal(t, []any{uint64(100), true, true}, []any{next, frame, ok})
	next, frame, ok = nextItem(ring, 100)
	assert.Equal(t, []any{uint64(216), true, true}, []any{next, frame, ok})
	next, frame, ok = nextItem(ring, 216)
	assert.Equal(t, []any{uint64(0), false, true}, []any{next, frame, ok}, "a wrap marker leads to 0")
	next, frame, ok = nextItem(ring, 250)
	assert.Equal(t, []any{uint64(100), true, true}, []any{next, frame, ok}, "a short tail is passed to 0 first")

	full := make([]byte, 64)
	putFrame(full, 0, 48, 1)
	next, _, ok = nextItem(full, 0)
	assert.True(t, ok)
	assert.Zero(t, next, "a frame ending at the end leads to 0")

	bad := make([]byte, 64)
	_, _, ok = nextItem(bad, 0)
	assert.False(t, ok, "a marker at 0 is corrupt")
	putFrame(bad, 16, 100, 1)
	_, _, ok = nextItem(bad, 16)
	assert.False(t, ok, "a frame past the end is corrupt")
	layout.PutFrameHeader(bad[16:], layout.FrameHeader{SequenceNumber: 5})
	_, _, ok = nextItem(bad, 16)
	assert.False(t, ok, "size 0 with a sequence is corrupt")
}

func TestReleaseTrack(t *testing.T) {
	const size = 256
	ring := make([]byte, size)
	posts := &fakePosts{n: 7} // posts from before: not ours
	// Two unread frames of an earlier writer at 0..100 and 100..216.
	end := putFrame(ring, 0, 84, 1)
	end = putFrame(ring, end, 100, 2)
	tr := startReleaseTrack(ring, 0, 2, posts)
	require.NotNil(t, tr)
	assert.EqualValues(t, 2, tr.frames)
	assert.EqualValues(t, size-216, tr.free(size, end), "only the unread frames are used")

	// The reader releases frame 1.
	posts.n++
	tr.advance(ring)
	assert.EqualValues(t, 100, tr.pos)
	assert.EqualValues(t, size-116, tr.free(size, end))

	layout.PutFrameHeader(ring[216:], layout.FrameHeader{}) // marker
	w := putFrame(ring, 0, 50, 3)                           // 0..66
	tr.wrote()
	assert.EqualValues(t, 100-66, tr.free(size, w), "from 66 up to the held frame at 100")

	// Frame 2 released: the walk stops after it, at the marker; the tail
	// behind the marker counts as released with the next frame.
	posts.n++
	tr.advance(ring)
	assert.EqualValues(t, 216, tr.pos)
	assert.EqualValues(t, 1, tr.frames)
	assert.EqualValues(t, 216-66, tr.free(size, w))

	// Frame 3 released, and two posts more than frames (releases of
	// frames read before the writer connected): dropped.
	posts.n += 3
	tr.advance(ring)
	assert.EqualValues(t, 66, tr.pos)
	assert.Zero(t, tr.frames)
	assert.EqualValues(t, size, tr.free(size, w), "empty")
	assert.Equal(t, posts.n, tr.counted)

	// A full ring: positions equal, a frame outstanding.
	tr.wrote()
	assert.Zero(t, tr.free(size, w), "positions equal with a frame not released: full")
}

func TestReleaseTrackRefusesWhatDoesNotParse(t *testing.T) {
	ring := make([]byte, 256)
	assert.Nil(t, startReleaseTrack(ring, 0, 1, &fakePosts{}), "a marker at 0 is not a frame")
	assert.Nil(t, startReleaseTrack(ring, 0, 1000, &fakePosts{}), "more unread items than fit")
	tr := startReleaseTrack(ring, 40, 0, &fakePosts{})
	require.NotNil(t, tr)
	tr.wrote()
	putFrame(ring, 40, 1000, 9) // not a frame that fits
	tr.posts.(*fakePosts).n = 1
	tr.advance(ring)
	assert.EqualValues(t, 40, tr.pos, "stays put where the ring does not parse")
	assert.EqualValues(t, 1, tr.frames)
}
