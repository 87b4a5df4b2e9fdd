package bench

// Interleaved rounds: a ring's ping-pong and the floor it is compared
// with are measured in alternating short rounds (floor, ring, floor,
// ring, …) rather than one block each, so that drift during a run (other
// load, the CPU's frequency, the hypervisor) hits both sides alike. The
// ratio reported is the median of the rounds' ratios, with their spread;
// a round whose ring ran with another placement than its floor flags the
// measurement, which then gets no verdict, and so do rounds too far
// apart for their median to stand for them (unstableSpread).

import (
	"fmt"
	"slices"
	"time"

	"github.com/zerobuffer/zerobuffer-go/notify"
)

// ratioRound is one round: the floor, then the ring, each measured for a
// short while, and where each ran.
type ratioRound struct {
	FloorP50Ns     float64   `json:"floor_p50_ns"`
	FloorP99Ns     float64   `json:"floor_p99_ns"`
	RingP50Ns      float64   `json:"ring_p50_ns"`
	RingP99Ns      float64   `json:"ring_p99_ns"`
	P50OverFloor   float64   `json:"p50_over_floor"`
	P99OverFloor   float64   `json:"p99_over_floor"`
	FloorPlacement Placement `json:"floor_placement"`
	RingPlacement  Placement `json:"ring_placement"`
}

// roundPlan is how a ping-pong is split into rounds.
type roundPlan struct {
	rounds     int
	floor      Floor // "" when the notifier has no floor: ring rounds only
	warmRounds int   // unrecorded floor round trips of each round
	warm, d    time.Duration
	maxRounds  int // recorded round trips of each side, over all rounds
}

// pingPongRounds measures notifier's ping-pong of size-byte frames in
// p.rounds rounds, each of its floor (when it has one) then of the ring,
// each side for d/rounds after warm/rounds. Each side keeps its child
// for all rounds; the one not measured waits off the CPU. The ring's
// figures cover all rounds.
func (e *Engine) pingPongRounds(notifier string, size int, p roundPlan) (PingPongFigures, []ratioRound, error) {
	var fl *floorSession
	if p.floor != "" {
		var err error
		if fl, err = e.openFloor(p.floor); err != nil {
			return PingPongFigures{}, nil, fmt.Errorf("floor %s: %w", p.floor, err)
		}
		defer fl.close()
	}
	var ps *pingSession
	defer func() {
		if ps != nil {
			ps.close()
		}
	}()
	var rounds []ratioRound
	all := newLatencyHist()
	var pingCPU float64
	var readers, writers notify.Stats // this process's, over the rounds
	per, perMax := p.d/time.Duration(p.rounds), max(p.maxRounds/p.rounds, 1)
	for range p.rounds {
		var rd ratioRound
		if fl != nil {
			lat, placed, err := fl.measure(p.warmRounds, per, perMax)
			if err != nil {
				return PingPongFigures{}, nil, fmt.Errorf("floor %s: %w", p.floor, err)
			}
			rd.FloorP50Ns, rd.FloorP99Ns, rd.FloorPlacement = lat.P50Ns, lat.P99Ns, placed
		}
		var err error
		if ps == nil {
			ps, err = e.openPingPong(notifier, size)
		} else {
			err = ps.resume()
		}
		if err != nil {
			return PingPongFigures{}, nil, err
		}
		fig, err := ps.measure(p.warm/time.Duration(p.rounds), per, perMax)
		if err == nil {
			err = ps.pause()
		}
		if err != nil {
			return PingPongFigures{}, nil, err
		}
		pingCPU += fig.PingCPUNsPerRT * float64(fig.Latency.Count)
		readers, writers = readers.Add(fig.readers), writers.Add(fig.writers)
		all.merge(fig.hist)
		rd.RingP50Ns, rd.RingP99Ns, rd.RingPlacement = fig.Latency.P50Ns, fig.Latency.P99Ns, fig.Placement
		rd.P50OverFloor, rd.P99OverFloor = ratio(rd.RingP50Ns, rd.FloorP50Ns), ratio(rd.RingP99Ns, rd.FloorP99Ns)
		rounds = append(rounds, rd)
	}
	out := PingPongFigures{Latency: all.Summary(), hist: all}
	if fl != nil {
		if err := fl.c.wait(); err != nil {
			return out, nil, fmt.Errorf("floor %s: %w", p.floor, err)
		}
	}
	if ps != nil {
		if err := ps.resume(); err != nil {
			return out, nil, err
		}
		echoCPU, err := ps.finish()
		if err != nil {
			return out, nil, err
		}
		out.EchoCPUNsPerRT = echoCPU
		out.Counters = newOpCounters(all.Count(), readers.Add(ps.echoReaders), writers.Add(ps.echoWriters))
	}
	if c := float64(all.Count()); c > 0 {
		out.PingCPUNsPerRT = pingCPU / c
	}
	for _, rd := range rounds {
		out.Placement.merge(rd.RingPlacement)
	}
	return out, rounds, nil
}

// roundRatios summarises the rounds into p: the floor's and the ratios'
// medians, the p50 ratio's spread, and whether a ring round ran with
// another placement than its floor.
func roundRatios(p *pingPongResult, rounds []ratioRound) {
	var f50, f99, r50, r99 []float64
	for i, rd := range rounds {
		if rd.P50OverFloor > 0 {
			f50, r50 = append(f50, rd.FloorP50Ns), append(r50, rd.P50OverFloor)
		}
		if rd.P99OverFloor > 0 {
			f99, r99 = append(f99, rd.FloorP99Ns), append(r99, rd.P99OverFloor)
		}
		fc, rc := rd.FloorPlacement.Class(), rd.RingPlacement.Class()
		if fc != rc && fc != "unknown" && rc != "unknown" && p.PlacementNote == "" {
			p.PlacementDiffers = true
			p.PlacementNote = fmt.Sprintf("round %d: floor on %s, ring on %s", i+1, fc, rc)
		}
	}
	p.Rounds = rounds
	if len(r50) == 0 {
		return
	}
	p.FloorP50Ns, p.FloorP99Ns = median(f50), median(f99)
	p.P50OverFloor, p.P99OverFloor = median(r50), median(r99)
	p.P50OverFloorMin, p.P50OverFloorMax = slices.Min(r50), slices.Max(r50)
	p.Unstable = unstableRounds(p.P50OverFloorMin, p.P50OverFloorMax)
}

// unstableSpread is how far apart a measurement's rounds may be, as the
// largest p50 ratio over the smallest, before its median stops standing
// for it: past it the rounds saw different regimes (a backoff pair
// sleeping in lock-step in some rounds, a stall), and the median is
// whichever regime had more rounds. Such a measurement gets no verdict.
// The ordinary drift of a loaded 2-vCPU machine spreads a notifier's
// rounds by about 1.1–1.5×.
const unstableSpread = 2.0

// unstableRounds reports whether rounds whose p50 ratios span lo–hi
// disagree too much for a verdict.
func unstableRounds(lo, hi float64) bool {
	return lo > 0 && hi > unstableSpread*lo
}
