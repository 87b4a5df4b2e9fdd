package testsupport

import (
	"os"
	"path/filepath"
	"strconv"
)

// Where a buffer's files live. They repeat internal/shm.Dir and
// ring.LockDir, which this package cannot import (ring's internal tests
// use it); the stress package's tests check that they agree.
const (
	ShmDir  = "/dev/shm"
	LockDir = "/tmp/zerobuffer"
)

// Files lists the files in ShmDir and LockDir whose names contain s: with
// a name prefix, every segment, semaphore (sem.sem-w-NAME, sem.sem-r-NAME),
// other notifier file ending with a buffer name, and lock file (NAME.lock)
// of the buffers named with it.
func Files(s string) []string {
	var files []string
	for _, pattern := range []string{ShmDir + "/*" + s + "*", LockDir + "/*" + s + "*"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	return files
}

// BufferFiles lists the files of buffer name that exist: its segment, any
// ShmDir file whose name ends with the name (the semaphores, or a
// notifier's own), its lock file. Unlike Files it does not match other
// buffers whose names merely start with this one.
func BufferFiles(name string) []string {
	var files []string
	for _, p := range []string{ShmDir + "/" + name, LockDir + "/" + name + ".lock"} {
		if _, err := os.Lstat(p); err == nil {
			files = append(files, p)
		}
	}
	m, _ := filepath.Glob(ShmDir + "/?*" + name)
	return append(files, m...)
}

// HiddenSegments lists the segments process pid started building and has
// not published (or removed): internal/shm names them .zerobuffer-PID-….
func HiddenSegments(pid int) []string {
	m, _ := filepath.Glob(ShmDir + "/.zerobuffer-" + strconv.Itoa(pid) + "-*")
	return m
}

// Leftovers lists what a test process left behind: the files named with
// prefix (see Files; none when prefix is empty) and its own hidden
// segments.
func Leftovers(prefix string) []string {
	var left []string
	if prefix != "" {
		left = Files(prefix)
	}
	return append(left, HiddenSegments(os.Getpid())...)
}
