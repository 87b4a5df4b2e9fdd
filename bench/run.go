package bench

// The run: Main and Run, and the loop over the plan's steps. The plan (plan.go) says what to measure, the engine
// (engine.go, child.go, floors.go) measures, stats.go and goals.go
// compute, report.go and chart.go write.

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
)

// Main is a whole bench program: when this process is a child the bench
// started, it runs the child's role; otherwise it runs the bench with the
// command-line arguments (see Usage). Either way it exits the process.
func Main() {
	RunChild()
	os.Exit(Run(os.Args[1:], os.Stdout, os.Stderr))
}

// Run runs the bench with args (the options of Usage, without a program
// name), writing the tables to stdout and the progress to stderr, and
// returns the exit status: 0 when every measurement ran, 2 when one
// failed (the others are still reported) or on bad arguments. SIGINT and
// SIGTERM stop it cleanly, killing its children.
//
// The children are this program run again (os.Executable), so the
// program must call RunChild (or be Main) before anything else.
func Run(args []string, stdout, stderr io.Writer) int {
	o, err := parseBenchArgs(args)
	if err != nil {
		return cli.HandleParseError("zerobuffer bench", err, Usage(), stdout, stderr)
	}
	ctx, stop := cli.SignalContext()
	defer stop()
	e := NewEngine(ctx)
	defer e.Close()

	began := time.Now()
	res := newResults(o, began)
	if pin := e.pinFor(o.pin, res); pin != nil {
		defer pin.unpin()
	}
	printHeader(stdout, res)
	if o.quick || o.smoke {
		fmt.Fprintln(stdout, "run:     --quick: short measurements, rough figures")
	}
	runPlan(ctx, buildPlan(o, e, res), res, stdout, stderr)
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
	cli.Flush(stdout)
	if len(res.Errors) > 0 || ctx.Err() != nil {
		return cli.ExitError
	}
	return cli.ExitOK
}

// newResults starts the results of a run with o's settings and the
// machine's description; every list is empty rather than null in JSON.
func newResults(o *benchOptions, began time.Time) *benchResults {
	res := &benchResults{
		Tool:           "zerobuffer bench",
		StartedAt:      began.UTC().Format("2006-01-02 15:04:05 UTC"),
		Machine:        probeMachine(),
		Settings:       o.settings(),
		PingPong:       []pingPongResult{},
		Stream:         []streamResult{},
		Relay:          []relayResult{},
		RelayZeroCopy:  []relayResult{},
		RelayPacedCopy: []pacedCopy{},
		Idle:           []idleResult{},
		OpenLoop:       []openLoopResult{},
		Wake:           []wakeResult{},
		Goals:          []goalResult{},
		Errors:         []string{},
	}
	res.Floors.PingPong, res.Floors.Memcpy = []floorResult{}, []memcpyResult{}
	return res
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

// runPlan runs the steps of every stage in order, recording errors
// without stopping, and prints each stage's table once it is done.
func runPlan(ctx context.Context, plan []benchStage, res *benchResults, stdout, stderr io.Writer) {
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
		Rounds:           o.rounds,
		latencySettings:  o.latencyOptions.settings(),
	}
}
