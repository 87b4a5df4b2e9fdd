package stress

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs a child role when the binary was re-executed as one;
// otherwise it runs the tests and then checks that nothing outlived them:
// no file of this run's buffers, no child process, no goroutine.
func TestMain(m *testing.M) {
	if role := os.Getenv(childRoleEnv); role != "" {
		os.Exit(childMain(role))
	}
	if err := loadConfig(); err != nil {
		fmt.Fprintln(os.Stderr, "stress:", err)
		os.Exit(2)
	}
	code := m.Run()
	if code == 0 {
		if left := leftoverFiles(testPrefix); len(left) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: files left behind: %s\n", strings.Join(left, ", "))
			code = 1
		}
		if kids := childPIDs(); len(kids) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: child processes left behind: %v\n", kids)
			code = 1
		}
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: goroutines leaked: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
