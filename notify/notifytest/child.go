package notifytest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// childEnv carries a child's part, "role|buffer|events|guard", to the
// re-executed test binary.
const childEnv = "ZB_NOTIFYTEST_CHILD"

// childDone is what a child prints when it played its part, so that the
// parent can tell a child that ran from a TestMain that never called
// ServeChild (whose test binary would just run no tests and exit 0).
const childDone = "notifytest: child done"

// Main is a TestMain for a package whose tests call Run and need nothing
// else from TestMain:
//
//	func TestMain(m *testing.M) { notifytest.Main(m) }
//
// It plays a child's part when the process is one (see ServeChild), and
// runs the tests otherwise.
func Main(m *testing.M) {
	ServeChild()
	os.Exit(m.Run())
}

// ServeChild plays the part Run gave this process, and exits, when the
// process is a child that Run started by re-executing the test binary; in
// any other process it returns at once. A TestMain of its own calls it
// first:
//
//	func TestMain(m *testing.M) {
//		notifytest.ServeChild()
//		goleak.VerifyTestMain(m)
//	}
//
// The child finds the strategy through the registry, from the word the
// reader recorded, so the test binary must link the strategy's package
// in — as it does when its tests call Run with that strategy's name.
func ServeChild() {
	spec, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	if err := runChild(spec); err != nil {
		fmt.Fprintf(os.Stderr, "notifytest child %q: %v\n", spec, err)
		os.Exit(1)
	}
	fmt.Println(childDone)
	os.Exit(0)
}

func runChild(spec string) error {
	parts := strings.Split(spec, "|")
	if len(parts) != 4 {
		return errors.New("bad child spec")
	}
	role, buffer := parts[0], parts[1]
	events, err := strconv.ParseUint(parts[2], 10, 64)
	if err != nil {
		return fmt.Errorf("bad child spec: %w", err)
	}
	guard, err := time.ParseDuration(parts[3])
	if err != nil {
		return fmt.Errorf("bad child spec: %w", err)
	}
	s, err := openWriter(buffer)
	if err != nil {
		return err
	}
	defer s.unmap()
	switch role {
	case "post":
		// Post, and stay open until the parent's waiter took the event
		// (it says so in read_count) or gave up.
		s.o.PayloadWrittenCount.Add(1)
		err := s.n.PostData()
		for deadline := time.Now().Add(guard); s.o.PayloadReadCount.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		return errors.Join(err, s.n.Close())
	case "close":
		return s.n.Close()
	case "produce":
		return errors.Join(produce(s, events, guard), s.n.Close())
	}
	return fmt.Errorf("unknown role %q", role)
}

// child is a re-executed test binary playing the writer's side.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	exited         chan struct{} // closed once the child is reaped
	err            error         // cmd.Wait's, once exited is closed
}

// startChild starts a child in role on buffer; the test's cleanup kills
// it if it is still running.
func startChild(t *testing.T, role, buffer string, events uint64, guard time.Duration) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^$"), exited: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|%d|%s", childEnv, role, buffer, events, guard))
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start the child: %v", err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(c.kill)
	return c
}

// kill ends the child if it still runs, and reaps it.
func (c *child) kill() {
	select {
	case <-c.exited:
	default:
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// wait reaps the child and reports how it failed, if it did. A child
// still running after bound (its waits are bounded by the hang guard, so
// only a hang gets there) is killed and reported.
func (c *child) wait(bound time.Duration) error {
	select {
	case <-c.exited:
	case <-time.After(bound):
		c.kill()
		return fmt.Errorf("child %s still running after %v: a wait ignores its timeout; killed it; stderr: %s",
			c.cmd.Env[len(c.cmd.Env)-1], bound, c.stderr.String())
	}
	switch {
	case c.err != nil:
		return fmt.Errorf("child %s: %w; stderr: %s", c.cmd.Env[len(c.cmd.Env)-1], c.err, c.stderr.String())
	case !strings.Contains(c.stdout.String(), childDone):
		return errors.New("the child did not play its part: the test binary's TestMain must call notifytest.Main or notifytest.ServeChild")
	}
	return nil
}
