package ring

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

// Tests that need two processes re-execute this test binary with
// childEnv set to "role:scenario:buffer"; TestMain then runs that role
// instead of the tests.
const childEnv = "ZB_RING_TEST_CHILD"

// testPrefix starts the name of every buffer a test creates, so the leak
// check below can tell ours from anything else in /dev/shm.
var testPrefix = fmt.Sprintf("zbtest-ring-%d-", os.Getpid())

var nameCounter atomic.Uint64

// uniqueName returns a fresh buffer name for a test.
func uniqueName(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("%s%d", testPrefix, nameCounter.Add(1))
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runChild(spec))
	}
	code := m.Run()
	if code == 0 {
		if left := leftovers(); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: files left behind: %s\n", strings.Join(left, ", "))
			code = 1
		}
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: goroutines leaked: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// leftovers lists the files of this test run's buffers that still exist.
func leftovers() []string {
	var left []string
	for _, pattern := range BufferFiles(testPrefix + "*").All() {
		m, _ := filepath.Glob(pattern)
		left = append(left, m...)
	}
	return left
}
