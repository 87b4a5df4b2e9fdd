package ring

// BufferID identifies one buffer's segment, beyond its name: a buffer
// removed and created again under the same name has a different ID. The
// zero BufferID identifies nothing.
type BufferID struct{ dev, ino uint64 }

// IsZero reports whether id identifies nothing.
func (id BufferID) IsZero() bool { return id == BufferID{} }

// BufferID is the identity of the segment the writer mapped (the zero ID
// after Close). A duplex server uses it to tell a client's response ring
// from the one of the client before it, which may linger under the same
// name while that client closes.
func (w *Writer) BufferID() BufferID {
	if w.closed || w.seg == nil {
		return BufferID{}
	}
	id := w.seg.ID()
	return BufferID{dev: id.Dev, ino: id.Ino}
}

// IsCurrent reports whether the buffer's name still refers to the segment
// the writer mapped: false once its reader removed it, or when a new
// reader created another under the name.
func (w *Writer) IsCurrent() bool {
	return !w.closed && w.seg != nil && w.seg.IsCurrent(w.name)
}
