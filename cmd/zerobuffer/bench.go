package main

// `zerobuffer bench`: every wait strategy measured on the same ring, each
// figure next to the floor of its raw mechanism measured in the same run.
// This file holds the command: options, the plan of steps, and the run;
// the engine (bench_engine.go, bench_child.go) measures, bench_stats.go
// and bench_goals.go compute, bench_report.go and bench_chart.go write.

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

const benchUsage = `Usage: zerobuffer bench [options]

Measures every wait strategy (notifier) on the same ring, each figure next
to the floor of its raw mechanism measured in the same run. The other
process of each measurement is this binary run again: no separate build.
The defaults take 2 to 3 minutes on a 2-core machine; --quick under 30 s.

Stages, in this order:
  floors    raw round trips between two processes, no ring: a cache line
            bounced by polling (spin), a futex ping-pong, a glibc-compatible
            semaphore ping-pong without spinning; and memcpy into a warm
            shared mapping for each frame size
  pingpong  round trips through a request ring and a response ring (the
            other process echoes), per frame size and notifier: min, p50,
            p90, p99, p99.9, max (HDR histogram), and p50 and p99 over the
            floor of the notifier's mechanism (spin floor for spin, yield,
            backoff and hybrid; futex floor for futex and semaphore; the
            semaphore also over the semaphore floor)
  stream    a writer process streaming into a reader process, per frame
            size and notifier: frames/s, GB/s, ratio to memcpy of the same
            size, CPU seconds per million frames on each side
  relay     3,110,416-byte frames (1080p YUV420 and a 16-byte timestamp)
            from process 1 into buffer A, copied by a relay process into
            buffer B, read back by process 1, paced at each rate: min, avg,
            p50, p90, p99, max next to the floor (2 copies + 2 wake-ups)
  idle      CPU used by a reader waiting on an empty ring

Options:
      --quick                 a short run, under 30 s (the CI smoke test)
      --notifiers LIST        notifiers to measure, comma-separated, or all
                              (default all: ` + "%s" + `)
      --stages LIST           stages to run (default floors,pingpong,stream,relay,idle)
      --pingpong-sizes LIST   ping-pong frame sizes (default 64,1KiB)
      --stream-sizes LIST     streaming frame sizes (default 64,1KiB,64KiB,1MiB,3110416)
      --warmup DUR            unrecorded warm-up of each ping-pong and stream
                              (default 200ms; --quick 50ms)
      --floor-time DUR        measuring time of each floor (default 500ms; --quick 100ms)
      --pingpong-time DUR     measuring time of each ping-pong (default 1s; --quick 150ms)
      --stream-time DUR       measuring time of each stream (default 1s; --quick 150ms)
      --relay-notifiers LIST  notifiers of the relay stage, or all (default semaphore)
      --relay-fps LIST        rates of the relay (default 30,60,120,240,500,1000)
      --relay-warmup N        unrecorded frames at each rate (default 20; --quick 5)
      --relay-frames N        recorded frames at each rate (default 200; --quick 30)
      --relay-buffer SIZE     size of buffers A and B (default 256MiB)
      --idle-time DUR         how long the idle reader waits (default 3s; --quick 1s)
      --pin                   pin this process to core 0 and the other process
                              to core 1 (sched_setaffinity); the report says
                              whether it worked
      --out DIR               also write DIR/results.json (everything),
                              DIR/results.csv (a row per measurement) and SVG
                              charts (ping-pong percentiles, throughput by frame
                              size, relay latency by rate)
  -h, --help                  this text

Sizes take K/KiB and M/MiB suffixes; durations are Go's (500ms, 2s).

Tables go to stdout, progress to stderr (a bar on a terminal, else a line
per step). Goals are printed next to the figures as PASS or MISS and by
how much: ring p50 ÷ floor p50 ≤ 1.5 (spin family, hybrid) and ≤ 1.2
(futex, semaphore); 64 B streaming ≥ 10 M frames/s (spin, hybrid) and
≥ 5 M/s (semaphore); 3.1 MB streaming ≥ 0.8 × memcpy; relay p50 ≤ 1.3 ×
its floor at every rate. They never change the exit status.

Exit status: 0 when every measurement ran, 2 when one failed (the others
are still reported) or on bad arguments.
`

// benchStages are the stages in the order they run.
var benchStages = []string{"floors", "pingpong", "stream", "relay", "idle"}

