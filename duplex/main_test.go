package duplex

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/zerobuffer/zerobuffer-go/ring"
	_ "github.com/zerobuffer/zerobuffer-go/sync/futex" // every notifier is tested
	_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
)

// Tests that need two processes re-execute this test binary with childEnv
// set to "role:scenario:notifier:channel"; TestMain then plays that role
// instead of running the tests.
const childEnv = "ZB_DUPLEX_TEST_CHILD"

// testPrefix starts the name of every channel a test creates, so the leak
// check can tell ours from anything else in /dev/shm.
var testPrefix = fmt.Sprintf("zbtest-duplex-%d-", os.Getpid())

var nameCounter atomic.Uint64

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
		if left := leftovers(testPrefix); len(left) > 0 {
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

// leftovers lists the files of buffers whose names start with prefix.
func leftovers(prefix string) []string {
	var left []string
	for _, pattern := range []string{
		"/dev/shm/" + prefix + "*",
		"/dev/shm/sem.sem-?-" + prefix + "*",
		ring.LockDir + "/" + prefix + "*",
	} {
		m, _ := filepath.Glob(pattern)
		left = append(left, m...)
	}
	return left
}
