package bench

// The plan of a run: the steps of each stage, in order, and how each
// step's figures become a result row next to the floors measured before.

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// buildPlan lists the steps of the stages o asks for. Each step appends
// its figures to res; ratios use the floors measured before them.
func buildPlan(o *benchOptions, e *Engine, res *benchResults) []benchStage {
	stages := []struct {
		name  string
		steps func(*benchOptions, *Engine, *benchResults) []benchStep
		print func(io.Writer, *benchResults)
	}{
		{"floors", floorSteps, printFloors},
		{"pingpong", pingPongSteps, withCounters(printPingPong, pingPongCounters, "rt")},
		{"pingpong", sameCPUSteps, printByPlacement}, // --pin=both
		{"stream", streamSteps, withCounters(printStream, streamCounters, "frame")},
		{"relay", relaySteps, printRelay},
		{"idle", idleSteps, printIdle},
		{"openloop", openLoopSteps, printOpenLoop},
		{"wake", wakeSteps, printWake},
	}
	var plan []benchStage
	for _, st := range stages {
		if o.has(st.name) {
			plan = append(plan, benchStage{st.steps(o, e, res), st.print})
		}
	}
	return plan
}

// floorSteps measures every floor's round trip, then memcpy at every
// streaming size (and the relay's frame, when the relay runs).
func floorSteps(o *benchOptions, e *Engine, res *benchResults) []benchStep {
	var steps []benchStep
	warmRounds := floorWarmRounds(o)
	for _, spec := range floorSpecs {
		f := spec.floor
		steps = append(steps, benchStep{"floor " + string(f) + " ping-pong", func() error {
			s, placed, err := e.floorPingPong(f, warmRounds, o.floorTime, o.maxRounds)
			if err == nil {
				res.Floors.PingPong = append(res.Floors.PingPong, floorResult{Mechanism: string(f), Latency: s, Placement: placed})
			}
			return err
		}})
	}
	sizes := slices.Clone(o.streamSizes)
	if o.has("relay") && !slices.Contains(sizes, relayFrameBytes) {
		sizes = append(sizes, relayFrameBytes)
	}
	slices.Sort(sizes)
	for _, size := range sizes {
		steps = append(steps, benchStep{"floor memcpy " + fmtBytes(size), func() error {
			ns, err := e.memcpyFloor(size, o.floorTime)
			if err == nil {
				res.Floors.Memcpy = append(res.Floors.Memcpy, memcpyResult{
					FrameBytes: size, NsPerCopy: ns, CopiesPerSec: 1e9 / ns, GBPerSec: float64(size) / ns})
			}
			return err
		}})
	}
	return steps
}

// floorWarmRounds is the unrecorded warm-up of a floor measurement.
func floorWarmRounds(o *benchOptions) int {
	if o.smoke {
		return 20
	}
	return 1000
}

// pingPongSteps measures every notifier's ring ping-pong at every size,
// in rounds alternating with its floor's.
func pingPongSteps(o *benchOptions, e *Engine, res *benchResults) []benchStep {
	var steps []benchStep
	warmRounds := floorWarmRounds(o) / o.rounds
	for _, size := range o.pingSizes {
		for _, n := range o.notifiers {
			f, _ := FloorOf(n)
			plan := roundPlan{rounds: o.rounds, floor: f, warmRounds: warmRounds, warm: o.warmup, d: o.pingTime, maxRounds: o.maxRounds}
			steps = append(steps, benchStep{"ping-pong " + n + " " + fmtBytes(size), func() error {
				fig, rounds, err := e.pingPongRounds(n, size, plan)
				if err == nil {
					res.PingPong = append(res.PingPong, pingPongResultOf(res, n, size, fig, rounds))
				}
				return err
			}})
		}
	}
	return steps
}

// streamSteps measures every notifier's streaming at every size.
func streamSteps(o *benchOptions, e *Engine, res *benchResults) []benchStep {
	var steps []benchStep
	for _, size := range o.streamSizes {
		for _, n := range o.notifiers {
			steps = append(steps, benchStep{"stream " + n + " " + fmtBytes(size), func() error {
				fig, err := e.stream(n, size, o.warmup, o.streamTime, math.MaxInt64)
				if err == nil {
					res.Stream = append(res.Stream, streamResultOf(res, n, size, fig))
				}
				return err
			}})
		}
	}
	return steps
}

// relaySteps measures the paced copies without a ring, then the relay of
// each relay notifier at every rate.
func relaySteps(o *benchOptions, e *Engine, res *benchResults) []benchStep {
	steps := []benchStep{{fmt.Sprintf("paced copies at %s FPS", joinInts(o.relayRates)), func() error {
		ns, err := e.pacedCopy(o.relayRates, max(3, min(o.relayFrames, 40)), o.relayBuffer)
		for i, fps := range o.relayRates {
			if err == nil {
				res.RelayPacedCopy = append(res.RelayPacedCopy, pacedCopy{FPS: fps, P50Ns: ns[i]})
			}
		}
		return err
	}}}
	for _, n := range o.relayNotifiers {
		steps = append(steps, benchStep{fmt.Sprintf("relay %s at %s FPS", n, joinInts(o.relayRates)), func() error {
			figs, err := e.relay(n, o.relayRates, o.relayWarmup, o.relayFrames, o.relayBuffer)
			for _, f := range figs {
				res.Relay = append(res.Relay, relayResultOf(res, n, f))
			}
			return err
		}})
		steps = append(steps, benchStep{fmt.Sprintf("relay %s zero-copy at %s FPS", n, joinInts(o.relayRates)), func() error {
			figs, err := e.relayVariant(n, true, o.relayRates, o.relayWarmup, o.relayFrames, o.relayBuffer)
			for _, f := range figs {
				res.RelayZeroCopy = append(res.RelayZeroCopy, relayResultOf(res, n, f))
			}
			return err
		}})
	}
	return steps
}

