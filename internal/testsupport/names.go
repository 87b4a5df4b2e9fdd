package testsupport

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
)

// Names hands out buffer names that no other test, test package or live
// process uses: family + PID + "-" + a counter. The family tells one test
// package's files from another's; the PID tells which process made them.
type Names struct {
	family string
	prefix string
	n      atomic.Uint64
}

// NewNames returns the names of a family, such as "zbtest-ring-". The
// family should end with a dash and must not contain a slash.
func NewNames(family string) *Names {
	return &Names{family: family, prefix: fmt.Sprintf("%s%d-", family, os.Getpid())}
}

// Family is the family given to NewNames: the start of the names of every
// process of this family.
func (n *Names) Family() string { return n.family }

// Prefix is the start of every name this process hands out.
func (n *Names) Prefix() string { return n.prefix }

// New returns a fresh name.
func (n *Names) New() string { return n.prefix + strconv.FormatUint(n.n.Add(1), 10) }

// OwnerPID is the PID in the name of a file of this family (a segment, a
// semaphore, a lock file, given as a path or a bare name), or 0 when the
// name holds none.
func (n *Names) OwnerPID(path string) int {
	_, rest, found := strings.Cut(filepath.Base(path), n.family)
	if !found {
		return 0
	}
	pidText, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
