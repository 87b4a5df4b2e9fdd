package ring

import (
	"testing"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
)

// Tests that need two processes re-execute this test binary with
// childEnv set to "role:scenario:buffer"; TestMain then runs that role
// instead of the tests.
const childEnv = "ZB_RING_TEST_CHILD"

// names start every buffer a test creates, so the leak check can tell
// ours from anything else in /dev/shm.
var names = testsupport.NewNames("zbtest-ring-")

// testPrefix is the start of every name uniqueName returns.
var testPrefix = names.Prefix()

// uniqueName returns a fresh buffer name for a test.
func uniqueName(t testing.TB) string {
	t.Helper()
	return names.New()
}

// TestMain plays a child role, or runs the tests and then fails the run
// if they left files, child processes or goroutines behind.
func TestMain(m *testing.M) {
	testsupport.Main(m, testsupport.MainConfig{ChildEnv: childEnv, Child: runChild, Prefix: testPrefix})
}
