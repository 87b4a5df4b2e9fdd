package bench

// Where the two processes of a measurement run. A ratio to a floor is
// sound only when both sides ran with the same placement: a futex
// wake-up of a process on the same CPU is a context switch, one of an
// idle CPU crosses the hypervisor on a VM, and the two differ by an order
// of magnitude. So by default the bench pins this process and its
// children to two distinct CPUs (not SMT siblings when the machine has a
// choice), chosen once per run; --pin=same puts both on one CPU, and
// --pin=none leaves the placement to the scheduler. Either way it samples
// where each process's busy threads actually ran.

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The placements --pin asks for.
const (
	pinPair = "pair" // this process on one CPU, the other on another (the default)
	pinSame = "same" // both processes on one CPU
	pinNone = "none" // wherever the scheduler puts them
	pinBoth = "both" // pair, and the floors and ping-pongs again on one CPU (both.go)
)

// pinValue is the --pin flag: "pair", "same", "none" or "both"; a bare --pin
// means pair, as it did when it was a yes/no flag.
type pinValue struct{ p *string }

func (v pinValue) String() string {
	if v.p == nil {
		return pinPair
	}
	return *v.p
}

func (v pinValue) Set(s string) error {
	switch s {
	case pinPair, pinSame, pinNone, pinBoth:
		*v.p = s
	case "true":
		*v.p = pinPair
	case "false":
		*v.p = pinNone
	default:
		return fmt.Errorf("--pin=%s: want pair, same, none or both", s)
	}
	return nil
}

func (v pinValue) IsBoolFlag() bool { return true }

// cpuList parses a kernel CPU list such as "0-3,8,10-11".
func cpuList(s string) ([]int, error) {
	var cpus []int
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// smtSiblings returns the CPUs that share cpu's core (cpu included),
// from /sys; just cpu when the topology is not there.
func smtSiblings(cpu int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", cpu))
	if err != nil {
		return []int{cpu}
	}
	s, err := cpuList(string(b))
	if err != nil || len(s) == 0 {
		return []int{cpu}
	}
	return s
}

// choosePair picks the two CPUs of a measurement from those allowed:
// the first allowed CPU for this process and, for the other, the first
// allowed CPU on another core, or else any other allowed CPU (an SMT
// sibling). ok is false when fewer than two CPUs are allowed (this is
// then the one allowed CPU, if any).
func choosePair(allowed *unix.CPUSet, siblings func(int) []int) (this, other int, smt, ok bool) {
	var cpus []int
	for c := range 1024 {
		if allowed.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) == 0 {
		return 0, 0, false, false
	}
	this = cpus[0]
	if len(cpus) == 1 {
		return this, this, false, false
	}
	sib := siblings(this)
	for _, c := range cpus[1:] {
		if !slices.Contains(sib, c) {
			return this, c, false, true
		}
	}
	return this, cpus[1], true, true
}

// pinFor pins this process as o asks, and makes the engine's children
// pin themselves, and says so in res. It returns the pinning to undo,
// nil when nothing was pinned.
func (e *Engine) pinFor(mode string, res *benchResults) *pinning {
	res.Machine.PinMode = mode
	if mode == pinNone {
		res.Machine.PinNote = "no (--pin=none: the scheduler places both processes; --pin=pair or --pin=same to pin)"
		return nil
	}
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		res.Machine.PinNote = fmt.Sprintf("no: sched_getaffinity: %v", err)
		return nil
	}
	this, other, smt, ok := choosePair(&allowed, smtSiblings)
	if allowed.Count() == 0 || (!ok && mode != pinSame) {
		res.Machine.PinNote = fmt.Sprintf("no: --pin=%s needs 2 CPUs, this process may use %d", mode, allowed.Count())
		return nil
	}
	if mode == pinSame {
		other = this
	}
	p, err := pinProcess(this)
	if err != nil {
		res.Machine.PinNote = fmt.Sprintf("no: %v", err)
		return nil
	}
	e.childMask, e.pinChild, e.childCPU = &p.orig, true, other
	res.Machine.Pinned, res.Machine.ThisCPU, res.Machine.OtherCPU = true, this, other
	switch {
	case mode == pinSame:
		res.Machine.PinNote = fmt.Sprintf("both processes on CPU %d (--pin=same; --pin=pair or --pin=none for the others)", this)
	case mode == pinBoth && !smt:
		res.Machine.PinNote = fmt.Sprintf("this process on CPU %d, the other on CPU %d; floors and ping-pongs also both on CPU %d (--pin=both)", this, other, this)
	case smt:
		res.Machine.PinNote = fmt.Sprintf("this process on CPU %d, the other on CPU %d, SMT siblings: no other core is allowed", this, other)
	default:
		res.Machine.PinNote = fmt.Sprintf("this process on CPU %d, the other on CPU %d (--pin=same or --pin=none for the other placements)", this, other)
	}
	res.Machine.PinNote += fmt.Sprintf("; GOMAXPROCS kept at %d", runtime.GOMAXPROCS(0))
	return p
}

// ---- where the processes ran ----

