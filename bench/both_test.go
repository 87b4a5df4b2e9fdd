package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
)

var (
	onTwo = Placement{Samples: 4, This: []int{0}, Other: []int{1}}
	onOne = Placement{Samples: 4, This: []int{0}, Other: []int{0}, SharedSamples: 4}
)

// placedResults is sampleResults pinned to CPUs 0 | 1, every measurement
// seen on them, and a --pin=both pass on CPU 0.
func placedResults() *benchResults {
	r := sampleResults()
	r.Machine.Pinned, r.Machine.ThisCPU, r.Machine.OtherCPU = true, 0, 1
	for i := range r.Floors.PingPong {
		r.Floors.PingPong[i].Placement = onTwo
	}
	for i := range r.PingPong {
		r.PingPong[i].Placement = onTwo
	}
	for i := range r.Stream {
		r.Stream[i].Placement = onTwo
	}
	for i := range r.Relay {
		r.Relay[i].Placement = onTwo
	}
	r.Idle[0].Placement = Placement{Samples: 4, Other: []int{1}}
	same := &sameCPURun{CPU: 0}
	for _, f := range r.Floors.PingPong {
		f.Placement, f.Latency.P50Ns = onOne, f.Latency.P50Ns/10
		same.Floors = append(same.Floors, f)
	}
	for _, p := range r.PingPong {
		p.Placement, p.Latency.P50Ns = onOne, p.Latency.P50Ns/4
		same.PingPong = append(same.PingPong, p)
	}
	same.PingPong[1].Unstable, same.PingPong[1].P50OverFloorMin, same.PingPong[1].P50OverFloorMax = true, 1, 30
	r.SameCPU = same
	return r
}

func TestCSVPlacementColumns(t *testing.T) {
	r := placedResults()
	rows := csvOf(t, r)
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"pin", "ran_on", "this_cpus", "other_cpus", "p50_over_floor_min", "p50_over_floor_max", "no_verdict"} {
		require.Contains(t, col, h)
	}
	main := len(r.Floors.PingPong) + len(r.Floors.Memcpy) + len(r.PingPong) + len(r.Stream) + len(r.Relay) + len(r.Idle)
	require.Len(t, rows[1:], main+len(r.SameCPU.Floors)+len(r.SameCPU.PingPong), "the one-CPU pass has rows of its own")
	get := func(row []string, h string) string { return row[col[h]] }
	for n, row := range rows[1:] {
		require.Len(t, row, len(rows[0]))
		stage := get(row, "stage")
		if n >= main {
			assert.Equal(t, "same", get(row, "pin"), "row %d", n)
			assert.Equal(t, "one CPU", get(row, "ran_on"), "row %d", n)
			assert.Equal(t, "0", get(row, "other_cpus"))
			assert.Empty(t, get(row, "goal_result"), "goals are judged on the pair only")
			continue
		}
		assert.Equal(t, "pair", get(row, "pin"), "row %d", n)
		switch stage {
		case "floor", "pingpong", "stream", "relay":
			assert.Equal(t, "two cores", get(row, "ran_on"), "%s row %d", stage, n)
			assert.Equal(t, "0", get(row, "this_cpus"))
			assert.Equal(t, "1", get(row, "other_cpus"))
		case "idle":
			assert.Empty(t, get(row, "ran_on"), "only the reader was seen")
			assert.Equal(t, "1", get(row, "other_cpus"))
		case "memcpy":
			assert.Empty(t, get(row, "ran_on"))
		}
	}
	unstable := rows[1+main+len(r.SameCPU.Floors)+1]
	assert.Equal(t, "unstable rounds", get(unstable, "no_verdict"))
	assert.Equal(t, "1", get(unstable, "p50_over_floor_min"))
	assert.Equal(t, "30", get(unstable, "p50_over_floor_max"))
}

func TestRowPin(t *testing.T) {
	assert.Equal(t, "none", rowPin(machineInfo{}))
	assert.Equal(t, "pair", rowPin(machineInfo{Pinned: true, ThisCPU: 0, OtherCPU: 1}))
	assert.Equal(t, "same", rowPin(machineInfo{Pinned: true, ThisCPU: 1, OtherCPU: 1}))
}

func TestPrintByPlacement(t *testing.T) {
	r := placedResults()
	var b bytes.Buffer
	printByPlacement(&b, r)
	out := b.String()
	assert.Contains(t, out, "2b. By placement: two CPUs (CPUs 0 | 1) and one CPU (CPU 0)")
	// futex floor: 8µs on two CPUs, 800ns on one.
	assert.Regexp(t, `futex \(wait/wake\) +8\.00µs +800ns +0\.10× +one CPU \(0 \| 0\)`, out)
	// futex ping-pong (the second row): 1µs on two CPUs, 250ns on one,
	// its rounds unstable there.
	assert.Regexp(t, `futex +64 B +1\.00µs .* 250ns .*unstable 1\.00–30\.00× +0\.25× +one CPU`, out)

	b.Reset()
	printByPlacement(&b, sampleResults())
	assert.Empty(t, b.String(), "nothing without --pin=both")
}

