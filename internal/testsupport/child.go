package testsupport

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// HangGuard bounds every wait of a Child. It only turns a hang into a
// failure; no test passes or fails on how long something took.
const HangGuard = 60 * time.Second

// Child is the test binary re-executed as a child process, in a role its
// TestMain picks from the environment (see Main). The child's standard
// output is read line by line (Expect), its standard error kept for the
// failure messages, and its standard input held open until Wait: a child
// may block reading it to stay alive until the parent is done with it.
//
// A Child is always reaped: if the test did not Wait for it, it is killed
// and reaped when the test ends. Should the test process die, the kernel
// kills the child too. Its methods are meant for one goroutine, the test's.
type Child struct {
	// Hint, when set, is added to the failure of a child that ended
	// before printing what Expect waited for (to say, for instance, what
	// TestMain must do for the child to take its role).
	Hint string

	t     testing.TB
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser

	mu      sync.Mutex
	lines   []string      // standard output so far, line by line
	next    int           // the first line Expect has not looked at
	eof     bool          // standard output is closed
	changed chan struct{} // closed (and replaced) when lines or eof change

	stderr    lockedBuffer
	readDone  chan struct{}
	followers sync.WaitGroup
	waited    bool
	waitErr   error
}

// Reexec starts this test binary again with env added to the environment
// (entries KEY=VALUE; one of them tells the child's TestMain its role) and
// the given arguments, "-test.run=^$" when there are none, so that a child
// whose TestMain does not take the role runs no test. name is how failure
// messages call the child. A race-enabled child is told not to sleep at
// exit (GORACE=atexit_sleep_ms=0) unless GORACE already says otherwise.
func Reexec(t testing.TB, name string, env []string, args ...string) *Child {
	t.Helper()
	if len(args) == 0 {
		args = []string{"-test.run=^$"}
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env...)
	if v := os.Getenv("GORACE"); !strings.Contains(v, "atexit_sleep_ms") {
		cmd.Env = append(cmd.Env, "GORACE="+strings.TrimSpace(v+" atexit_sleep_ms=0"))
	}
	// Should this process die, the kernel kills the child too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c := &Child{t: t, name: name, cmd: cmd, changed: make(chan struct{}), readDone: make(chan struct{})}
	cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatalf("child %s: stdin pipe: %v", name, err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatalf("child %s: stdout pipe: %v", name, err)
	}
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		c.stdin.Close()
		t.Fatalf("child %s: start %s: %v", name, os.Args[0], err)
	}
	pw.Close()
	go c.readStdout(pr)
	t.Cleanup(func() {
		// Never leave a child behind: kill (SIGKILL ends a stopped child
		// too) and reap.
		if !c.waited {
			c.cmd.Process.Kill()
			c.Wait()
		}
	})
	return c
}

func (c *Child) readStdout(r *os.File) {
	defer close(c.readDone)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		c.mu.Lock()
		c.lines = append(c.lines, sc.Text())
		c.notifyLocked()
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.eof = true
	c.notifyLocked()
	c.mu.Unlock()
}

func (c *Child) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// PID is the child's process ID.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// Stderr is what the child wrote to its standard error so far.
func (c *Child) Stderr() string { return c.stderr.String() }

// Output is what the child wrote to its standard output so far.
func (c *Child) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines) == 0 {
		return ""
	}
	return strings.Join(c.lines, "\n") + "\n"
}

// Follow calls f, in a goroutine of its own, with the rest of every line
// of the child's standard output that starts with prefix, in order and
// from the first line on, then end (when not nil) once the output ended.
// It reads the lines on its own, so that Expect still sees them all: it is
// for a child that reports events while the test waits for something
// else. Wait returns only after f and end did, so f must not block on
// the test for long.
func (c *Child) Follow(prefix string, f func(rest string), end func()) {
	c.followers.Add(1)
	go func() {
		defer c.followers.Done()
		if end != nil {
			defer end()
		}
		for next := 0; ; {
			c.mu.Lock()
			var got []string
			for ; next < len(c.lines); next++ {
				if rest, found := strings.CutPrefix(c.lines[next], prefix); found {
					got = append(got, rest)
				}
			}
			eof, changed := c.eof, c.changed
			c.mu.Unlock()
			for _, rest := range got {
				f(rest)
			}
			if eof {
				return
			}
			<-changed
		}
	}()
}

