// Package shm maps POSIX shared-memory segments (files in /dev/shm) the way
// glibc's shm_open does, without cgo.
package shm

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Dir is where glibc keeps POSIX shared memory objects.
const Dir = "/dev/shm"

// Path is the file that shm_open(name) uses.
func Path(name string) string { return Dir + "/" + name }

// Segment is a mapped shared-memory object.
type Segment struct {
	Data   []byte // the whole mapping
	fd     int
	hidden string // temporary path until Publish
	base   unsafe.Pointer
	span   uintptr // the mapping plus its guard page
}

// Create makes a new, zero-filled segment of size bytes with exactly the
// mode perm (O_CREAT|O_EXCL: an existing name fails with os.ErrExist) and
// maps it read-write.
func Create(name string, size uint64, perm os.FileMode) (*Segment, error) {
	return create(Path(name), size, perm)
}

// CreateHidden makes a new segment like Create under a temporary name, so
// that it can be initialised before anyone can open it; Publish then gives
// it its real name. This is how glibc creates named semaphores.
func CreateHidden(size uint64, perm os.FileMode) (*Segment, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	path := fmt.Sprintf("%s/%s%d-%s", Dir, hiddenPrefix, os.Getpid(), hex.EncodeToString(b[:]))
	s, err := create(path, size, perm)
	if err != nil {
		return nil, err
	}
	s.hidden = path
	return s, nil
}

// hiddenPrefix starts the temporary name of a segment being built; the
// creator's PID follows.
const hiddenPrefix = ".zerobuffer-"

// RemoveAbandonedHidden removes hidden segments whose creator died before
// publishing them (alive reports whether a PID runs).
func RemoveAbandonedHidden(alive func(pid uint64) bool) error {
	entries, err := os.ReadDir(Dir)
	if err != nil {
		return nil
	}
	var errs []error
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), hiddenPrefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.ParseUint(pidText, 10, 64)
		if !ok || err != nil || alive(pid) {
			continue
		}
		if err := unix.Unlink(Dir + "/" + e.Name()); err != nil && err != unix.ENOENT {
			errs = append(errs, fmt.Errorf("remove abandoned %s: %w", e.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Publish links a hidden segment to name, atomically: an existing name
// fails with os.ErrExist. The temporary name is removed either way.
func (s *Segment) Publish(name string) error {
	if s.hidden == "" {
		return fmt.Errorf("shm %s: segment is not hidden", name)
	}
	err := unix.Link(s.hidden, Path(name))
	s.Discard()
	if err != nil {
		return fmt.Errorf("link %s: %w", Path(name), err)
	}
	return nil
}

// Discard removes a hidden segment's temporary name, if it still has one.
func (s *Segment) Discard() {
	if s.hidden != "" {
		unix.Unlink(s.hidden)
		s.hidden = ""
	}
}

func create(path string, size uint64, perm os.FileMode) (*Segment, error) {
	if size == 0 || size > uint64(maxInt) {
		return nil, fmt.Errorf("shm %s: invalid size %d", path, size)
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, uint32(perm.Perm()))
	if err != nil {
		return nil, fmt.Errorf("shm_open %s: %w", path, err)
	}
	fail := func(op string, err error) (*Segment, error) {
		unix.Close(fd)
		unix.Unlink(path)
		return nil, fmt.Errorf("%s %s: %w", op, path, err)
	}
	// The mode is exact, not reduced by the umask: a caller who widens it
	// means it.
	if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
		return fail("fchmod", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		return fail("ftruncate", err)
	}
	seg := &Segment{fd: fd}
	if err := seg.mapGuarded(int(size), unix.PROT_READ|unix.PROT_WRITE); err != nil {
		return fail("mmap", err)
	}
	return seg, nil
}

// Open maps an existing segment read-write (or read-only). A missing name
// fails with an error wrapping os.ErrNotExist. minSize guards against
// segments too small to hold even a header.
func Open(name string, readOnly bool, minSize uint64) (*Segment, error) {
	path := Path(name)
	flags, prot := unix.O_RDWR, unix.PROT_READ|unix.PROT_WRITE
	if readOnly {
		flags, prot = unix.O_RDONLY, unix.PROT_READ
	}
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, fmt.Errorf("shm_open %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("fstat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, fmt.Errorf("shm %s: not a regular file", path)
	}
	if st.Size < 0 || uint64(st.Size) < minSize || uint64(st.Size) > uint64(maxInt) {
		unix.Close(fd)
		return nil, fmt.Errorf("shm %s: size %d is below the minimum %d: %w", path, st.Size, minSize, ErrTooSmall)
	}
	seg := &Segment{fd: fd}
	if err := seg.mapGuarded(int(st.Size), prot); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("mmap %s: %w", path, err)
	}
	return seg, nil
}

// mapGuarded maps size bytes of the file followed by an inaccessible
// guard page: an access past the end of the segment faults at once
// instead of reading whatever the process has mapped there. The region is
// reserved PROT_NONE first, then the file is mapped over its start.
func (s *Segment) mapGuarded(size, prot int) error {
	page := os.Getpagesize()
	span := uintptr((size+page-1)/page*page + page)
	base, err := unix.MmapPtr(-1, 0, nil, span, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return err
	}
	if _, err := unix.MmapPtr(s.fd, 0, base, uintptr(size), prot, unix.MAP_SHARED|unix.MAP_FIXED); err != nil {
		unix.MunmapPtr(base, span)
		return err
	}
	s.base, s.span = base, span
	s.Data = unsafe.Slice((*byte)(base), size)
	return nil
}

// ErrTooSmall is wrapped by Open when the segment cannot hold a header.
var ErrTooSmall = errors.New("segment too small")

const maxInt = int(^uint(0) >> 1)

// Prefault makes every page of the mapping present and writable in this
// process's page tables, so the first frames do not pay for page faults
// (a first touch costs tens of times a warm copy). It does not change the
// contents. It falls back to reading every page when the kernel lacks
// MADV_POPULATE_WRITE (before Linux 5.14).
func (s *Segment) Prefault(writable bool) {
	if len(s.Data) == 0 {
		return
	}
	advice := unix.MADV_POPULATE_READ
	if writable {
		advice = unix.MADV_POPULATE_WRITE
	}
	if unix.Madvise(s.Data, advice) == nil {
		return
	}
	page := os.Getpagesize()
	var sink byte
	for i := 0; i < len(s.Data); i += page {
		sink += s.Data[i]
	}
	_ = sink
}

// IsCurrent reports whether name still refers to this segment's file: not
// unlinked, not replaced by a newer segment of the same name.
func (s *Segment) IsCurrent(name string) bool {
	var a, b unix.Stat_t
	if s.fd < 0 || unix.Fstat(s.fd, &a) != nil || unix.Stat(Path(name), &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// Close unmaps the segment and closes its descriptor. It is idempotent.
func (s *Segment) Close() error {
	s.Discard()
	var errs []error
	if s.base != nil {
		errs = append(errs, unix.MunmapPtr(s.base, s.span))
		s.base, s.Data = nil, nil
	}
	if s.fd >= 0 {
		errs = append(errs, unix.Close(s.fd))
		s.fd = -1
	}
	return errors.Join(errs...)
}

// Unlink removes the segment's name; nil when it does not exist.
func Unlink(name string) error {
	if err := unix.Unlink(Path(name)); err != nil && err != unix.ENOENT {
		return fmt.Errorf("shm_unlink %s: %w", Path(name), err)
	}
	return nil
}
