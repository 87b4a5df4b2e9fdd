package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/bench"
	"go.uber.org/goleak"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// cliEnv makes the test binary behave as the zerobuffer command: the end
// to end tests re-execute os.Args[0] with it set, so no separate build is
// needed.
const cliEnv = "ZB_CLI_MAIN"

func TestMain(m *testing.M) {
	// The children of `zerobuffer bench`, as main() does.
	bench.RunChild()
	if os.Getenv(cliEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// hangGuard bounds every wait of the tests. It only turns a hang into a
// failure; no test passes or fails because something was fast or slow.
const hangGuard = 2 * time.Minute

// bigTimeout is the --timeout-ms the tests pass where a timeout is not
// what is being tested: long enough never to fire on a loaded machine.
const bigTimeout = "120000"

var nameSeq atomic.Int64

// uniqueName returns a buffer name no other test (or test run) uses, and
// checks when the test ends that none of the buffer's files were left
// behind (removing them if they were). Call it before starting processes,
// so that the check runs after they have been waited for.
func uniqueName(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("zbtest-cli-%d-%d", os.Getpid(), nameSeq.Add(1))
	t.Cleanup(func() { checkNoBufferFiles(t, name) })
	return name
}

func bufferFiles(name string) []string { return ring.BufferFiles(name).All() }

func checkNoBufferFiles(t *testing.T, name string) {
	t.Helper()
	for _, p := range bufferFiles(name) {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("left behind: %s", p)
			_ = os.Remove(p)
		}
	}
}

// child is the zerobuffer command running as a child process.
type child struct {
	t      *testing.T
	args   []string
	cmd    *exec.Cmd
	stderr bytes.Buffer // written by exec's goroutine; read after Wait

	mu     sync.Mutex
	stdout bytes.Buffer

	ready chan struct{} // closed when a READY line was printed
	eof   chan struct{} // closed when stdout is closed

	waited bool
	code   int
}

// startCLI starts `zerobuffer args...` as a child process. The child is
// always waited for: by wait, or, if the test did not, killed and waited
// for when the test ends.
func startCLI(t *testing.T, args ...string) *child {
	t.Helper()
	c := &child{t: t, args: args, ready: make(chan struct{}), eof: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], args...)
	c.cmd.Env = append(os.Environ(), cliEnv+"=1")
	// A race-enabled child sleeps a second at exit unless told not to.
	if v := os.Getenv("GORACE"); !strings.Contains(v, "atexit_sleep_ms") {
		c.cmd.Env = append(c.cmd.Env, "GORACE="+strings.TrimSpace(v+" atexit_sleep_ms=0"))
	}
	c.cmd.Stderr = &c.stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.eof)
		br := bufio.NewReader(out)
		readySeen := false
		for {
			line, err := br.ReadString('\n')
			c.mu.Lock()
			c.stdout.WriteString(line)
			c.mu.Unlock()
			if !readySeen && line == "READY\n" {
				readySeen = true
				close(c.ready)
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if !c.waited {
			_ = c.cmd.Process.Kill()
			c.finish()
		}
	})
	return c
}

// finish waits for stdout to close and the process to exit.
func (c *child) finish() {
	<-c.eof
	err := c.cmd.Wait()
	c.waited = true
	var ee *exec.ExitError
	switch {
	case err == nil:
		c.code = 0
	case errors.As(err, &ee):
		c.code = ee.ExitCode() // -1 when killed by a signal
	default:
		c.t.Errorf("wait %v: %v", c.args, err)
		c.code = -1
	}
}

// waitReady blocks until the child printed READY; it fails the test if the
// child exits first or hangs.
func (c *child) waitReady() {
	c.t.Helper()
	select {
	case <-c.ready:
		return
	case <-c.eof:
		c.finish()
		c.t.Fatalf("%v exited (code %d) before READY\nstdout: %s\nstderr: %s", c.args, c.code, c.output(), c.stderr.String())
	case <-time.After(hangGuard):
		_ = c.cmd.Process.Kill()
		c.finish()
		c.t.Fatalf("%v: no READY within %v\nstderr: %s", c.args, hangGuard, c.stderr.String())
	}
}

// wait returns the child's exit code once it has exited on its own.
func (c *child) wait() int {
	c.t.Helper()
	if c.waited {
		return c.code
	}
	select {
	case <-c.eof:
		c.finish()
	case <-time.After(hangGuard):
		_ = c.cmd.Process.Kill()
		c.finish()
		c.t.Fatalf("%v did not exit within %v\nstderr: %s", c.args, hangGuard, c.stderr.String())
	}
	return c.code
}

func (c *child) signal(sig syscall.Signal) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatal(err)
	}
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdout.String()
}

// result parses the JSON object the child printed last (after any READY).
func (c *child) result() *result {
	c.t.Helper()
	return parseResult(c.t, c.output(), c.stderr.String())
}

// expectExit waits and checks the exit code, showing the outputs when it
// differs.
func (c *child) expectExit(want int) *result {
	c.t.Helper()
	if got := c.wait(); got != want {
		c.t.Fatalf("%v: exit code %d, want %d\nstdout: %s\nstderr: %s", c.args, got, want, c.output(), c.stderr.String())
	}
	return c.result()
}

func parseResult(t *testing.T, stdout, stderr string) *result {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	last := lines[len(lines)-1]
	var r result
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		t.Fatalf("stdout's last line is not a JSON result: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	return &r
}
