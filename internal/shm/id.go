package shm

import "golang.org/x/sys/unix"

// ID identifies a segment's file: its device and inode. Two mappings of
// the same name taken at different times are the same segment only when
// their IDs are equal; a segment that was removed and created again under
// the name gets a new inode.
type ID struct{ Dev, Ino uint64 }

// ID is the segment's identity, or the zero ID once it is closed.
func (s *Segment) ID() ID {
	var st unix.Stat_t
	if s.fd < 0 || unix.Fstat(s.fd, &st) != nil {
		return ID{}
	}
	return ID{Dev: uint64(st.Dev), Ino: st.Ino}
}
