package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

func TestParseBenchArgsDefaults(t *testing.T) {
	o, err := parseBenchArgs(nil)
	require.NoError(t, err)
	assert.Equal(t, benchStages, o.stages)
	assert.Equal(t, ring.NotifierNames(), o.notifiers)
	assert.Equal(t, []string{"semaphore"}, o.relayNotifiers)
	assert.Equal(t, []int{64, 1024}, o.pingSizes)
	assert.Equal(t, []int{64, 1024, 64 << 10, 1 << 20, 3110416}, o.streamSizes)
	assert.Equal(t, []int{30, 60, 120, 240, 500, 1000}, o.relayRates)
	assert.Equal(t, 20, o.relayWarmup)
	assert.Equal(t, 200, o.relayFrames)
	assert.EqualValues(t, 256<<20, o.relayBuffer)
	assert.Equal(t, time.Second, o.pingTime)
	assert.Equal(t, 3*time.Second, o.idleTime)
	assert.Equal(t, "pair", o.pin, "two distinct CPUs by default")
	assert.Equal(t, 5, o.rounds)
	assert.Empty(t, o.outDir)
}

func TestParseBenchArgsQuick(t *testing.T) {
	o, err := parseBenchArgs([]string{"--quick"})
	require.NoError(t, err)
	assert.Equal(t, time.Second, o.idleTime)
	assert.Equal(t, 30, o.relayFrames)
	assert.Less(t, o.pingTime, time.Second)
	// An explicit value wins over the preset.
	o, err = parseBenchArgs([]string{"--quick", "--idle-time", "2s", "--relay-frames=7"})
	require.NoError(t, err)
	assert.Equal(t, 2*time.Second, o.idleTime)
	assert.Equal(t, 7, o.relayFrames)
}