// Expect waits for a line, after those an earlier Expect returned, that
// starts with prefix, and returns the rest of it, trimmed. Lines in
// between are skipped. A child that ends first, or prints no such line
// within HangGuard (it is then killed), fails the test.
func (c *Child) Expect(prefix string) string {
	c.t.Helper()
	timer := time.NewTimer(HangGuard)
	defer timer.Stop()
	for {
		c.mu.Lock()
		for ; c.next < len(c.lines); c.next++ {
			if rest, found := strings.CutPrefix(c.lines[c.next], prefix); found {
				c.next++
				c.mu.Unlock()
				return strings.TrimSpace(rest)
			}
		}
		eof, changed := c.eof, c.changed
		c.mu.Unlock()
		if eof {
			err := c.Wait()
			hint := ""
			if c.Hint != "" {
				hint = " (" + c.Hint + ")"
			}
			c.t.Fatalf("child %s ended before printing %q%s: %v; stderr:\n%s", c.name, prefix, hint, err, c.Stderr())
		}
		select {
		case <-changed:
		case <-timer.C:
			c.Kill()
			c.t.Fatalf("child %s did not print %q within %v (hang guard); stderr:\n%s", c.name, prefix, HangGuard, c.Stderr())
		}
	}
}

// Wait closes the child's standard input, reaps it (killing it if it
// outlives HangGuard) and returns its exit error, with its standard error,
// or nil when it exited with status 0. Later calls return the same.
func (c *Child) Wait() error {
	if c.waited {
		return c.waitErr
	}
	c.waited = true
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(HangGuard):
		c.cmd.Process.Kill()
		err = fmt.Errorf("still running after %v (hang guard), killed: %v", HangGuard, <-done)
	}
	<-c.readDone // the child's end of stdout is closed once it is gone
	c.followers.Wait()
	if err != nil {
		c.waitErr = fmt.Errorf("child %s: %w; stderr:\n%s", c.name, err, c.Stderr())
	}
	return c.waitErr
}

// ExitCode is the child's exit status after Wait, or -1 when it was ended
// by a signal or has not been waited for.
func (c *Child) ExitCode() int {
	if !c.waited || c.cmd.ProcessState == nil {
		return -1
	}
	return c.cmd.ProcessState.ExitCode()
}

// Kill sends SIGKILL and reaps the child: from then on kill(pid, 0) fails.
func (c *Child) Kill() {
	c.cmd.Process.Kill()
	c.Wait()
}

// Signal sends sig to the child; failing to is fatal to the test.
func (c *Child) Signal(sig syscall.Signal) {
	c.t.Helper()
	if err := syscall.Kill(c.PID(), sig); err != nil {
		c.t.Fatalf("kill(%d, %v): %v", c.PID(), sig, err)
	}
}

// WaitStopped waits until every thread of the child is stopped, after a
// SIGSTOP; failing that within HangGuard is fatal to the test.
func (c *Child) WaitStopped() {
	c.t.Helper()
	deadline := time.Now().Add(HangGuard)
	for !AllThreadsStopped(c.PID()) {
		if time.Now().After(deadline) {
			c.t.Fatalf("child %s (PID %d) not stopped after SIGSTOP within %v", c.name, c.PID(), HangGuard)
		}
		time.Sleep(time.Millisecond)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Scenarios maps names to a test package's scenarios, so that a child
// process finds the one its parent named in its role (see Reexec). Add
// panics on a name added twice: two scenarios would answer to it.
type Scenarios[T any] map[string]T

// Add adds sc under name.
func (s Scenarios[T]) Add(name string, sc T) {
	if _, dup := s[name]; dup {
		panic("testsupport: scenario " + name + " added twice")
	}
	s[name] = sc
}

// BothModes runs f as two subtests of t: name+"/goroutines", with cross
// false (both sides in this process), and name+"/processes", with cross
// true (one side a child, see Reexec). An empty name gives plain
// "goroutines" and "processes".
func BothModes(t *testing.T, name string, f func(t *testing.T, cross bool)) {
	t.Helper()
	for _, mode := range []struct {
		name  string
		cross bool
	}{{"goroutines", false}, {"processes", true}} {
		sub := mode.name
		if name != "" {
			sub = name + "/" + mode.name
		}
		t.Run(sub, func(t *testing.T) { f(t, mode.cross) })
	}
}
