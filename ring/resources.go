package ring

import (
	"errors"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/proc"
	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// LockDir holds one lock file per buffer, NAME.lock, flock'ed by the
// buffer's reader for its whole life (the same directory the C++, C# and
// Python implementations use).
const LockDir = "/tmp/zerobuffer"

// MaxNameLen is the longest buffer name: the semaphore file
// /dev/shm/sem.sem-w-NAME (Files.DataSemaphore) must fit the 255-byte
// file-name limit.
const MaxNameLen = 255 - len("sem.sem-w-")

// ValidateName reports whether name can name a buffer: not empty, at most
// MaxNameLen bytes, no '/', no NUL, not "." or "..".
func ValidateName(name string) error {
	switch {
	case name == "":
		return errorf("%w: empty", ErrInvalidName)
	case len(name) > MaxNameLen:
		return errorf("%w: %d bytes, the limit is %d", ErrInvalidName, len(name), MaxNameLen)
	case name == "." || name == "..":
		return errorf("%w: %q", ErrInvalidName, name)
	case strings.ContainsAny(name, "/\x00"):
		return errorf("%w: %q contains '/' or NUL", ErrInvalidName, name)
	}
	return nil
}

// Files are the paths of a buffer's files, by the protocol's names (the
// other implementations use the same). Which of them exist depends on
// the notifier: the semaphores only in the semaphore mode; a notifier of
// another kind may name files of its own (its Remove deletes them).
type Files struct {
	Segment        string // the shared-memory segment: /dev/shm/NAME
	Lock           string // the reader's lock file: /tmp/zerobuffer/NAME.lock
	DataSemaphore  string // the writer's posts: /dev/shm/sem.sem-w-NAME
	SpaceSemaphore string // the reader's posts: /dev/shm/sem.sem-r-NAME
}

// BufferFiles returns the paths of buffer name's files. name should pass
// ValidateName (for one that does not, the semaphores' paths are "");
// a glob pattern (a name with '*') gives patterns.
func BufferFiles(name string) Files {
	return Files{
		Segment:        shm.Path(name),
		Lock:           LockDir + "/" + name + ".lock",
		DataSemaphore:  semaphorePath(semaphore.DataName(name)),
		SpaceSemaphore: semaphorePath(semaphore.SpaceName(name)),
	}
}

// semaphorePath is the file of a semaphore, or "" for a name that cannot
// be one.
func semaphorePath(name string) string {
	p, _ := semaphore.Path(name)
	return p
}

// All lists the paths: segment, lock, data and space semaphores.
func (f Files) All() []string {
	return []string{f.Segment, f.Lock, f.DataSemaphore, f.SpaceSemaphore}
}

func lockPath(name string) string { return BufferFiles(name).Lock }

// lockFile is a held flock on LockDir/NAME.lock.
type lockFile struct {
	fd   int
	path string
}

// acquireLock creates (if needed) and flocks the buffer's lock file. A lock
// held by someone else means a live reader: ErrReaderAlreadyConnected. The
// loop guards against a stale-cleanup in another process unlinking the
// file between our open and our flock: the lock only counts if the file we
// locked is still the one at the path.
func acquireLock(name string, perm os.FileMode) (*lockFile, error) {
	if err := os.MkdirAll(LockDir, 0o777); err != nil {
		return nil, errorf("zerobuffer: lock directory: %w", err)
	}
	path := lockPath(name)
	for attempt := 0; attempt < 100; attempt++ {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, uint32(perm.Perm()))
		if err != nil {
			return nil, errorf("zerobuffer: open lock %s: %w", path, err)
		}
		if err := flockBriefly(fd); err != nil {
			unix.Close(fd)
			if err == unix.EWOULDBLOCK {
				return nil, errorf("%w: %s is locked by a live reader", ErrReaderAlreadyConnected, path)
			}
			return nil, errorf("zerobuffer: flock %s: %w", path, err)
		}
		if sameFile(fd, path) {
			return &lockFile{fd: fd, path: path}, nil
		}
		unix.Close(fd)
	}
	return nil, errorf("zerobuffer: lock %s keeps being replaced", path)
}