// idleSteps measures every notifier's idle reader.
func idleSteps(o *benchOptions, e *Engine, res *benchResults) []benchStep {
	var steps []benchStep
	for _, n := range o.notifiers {
		steps = append(steps, benchStep{"idle " + n, func() error {
			cpu, wall, placed, err := e.idle(n, o.idleTime)
			if err == nil {
				pct := 100 * ratio(cpu.Seconds(), wall.Seconds())
				res.Idle = append(res.Idle, idleResult{Notifier: n, Seconds: wall.Seconds(), CPUSeconds: cpu.Seconds(),
					CPUPercent: pct, Note: idleNote(n, pct), Placement: placed})
			}
			return err
		}})
	}
	return steps
}

// floorName is the floor notifier is compared with, "" when it has none.
func floorName(notifier string) string {
	f, _ := FloorOf(notifier)
	return string(f)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// floorOf returns the floor of mechanism mech, if it was measured.
func floorOf(r *benchResults, mech string) (Latency, bool) {
	for _, f := range r.Floors.PingPong {
		if mech != "" && f.Mechanism == mech {
			return f.Latency, true
		}
	}
	return Latency{}, false
}

func memcpyOf(r *benchResults, size int) (memcpyResult, bool) {
	for _, m := range r.Floors.Memcpy {
		if m.FrameBytes == size {
			return m, true
		}
	}
	return memcpyResult{}, false
}

// pingPongResultOf makes the row of a ping-pong: its ratios are those of
// its interleaved rounds, or without rounds those over the floors stage's
// figure.
func pingPongResultOf(r *benchResults, notifier string, size int, fig PingPongFigures, rounds []ratioRound) pingPongResult {
	p := pingPongResult{Notifier: notifier, FrameBytes: size, Latency: fig.Latency, Floor: floorName(notifier),
		PingCPUNsPerRT: fig.PingCPUNsPerRT, EchoCPUNsPerRT: fig.EchoCPUNsPerRT, Placement: fig.Placement, Counters: fig.Counters}
	if len(rounds) > 0 {
		roundRatios(&p, rounds)
	} else if f, ok := floorOf(r, p.Floor); ok {
		p.FloorP50Ns, p.FloorP99Ns = f.P50Ns, f.P99Ns
		p.P50OverFloor, p.P99OverFloor = ratio(fig.Latency.P50Ns, f.P50Ns), ratio(fig.Latency.P99Ns, f.P99Ns)
	}
	if f, ok := floorOf(r, string(FloorSemaphore)); ok && notifier == "semaphore" {
		p.P50OverSemFloor, p.P99OverSemFloor = ratio(fig.Latency.P50Ns, f.P50Ns), ratio(fig.Latency.P99Ns, f.P99Ns)
	}
	return p
}

func streamResultOf(r *benchResults, notifier string, size int, fig StreamFigures) streamResult {
	s := streamResult{Notifier: notifier, FrameBytes: size, Frames: fig.Frames, Seconds: fig.Seconds,
		FramesPerSec: fig.FramesPerSec, GBPerSec: gbPerSecond(fig.FramesPerSec, size),
		ReaderCPUSecPerMFrames: fig.ReaderCPUSecPerMFrames, WriterCPUSecPerMFrames: fig.WriterCPUSecPerMFrames, Counters: fig.Counters,
		Placement: fig.Placement}
	if m, ok := memcpyOf(r, size); ok {
		s.MemcpyGBPerSec = m.GBPerSec
		s.OverMemcpy = ratio(s.GBPerSec, m.GBPerSec)
	}
	return s
}

func relayResultOf(r *benchResults, notifier string, f relayFigures) relayResult {
	rl := relayResult{Notifier: notifier, ZeroCopy: f.zeroCopy, FPS: f.fps, SentFPS: f.sentFPS, FrameBytes: relayFrameBytes,
		Latency: f.lat, FloorMechanism: floorName(notifier), Legs: f.legs, Placement: f.placed}
	copies := relayCopies(f.zeroCopy)
	rl.PlacementDiffers, rl.PlacementNote = placementDiffers(r, rl.FloorMechanism, f.placed)
	m, okCopy := memcpyOf(r, relayFrameBytes)
	fl, okWake := floorOf(r, rl.FloorMechanism)
	if okCopy && okWake {
		// A round trip of the floor is two wake-ups.
		rl.FloorCopyNs, rl.FloorWakeNs = m.NsPerCopy, fl.P50Ns/2
		rl.FloorNs = copies*rl.FloorCopyNs + 2*rl.FloorWakeNs
		rl.P50OverFloor = ratio(f.lat.P50Ns, rl.FloorNs)
		for _, pc := range r.RelayPacedCopy {
			if pc.FPS == f.fps {
				rl.PacedCopyNs = pc.P50Ns
				rl.PacedFloorNs = copies*pc.P50Ns + 2*rl.FloorWakeNs
				rl.P50OverPacedFloor = ratio(f.lat.P50Ns, rl.PacedFloorNs)
			}
		}
	}
	return rl
}
