package bench

// --pin=both: the floors and ping-pongs measured with the two processes
// on two CPUs (the run's pair) and again with both on one CPU, reported
// side by side. They are different, real regimes — a pipeline on two
// cores, where a wake-up of an idle vCPU may cross the hypervisor, and
// one on a single core, where a wake-up is a context switch — and the
// futex and semaphore figures differ by an order of magnitude between
// them. The rest of the run (stream, relay, idle) uses the pair.

import (
	"fmt"
	"io"
	"strconv"
)

// sameCPURun is what --pin=both measured with both processes on one CPU.
type sameCPURun struct {
	CPU      int              `json:"cpu"`
	Floors   []floorResult    `json:"floors_pingpong"`
	PingPong []pingPongResult `json:"pingpong"`
}

// sameCPUSteps measures, when o asks for --pin=both and the run is
// pinned to a pair, every floor's round trip and every ping-pong again
// with the other process on this process's CPU, into res.SameCPU; the
// pair is restored after the last one.
func sameCPUSteps(o *benchOptions, e *Engine, res *benchResults) []benchStep {
	m := res.Machine
	if o.pin != pinBoth || !m.Pinned || m.ThisCPU == m.OtherCPU || !o.has("pingpong") {
		return nil
	}
	run := &sameCPURun{CPU: m.ThisCPU, Floors: []floorResult{}, PingPong: []pingPongResult{}}
	res.SameCPU = run
	// A results of their own, so that the same-CPU ping-pongs' ratios
	// use the same-CPU floors.
	same := &benchResults{PingPong: []pingPongResult{}}
	same.Floors.PingPong = []floorResult{}
	sync := func() { run.Floors, run.PingPong = same.Floors.PingPong, same.PingPong }
	var steps []benchStep
	warmRounds := floorWarmRounds(o)
	for i, spec := range floorSpecs {
		f := spec.floor
		steps = append(steps, benchStep{"floor " + string(f) + " ping-pong, one CPU", func() error {
			if i == 0 {
				e.childCPU = m.ThisCPU
			}
			s, placed, err := e.floorPingPong(f, warmRounds, o.floorTime, o.maxRounds)
			if err == nil {
				same.Floors.PingPong = append(same.Floors.PingPong, floorResult{Mechanism: string(f), Latency: s, Placement: placed})
			}
			sync()
			return err
		}})
	}
	pp := pingPongSteps(o, e, same)
	for i, st := range pp {
		steps = append(steps, benchStep{st.label + ", one CPU", func() error {
			err := st.run()
			sync()
			if i == len(pp)-1 {
				e.childCPU = m.OtherCPU
			}
			return err
		}})
	}
	return steps
}

// printByPlacement shows the pair's and the one CPU's floors and
// ping-pongs side by side.
func printByPlacement(w io.Writer, r *benchResults) {
	s := r.SameCPU
	if s == nil {
		return
	}
	pair := fmt.Sprintf("CPUs %d | %d", r.Machine.ThisCPU, r.Machine.OtherCPU)
	one := fmt.Sprintf("CPU %d", s.CPU)
	stageTitle(w, fmt.Sprintf("2b. By placement: two CPUs (%s) and one CPU (%s)", pair, one))
	t := newTable("floor round trip", ">p50 two CPUs", ">p50 one CPU", ">one÷two", "ran on (one CPU)")
	for _, o := range s.Floors {
		f, _ := floorIn(r.Floors.PingPong, o.Mechanism) // none without the floors stage
		t.add(floorLabel(o.Mechanism), fmtNs(f.Latency.P50Ns), fmtNs(o.Latency.P50Ns),
			fmtRatio(ratio(o.Latency.P50Ns, f.Latency.P50Ns)), placementCell(o.Placement))
	}
	t.render(w)
	fmt.Fprintln(w)
	t = newTable("notifier", ">frame", ">p50 two CPUs", ">÷floor", ">spread", ">p50 one CPU", ">÷floor", ">spread",
		">one÷two", "ran on (one CPU)")
	for _, p := range r.PingPong {
		o, ok := pingPongIn(s.PingPong, p.Notifier, p.FrameBytes)
		if !ok {
			continue
		}
		t.add(p.Notifier, fmtBytes(p.FrameBytes),
			fmtNs(p.Latency.P50Ns), fmtRatio(p.P50OverFloor), ratioNote(p),
			fmtNs(o.Latency.P50Ns), fmtRatio(o.P50OverFloor), ratioNote(o),
			fmtRatio(ratio(o.Latency.P50Ns, p.Latency.P50Ns)), placementCell(o.Placement))
	}
	t.render(w)
	fmt.Fprintln(w, "÷floor: p50 over the floor measured with the same placement, in alternating rounds (spread: their")
	fmt.Fprintln(w, "min–max; \"unstable\" or \"placement ≠ floor's\" where a verdict would be withheld). one÷two: the one-CPU")
	fmt.Fprintln(w, "p50 over the two-CPU p50. Goals are judged on the two-CPU figures only.")
}

// ratioNote is a ping-pong's spread, or why its ratio is not to be
// trusted.
func ratioNote(p pingPongResult) string {
	switch {
	case p.PlacementDiffers:
		return "placement ≠ floor's"
	case p.Unstable:
		return "unstable " + fmtSpread(p.P50OverFloorMin, p.P50OverFloorMax)
	}
	return fmtSpread(p.P50OverFloorMin, p.P50OverFloorMax)
}

func floorIn(rows []floorResult, mech string) (floorResult, bool) {
	for _, f := range rows {
		if f.Mechanism == mech {
			return f, true
		}
	}
	return floorResult{}, false
}

func pingPongIn(rows []pingPongResult, notifier string, size int) (pingPongResult, bool) {
	for _, p := range rows {
		if p.Notifier == notifier && p.FrameBytes == size {
			return p, true
		}
	}
	return pingPongResult{}, false
}

// rowPin is the placement asked for a row of the main run: "pair",
// "same", or "none" when the run is not pinned.
func rowPin(m machineInfo) string {
	switch {
	case !m.Pinned:
		return pinNone
	case m.ThisCPU == m.OtherCPU:
		return pinSame
	}
	return pinPair
}

// placementColumns are the CSV's columns of where a row ran: the
// placement asked for, the class seen, and the CPUs of each process.
func placementColumns(pin string, p Placement) []string {
	class := p.Class()
	if class == "unknown" {
		class = ""
	}
	cpus := func(c []int) string {
		s := ""
		for i, n := range c {
			if i > 0 {
				s += " "
			}
			s += strconv.Itoa(n)
		}
		return s
	}
	return []string{pin, class, cpus(p.This), cpus(p.Other)}
}

// placementDiffers reports whether a measurement that ran with placed is
// not comparable with the floors stage's figure of mech: both were seen
// running, in different classes (see Placement.Class).
func placementDiffers(r *benchResults, mech string, placed Placement) (bool, string) {
	f, ok := floorIn(r.Floors.PingPong, mech)
	if !ok {
		return false, ""
	}
	fc, mc := f.Placement.Class(), placed.Class()
	if fc == mc || fc == "unknown" || mc == "unknown" {
		return false, ""
	}
	return true, fmt.Sprintf("floor on %s, this on %s", fc, mc)
}

// idlePlacementCell names the CPUs the idle stage's waiting reader (the
// other process) was seen running on; "-" when it was never seen, as a
// reader asleep in the kernel is not.
func idlePlacementCell(p Placement) string {
	if len(p.Other) == 0 {
		return missing
	}
	return "CPU " + joinCPUs(p.Other)
}
