package testsupport_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
)

const childEnv = "ZB_TESTSUPPORT_CHILD"

var names = testsupport.NewNames("zbtest-testsupport-")

func TestMain(m *testing.M) {
	testsupport.Main(m, testsupport.MainConfig{ChildEnv: childEnv, Child: childRole, Prefix: names.Prefix()})
}

// childRole is this test binary re-executed by TestChild*.
func childRole(role string) int {
	switch role {
	case "greet":
		fmt.Println("noise")
		fmt.Println("HELLO 42")
		fmt.Println("AGAIN x")
		io.Copy(io.Discard, os.Stdin) // until the parent's Wait
		return 0
	case "fail":
		fmt.Fprintln(os.Stderr, "something went wrong")
		return 3
	case "events":
		fmt.Println("EV a")
		fmt.Println("READY")
		fmt.Println("EV b")
		io.Copy(io.Discard, os.Stdin)
		fmt.Println("EV c") // after the parent's Wait began
		return 0
	case "hold":
		fmt.Println("READY")
		io.Copy(io.Discard, os.Stdin)
		return 0
	}
	fmt.Fprintf(os.Stderr, "unknown role %q\n", role)
	return 2
}

func TestNames(t *testing.T) {
	a, b := names.New(), names.New()
	assert.NotEqual(t, a, b)
	assert.Equal(t, fmt.Sprintf("zbtest-testsupport-%d-", os.Getpid()), names.Prefix())
	assert.Equal(t, "zbtest-testsupport-", names.Family())
	for _, n := range []string{a, b} {
		assert.True(t, strings.HasPrefix(n, names.Prefix()), n)
		assert.Equal(t, os.Getpid(), names.OwnerPID(n), n)
	}
	for path, want := range map[string]int{
		"/dev/shm/sem.sem-w-zbtest-testsupport-77-3":   77,
		"/tmp/zerobuffer/zbtest-testsupport-78-1.lock": 78,
		"/dev/shm/zbtest-other-77-3":                   0,
		"/dev/shm/zbtest-testsupport-x-3":              0,
	} {
		assert.Equal(t, want, names.OwnerPID(path), path)
	}
}

func touch(t *testing.T, path string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	t.Cleanup(func() { os.Remove(path) })
}

func TestFiles(t *testing.T) {
	name := names.New()
	seg := testsupport.ShmDir + "/" + name
	sem := testsupport.ShmDir + "/sem.sem-w-" + name
	longer := testsupport.ShmDir + "/" + name + "0" // another buffer whose name starts with this one
	touch(t, seg)
	touch(t, sem)
	touch(t, longer)
	assert.ElementsMatch(t, []string{seg, sem}, testsupport.BufferFiles(name))
	assert.Subset(t, testsupport.Files(names.Prefix()), []string{seg, sem, longer})
	assert.Subset(t, testsupport.Leftovers(names.Prefix()), []string{seg, sem, longer})
	assert.Empty(t, testsupport.Files("zbtest-testsupport-none-"))

	hidden := fmt.Sprintf("%s/.zerobuffer-%d-feed", testsupport.ShmDir, os.Getpid())
	touch(t, hidden)
	assert.Equal(t, []string{hidden}, testsupport.HiddenSegments(os.Getpid()))
	assert.Contains(t, testsupport.Leftovers(""), hidden)
}

// captureStderr runs f with os.Stderr sent to a file (no goroutine, which
// Check's leak check would see) and returns what f wrote.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	file, err := os.CreateTemp(t.TempDir(), "stderr")
	require.NoError(t, err)
	defer file.Close()
	saved := os.Stderr
	os.Stderr = file
	defer func() { os.Stderr = saved }()
	f()
	b, err := os.ReadFile(file.Name())
	require.NoError(t, err)
	return string(b)
}

func TestCheck(t *testing.T) {
	var code int
	out := captureStderr(t, func() { code = testsupport.Check(0, testsupport.MainConfig{Prefix: names.Prefix()}) })
	assert.Equal(t, 0, code, "nothing left: %s", out)
	assert.Empty(t, out)

	left := testsupport.ShmDir + "/" + names.New()
	touch(t, left)
	out = captureStderr(t, func() { code = testsupport.Check(0, testsupport.MainConfig{Prefix: names.Prefix()}) })
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "FAIL: files left behind: "+left)
	assert.NoFileExists(t, left, "a leftover is removed once reported")

	// Leftover files do not hide other leaks: children and goroutines are
	// checked too, unless the tests themselves failed.
	touch(t, left)
	release := make(chan struct{})
	go func() { <-release }()
	sleeper := exec.Command("sleep", "600")
	require.NoError(t, sleeper.Start())
	out = captureStderr(t, func() { code = testsupport.Check(0, testsupport.MainConfig{Prefix: names.Prefix()}) })
	close(release)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "FAIL: files left behind: "+left)
	assert.Contains(t, out, fmt.Sprintf("FAIL: child processes left behind: [%d]", sleeper.Process.Pid))
	assert.Contains(t, out, "FAIL: goroutines leaked")
	assert.NotContains(t, testsupport.ChildPIDs(), sleeper.Process.Pid, "killed and reaped")

	other := filepath.Join(t.TempDir(), "x")
	touch(t, other)
	out = captureStderr(t, func() {
		code = testsupport.Check(5, testsupport.MainConfig{Leftovers: func() []string { return []string{other} }})
	})
	assert.Equal(t, 5, code, "a failed run keeps its status")
	assert.Contains(t, out, other)
	assert.NoFileExists(t, other)
}

