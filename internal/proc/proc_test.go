package proc

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const childEnv = "ZB_PROC_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		var b [1]byte
		_, _ = os.Stdin.Read(b[:]) // live until the parent closes stdin or kills us
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// startChild starts this test binary as an idle child.
func startChild(t *testing.T) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1")
	_, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

func TestParseStat(t *testing.T) {
	line := "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 50 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, ok := parseStat([]byte(line))
	require.True(t, ok)
	assert.Equal(t, byte('S'), st.state)
	assert.Equal(t, uint64(987654), st.start, "field 22 counted after the last ')'")
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2", "1 (x) S 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 zz 1"} {
		_, ok := parseStat([]byte(bad))
		assert.False(t, ok, "%q", bad)
	}
	self, ok := readStat(os.Getpid())
	require.True(t, ok)
	assert.Contains(t, "RSD", string(self.state), "a live process runs, sleeps or waits")
	assert.NotZero(t, self.start)
}

func TestAliveAndDead(t *testing.T) {
	assert.True(t, Alive(uint64(os.Getpid())))
	assert.True(t, Alive(1), "init is alive, and not ours (EPERM counts as alive)")
	assert.False(t, Alive(0))
	assert.False(t, Alive(1<<40))

	c := startChild(t)
	pid := uint64(c.Process.Pid)
	var p Peer
	require.True(t, p.Alive(pid))
	require.NoError(t, c.Process.Kill())
	// Killed, not yet reaped: a zombie, which never touches a buffer again.
	assert.Eventually(t, func() bool { return !Alive(pid) }, 10e9, 1e6, "a zombie is dead")
	_ = c.Wait()
	assert.False(t, Alive(pid))
	assert.False(t, p.Alive(pid))
}

// A PID that names another process than the one a Peer first saw is dead
// to that Peer.
func TestPeerSeesThroughPIDReuse(t *testing.T) {
	self := uint64(os.Getpid())
	p := Peer{pid: self, start: 1} // "saw" PID self on a process started at tick 1
	assert.False(t, p.Alive(self), "same PID, other start time: another process")
	assert.True(t, Alive(self))

	var fresh Peer
	assert.True(t, fresh.Alive(self))
	assert.True(t, fresh.Alive(self), "the same process stays alive")
}

// TestPeerAcrossRealPIDReuse makes the kernel hand a dead child's PID to a
// new child (through ns_last_pid, which needs root) and checks that a Peer
// that saw the first child calls the second dead while Alive calls it
// alive. Without the privilege, the test above covers the logic.
func TestPeerAcrossRealPIDReuse(t *testing.T) {
	const knob = "/proc/sys/kernel/ns_last_pid"
	f, err := os.OpenFile(knob, os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("cannot steer PID allocation (%v)", err)
	}
	defer f.Close()
	// Other processes (the other test packages run in parallel) may take
	// the PID first; each attempt costs a child start.
	const attempts = 300
	for attempt := range attempts {
		first := startChild(t)
		pid := first.Process.Pid
		var p Peer
		require.True(t, p.Alive(uint64(pid)))
		require.NoError(t, first.Process.Kill())
		_ = first.Wait()
		// Start times count clock ticks (USER_HZ, 100 a second): let one
		// pass, as it does many times over before pid_max wraps.
		time.Sleep(25 * time.Millisecond)
		if _, err := f.WriteAt([]byte(strconv.Itoa(pid-1)), 0); err != nil {
			t.Skipf("cannot steer PID allocation (%v)", err)
		}
		second := startChild(t)
		if second.Process.Pid != pid {
			_ = second.Process.Kill()
			_ = second.Wait()
			if attempt%50 == 0 {
				t.Logf("attempt %d: another process took PID %d", attempt, pid)
			}
			continue
		}
		assert.True(t, Alive(uint64(pid)), "the PID is alive again")
		assert.False(t, p.Alive(uint64(pid)), "but it is not the process the Peer saw")
		return
	}
	// The machine forks too busily to arrange a reuse; the logic is
	// covered by TestPeerSeesThroughPIDReuse.
	t.Skipf("other processes took the PID in all %d attempts", attempts)
}
