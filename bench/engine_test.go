package bench

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zerobuffer/zerobuffer-go/internal/cli"
	"golang.org/x/sys/unix"
)

// checkNoBenchFiles fails when buffers of this process's benches are left
// in /dev/shm or /tmp/zerobuffer (and removes them).
func checkNoBenchFiles(t *testing.T) {
	t.Helper()
	prefix := bufferPrefix()
	for _, pattern := range []string{"/dev/shm/" + prefix + "-*", "/dev/shm/sem.sem-?-" + prefix + "-*", "/tmp/zerobuffer/" + prefix + "-*"} {
		left, _ := filepath.Glob(pattern)
		for _, p := range left {
			t.Errorf("left behind: %s", p)
			_ = os.Remove(p)
		}
	}
}

func sane(t *testing.T, what string, s Latency) {
	t.Helper()
	assert.Positive(t, s.Count, what)
	assert.Positive(t, s.MinNs, what)
	assert.LessOrEqual(t, s.MinNs, s.P50Ns, what)
	assert.LessOrEqual(t, s.P50Ns, s.P99Ns, what)
	assert.LessOrEqual(t, s.P99Ns, s.MaxNs, what)
	assert.Less(t, s.MaxNs, float64(time.Minute), what)
}

func TestFloorsQuick(t *testing.T) {
	t.Cleanup(func() { checkNoBenchFiles(t) })
	e := NewEngine(context.Background())
	defer e.Close()
	for _, mech := range []Floor{FloorSpin, FloorFutex, FloorSemaphore} {
		s, _, err := e.floorPingPong(mech, 20, 5*time.Millisecond, 500)
		require.NoError(t, err, mech)
		sane(t, string(mech), s)
		assert.LessOrEqual(t, s.Count, int64(500), mech)
	}
	for _, size := range []int{64, 1 << 20} {
		ns, err := e.memcpyFloor(size, time.Millisecond)
		require.NoError(t, err)
		assert.Positive(t, ns, "memcpy %d", size)
	}
	_, _, err := e.floorPingPong("pigeon", 20, time.Millisecond, 10)
	assert.Error(t, err)
}

func TestEngineMeasurementsQuick(t *testing.T) {
	t.Cleanup(func() { checkNoBenchFiles(t) })
	e := NewEngine(context.Background())
	defer e.Close()

	pp, err := e.pingPong("futex", 64, time.Millisecond, 5*time.Millisecond, 200)
	require.NoError(t, err)
	sane(t, "ping-pong", pp.Latency)
	assert.Positive(t, pp.EchoCPUNsPerRT)

	st, err := e.stream("semaphore", 1024, time.Millisecond, 5*time.Millisecond, math.MaxInt64)
	require.NoError(t, err)
	assert.Positive(t, st.Frames)
	assert.Positive(t, st.FramesPerSec)

	rl, err := e.relay("semaphore", []int{1000}, 1, 2, 16<<20)
	require.NoError(t, err)
	require.Len(t, rl, 1)
	assert.EqualValues(t, 2, rl[0].lat.Count)
	sane(t, "relay", rl[0].lat)
	// The relay's own legs are stamped in every frame; the sender's two
	// only when it stamped before the frame came back (nearly always).
	legs := rl[0].legs
	assert.Positive(t, legs.CopyBNs, "the relay's copy")
	assert.Positive(t, legs.BackNs, "the way back")
	assert.LessOrEqual(t, legs.CopyBNs+legs.BackNs, rl[0].lat.MaxNs*1.01, "legs inside the round trip")

	paced, err := e.pacedCopy([]int{1000, 500}, 3, 16<<20)
	require.NoError(t, err)
	require.Len(t, paced, 2)
	assert.Positive(t, paced[0])
	assert.Positive(t, paced[1])

	cpu, wall, _, err := e.idle("futex", 20*time.Millisecond)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, wall, 20*time.Millisecond)
	assert.GreaterOrEqual(t, cpu, time.Duration(0))
}

func TestChildFailureIsReported(t *testing.T) {
	t.Cleanup(func() { checkNoBenchFiles(t) })
	e := NewEngine(context.Background())
	defer e.Close()
	c, err := e.start("no-such-role", nil)
	require.NoError(t, err)
	_, err = c.expect("READY")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown role")
}

func TestChildRoleArguments(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, role := range []string{"floor-pong", "echo", "stream-writer", "relay", "idle-reader", "bogus"} {
		errOut.Reset()
		code := benchChildMain(role, []string{"x"}, strings.NewReader(""), &out, &errOut)
		assert.Equal(t, cli.ExitError, code, role)
		assert.NotEmpty(t, errOut.String(), role)
	}
}

