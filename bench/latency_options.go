package bench

// The options of the open-loop and wake stages: flags, presets and
// checks, kept apart from options.go's.

import (
	"flag"
	"fmt"
	"strconv"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
)

// latencyOptions are the open-loop and wake stages' options.
type latencyOptions struct {
	openLoopRates     []int
	openLoopTime      time.Duration // recorded time of each rate
	openLoopMinFrames int           // recorded frames of a rate, at least
	wakeGaps          []time.Duration
	wakeBudget        time.Duration // time per gap: samples = budget ÷ gap
	wakeMin, wakeMax  int           // samples per gap

	rateList, gapList []string // as given
}

// Defaults of the open-loop and wake stages.
var (
	defaultOpenLoopRates = []string{"1000", "10000", "100000", "1000000"}
	defaultWakeGaps      = []string{"100us", "1ms", "10ms", "100ms", "1s"}
	quickWakeGaps        = []string{"1ms", "100ms"}
)

// latencyFlags declares the flags of the open-loop and wake stages.
func latencyFlags(fs *flag.FlagSet, o *latencyOptions) {
	fs.Var(cli.List{P: &o.rateList}, "openloop-rates", "")
	fs.DurationVar(&o.openLoopTime, "openloop-time", time.Second, "")
	fs.IntVar(&o.openLoopMinFrames, "openloop-min-frames", 2000, "")
	fs.Var(cli.List{P: &o.gapList}, "wake-gaps", "")
	fs.DurationVar(&o.wakeBudget, "wake-budget", 3*time.Second, "")
	fs.IntVar(&o.wakeMin, "wake-min-samples", wakeMinSamples, "")
	fs.IntVar(&o.wakeMax, "wake-max-samples", wakeMaxSamples, "")
}

// latencyPresets lets --quick and --smoke change what was not given.
func (o *latencyOptions) latencyPresets(fs *flag.FlagSet, quick, smoke bool) {
	preset := func(name string, set func()) {
		if !cli.WasSet(fs, name) {
			set()
		}
	}
	switch {
	case smoke:
		preset("openloop-rates", func() { o.rateList = []string{"1000", "100000"} })
		preset("openloop-time", func() { o.openLoopTime = 10 * time.Millisecond })
		preset("openloop-min-frames", func() { o.openLoopMinFrames = 20 })
		preset("wake-gaps", func() { o.gapList = quickWakeGaps })
		preset("wake-budget", func() { o.wakeBudget = 10 * time.Millisecond })
		preset("wake-min-samples", func() { o.wakeMin = 2 })
		preset("wake-max-samples", func() { o.wakeMax = 10 })
	case quick:
		preset("openloop-time", func() { o.openLoopTime = 150 * time.Millisecond })
		preset("openloop-min-frames", func() { o.openLoopMinFrames = 300 })
		preset("wake-gaps", func() { o.gapList = quickWakeGaps })
		preset("wake-budget", func() { o.wakeBudget = 200 * time.Millisecond })
		preset("wake-min-samples", func() { o.wakeMin = 3 })
		preset("wake-max-samples", func() { o.wakeMax = 200 })
	}
}

// setLatencyLists parses the rate and gap lists, or takes their
// defaults, and checks the rest.
func (o *latencyOptions) setLatencyLists() error {
	o.openLoopRates, o.wakeGaps = nil, nil
	for _, s := range orDefault(o.rateList, defaultOpenLoopRates) {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 || n > 10_000_000 {
			return fmt.Errorf("--openloop-rates: bad rate %q (want 1 to 10000000 frames/s)", s)
		}
		o.openLoopRates = append(o.openLoopRates, n)
	}
	for _, s := range orDefault(o.gapList, defaultWakeGaps) {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Microsecond || d > time.Minute {
			return fmt.Errorf("--wake-gaps: bad gap %q (want 1µs to 1m, e.g. 100us, 1ms)", s)
		}
		o.wakeGaps = append(o.wakeGaps, d)
	}
	switch {
	case o.openLoopTime <= 0:
		return fmt.Errorf("--openloop-time %v: must be > 0", o.openLoopTime)
	case o.openLoopMinFrames < 1:
		return fmt.Errorf("--openloop-min-frames %d: must be >= 1", o.openLoopMinFrames)
	case o.wakeBudget <= 0:
		return fmt.Errorf("--wake-budget %v: must be > 0", o.wakeBudget)
	case o.wakeMin < 1 || o.wakeMax < o.wakeMin:
		return fmt.Errorf("--wake-min-samples %d, --wake-max-samples %d: want 1 <= min <= max", o.wakeMin, o.wakeMax)
	}
	return nil
}

// latencySettings are the open-loop and wake options in results.json.
type latencySettings struct {
	OpenLoopRates     []int   `json:"openloop_offered_fps"`
	OpenLoopSeconds   float64 `json:"openloop_seconds"`
	OpenLoopMinFrames int     `json:"openloop_min_frames"`
	OpenLoopFrame     int     `json:"openloop_frame_bytes"`
	WakeGapsNs        []int64 `json:"wake_gaps_ns"`
	WakeSamples       []int   `json:"wake_samples"`
}

func (o *latencyOptions) settings() latencySettings {
	s := latencySettings{OpenLoopRates: o.openLoopRates, OpenLoopSeconds: o.openLoopTime.Seconds(),
		OpenLoopMinFrames: o.openLoopMinFrames, OpenLoopFrame: openLoopFrameBytes}
	for _, g := range o.wakeGaps {
		s.WakeGapsNs = append(s.WakeGapsNs, int64(g))
		s.WakeSamples = append(s.WakeSamples, wakeSamples(g, o.wakeBudget, o.wakeMin, o.wakeMax))
	}
	return s
}