// Placement is where the two processes of a measurement ran, sampled
// every 20 ms from /proc: the CPUs on which each process's busy
// threads (running, or with CPU time since the last sample) were seen.
type Placement struct {
	Samples int   `json:"samples"`
	This    []int `json:"this_cpus"`  // this process (the ping side, the reader)
	Other   []int `json:"other_cpus"` // the child
	// SharedSamples counts the samples in which a busy thread of each
	// process was on the same CPU; SMTSamples those in which they were on
	// SMT siblings of one core.
	SharedSamples int `json:"shared_cpu_samples"`
	SMTSamples    int `json:"smt_sibling_samples"`
}

// Class names the placement for comparison, by what most samples saw:
// "one CPU" (a busy thread of each on the same CPU), "SMT siblings" (on
// two siblings of one core), "two cores", or "unknown" with no sample of
// both. SharedSamples and SMTSamples say whether they ever shared.
func (p Placement) Class() string {
	switch {
	case p.Samples == 0 || len(p.This) == 0 || len(p.Other) == 0:
		return "unknown"
	case 2*p.SharedSamples > p.Samples:
		return "one CPU"
	case 2*p.SMTSamples > p.Samples:
		return "SMT siblings"
	}
	return "two cores"
}

// merge adds the samples of o, a later part of the same measurement.
func (p *Placement) merge(o Placement) {
	p.Samples += o.Samples
	p.SharedSamples += o.SharedSamples
	p.SMTSamples += o.SMTSamples
	for _, c := range o.This {
		p.This = addCPU(p.This, c)
	}
	for _, c := range o.Other {
		p.Other = addCPU(p.Other, c)
	}
	slices.Sort(p.This)
	slices.Sort(p.Other)
}

// placementEvery is how often a placement is sampled: rarely enough that
// the sampler's reads cost under 1 % of a CPU.
const placementEvery = 20 * time.Millisecond

// placementSampler samples the placement of this process and a child
// until stopped.
type placementSampler struct {
	child int
	stop  chan struct{}
	done  chan struct{}
	p     Placement
	ticks map[string]uint64 // CPU ticks of each thread at the last sample
	sib   map[int][]int

	tid atomic.Int32 // the sampler's thread, once running (samplerCPU)
}

func startPlacementSampler(childPid int) *placementSampler {
	s := &placementSampler{child: childPid, stop: make(chan struct{}), done: make(chan struct{}),
		ticks: map[string]uint64{}, sib: map[int][]int{}}
	go s.run()
	return s
}

func (s *placementSampler) run() {
	defer close(s.done)
	// On a thread of its own, which the samples leave out.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := unix.Gettid()
	s.tid.Store(int32(self))
	tick := time.NewTicker(placementEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			s.sample(self)
		}
	}
}

// finish stops the sampler and returns what it saw.
func (s *placementSampler) finish() Placement {
	close(s.stop)
	<-s.done
	slices.Sort(s.p.This)
	slices.Sort(s.p.Other)
	return s.p
}

func (s *placementSampler) sample(self int) {
	this := s.busyCPUs("self", os.Getpid(), self)
	other := s.busyCPUs("child", s.child, 0)
	if len(this) == 0 && len(other) == 0 {
		return
	}
	s.p.Samples++
	shared, smt := false, false
	for _, a := range this {
		s.p.This = addCPU(s.p.This, a)
		for _, b := range other {
			switch {
			case a == b:
				shared = true
			case slices.Contains(s.siblings(a), b):
				smt = true
			}
		}
	}
	for _, b := range other {
		s.p.Other = addCPU(s.p.Other, b)
	}
	if shared {
		s.p.SharedSamples++
	}
	if smt {
		s.p.SMTSamples++
	}
}

func (s *placementSampler) siblings(cpu int) []int {
	if sib, ok := s.sib[cpu]; ok {
		return sib
	}
	sib := smtSiblings(cpu)
	s.sib[cpu] = sib
	return sib
}

func addCPU(set []int, c int) []int {
	if slices.Contains(set, c) {
		return set
	}
	return append(set, c)
}

// busyCPUs lists the CPUs on which the busy threads of process pid
// (but skip) last ran.
func (s *placementSampler) busyCPUs(who string, pid, skip int) []int {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var cpus []int
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil || tid == skip {
			continue
		}
		running, ticks, cpu, ok := threadStat(dir + "/" + e.Name() + "/stat")
		if !ok {
			continue
		}
		key := who + "/" + e.Name()
		prev, seen := s.ticks[key]
		s.ticks[key] = ticks
		if running || (seen && ticks > prev) {
			cpus = addCPU(cpus, cpu)
		}
	}
	return cpus
}

// threadStat reads a thread's state, CPU ticks (user + system) and last
// CPU from its /proc stat line.
func threadStat(path string) (running bool, ticks uint64, cpu int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, 0, 0, false
	}
	// The command name may hold spaces and parentheses: the fields
	// start after its last ')'. They are numbered from 3 (state).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return false, 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 37 {
		return false, 0, 0, false
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	cpu, err3 := strconv.Atoi(f[36])
	if err1 != nil || err2 != nil || err3 != nil {
		return false, 0, 0, false
	}
	return f[0] == "R", utime + stime, cpu, true
}
