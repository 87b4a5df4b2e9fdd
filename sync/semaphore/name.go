//go:build linux

package semaphore

import (
	"errors"
	"fmt"
	"strings"
)

const (
	// shmDir is where glibc keeps named semaphores (and shm_open segments).
	shmDir = "/dev/shm/"
	// filePrefix is what glibc's sem_open puts before the name, so that
	// semaphores and shared memory segments do not collide.
	filePrefix = "sem."
	// nameMax is the longest file name component Linux accepts (NAME_MAX).
	nameMax = 255
)

// ErrBadName is wrapped by every error about an invalid semaphore name.
var ErrBadName = errors.New("semaphore: invalid name")

// validateName checks name and returns the path of its file.
//
// The rules are the ones glibc's sem_open applies after stripping leading
// slashes (non-empty, no '/', the file name fits NAME_MAX), plus two of its
// own: no NUL (the kernel would silently cut the name there) and not "."
// or "..", which would look like directory entries to anyone reading the
// name.
func validateName(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("%w: empty", ErrBadName)
	case name == "." || name == "..":
		return "", fmt.Errorf("%w %q", ErrBadName, name)
	case strings.IndexByte(name, '/') >= 0:
		return "", fmt.Errorf("%w %q: contains '/' (give the name without glibc's leading slash)", ErrBadName, name)
	case strings.IndexByte(name, 0) >= 0:
		return "", fmt.Errorf("%w %q: contains NUL", ErrBadName, name)
	case len(filePrefix)+len(name) > nameMax:
		return "", fmt.Errorf("%w: %d bytes, at most %d allowed", ErrBadName, len(name), nameMax-len(filePrefix))
	}
	return shmDir + filePrefix + name, nil
}

// Path returns the file that backs the semaphore called name:
// /dev/shm/sem.NAME.
func Path(name string) (string, error) { return validateName(name) }