func TestRelayHeader(t *testing.T) {
	p := make([]byte, 16)
	putRelayHeader(p, 123456789, relayTag(5, 199))
	sent, tag := relayHeader(p)
	assert.EqualValues(t, 123456789, sent)
	rate, frame := splitRelayTag(tag)
	assert.Equal(t, 5, rate)
	assert.Equal(t, 199, frame)
	assert.Zero(t, tag&relayQuit)
	putRelayHeader(p, 0, relayQuit)
	_, tag = relayHeader(p)
	assert.NotZero(t, tag&relayQuit)
}

func TestPinProcessRestores(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs 2 cores")
	}
	var before unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &before))
	procs := runtime.GOMAXPROCS(0)
	p, err := pinProcess(1)
	require.NoError(t, err)
	var during unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &during))
	assert.Equal(t, 1, during.Count())
	assert.True(t, during.IsSet(1))
	assert.Equal(t, procs, runtime.GOMAXPROCS(0), "GOMAXPROCS is kept")
	p.unpin()
	var after unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &after))
	assert.Equal(t, before, after)

	_, err = pinProcess(4096)
	assert.Error(t, err)
}

func TestMachineInfo(t *testing.T) {
	m := probeMachine()
	assert.NotEmpty(t, m.CPUModel)
	assert.Equal(t, runtime.NumCPU(), m.Cores)
	assert.Contains(t, m.Kernel, "Linux")
	assert.Equal(t, runtime.Version(), m.GoVersion)
	assert.Positive(t, cpuTime())
}

// TestEngineCountedMeasurements covers the Engine's exported methods, as
// ring/bench_test.go uses them: each measures the count it is given.
func TestEngineCountedMeasurements(t *testing.T) {
	t.Cleanup(func() { checkNoBenchFiles(t) })
	e := NewEngine(context.Background())
	defer e.Close()

	lat, err := e.FloorRoundTrips(FloorFutex, 50)
	require.NoError(t, err)
	assert.EqualValues(t, 50, lat.Count)

	pp, err := e.PingPong("semaphore", 64, 100)
	require.NoError(t, err)
	assert.EqualValues(t, 100, pp.Latency.Count)

	st, err := e.Stream("futex", 64, 1000)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, st.Frames, int64(1000))
	assert.Less(t, st.Frames, int64(1000+64), "the clock is read every 64 small frames")

	ns, err := e.Memcpy(4096, 100)
	require.NoError(t, err)
	assert.Positive(t, ns)

	for _, size := range []int{0, -1, maxFrameBytes + 1} {
		_, err = e.PingPong("futex", size, 1)
		assert.Error(t, err, size)
		_, err = e.Stream("futex", size, 1)
		assert.Error(t, err, size)
		_, err = e.Memcpy(size, 1)
		assert.Error(t, err, size)
	}
	_, err = e.PingPong("pigeon", 64, 1)
	assert.Error(t, err)
	_, err = e.FloorRoundTrips("pigeon", 1)
	assert.Error(t, err)
}

// TestPingPongRounds alternates a floor's rounds and a ring's, each side
// with one child for all rounds (the echo child pauses off the ring in
// between), and gives a figure per round.
func TestPingPongRounds(t *testing.T) {
	t.Cleanup(func() { checkNoBenchFiles(t) })
	e := NewEngine(context.Background())
	defer e.Close()
	for _, f := range []Floor{FloorSpin, ""} {
		fig, rounds, err := e.pingPongRounds("spin", 64, roundPlan{rounds: 3, floor: f, warmRounds: 10,
			warm: 3 * time.Millisecond, d: 15 * time.Millisecond, maxRounds: 600})
		require.NoError(t, err, f)
		require.Len(t, rounds, 3, f)
		sane(t, "ring over all rounds", fig.Latency)
		assert.LessOrEqual(t, fig.Latency.Count, int64(600), "at most maxRounds over all rounds")
		assert.Positive(t, fig.EchoCPUNsPerRT, "the echo child's CPU over its measured frames")
		for i, rd := range rounds {
			assert.Positive(t, rd.RingP50Ns, "round %d", i)
			if f == "" {
				assert.Zero(t, rd.FloorP50Ns, "no floor, no floor round")
				assert.Zero(t, rd.P50OverFloor)
			} else {
				assert.Positive(t, rd.FloorP50Ns, "round %d", i)
				assert.Positive(t, rd.P50OverFloor, "round %d", i)
			}
		}
	}
}
