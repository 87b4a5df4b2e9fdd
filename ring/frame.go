package ring

// Frame is one frame read from the ring. Its bytes point into the shared
// memory: no copy was made, and none is made until the caller makes one.
// A Frame is a small value; copies of it refer to the same frame.
type Frame struct {
	r    *Reader
	data []byte
	seq  uint64
	slot uint64
}

// Bytes is the frame's payload, valid until Release (or the reader's
// Close). Do not write to it and do not keep it after Release.
func (f Frame) Bytes() []byte { return f.data }

// Len is the payload's length.
func (f Frame) Len() int { return len(f.data) }

// Seq is the frame's sequence number (1 for the first frame).
func (f Frame) Seq() uint64 { return f.seq }

// Valid reports whether f holds a frame (the zero Frame does not).
func (f Frame) Valid() bool { return f.r != nil }

// Release returns the frame's space to the writer. Releasing twice, or
// releasing the zero Frame, does nothing.
func (f Frame) Release() error {
	if f.r == nil {
		return nil
	}
	return f.r.release(f.slot)
}