type benchOptions struct {
	quick          bool
	smoke          bool // hidden: tiny counts, for the tests
	stages         []string
	notifiers      []string
	pingSizes      []int
	streamSizes    []int
	warmup         time.Duration
	floorTime      time.Duration
	pingTime       time.Duration
	streamTime     time.Duration
	relayNotifiers []string
	relayRates     []int
	relayWarmup    int
	relayFrames    int
	relayBuffer    uint64
	idleTime       time.Duration
	maxRounds      int // hidden: cap on recorded round trips per measurement
	pin            bool
	outDir         string
}

func (o *benchOptions) has(stage string) bool { return slices.Contains(o.stages, stage) }

// listValue is a comma-separated list flag.
type listValue struct{ p *[]string }

func (v listValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(*v.p, ",")
}

func (v listValue) Set(s string) error {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return fmt.Errorf("empty list %q", s)
	}
	*v.p = out
	return nil
}

func benchUsageText() string {
	return fmt.Sprintf(benchUsage, strings.Join(ring.NotifierNames(), ","))
}

func parseBenchArgs(args []string) (*benchOptions, error) {
	o := &benchOptions{relayBuffer: 256 << 20, maxRounds: 5_000_000}
	var stages, notifiers, pingSizes, streamSizes, relayNotifiers, relayRates []string
	fs := newFlagSet("bench")
	fs.BoolVar(&o.quick, "quick", false, "")
	fs.BoolVar(&o.smoke, "smoke", false, "")
	fs.Var(listValue{&stages}, "stages", "")
	fs.Var(listValue{&notifiers}, "notifiers", "")
	fs.Var(listValue{&pingSizes}, "pingpong-sizes", "")
	fs.Var(listValue{&streamSizes}, "stream-sizes", "")
	fs.DurationVar(&o.warmup, "warmup", 200*time.Millisecond, "")
	fs.DurationVar(&o.floorTime, "floor-time", 500*time.Millisecond, "")
	fs.DurationVar(&o.pingTime, "pingpong-time", time.Second, "")
	fs.DurationVar(&o.streamTime, "stream-time", time.Second, "")
	fs.Var(listValue{&relayNotifiers}, "relay-notifiers", "")
	fs.Var(listValue{&relayRates}, "relay-fps", "")
	fs.IntVar(&o.relayWarmup, "relay-warmup", 20, "")
	fs.IntVar(&o.relayFrames, "relay-frames", 200, "")
	fs.Var(sizeValue{&o.relayBuffer}, "relay-buffer", "")
	fs.DurationVar(&o.idleTime, "idle-time", 3*time.Second, "")
	fs.IntVar(&o.maxRounds, "max-rounds", o.maxRounds, "")
	fs.BoolVar(&o.pin, "pin", false, "")
	fs.StringVar(&o.outDir, "out", "", "")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", pos)
	}

	// --quick and --smoke change the defaults of what was not given.
	preset := func(name string, set func()) {
		if !flagWasSet(fs, name) {
			set()
		}
	}
	switch {
	case o.smoke:
		preset("warmup", func() { o.warmup = 5 * time.Millisecond })
		preset("floor-time", func() { o.floorTime = 10 * time.Millisecond })
		preset("pingpong-time", func() { o.pingTime = 20 * time.Millisecond })
		preset("stream-time", func() { o.streamTime = 20 * time.Millisecond })
		preset("relay-warmup", func() { o.relayWarmup = 1 })
		preset("relay-frames", func() { o.relayFrames = 3 })
		preset("relay-buffer", func() { o.relayBuffer = 16 << 20 })
		preset("idle-time", func() { o.idleTime = 50 * time.Millisecond })
		preset("max-rounds", func() { o.maxRounds = 2000 })
	case o.quick:
		preset("warmup", func() { o.warmup = 50 * time.Millisecond })
		preset("floor-time", func() { o.floorTime = 100 * time.Millisecond })
		preset("pingpong-time", func() { o.pingTime = 150 * time.Millisecond })
		preset("stream-time", func() { o.streamTime = 150 * time.Millisecond })
		preset("relay-warmup", func() { o.relayWarmup = 5 })
		preset("relay-frames", func() { o.relayFrames = 30 })
		preset("idle-time", func() { o.idleTime = time.Second })
	}

	if o.stages, err = checkList("stage", orDefault(stages, benchStages), benchStages); err != nil {
		return nil, err
	}
	if o.notifiers, err = checkList("notifier", orDefault(notifiers, ring.NotifierNames()), ring.NotifierNames()); err != nil {
		return nil, err
	}
	if o.relayNotifiers, err = checkList("notifier", orDefault(relayNotifiers, []string{"semaphore"}), ring.NotifierNames()); err != nil {
		return nil, err
	}
	if o.pingSizes, err = parseSizes(orDefault(pingSizes, []string{"64", "1KiB"})); err != nil {
		return nil, err
	}
	if o.streamSizes, err = parseSizes(orDefault(streamSizes, []string{"64", "1KiB", "64KiB", "1MiB", strconv.Itoa(relayFrameBytes)})); err != nil {
		return nil, err
	}
	rates := orDefault(relayRates, []string{"30", "60", "120", "240", "500", "1000"})
	for _, s := range rates {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 1_000_000 {
			return nil, fmt.Errorf("--relay-fps: bad rate %q", s)
		}
		o.relayRates = append(o.relayRates, n)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
		zero bool // 0 allowed
	}{{"warmup", o.warmup, true}, {"floor-time", o.floorTime, false}, {"pingpong-time", o.pingTime, false},
		{"stream-time", o.streamTime, false}, {"idle-time", o.idleTime, false}} {
		if d.v < 0 || (d.v == 0 && !d.zero) {
			return nil, fmt.Errorf("--%s %v: must be > 0", d.name, d.v)
		}
	}
	switch {
	case o.relayWarmup < 0:
		return nil, fmt.Errorf("--relay-warmup %d: must be >= 0", o.relayWarmup)
	case o.relayFrames < 1:
		return nil, fmt.Errorf("--relay-frames %d: must be >= 1", o.relayFrames)
	case o.maxRounds < 1:
		return nil, fmt.Errorf("--max-rounds %d: must be >= 1", o.maxRounds)
	case o.relayBuffer < 2*(relayFrameBytes+16):
		return nil, fmt.Errorf("--relay-buffer %d: must hold two %d-byte frames", o.relayBuffer, relayFrameBytes)
	}
	return o, nil
}