func TestChildExpectAndWait(t *testing.T) {
	c := testsupport.Reexec(t, "greet", []string{childEnv + "=greet"})
	assert.Equal(t, "42", c.Expect("HELLO "))
	assert.Equal(t, "x", c.Expect("AGAIN"))
	assert.Contains(t, testsupport.ChildPIDs(), c.PID())
	require.NoError(t, c.Wait())
	assert.Equal(t, 0, c.ExitCode())
	assert.Equal(t, "noise\nHELLO 42\nAGAIN x\n", c.Output())
	assert.NotContains(t, testsupport.ChildPIDs(), c.PID())
}

func TestChildFollow(t *testing.T) {
	c := testsupport.Reexec(t, "events", []string{childEnv + "=events"})
	events := make(chan string, 8)
	c.Follow("EV ", func(ev string) { events <- ev }, func() { close(events) })
	assert.Empty(t, c.Expect("READY"), "Expect sees the lines Follow takes too")
	require.NoError(t, c.Wait())
	var got []string
	for ev := range events { // closed by the end callback, before Wait returned
		got = append(got, ev)
	}
	assert.Equal(t, []string{"a", "b", "c"}, got)
}

func TestScenarios(t *testing.T) {
	s := testsupport.Scenarios[int]{}
	s.Add("one", 1)
	s.Add("two", 2)
	assert.Equal(t, 2, s["two"])
	assert.PanicsWithValue(t, "testsupport: scenario one added twice", func() { s.Add("one", 3) })
	assert.Equal(t, 1, s["one"], "the first stays")
}

func TestChildFailure(t *testing.T) {
	c := testsupport.Reexec(t, "fail", []string{childEnv + "=fail"})
	err := c.Wait()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "child fail")
	assert.Contains(t, err.Error(), "something went wrong")
	assert.Equal(t, 3, c.ExitCode())
	assert.Equal(t, err, c.Wait(), "Wait reports the same each time")
}

func TestChildStopAndKill(t *testing.T) {
	c := testsupport.Reexec(t, "hold", []string{childEnv + "=hold"})
	c.Expect("READY")
	c.Signal(syscall.SIGSTOP)
	c.WaitStopped()
	assert.True(t, testsupport.AllThreadsStopped(c.PID()))
	c.Signal(syscall.SIGCONT)
	c.Kill()
	assert.Equal(t, -1, c.ExitCode(), "killed by a signal")
	assert.False(t, slices.Contains(testsupport.ChildPIDs(), c.PID()))
	assert.Error(t, syscall.Kill(c.PID(), 0), "reaped")
}

func TestChildReapedAtCleanup(t *testing.T) {
	var pid int
	t.Run("leaves its child", func(t *testing.T) {
		c := testsupport.Reexec(t, "hold", []string{childEnv + "=hold"})
		c.Expect("READY")
		pid = c.PID()
	})
	assert.NotContains(t, testsupport.ChildPIDs(), pid)
}

func TestProbes(t *testing.T) {
	n, err := testsupport.FDCount()
	require.NoError(t, err)
	assert.Greater(t, n, 2, "stdin, stdout, stderr at least")
	f, err := os.Open(os.Args[0])
	require.NoError(t, err)
	m, err := testsupport.FDCount()
	require.NoError(t, err)
	assert.Equal(t, n+1, m)
	f.Close()
	assert.True(t, testsupport.SameBinaryAlive(os.Getpid()))
	assert.False(t, testsupport.SameBinaryAlive(1), "PID 1 is not a test binary")
	assert.False(t, testsupport.IsFuzzWorker())
}

func TestDeadPID(t *testing.T) {
	pid := testsupport.DeadPID(t)
	assert.Positive(t, pid)
	assert.NotContains(t, testsupport.ChildPIDs(), int(pid), "reaped")
}

func TestBothModes(t *testing.T) {
	var ran []string
	t.Run("plain", func(t *testing.T) {
		testsupport.BothModes(t, "", func(t *testing.T, cross bool) { ran = append(ran, fmt.Sprint(t.Name(), " ", cross)) })
	})
	testsupport.BothModes(t, "named", func(t *testing.T, cross bool) { ran = append(ran, fmt.Sprint(t.Name(), " ", cross)) })
	assert.Equal(t, []string{
		"TestBothModes/plain/goroutines false", "TestBothModes/plain/processes true",
		"TestBothModes/named/goroutines false", "TestBothModes/named/processes true",
	}, ran)
}
