package bench

// The options of a bench run: the usage text, the flags, their presets
// (--quick, and the tests' hidden --smoke) and their checks.

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

const benchUsage = `Usage: zerobuffer bench [options]

Measures every wait strategy (notifier) on the same ring, each figure next
to the floor of its raw mechanism measured in the same run. The other
process of each measurement is this binary run again: no separate build.
The defaults take about 6 minutes on a 2-core machine (the open-loop and
wake stages about 3 of them); --quick under a minute.

Stages, in this order:
  floors    raw round trips between two processes, no ring: a cache line
            bounced by polling (spin), a futex ping-pong, a glibc-compatible
            semaphore ping-pong without spinning; and memcpy into a warm
            shared mapping for each frame size
  pingpong  round trips through a request ring and a response ring (the
            other process echoes), per frame size and notifier: min, p50,
            p90, p99, p99.9, max (HDR histogram), and p50 and p99 over the
            floor of the notifier's mechanism (spin floor for spin, yield,
            backoff, hybrid and adaptive; futex floor for futex and
            semaphore; the semaphore also over the semaphore floor), the
            floor measured again in rounds alternating with the ring's; no
            verdict when the two ran with different placements, or when
            the rounds' ratios are more than 2× apart ("unstable")
  stream    a writer process streaming into a reader process, per frame
            size and notifier: frames/s, GB/s, ratio to memcpy of the same
            size, CPU seconds per million frames on each side
  relay     3,110,416-byte frames (1080p YUV420 and a 16-byte timestamp)
            from process 1 into buffer A, copied by a relay process into
            buffer B, read back by process 1, paced at each rate: min, avg,
            p50, p90, p99, max next to the floor (2 copies + 2 wake-ups);
            then zero-copy: process 1 reserves each frame in A and stamps
            it in place, so the relay's is the only copy (floor: 1 copy +
            2 wake-ups), shown side by side with the copying relay
  idle      CPU used by a reader waiting on an empty ring
  openloop  64 B frames at fixed offered rates on a schedule that does not
            wait for the reader, each stamped with its intended send time
            (CLOCK_MONOTONIC): one-way latency = the reader's clock − the
            intended time, the intended-time correction for coordinated
            omission (a late writer sends at once with the intended stamp).
            Per notifier and rate: p50, p99, p99.9, max, the p99 from the
            actual send, CPU per frame of the reader (this process) and of
            the writer (the child; its pacing spin shown apart), and
            saturation: a rate the notifier does not sustain is reported,
            and the rates above it are not run
  wake      the latency of the first 64 B frame after an idle gap, per
            notifier and gap: min, p50, p99, max
The tables of pingpong, stream, openloop and wake show each notifier's
counters (notify.Stats, both processes): wake and sleeping system calls
per frame or round trip, spurious wake-ups, spin polls.

Options:
      --quick                 a short run, under a minute (the CI smoke test)
      --notifiers LIST        notifiers to measure, comma-separated, or all
                              (default all: ` + "%s" + `)
      --stages LIST           stages to run (default floors,pingpong,stream,relay,idle,
                              openloop,wake)
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
      --openloop-rates LIST   offered rates, frames/s (default 1000,10000,100000,1000000)
      --openloop-time DUR     recorded time of each rate (default 1s; --quick 150ms),
                              after the --warmup unrecorded
      --openloop-min-frames N recorded frames of each rate, at least (default 2000;
                              --quick 300)
      --wake-gaps LIST        idle gaps (default 100us,1ms,10ms,100ms,1s;
                              --quick 1ms,100ms)
      --wake-budget DUR       time per gap: samples = DUR ÷ gap (default 3s: 1000,
                              1000, 300, 30, 5 samples; --quick 200ms: 200, 3)
      --wake-min-samples N    at least N samples per gap (default 5; --quick 3)
      --wake-max-samples N    at most N samples per gap (default 1000; --quick 200)
      --pin=MODE              where the two processes of each measurement run
                              (sched_setaffinity), chosen once per run and printed:
                              pair (the default) two distinct CPUs, on different
                              cores when there is a choice; same: both on one
                              CPU; none: wherever the scheduler puts them; both:
                              pair, then the floors and ping-pongs again on one
                              CPU, printed side by side. Each measurement
                              samples where they actually ran
      --rounds N              a ping-pong alternates N short rounds of its floor
                              and of the ring; p50÷floor is the median of the
                              rounds' ratios, with their spread (default 5;
                              --quick 3)
      --out DIR               also write DIR/results.json (everything),
                              DIR/results.csv (a row per measurement, with
                              where it ran and a ping-pong's spread) and SVG
                              charts (ping-pong percentiles, throughput by frame
                              size, relay latency by rate, open-loop latency by
                              rate, open-loop p99 against CPU per frame, latency
                              after idle by gap)
  -h, --help                  this text

Sizes take K/KiB and M/MiB suffixes; durations are Go's (500ms, 2s).

Tables go to stdout, progress to stderr (a bar on a terminal, else a line
per step). Goals are printed next to the figures as PASS or MISS and by
how much: ring p50 ÷ floor p50 ≤ 1.5 (spin family, hybrid, adaptive) and ≤ 1.2
(futex, semaphore); 64 B streaming ≥ 10 M frames/s (spin, hybrid) and
≥ 5 M/s (semaphore); 3.1 MB streaming ≥ 0.8 × memcpy; relay p50 ≤ 1.3 ×
its floor at every rate. They never change the exit status.

Exit status: 0 when every measurement ran, 2 when one failed (the others
are still reported) or on bad arguments.
`

