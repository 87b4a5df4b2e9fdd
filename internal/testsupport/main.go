package testsupport

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

// MainConfig says what Main does around a test package's tests.
type MainConfig struct {
	// ChildEnv names the environment variable that makes this process a
	// child (see Reexec): when it is set, Main calls Child with its value
	// and exits with the status Child returns, running no test.
	ChildEnv string
	Child    func(role string) int

	// Setup, when set, runs before the tests; an error ends the process
	// with status 2. The function it returns, if not nil, runs right after
	// the tests, before the checks (to stop a signal handler, say).
	Setup func() (teardown func(), err error)

	// Prefix starts the name of every buffer the tests create
	// (Names.Prefix). Files named with it that are left in ShmDir or
	// LockDir after the tests fail the run, and are removed. This
	// process's unpublished hidden segments are checked too.
	Prefix string
	// Leftovers, when set, replaces that check: it lists the files the
	// tests left behind.
	Leftovers func() []string

	// Done, when set, runs last with the exit status and returns the one
	// to exit with.
	Done func(code int) int
}

// Main is a TestMain: it runs the child role this process was started in
// (cfg.ChildEnv), or else cfg.Setup, the tests, and then the checks that
// nothing outlived them: no buffer file (reported and removed), and, when
// the tests passed, no child process (reported, killed and reaped) and no
// goroutine (goleak). A failed check fails the run with a line starting
// "FAIL:" on standard error. Main never returns.
func Main(m *testing.M, cfg MainConfig) {
	if cfg.ChildEnv != "" {
		if role, ok := os.LookupEnv(cfg.ChildEnv); ok && role != "" {
			if cfg.Child == nil {
				fmt.Fprintf(os.Stderr, "%s=%s, but this test binary has no child roles\n", cfg.ChildEnv, role)
				os.Exit(2)
			}
			os.Exit(cfg.Child(role))
		}
	}
	var teardown func()
	if cfg.Setup != nil {
		var err error
		if teardown, err = cfg.Setup(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	code := m.Run()
	if teardown != nil {
		teardown()
	}
	code = Check(code, cfg)
	if cfg.Done != nil {
		code = cfg.Done(code)
	}
	os.Exit(code)
}

// Check runs Main's checks after tests that ended with status code and
// returns the status to exit with. It is Main's second half, for a
// TestMain that cannot use Main whole.
func Check(code int, cfg MainConfig) int {
	testsFailed := code != 0
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
		if code == 0 {
			code = 1
		}
	}
	var left []string
	if cfg.Leftovers != nil {
		left = cfg.Leftovers()
	} else {
		left = Leftovers(cfg.Prefix)
	}
	if len(left) > 0 {
		fail("files left behind: %s", strings.Join(left, ", "))
		for _, f := range left {
			os.Remove(f)
		}
	}
	if testsFailed {
		return code // a failed test explains itself; leaks after it are noise
	}
	if kids := ChildPIDs(); len(kids) > 0 {
		fail("child processes left behind: %v", kids)
		for _, pid := range kids {
			syscall.Kill(pid, syscall.SIGKILL)
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, 0, nil)
		}
	}
	if err := goleak.Find(); err != nil {
		fail("goroutines leaked: %v", err)
	}
	return code
}