func TestSameCPUStepsOnlyWithPinBoth(t *testing.T) {
	o, err := parseBenchArgs([]string{"--pin=both", "--notifiers", "futex,spin", "--pingpong-sizes", "64,1KiB"})
	require.NoError(t, err)
	res := &benchResults{Machine: machineInfo{Pinned: true, ThisCPU: 0, OtherCPU: 1}}
	steps := sameCPUSteps(o, nil, res)
	assert.Len(t, steps, len(floorSpecs)+2*2, "every floor, then every ping-pong")
	require.NotNil(t, res.SameCPU)
	assert.Equal(t, 0, res.SameCPU.CPU)
	for _, st := range steps {
		assert.True(t, strings.HasSuffix(st.label, ", one CPU"), st.label)
	}

	for _, c := range []struct {
		args []string
		m    machineInfo
	}{
		{[]string{"--pin=pair"}, machineInfo{Pinned: true, ThisCPU: 0, OtherCPU: 1}},
		{[]string{"--pin=both"}, machineInfo{}},                                      // pinning failed
		{[]string{"--pin=both"}, machineInfo{Pinned: true, ThisCPU: 0, OtherCPU: 0}}, // one CPU only
		{[]string{"--pin=both", "--stages", "floors,stream"}, machineInfo{Pinned: true, ThisCPU: 0, OtherCPU: 1}},
	} {
		o, err := parseBenchArgs(c.args)
		require.NoError(t, err)
		res := &benchResults{Machine: c.m}
		assert.Empty(t, sameCPUSteps(o, nil, res), "%q", c.args)
		assert.Nil(t, res.SameCPU)
	}
}

func TestPlacementDiffers(t *testing.T) {
	r := &benchResults{}
	r.Floors.PingPong = []floorResult{{Mechanism: "futex", Placement: onTwo}}
	differs, note := placementDiffers(r, "futex", onOne)
	assert.True(t, differs)
	assert.Equal(t, "floor on two cores, this on one CPU", note)
	for _, c := range []struct {
		mech   string
		placed Placement
	}{{"futex", onTwo}, {"futex", Placement{}}, {"spin", onOne}} {
		differs, _ := placementDiffers(r, c.mech, c.placed)
		assert.False(t, differs, "%s %+v", c.mech, c.placed)
	}

	// A relay row: no goal when its placement is not its floor's.
	r = placedResults()
	r.Relay = []relayResult{relayResultOf(r, "semaphore", relayFigures{fps: 30, lat: Latency{Count: 3, P50Ns: 1e6}, placed: onOne})}
	assert.True(t, r.Relay[0].PlacementDiffers)
	for _, g := range evaluateGoals(r) {
		assert.NotEqual(t, "relay p50 ÷ floor", g.Goal)
	}
}

// TestPinBothEndToEnd: --pin=both measures the floors and the ping-pongs
// a second time, on one CPU, and writes them beside the pair's; every
// stage records where it ran. Structure only, never the figures.
func TestPinBothEndToEnd(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("--pin=both needs two CPUs")
	}
	t.Cleanup(func() { checkNoBenchFiles(t) })
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := Run([]string{"--smoke", "--pin=both", "--stages", "floors,pingpong,stream,idle", "--notifiers", "futex",
		"--pingpong-sizes", "64", "--stream-sizes", "64", "--out", dir}, &out, &errOut)
	require.Equal(t, cli.ExitOK, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	assert.Contains(t, out.String(), "2b. By placement: two CPUs")
	assert.Contains(t, out.String(), "(--pin=both)")

	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	require.NoError(t, err)
	var r benchResults
	require.NoError(t, json.Unmarshal(b, &r))
	assert.Empty(t, r.Errors)
	assert.Equal(t, "both", r.Settings.Pin)
	require.NotNil(t, r.SameCPU)
	assert.Equal(t, r.Machine.ThisCPU, r.SameCPU.CPU)
	assert.Len(t, r.SameCPU.Floors, len(floorSpecs))
	require.Len(t, r.SameCPU.PingPong, 1)
	assert.Positive(t, r.SameCPU.PingPong[0].Latency.Count)
	assert.Positive(t, r.SameCPU.PingPong[0].P50OverFloor)
	require.Len(t, r.PingPong, 1)
	assert.Positive(t, r.PingPong[0].P50OverFloor, "the pair's ping-pong is there too")
	for _, k := range []string{`"stream"`, `"idle"`} {
		i := bytes.Index(b, []byte(k+": ["))
		require.GreaterOrEqual(t, i, 0, k)
		assert.Contains(t, string(b[i:]), `"placement"`, k)
	}
}