// benchStages are the stages in the order they run.
var benchStages = []string{"floors", "pingpong", "stream", "relay", "idle", "openloop", "wake"}

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
	maxRounds      int    // hidden: cap on recorded round trips per measurement
	pin            string // pair, same or none
	rounds         int    // alternating floor and ring rounds of a ping-pong
	outDir         string
	latencyOptions // the open-loop and wake stages (latency_options.go)
}

func (o *benchOptions) has(stage string) bool { return slices.Contains(o.stages, stage) }

// Usage is the text of --help: the options, the stages, the goals; the
// notifiers it lists are those registered in this program.
func Usage() string {
	return fmt.Sprintf(benchUsage, strings.Join(ring.NotifierNames(), ","))
}

// benchLists are the list flags as given, before their defaults and
// checks.
type benchLists struct {
	stages, notifiers, pingSizes, streamSizes, relayNotifiers, relayRates []string
}

func parseBenchArgs(args []string) (*benchOptions, error) {
	o := &benchOptions{relayBuffer: 256 << 20, maxRounds: 5_000_000, pin: pinPair}
	var l benchLists
	fs := benchFlags(o, &l)
	pos, err := cli.ParseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", pos)
	}
	o.applyPresets(fs)
	if err := o.setLists(l); err != nil {
		return nil, err
	}
	if err := o.setLatencyLists(); err != nil {
		return nil, err
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// benchFlags declares the flags into o and l.
func benchFlags(o *benchOptions, l *benchLists) *flag.FlagSet {
	fs := cli.NewFlagSet("bench")
	fs.BoolVar(&o.quick, "quick", false, "")
	fs.BoolVar(&o.smoke, "smoke", false, "")
	fs.Var(cli.List{P: &l.stages}, "stages", "")
	fs.Var(cli.List{P: &l.notifiers}, "notifiers", "")
	fs.Var(cli.List{P: &l.pingSizes}, "pingpong-sizes", "")
	fs.Var(cli.List{P: &l.streamSizes}, "stream-sizes", "")
	fs.DurationVar(&o.warmup, "warmup", defaultWarmup, "")
	fs.DurationVar(&o.floorTime, "floor-time", 500*time.Millisecond, "")
	fs.DurationVar(&o.pingTime, "pingpong-time", time.Second, "")
	fs.DurationVar(&o.streamTime, "stream-time", time.Second, "")
	fs.Var(cli.List{P: &l.relayNotifiers}, "relay-notifiers", "")
	fs.Var(cli.List{P: &l.relayRates}, "relay-fps", "")
	fs.IntVar(&o.relayWarmup, "relay-warmup", 20, "")
	fs.IntVar(&o.relayFrames, "relay-frames", 200, "")
	fs.Var(cli.Size{P: &o.relayBuffer}, "relay-buffer", "")
	fs.DurationVar(&o.idleTime, "idle-time", 3*time.Second, "")
	fs.IntVar(&o.maxRounds, "max-rounds", o.maxRounds, "")
	fs.Var(pinValue{&o.pin}, "pin", "")
	fs.IntVar(&o.rounds, "rounds", 5, "")
	fs.StringVar(&o.outDir, "out", "", "")
	latencyFlags(fs, &o.latencyOptions)
	return fs
}

// applyPresets lets --quick and --smoke change the defaults of what was
// not given.
func (o *benchOptions) applyPresets(fs *flag.FlagSet) {
	preset := func(name string, set func()) {
		if !cli.WasSet(fs, name) {
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
		preset("rounds", func() { o.rounds = 2 })
	case o.quick:
		preset("warmup", func() { o.warmup = 50 * time.Millisecond })
		preset("floor-time", func() { o.floorTime = 100 * time.Millisecond })
		preset("pingpong-time", func() { o.pingTime = 150 * time.Millisecond })
		preset("stream-time", func() { o.streamTime = 150 * time.Millisecond })
		preset("relay-warmup", func() { o.relayWarmup = 5 })
		preset("relay-frames", func() { o.relayFrames = 30 })
		preset("idle-time", func() { o.idleTime = time.Second })
		preset("rounds", func() { o.rounds = 3 })
	}
	o.latencyPresets(fs, o.quick, o.smoke)
}

// setLists fills in the lists' defaults and checks their items; the
// notifiers are those registered in this program (ring.NotifierNames).
func (o *benchOptions) setLists(l benchLists) error {
	var err error
	if o.stages, err = checkList("stage", orDefault(l.stages, benchStages), benchStages); err != nil {
		return err
	}
	if o.notifiers, err = checkList("notifier", orDefault(l.notifiers, ring.NotifierNames()), ring.NotifierNames()); err != nil {
		return err
	}
	if o.relayNotifiers, err = checkList("notifier", orDefault(l.relayNotifiers, []string{"semaphore"}), ring.NotifierNames()); err != nil {
		return err
	}
	if o.pingSizes, err = parseSizes(orDefault(l.pingSizes, []string{"64", "1KiB"})); err != nil {
		return err
	}
	if o.streamSizes, err = parseSizes(orDefault(l.streamSizes, []string{"64", "1KiB", "64KiB", "1MiB", strconv.Itoa(relayFrameBytes)})); err != nil {
		return err
	}
	for _, s := range orDefault(l.relayRates, []string{"30", "60", "120", "240", "500", "1000"}) {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 1_000_000 {
			return fmt.Errorf("--relay-fps: bad rate %q", s)
		}
		o.relayRates = append(o.relayRates, n)
	}
	return nil
}

// check rejects durations and counts out of range.
func (o *benchOptions) check() error {
	for _, d := range []struct {
		name string
		v    time.Duration
		zero bool // 0 allowed
	}{{"warmup", o.warmup, true}, {"floor-time", o.floorTime, false}, {"pingpong-time", o.pingTime, false},
		{"stream-time", o.streamTime, false}, {"idle-time", o.idleTime, false}} {
		if d.v < 0 || (d.v == 0 && !d.zero) {
			return fmt.Errorf("--%s %v: must be > 0", d.name, d.v)
		}
	}
	switch {
	case o.relayWarmup < 0:
		return fmt.Errorf("--relay-warmup %d: must be >= 0", o.relayWarmup)
	case o.relayFrames < 1:
		return fmt.Errorf("--relay-frames %d: must be >= 1", o.relayFrames)
	case o.rounds < 1 || o.rounds > 100:
		return fmt.Errorf("--rounds %d: want 1 to 100", o.rounds)
	case o.maxRounds < 1:
		return fmt.Errorf("--max-rounds %d: must be >= 1", o.maxRounds)
	case o.relayBuffer < 2*(relayFrameBytes+16):
		return fmt.Errorf("--relay-buffer %d: must hold two %d-byte frames", o.relayBuffer, relayFrameBytes)
	}
	return nil
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
		n, err := cli.ParseSize(s)
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
