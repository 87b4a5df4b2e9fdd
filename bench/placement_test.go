package bench

import (
	"os/exec"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestPinFlag(t *testing.T) {
	for args, want := range map[string]string{"": "pair", "--pin": "pair", "--pin=pair": "pair", "--pin=same": "same",
		"--pin=none": "none", "--pin=false": "none", "--pin=both": "both"} {
		var a []string
		if args != "" {
			a = []string{args}
		}
		o, err := parseBenchArgs(a)
		require.NoError(t, err, args)
		assert.Equal(t, want, o.pin, args)
	}
	for _, bad := range [][]string{{"--pin=all"}, {"--rounds", "0"}, {"--rounds", "101"}} {
		_, err := parseBenchArgs(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestCPUList(t *testing.T) {
	for in, want := range map[string][]int{"0": {0}, "0-3": {0, 1, 2, 3}, "0,2\n": {0, 2}, "1-2,5,7-8": {1, 2, 5, 7, 8}} {
		got, err := cpuList(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"x", "3-1", "1-y"} {
		_, err := cpuList(bad)
		assert.Error(t, err, bad)
	}
}

func TestChoosePair(t *testing.T) {
	set := func(cpus ...int) *unix.CPUSet {
		var s unix.CPUSet
		for _, c := range cpus {
			s.Set(c)
		}
		return &s
	}
	// CPUs 0 and 1 are one core's SMT siblings, 2 and 3 another's.
	siblings := func(c int) []int { return []int{c &^ 1, c | 1} }
	this, other, smt, ok := choosePair(set(0, 1, 2, 3), siblings)
	assert.True(t, ok)
	assert.Equal(t, []any{0, 2, false}, []any{this, other, smt}, "another core when there is one")
	this, other, smt, ok = choosePair(set(2, 3), siblings)
	assert.True(t, ok)
	assert.Equal(t, []any{2, 3, true}, []any{this, other, smt}, "siblings when nothing else is allowed")
	this, _, _, ok = choosePair(set(5), siblings)
	assert.False(t, ok)
	assert.Equal(t, 5, this)
	_, _, _, ok = choosePair(set(), siblings)
	assert.False(t, ok)
}

func TestPlacementClass(t *testing.T) {
	assert.Equal(t, "unknown", Placement{}.Class())
	assert.Equal(t, "unknown", Placement{Samples: 3, This: []int{0}}.Class())
	assert.Equal(t, "two cores", Placement{Samples: 3, This: []int{0}, Other: []int{2}}.Class())
	assert.Equal(t, "SMT siblings", Placement{Samples: 3, This: []int{0}, Other: []int{1}, SMTSamples: 2}.Class())
	assert.Equal(t, "one CPU", Placement{Samples: 3, This: []int{0, 1}, Other: []int{1}, SharedSamples: 2, SMTSamples: 1}.Class())
	assert.Equal(t, "two cores", Placement{Samples: 4, This: []int{0, 1}, Other: []int{0, 1}, SharedSamples: 1}.Class(),
		"by what most samples saw")
}

func TestPlacementMerge(t *testing.T) {
	p := Placement{Samples: 2, This: []int{1}, Other: []int{0}, SharedSamples: 1}
	p.merge(Placement{Samples: 3, This: []int{0, 1}, Other: []int{0}, SMTSamples: 2})
	assert.Equal(t, Placement{Samples: 5, This: []int{0, 1}, Other: []int{0}, SharedSamples: 1, SMTSamples: 2}, p)
	var empty Placement
	empty.merge(Placement{})
	assert.Equal(t, "unknown", empty.Class())
}

func TestThreadStat(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	running, _, cpu, ok := threadStat("/proc/self/task/" + strconv.Itoa(unix.Gettid()) + "/stat")
	require.True(t, ok)
	assert.True(t, running, "this thread is running while it reads its own stat")
	assert.GreaterOrEqual(t, cpu, 0)
	assert.Less(t, cpu, 1024)
	_, _, _, ok = threadStat("/proc/self/task/0/stat")
	assert.False(t, ok)
}

// TestPlacementSampler samples a busy child and this process, busy too,
// and sees both on some CPU.
func TestPlacementSampler(t *testing.T) {
	c := exec.Command("sh", "-c", "while :; do :; done")
	require.NoError(t, c.Start())
	defer func() { _ = c.Process.Kill(); _ = c.Wait() }()
	var stop atomic.Bool
	done := make(chan struct{})
	go func() { // keep a thread of this process busy
		defer close(done)
		for !stop.Load() {
		}
	}()
	defer func() { stop.Store(true); <-done }()
	for range 50 { // the samples come every 20 ms, on a loaded machine later
		s := startPlacementSampler(c.Process.Pid)
		time.Sleep(10 * placementEvery)
		p := s.finish()
		if p.Samples > 0 && len(p.This) > 0 && len(p.Other) > 0 {
			assert.NotEqual(t, "unknown", p.Class())
			return
		}
	}
	t.Fatal("the sampler never saw both processes busy")
}

func TestRoundRatios(t *testing.T) {
	two := Placement{Samples: 5, This: []int{0}, Other: []int{1}}
	one := Placement{Samples: 5, This: []int{0}, Other: []int{0}, SharedSamples: 5}
	rd := func(floor, ring float64, fp, rp Placement) ratioRound {
		return ratioRound{FloorP50Ns: floor, FloorP99Ns: 2 * floor, RingP50Ns: ring, RingP99Ns: 3 * ring,
			P50OverFloor: ring / floor, P99OverFloor: 1.5 * ring / floor, FloorPlacement: fp, RingPlacement: rp}
	}
	var p pingPongResult
	roundRatios(&p, []ratioRound{rd(100, 110, two, two), rd(200, 260, two, two), rd(100, 120, two, Placement{})})
	assert.InDelta(t, 1.2, p.P50OverFloor, 1e-9, "the median of 1.1, 1.3, 1.2")
	assert.InDelta(t, 1.1, p.P50OverFloorMin, 1e-9)
	assert.InDelta(t, 1.3, p.P50OverFloorMax, 1e-9)
	assert.InDelta(t, 1.8, p.P99OverFloor, 1e-9)
	assert.EqualValues(t, 100, p.FloorP50Ns)
	assert.False(t, p.PlacementDiffers, "an unknown placement is not a different one")
	assert.Len(t, p.Rounds, 3)

	p = pingPongResult{}
	roundRatios(&p, []ratioRound{rd(100, 110, two, two), rd(100, 110, two, one)})
	assert.True(t, p.PlacementDiffers)
	assert.Equal(t, "round 2: floor on two cores, ring on one CPU", p.PlacementNote)

	p = pingPongResult{}
	roundRatios(&p, []ratioRound{{RingP50Ns: 100}})
	assert.Zero(t, p.P50OverFloor, "no floor, no ratio")
}

func TestMedian(t *testing.T) {
	assert.Zero(t, median(nil))
	assert.EqualValues(t, 3, median([]float64{5, 1, 3}))
	v := []float64{4, 1, 3, 2}
	assert.EqualValues(t, 2.5, median(v))
	assert.Equal(t, []float64{4, 1, 3, 2}, v, "not sorted in place")
}
