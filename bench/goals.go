package bench

// The project's performance goals, evaluated against a run's figures.
// They are printed next to the figures as PASS or MISS with by how much;
// they never decide the exit status.

import (
	"fmt"
	"math"
	"slices"
)

// Goal targets.
const (
	goalSpinOverFloor   = 1.5  // ping-pong p50 ÷ spin floor, spin family and hybrid
	goalFutexOverFloor  = 1.2  // ping-pong p50 ÷ futex floor, futex and semaphore
	goalSmallSpinFPS    = 10e6 // 64 B streaming frames/s, spin and hybrid
	goalSmallSemFPS     = 5e6  // 64 B streaming frames/s, semaphore
	goalLargeOverMemcpy = 0.8  // 3.1 MB streaming ÷ memcpy
	goalRelayOverFloor  = 1.3  // relay p50 ÷ its floor, every rate
	goalSmallFrame      = 64
)

// newGoal evaluates value op target.
func newGoal(goal, subject, metric string, value float64, op string, target float64, key rowKey) goalResult {
	g := goalResult{Goal: goal, Subject: subject, Metric: metric, Value: value, Op: op, Target: target, key: key}
	q := value / target
	switch op {
	case "<=":
		g.Pass = value <= target
	default:
		g.Pass = value >= target
	}
	g.By = math.Abs(q - 1)
	if g.Pass {
		g.Verdict = fmt.Sprintf("PASS (%s headroom)", fmtPercent(g.By))
	} else {
		g.Verdict = fmt.Sprintf("MISS by %s", fmtPercent(g.By))
	}
	return g
}

func fmtPercent(f float64) string {
	switch p := f * 100; {
	case p < 10:
		return fmt.Sprintf("%.1f%%", p)
	default:
		return fmt.Sprintf("%.0f%%", p)
	}
}

// evaluateGoals checks every goal that has a figure in r. A figure that
// is missing (its floor was not measured, say) has no goal row.
func evaluateGoals(r *benchResults) []goalResult {
	goals := []goalResult{}
	for _, p := range r.PingPong {
		if p.P50OverFloor <= 0 || p.PlacementDiffers || p.Unstable {
			continue // no figure, one not comparable with its floor, or rounds that disagree
		}
		spec, ok := floorSpecOf(Floor(p.Floor))
		if !ok {
			continue
		}
		target := spec.goal
		goals = append(goals, newGoal("ring p50 ÷ floor p50", p.Notifier+" "+fmtBytes(p.FrameBytes),
			"p50 ÷ "+p.Floor+" floor", p.P50OverFloor, "<=", target, pingPongKey(p)))
	}
	for _, s := range r.Stream {
		switch {
		case s.FrameBytes == goalSmallFrame && (s.Notifier == "spin" || s.Notifier == "hybrid"):
			goals = append(goals, newGoal("64 B streaming frames/s", s.Notifier+" "+fmtBytes(s.FrameBytes),
				"frames/s", s.FramesPerSec, ">=", goalSmallSpinFPS, streamKey(s)))
		case s.FrameBytes == goalSmallFrame && s.Notifier == "semaphore":
			goals = append(goals, newGoal("64 B streaming frames/s", s.Notifier+" "+fmtBytes(s.FrameBytes),
				"frames/s", s.FramesPerSec, ">=", goalSmallSemFPS, streamKey(s)))
		case s.FrameBytes == relayFrameBytes && s.OverMemcpy > 0:
			goals = append(goals, newGoal("3.1 MB streaming ÷ memcpy", s.Notifier+" "+fmtBytes(s.FrameBytes),
				"GB/s ÷ memcpy GB/s", s.OverMemcpy, ">=", goalLargeOverMemcpy, streamKey(s)))
		}
	}
	for _, rl := range append(slices.Clip(r.Relay), r.RelayZeroCopy...) {
		if rl.P50OverFloor <= 0 || rl.PlacementDiffers {
			continue
		}
		subject, metric := fmt.Sprintf("%s %d FPS", rl.Notifier, rl.FPS), "p50 ÷ (2 copies + 2 wake-ups)"
		if rl.ZeroCopy {
			subject, metric = subject+" zero-copy", "p50 ÷ (1 copy + 2 wake-ups)"
		}
		goals = append(goals, newGoal("relay p50 ÷ floor", subject, metric, rl.P50OverFloor, "<=", goalRelayOverFloor, relayKey(rl)))
	}
	return goals
}

func pingPongKey(p pingPongResult) rowKey { return rowKey{"pingpong", p.Notifier, p.FrameBytes, 0} }
func streamKey(s streamResult) rowKey     { return rowKey{"stream", s.Notifier, s.FrameBytes, 0} }
func relayKey(r relayResult) rowKey       { return rowKey{relayStage(r), r.Notifier, r.FrameBytes, r.FPS} }

// goalIndex maps rows to their goal, for the tables and the CSV.
func goalIndex(goals []goalResult) map[rowKey]goalResult {
	m := make(map[rowKey]goalResult, len(goals))
	for _, g := range goals {
		m[g.key] = g
	}
	return m
}

// describeGoal is the goal in words, e.g. "≤ 1.5×" or "≥ 10 M/s".
func describeGoal(g goalResult) string {
	op := map[string]string{"<=": "≤", ">=": "≥"}[g.Op]
	if g.Metric == "frames/s" {
		return op + " " + fmtRate(g.Target) + "/s"
	}
	return op + " " + fmtRatio(g.Target)
}