func orDefault(list, def []string) []string {
	if len(list) == 0 {
		return def
	}
	return list
}

// checkList expands "all" and rejects names not in known, keeping the
// order given and dropping repeats.
func checkList(what string, list, known []string) ([]string, error) {
	var out []string
	for _, s := range list {
		if s == "all" {
			for _, k := range known {
				if !slices.Contains(out, k) {
					out = append(out, k)
				}
			}
			continue
		}
		if !slices.Contains(known, s) {
			return nil, fmt.Errorf("unknown %s %q (available: %s)", what, s, strings.Join(known, ", "))
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func parseSizes(list []string) ([]int, error) {
	var out []int
	for _, s := range list {
		n, err := parseSize(s)
		if err != nil {
			return nil, err
		}
		if n == 0 || n > maxFrameBytes {
			return nil, fmt.Errorf("frame size %q: want 1 byte to %s", s, fmtBytes(maxFrameBytes))
		}
		if !slices.Contains(out, int(n)) {
			out = append(out, int(n))
		}
	}
	return out, nil
}

// benchStep is one measurement.
type benchStep struct {
	label string
	run   func() error
}

// benchStage is a stage's steps and the table that shows them.
type benchStage struct {
	steps []benchStep
	print func(io.Writer, *benchResults)
}

// runBench is `zerobuffer bench`.
func runBench(args []string, stdout, stderr io.Writer) int {
	o, err := parseBenchArgs(args)
	if err != nil {
		return handleParseError("bench", err, benchUsageText(), stdout, stderr)
	}
	ctx, stop := signalContext()
	defer stop()
	e := newEngine(ctx)
	stopKill := context.AfterFunc(ctx, e.killAll)
	defer stopKill()

	began := time.Now()
	res := &benchResults{
		Tool:           "zerobuffer bench",
		StartedAt:      began.UTC().Format("2006-01-02 15:04:05 UTC"),
		Machine:        probeMachine(),
		Settings:       o.settings(),
		PingPong:       []pingPongResult{},
		Stream:         []streamResult{},
		Relay:          []relayResult{},
		RelayPacedCopy: []pacedCopy{},
		Idle:           []idleResult{},
		Goals:          []goalResult{},
		Errors:         []string{},
	}
	res.Floors.PingPong, res.Floors.Memcpy = []floorResult{}, []memcpyResult{}
	res.Machine.PinNote = "no (--pin pins this process to core 0 and the other process to core 1)"
	if o.pin {
		pin, note := e.pin()
		res.Machine.PinNote = note
		if pin != nil {
			defer pin.unpin()
			res.Machine.Pinned = true
		}
	}
	printHeader(stdout, res)
	if o.quick || o.smoke {
		fmt.Fprintln(stdout, "run:     --quick: short measurements, rough figures")
	}

	plan := buildPlan(o, e, res)
	total := 0
	for _, st := range plan {
		total += len(st.steps)
	}
	prog := newProgress(stderr, total)
	for _, st := range plan {
		ran := 0
		for _, s := range st.steps {
			if ctx.Err() != nil {
				break
			}
			prog.step(s.label)
			if err := s.run(); err != nil {
				msg := fmt.Sprintf("%s: %v", s.label, err)
				if ctx.Err() != nil {
					msg = fmt.Sprintf("%s: interrupted", s.label)
				}
				res.Errors = append(res.Errors, msg)
				prog.note("error: %s", msg)
			}
			prog.stepDone()
			ran++
		}
		if ran > 0 {
			res.Goals = evaluateGoals(res)
			prog.clear()
			st.print(stdout, res)
		}
	}
	prog.clear()
	res.Goals = evaluateGoals(res)
	res.Machine.LoadEnd = loadAverage()
	res.DurationSeconds = time.Since(began).Seconds()
	printGoals(stdout, res)
	printErrors(stdout, res)
	fmt.Fprintf(stdout, "\ntook %s; load average at the end %s\n", time.Since(began).Round(100*time.Millisecond), res.Machine.LoadEnd)
	if o.outDir != "" {
		files, err := writeOutputs(o.outDir, res)
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
			fmt.Fprintf(stderr, "zerobuffer bench: %v\n", err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", strings.Join(files, ", "))
	}
	flush(stdout)
	if len(res.Errors) > 0 || ctx.Err() != nil {
		return exitError
	}
	return exitOK
}

func (o *benchOptions) settings() benchSettings {
	return benchSettings{
		Quick:            o.quick || o.smoke,
		Stages:           o.stages,
		Notifiers:        o.notifiers,
		PingPongSizes:    o.pingSizes,
		StreamSizes:      o.streamSizes,
		FloorSeconds:     o.floorTime.Seconds(),
		WarmupSeconds:    o.warmup.Seconds(),
		PingPongSeconds:  o.pingTime.Seconds(),
		StreamSeconds:    o.streamTime.Seconds(),
		RelayNotifiers:   o.relayNotifiers,
		RelayRates:       o.relayRates,
		RelayWarmup:      o.relayWarmup,
		RelayFrames:      o.relayFrames,
		RelayFrameBytes:  relayFrameBytes,
		RelayBufferBytes: o.relayBuffer,
		IdleSeconds:      o.idleTime.Seconds(),
		Pin:              o.pin,
	}
}

// pin pins this process to parentCore and makes the children pin
// themselves to childCore; nil and the reason when it cannot.
func (e *engine) pin() (*pinning, string) {
	if runtime.NumCPU() < 2 {
		return nil, fmt.Sprintf("no: --pin needs 2 cores, this machine has %d", runtime.NumCPU())
	}
	p, err := pinProcess(parentCore)
	if err != nil {
		return nil, fmt.Sprintf("no: %v", err)
	}
	if !p.orig.IsSet(childCore) {
		p.unpin()
		return nil, fmt.Sprintf("no: core %d is not available to this process", childCore)
	}
	e.childMask, e.pinChild = &p.orig, true
	return p, fmt.Sprintf("yes: this process on core %d, the other process on core %d (GOMAXPROCS kept at %d)",
		parentCore, childCore, runtime.GOMAXPROCS(0))
}

// buildPlan lists the steps of the stages o asks for. Each step appends
// its figures to res; ratios use the floors measured before them.
func buildPlan(o *benchOptions, e *engine, res *benchResults) []benchStage {
	var plan []benchStage
	if o.has("floors") {
		var steps []benchStep
		warmRounds := 1000
		if o.smoke {
			warmRounds = 20
		}
		for _, mech := range []string{"spin", "futex", "semaphore"} {
			steps = append(steps, benchStep{"floor " + mech + " ping-pong", func() error {
				s, err := e.floorPingPong(mech, warmRounds, o.floorTime, o.maxRounds)
				if err == nil {
					res.Floors.PingPong = append(res.Floors.PingPong, floorResult{Mechanism: mech, Latency: s})
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
		plan = append(plan, benchStage{steps, printFloors})
	}
	if o.has("pingpong") {
		var steps []benchStep
		for _, size := range o.pingSizes {
			for _, n := range o.notifiers {
				steps = append(steps, benchStep{"ping-pong " + n + " " + fmtBytes(size), func() error {
					fig, err := e.pingPong(n, size, o.warmup, o.pingTime, o.maxRounds)
					if err == nil {
						res.PingPong = append(res.PingPong, pingPongResultOf(res, n, size, fig))
					}
					return err
				}})
			}
		}
		plan = append(plan, benchStage{steps, printPingPong})
	}
	if o.has("stream") {
		var steps []benchStep
		for _, size := range o.streamSizes {
			for _, n := range o.notifiers {
				steps = append(steps, benchStep{"stream " + n + " " + fmtBytes(size), func() error {
					fig, err := e.stream(n, size, o.warmup, o.streamTime)
					if err == nil {
						res.Stream = append(res.Stream, streamResultOf(res, n, size, fig))
					}
					return err
				}})
			}
		}
		plan = append(plan, benchStage{steps, printStream})
	}
	if o.has("relay") {
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
		}
		plan = append(plan, benchStage{steps, printRelay})
	}
	if o.has("idle") {
		var steps []benchStep
		for _, n := range o.notifiers {
			steps = append(steps, benchStep{"idle " + n, func() error {
				cpu, wall, err := e.idle(n, o.idleTime)
				if err == nil {
					pct := 100 * ratio(cpu.Seconds(), wall.Seconds())
					res.Idle = append(res.Idle, idleResult{Notifier: n, Seconds: wall.Seconds(), CPUSeconds: cpu.Seconds(),
						CPUPercent: pct, Note: idleNote(n, pct)})
				}
				return err
			}})
		}
		plan = append(plan, benchStage{steps, printIdle})
	}
	return plan
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// floorOf returns the floor of mechanism mech, if it was measured.
func floorOf(r *benchResults, mech string) (latencySummary, bool) {
	for _, f := range r.Floors.PingPong {
		if f.Mechanism == mech {
			return f.Latency, true
		}
	}
	return latencySummary{}, false
}

func memcpyOf(r *benchResults, size int) (memcpyResult, bool) {
	for _, m := range r.Floors.Memcpy {
		if m.FrameBytes == size {
			return m, true
		}
	}
	return memcpyResult{}, false
}

func pingPongResultOf(r *benchResults, notifier string, size int, fig pingPongFigures) pingPongResult {
	p := pingPongResult{Notifier: notifier, FrameBytes: size, Latency: fig.lat, Floor: floorFor(notifier),
		PingCPUNsPerRT: fig.pingCPUPerRTNs, EchoCPUNsPerRT: fig.echoCPUPerRTNs}
	if f, ok := floorOf(r, p.Floor); ok {
		p.FloorP50Ns, p.FloorP99Ns = f.P50Ns, f.P99Ns
		p.P50OverFloor, p.P99OverFloor = ratio(fig.lat.P50Ns, f.P50Ns), ratio(fig.lat.P99Ns, f.P99Ns)
	}
	if f, ok := floorOf(r, "semaphore"); ok && notifier == "semaphore" {
		p.P50OverSemFloor, p.P99OverSemFloor = ratio(fig.lat.P50Ns, f.P50Ns), ratio(fig.lat.P99Ns, f.P99Ns)
	}
	return p
}

func streamResultOf(r *benchResults, notifier string, size int, fig streamFigures) streamResult {
	s := streamResult{Notifier: notifier, FrameBytes: size, Frames: fig.frames, Seconds: fig.seconds,
		FramesPerSec: fig.framesPerSec, GBPerSec: gbPerSecond(fig.framesPerSec, size),
		ReaderCPUSecPerMFrames: fig.readerCPUPerMSec, WriterCPUSecPerMFrames: fig.writerCPUPerMSec}
	if m, ok := memcpyOf(r, size); ok {
		s.MemcpyGBPerSec = m.GBPerSec
		s.OverMemcpy = ratio(s.GBPerSec, m.GBPerSec)
	}
	return s
}

func relayResultOf(r *benchResults, notifier string, f relayFigures) relayResult {
	rl := relayResult{Notifier: notifier, FPS: f.fps, SentFPS: f.sentFPS, FrameBytes: relayFrameBytes, Latency: f.lat,
		FloorMechanism: floorFor(notifier), Legs: f.legs}
	m, okCopy := memcpyOf(r, relayFrameBytes)
	fl, okWake := floorOf(r, rl.FloorMechanism)
	if okCopy && okWake {
		// A round trip of the floor is two wake-ups.
		rl.FloorCopyNs, rl.FloorWakeNs = m.NsPerCopy, fl.P50Ns/2
		rl.FloorNs = 2*rl.FloorCopyNs + 2*rl.FloorWakeNs
		rl.P50OverFloor = ratio(f.lat.P50Ns, rl.FloorNs)
		for _, pc := range r.RelayPacedCopy {
			if pc.FPS == f.fps {
				rl.PacedCopyNs = pc.P50Ns
				rl.PacedFloorNs = 2*pc.P50Ns + 2*rl.FloorWakeNs
				rl.P50OverPacedFloor = ratio(f.lat.P50Ns, rl.PacedFloorNs)
			}
		}
	}
	return rl
}