func TestParseBenchArgsLists(t *testing.T) {
	o, err := parseBenchArgs([]string{"--notifiers", "spin, futex,spin", "--stages=pingpong,idle", "--pingpong-sizes", "1K,64",
		"--stream-sizes", "2MiB", "--relay-notifiers", "all", "--relay-fps", "25", "--relay-buffer", "64MiB", "--pin", "--out", "/x"})
	require.NoError(t, err)
	assert.Equal(t, []string{"spin", "futex"}, o.notifiers)
	assert.Equal(t, []string{"pingpong", "idle"}, o.stages)
	assert.Equal(t, []int{1024, 64}, o.pingSizes)
	assert.Equal(t, []int{2 << 20}, o.streamSizes)
	assert.Equal(t, ring.NotifierNames(), o.relayNotifiers)
	assert.Equal(t, []int{25}, o.relayRates)
	assert.EqualValues(t, 64<<20, o.relayBuffer)
	assert.Equal(t, "pair", o.pin, "a bare --pin is pair")
	assert.Equal(t, "/x", o.outDir)

	for _, bad := range [][]string{
		{"--notifiers", "pigeon"},
		{"--notifiers", ""},
		{"--stages", "floors,lunch"},
		{"--stream-sizes", "0"},
		{"--stream-sizes", "65MiB"},
		{"--pingpong-sizes", "x"},
		{"--relay-fps", "0"},
		{"--relay-fps", "fast"},
		{"--relay-frames", "0"},
		{"--relay-buffer", "1MiB"},
		{"--pingpong-time", "0s"},
		{"--warmup", "-1s"},
		{"--bogus"},
		{"extra"},
	} {
		_, err := parseBenchArgs(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestBenchHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	require.Equal(t, 0, Run([]string{"--help"}, &out, &errOut))
	for _, want := range []string{"--quick", "--notifiers", "--pin", "--out", "semaphore,futex"} {
		assert.Contains(t, out.String(), want)
	}
	out.Reset()
	errOut.Reset()
	assert.Equal(t, cli.ExitError, Run([]string{"--notifiers", "pigeon"}, &out, &errOut))
	assert.Contains(t, errOut.String(), "unknown notifier")
}

// TestBenchQuickEndToEnd runs `zerobuffer bench --quick` with tiny counts
// (--smoke) through every stage, in this process with its children, and
// checks what it prints and writes; never the figures themselves.
func TestBenchQuickEndToEnd(t *testing.T) {
	t.Cleanup(func() { checkNoBenchFiles(t) })
	dir := filepath.Join(t.TempDir(), "out")
	var out, errOut bytes.Buffer
	code := Run([]string{"--quick", "--smoke", "--notifiers", "semaphore,futex,spin", "--pingpong-sizes", "64",
		"--stream-sizes", "64,3110416", "--relay-fps", "500,1000", "--out", dir}, &out, &errOut)
	require.Equal(t, cli.ExitOK, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())

	stdout := out.String()
	for _, want := range []string{"machine:", "pinned:", "1. Floors", "2. Ping-pong", "3. Streaming", "4. Relay", "5. Idle",
		"6. Open loop", "7. Wake after idle", "wakes/rt", "Goals"} {
		assert.Contains(t, stdout, want)
	}
	// Not a terminal: a line per step on stderr.
	assert.Contains(t, errOut.String(), "zerobuffer bench: [1/")

	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	var r benchResults
	require.NoError(t, json.Unmarshal(b, &r))
	assert.Empty(t, r.Errors)
	assert.Len(t, r.Floors.PingPong, 3)
	assert.Len(t, r.Floors.Memcpy, 2)
	assert.Len(t, r.PingPong, 3)
	assert.Len(t, r.Stream, 6)
	assert.Len(t, r.Relay, 2)
	assert.Len(t, r.RelayZeroCopy, 2)
	assert.Len(t, r.Idle, 3)
	assert.Len(t, r.OpenLoop, 3*2, "--smoke: two rates")
	assert.Len(t, r.Wake, 3*2, "--quick: gaps of 1 ms and 100 ms")
	assert.NotEmpty(t, r.Goals)
	assert.Equal(t, "pair", r.Settings.Pin)
	assert.Equal(t, 2, r.Settings.Rounds)
	for _, p := range r.PingPong {
		assert.Positive(t, p.Latency.Count, p.Notifier)
		assert.Positive(t, p.P50OverFloor, p.Notifier)
		// Interleaved: each round has the floor's and the ring's figures.
		require.Len(t, p.Rounds, 2, p.Notifier)
		for _, rd := range p.Rounds {
			assert.Positive(t, rd.FloorP50Ns, p.Notifier)
			assert.Positive(t, rd.RingP50Ns, p.Notifier)
			assert.Positive(t, rd.P50OverFloor, p.Notifier)
		}
		assert.LessOrEqual(t, p.P50OverFloorMin, p.P50OverFloor, p.Notifier)
		assert.GreaterOrEqual(t, p.P50OverFloorMax, p.P50OverFloor, p.Notifier)
	}
	if runtime.NumCPU() >= 2 {
		assert.True(t, r.Machine.Pinned, r.Machine.PinNote)
		assert.NotEqual(t, r.Machine.ThisCPU, r.Machine.OtherCPU)
	}
	for _, rl := range r.Relay {
		assert.Positive(t, rl.FloorNs)
		assert.False(t, rl.ZeroCopy)
	}
	for _, rl := range r.RelayZeroCopy {
		assert.Positive(t, rl.FloorNs)
		assert.True(t, rl.ZeroCopy)
		assert.Positive(t, rl.Latency.Count)
	}
	for _, p := range r.PingPong {
		require.NotNil(t, p.Counters, p.Notifier)
		assert.Positive(t, p.Counters.Readers.Frames, p.Notifier)
		assert.Positive(t, p.Counters.Writers.Frames, p.Notifier)
	}
	for _, s := range r.Stream {
		require.NotNil(t, s.Counters, s.Notifier)
		assert.EqualValues(t, s.Frames, s.Counters.Readers.Frames, "%s: the reader's counters cover the window", s.Notifier)
	}
	for _, o := range r.OpenLoop {
		if o.Skipped {
			continue
		}
		assert.Positive(t, o.Latency.Count, o.Notifier)
		assert.Positive(t, o.ReaderCPUNsPerFrame+o.WriterCPUNsPerFrame, o.Notifier)
		require.NotNil(t, o.Counters, o.Notifier)
	}
	assert.Equal(t, []int64{int64(time.Millisecond), int64(100 * time.Millisecond)}, r.Settings.WakeGapsNs)
	for _, k := range r.Wake {
		assert.Positive(t, k.Latency.Count, k.Notifier)
		require.NotNil(t, k.Counters, k.Notifier)
	}

	rows := readCSV(t, filepath.Join(dir, "results.csv"))
	assert.Len(t, rows, 1+3+2+3+6+2+2+3+6+6)

	for _, name := range []string{"pingpong-64B.svg", "stream-throughput.svg", "stream-frames.svg", "relay-latency.svg",
		"openloop-latency.svg", "openloop-pareto.svg", "wake-latency.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.True(t, strings.Contains(string(b), "<svg"), name)
	}
}

// TestNotifierWithoutFloor: a notifier with no floor registered (here
// spin, its floor taken away for the test) is measured all the same,
// shown without ratio and goal, and the table says why.
func TestNotifierWithoutFloor(t *testing.T) {
	t.Cleanup(func() { checkNoBenchFiles(t) })
	notifierFloors.Lock()
	delete(notifierFloors.m, "spin")
	notifierFloors.Unlock()
	t.Cleanup(func() { SetFloor("spin", FloorSpin) })

	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := Run([]string{"--smoke", "--stages", "floors,pingpong", "--notifiers", "futex,spin", "--pingpong-sizes", "64",
		"--stream-sizes", "64", "--out", dir}, &out, &errOut)
	require.Equal(t, cli.ExitOK, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	assert.Contains(t, out.String(), "floors: futex for futex (")
	assert.Contains(t, out.String(), "no floor registered for spin (bench.SetFloor): measured, no ratio and no goal.")

	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	var r benchResults
	require.NoError(t, json.Unmarshal(b, &r))
	require.Len(t, r.PingPong, 2)
	futex, spin := r.PingPong[0], r.PingPong[1]
	assert.Equal(t, "futex", futex.Floor)
	assert.Positive(t, futex.P50OverFloor)
	assert.Equal(t, "spin", spin.Notifier)
	assert.Positive(t, spin.Latency.Count, "measured")
	assert.Empty(t, spin.Floor)
	assert.Zero(t, spin.P50OverFloor)
	for _, g := range r.Goals {
		assert.NotEqual(t, "spin 64 B", g.Subject, "no goal without a floor")
	}
}