// flockBriefly takes the lock, retrying for lockPatience while it is
// held: a reader holds it for its life, but another process's stale-lock
// scan (CleanupStale) holds it for microseconds, and must not make a new
// reader believe its name is taken.
func flockBriefly(fd int) error {
	deadline := time.Now().Add(lockPatience)
	for {
		err := flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EWOULDBLOCK || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// lockPatience is how long a lock must stay held to count as a live
// reader's.
const lockPatience = 20 * time.Millisecond

func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if err != unix.EINTR {
			return err
		}
	}
}

func sameFile(fd int, path string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(fd, &a) != nil || unix.Stat(path, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// release unlinks the lock file while still holding it, then drops it.
func (l *lockFile) release() error {
	if l == nil || l.fd < 0 {
		return nil
	}
	var errs []error
	if err := unix.Unlink(l.path); err != nil && err != unix.ENOENT {
		errs = append(errs, errorf("zerobuffer: remove lock %s: %w", l.path, err))
	}
	errs = append(errs, unix.Close(l.fd))
	l.fd = -1
	return errors.Join(errs...)
}

// removeBufferFiles unlinks the segment and the protocol's semaphores of
// buffer name, whichever exist, plus whatever n names for it.
func removeBufferFiles(name string, n Notifier) error {
	errs := []error{
		shm.Unlink(name),
		semaphore.Unlink(semaphore.DataName(name)),
		semaphore.Unlink(semaphore.SpaceName(name)),
	}
	if n != nil {
		errs = append(errs, n.Remove(name))
	}
	return errors.Join(errs...)
}

// segmentPeers reads the PIDs recorded in an existing segment. ok is false
// when the segment does not exist or is too small to hold an OIEB.
func segmentPeers(name string) (readerPID, writerPID uint64, ok bool) {
	seg, err := shm.Open(name, true, layout.OIEBSize)
	if err != nil {
		return 0, 0, false
	}
	defer seg.Close()
	o, err := layout.View(seg.Data)
	if err != nil {
		return 0, 0, false
	}
	return o.ReaderPID.Load(), o.WriterPID.Load(), true
}

// CleanupStale removes what dead readers left behind: every lock file in
// LockDir that nobody holds is stale; when the segment it guards has no
// live reader and no live writer, the lock file, the segment and its
// semaphores go. A segment with a live writer is left (lock file
// included) for that writer to notice its reader is gone. NewReader calls
// it; it is exported for tools.
func CleanupStale() error {
	entries, err := os.ReadDir(LockDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return errorf("zerobuffer: scan %s: %w", LockDir, err)
	}
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".lock")
		if !ok || ValidateName(name) != nil {
			continue
		}
		errs = append(errs, cleanupIfStale(name))
	}
	errs = append(errs, shm.RemoveAbandonedHidden(proc.Alive))
	return errors.Join(errs...)
}

func cleanupIfStale(name string) error {
	path := lockPath(name)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil // gone already, or not ours to judge
	}
	defer unix.Close(fd)
	if flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil || !sameFile(fd, path) {
		return nil // held by a live reader, or replaced meanwhile
	}
	rpid, wpid, exists := segmentPeers(name)
	if exists && (proc.Alive(rpid) || proc.Alive(wpid)) {
		// A recorded peer still runs (or its PID was reused): keep the
		// segment, and the lock file with it, for a later scan or for the
		// next reader of this name, which replaces both. Unlinking the
		// lock alone would orphan the segment.
		return nil
	}
	errs := []error{removeBufferFiles(name, nil)}
	if err := unix.Unlink(path); err != nil && err != unix.ENOENT {
		errs = append(errs, errorf("zerobuffer: remove stale lock %s: %w", path, err))
	}
	return errors.Join(errs...)
}
