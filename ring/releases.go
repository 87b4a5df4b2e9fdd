package ring

import "github.com/zerobuffer/zerobuffer-go/layout"

// spacePoster is a notifier that counts the reader's space posts: the
// semaphore notifier (sync/semaphore's SpacePosts).
type spacePoster interface{ SpacePosts() uint64 }

// releaseTrack tells a writer which of its frames a reader of the other
// implementations has released, without trusting payload_free_bytes.
//
// Those readers add released space to payload_free_bytes with a plain
// `+=` (the protocol asks for an atomic add), and a subtract of the
// writer's that lands inside it is lost: the field then overstates the
// free space. Their read_pos and read_count move when a frame is read,
// not when it is released (the C++ reader hands out a frame and returns
// its space when the caller drops it), so the positions do not protect a
// frame the reader still holds either. What they do exactly once per
// released frame, as the protocol says, is post sem-r; semaphore posts
// are atomic. The track counts those posts and walks the ring from the
// oldest frame not known to be released, one frame per post, reading the
// headers the writer wrote there (they stay intact until the writer
// reuses the space, which this track keeps it from doing). Frames are
// assumed released in ring order, as the other implementations' readers
// do.
//
// A Go reader returns space in batches with atomic adds and marks the
// buffer (layout.BatchedReleaseMark); the track is not used then.
type releaseTrack struct {
	posts   spacePoster
	counted uint64 // posts accounted for
	pos     uint64 // ring offset of the oldest item not known to be released
	frames  uint64 // frames (wrap markers not counted) from pos up to the write position
}

// startReleaseTrack walks the items (frames and wrap markers) the reader
// has not read yet, from readPos, to count the frames among them. It
// returns nil when they do not parse as frames: the writer then does
// without the track. Frames the reader has read but not released when the
// writer connects are not known; their releases are counted as releases of
// the first frames after readPos.
func startReleaseTrack(ring []byte, readPos, unreadItems uint64, posts spacePoster) *releaseTrack {
	size := uint64(len(ring))
	if size < layout.FrameHeaderSize || unreadItems > size/layout.FrameHeaderSize+1 {
		return nil
	}
	t := &releaseTrack{posts: posts, counted: posts.SpacePosts(), pos: readPos % size}
	pos := t.pos
	for range unreadItems {
		next, frame, ok := nextItem(ring, pos)
		if !ok {
			return nil
		}
		if frame {
			t.frames++
		}
		pos = next
	}
	return t
}

// nextItem returns the offset after the item at pos — a frame, or a wrap
// marker — and whether it was a frame. A tail too short for a header is
// passed to offset 0 first, as readers do. ok is false where the ring
// holds neither (corrupt memory, or not what the writer wrote).
func nextItem(ring []byte, pos uint64) (next uint64, frame, ok bool) {
	size := uint64(len(ring))
	if pos >= size || size-pos < layout.FrameHeaderSize {
		pos = 0
	}
	h, _ := layout.ParseFrameHeader(ring[pos:])
	if h.PayloadSize == 0 && h.SequenceNumber == 0 {
		return 0, false, pos != 0 // a marker at 0 is no marker
	}
	if h.PayloadSize == 0 || h.PayloadSize > size-pos-layout.FrameHeaderSize {
		return 0, false, false
	}
	next = pos + layout.FrameHeaderSize + h.PayloadSize
	if next == size {
		next = 0
	}
	return next, true, true
}

// wrote counts a frame the writer committed.
func (t *releaseTrack) wrote() { t.frames++ }

// advance moves past the frames released since the last call: one per
// new post. Posts beyond the frames written (releases of frames read
// before the writer connected) are dropped. It stops, leaving the rest
// unreleased, where the ring does not parse.
func (t *releaseTrack) advance(ring []byte) {
	posts := t.posts.SpacePosts()
	for t.counted < posts {
		if t.frames == 0 {
			t.counted = posts
			return
		}
		next, frame, ok := nextItem(ring, t.pos)
		if !ok {
			return
		}
		t.pos = next
		if frame {
			t.frames--
			t.counted++
		}
	}
}

// free is the space from writePos round to the oldest frame not known to
// be released.
func (t *releaseTrack) free(size, writePos uint64) uint64 {
	used := (writePos%size + size - t.pos) % size
	if used == 0 && t.frames > 0 {
		used = size
	}
	return size - used
}
