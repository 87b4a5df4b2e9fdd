package duplex

import (
	"testing"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	_ "github.com/zerobuffer/zerobuffer-go/sync/futex" // every notifier is tested
	_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
)

// Tests that need two processes re-execute this test binary with childEnv
// set to "role:scenario:notifier:channel"; TestMain then plays that role
// instead of running the tests.
const childEnv = "ZB_DUPLEX_TEST_CHILD"

// names start every channel a test creates, so the leak check can tell
// ours from anything else in /dev/shm.
var names = testsupport.NewNames("zbtest-duplex-")

func uniqueName(t testing.TB) string {
	t.Helper()
	return names.New()
}

// TestMain plays a child role, or runs the tests and then fails the run
// if they left files, child processes or goroutines behind.
func TestMain(m *testing.M) {
	testsupport.Main(m, testsupport.MainConfig{ChildEnv: childEnv, Child: runChild, Prefix: names.Prefix()})
}

// leftovers lists the files of buffers whose names start with prefix.
func leftovers(prefix string) []string { return testsupport.Files(prefix) }
