package bench

// The charts of the open-loop and wake stages, in the style of chart.go:
// latency by offered rate, latency against CPU per frame (the Pareto
// view: lower and further left is better on both counts), and latency
// after an idle gap.

import (
	"fmt"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// durationTicks labels a log axis of nanoseconds in time units: 1, 2 and
// 5 times each power of ten, as "500 ns", "2 µs", "10 ms".
func durationTicks(lo, hi float64) []plot.Tick {
	ticks := logTicks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = shortNs(ticks[i].Value)
		}
	}
	return ticks
}

// shortNs writes a tick's duration: 500 → "500 ns", 2e6 → "2 ms".
func shortNs(ns float64) string {
	g := func(v float64, unit string) string { return strconv.FormatFloat(v, 'g', 3, 64) + " " + unit }
	switch {
	case ns >= 1e9:
		return g(ns/1e9, "s")
	case ns >= 1e6:
		return g(ns/1e6, "ms")
	case ns >= 1e3:
		return g(ns/1e3, "µs")
	}
	return g(ns, "ns")
}

// logNs makes an axis logarithmic, labelled in time units.
func logNs(a *plot.Axis) {
	a.Scale = plot.LogScale{}
	a.Tick.Marker = plot.TickerFunc(durationTicks)
}

// namedChart is a chart and its file name.
type namedChart struct {
	file  string
	chart *chart
}

// latencyCharts are the charts of the open-loop and wake stages that
// have figures.
func latencyCharts(r *benchResults) []namedChart {
	return []namedChart{
		{"openloop-latency.svg", openLoopLatencyChart(r)},
		{"openloop-pareto.svg", openLoopParetoChart(r)},
		{"wake-latency.svg", wakeChart(r)},
	}
}

// openLoopNames lists the notifiers of the measured open-loop rows, in
// order of appearance: a notifier keeps its colour in both charts.
func openLoopNames(rows []openLoopResult) []string {
	var names []string
	for _, o := range rows {
		if !o.Skipped && o.Latency.Count > 0 && !slices.Contains(names, o.Notifier) {
			names = append(names, o.Notifier)
		}
	}
	return names
}

// rateTicks labels the offered rates of an axis.
func rateTicks(rates []float64) []plot.Tick {
	ticks := make([]plot.Tick, len(rates))
	for i, v := range rates {
		ticks[i] = plot.Tick{Value: v, Label: tickLabel(v)}
	}
	return ticks
}

// openLoopLatencyChart: x the offered rate (frames/s, log), y the
// latency (log); per notifier p50 solid and p99 dotted in one
// colour.
func openLoopLatencyChart(r *benchResults) *chart {
	names := openLoopNames(r.OpenLoop)
	if len(names) == 0 {
		return nil
	}
	ch := newChart(fmt.Sprintf("Open loop: one-way latency by offered rate, %d B frames (corrected for coordinated omission)", openLoopFrameBytes),
		"offered rate (frames/s, log)", "latency (log)")
	logNs(&ch.p.Y)
	ch.p.X.Scale = plot.LogScale{}
	var rates []float64
	for _, o := range r.OpenLoop {
		if !o.Skipped && !slices.Contains(rates, float64(o.OfferedFPS)) {
			rates = append(rates, float64(o.OfferedFPS))
		}
	}
	slices.Sort(rates)
	ch.p.X.Tick.Marker = plot.ConstantTicks(rateTicks(rates))
	logRange(&ch.p.X, rates[0], rates[len(rates)-1])
	for i, n := range names {
		var p50, p99 plotter.XYs
		for _, o := range r.OpenLoop {
			if o.Notifier != n || o.Skipped || o.Latency.Count == 0 {
				continue
			}
			x := float64(o.OfferedFPS)
			p50 = append(p50, plotter.XY{X: x, Y: o.Latency.P50Ns})
			p99 = append(p99, plotter.XY{X: x, Y: o.Latency.P99Ns})
		}
		ch.add(n+" p50", p50, i, solid)
		ch.add(n+" p99", p99, i, dotted)
	}
	return ch
}

// openLoopParetoChart: x the CPU per frame of both processes without the
// writer's pacing spin (log), y the p99 (log); a point per
// notifier and rate, a notifier's points joined from its lowest rate to
// its highest.
func openLoopParetoChart(r *benchResults) *chart {
	names := openLoopNames(r.OpenLoop)
	if len(names) == 0 {
		return nil
	}
	ch := newChart("Open loop: p99 latency against CPU per frame (a point per rate, joined lowest → highest)",
		"CPU per frame, both processes, pacing spin excluded (log)", "p99 latency (log)")
	logNs(&ch.p.Y)
	logNs(&ch.p.X)
	lo, hi := 0.0, 0.0
	for i, n := range names {
		var pts plotter.XYs
		for _, o := range r.OpenLoop {
			if o.Notifier != n || o.Skipped || o.Latency.Count == 0 || !(o.NotifierCPUNsPerFrame > 0) {
				continue
			}
			x := o.NotifierCPUNsPerFrame
			pts = append(pts, plotter.XY{X: x, Y: o.Latency.P99Ns})
			if lo == 0 || x < lo {
				lo = x
			}
			hi = max(hi, x)
		}
		ch.add(n, pts, i, solid)
	}
	if lo == 0 {
		return nil
	}
	logRange(&ch.p.X, lo, max(hi, lo*10))
	return ch
}

// wakeChart: x the idle gap (log), y the latency of the first frame
// after it (log); per notifier p50 solid and p99 dotted.
func wakeChart(r *benchResults) *chart {
	if len(r.Wake) == 0 {
		return nil
	}
	ch := newChart(fmt.Sprintf("Wake after idle: latency of the first %d B frame after a gap", openLoopFrameBytes),
		"idle gap (log)", "latency (log)")
	logNs(&ch.p.Y)
	ch.p.X.Scale = plot.LogScale{}
	gaps := wakeGapsOf(r.Wake)
	ticks := make([]plot.Tick, len(gaps))
	for i, g := range gaps {
		ticks[i] = plot.Tick{Value: float64(g), Label: shortNs(float64(g))}
	}
	ch.p.X.Tick.Marker = plot.ConstantTicks(ticks)
	logRange(&ch.p.X, float64(gaps[0]), float64(gaps[len(gaps)-1]))
	var names []string
	for _, k := range r.Wake {
		if !slices.Contains(names, k.Notifier) {
			names = append(names, k.Notifier)
		}
	}
	for i, n := range names {
		var p50, p99 plotter.XYs
		for _, k := range r.Wake {
			if k.Notifier != n || k.Latency.Count == 0 {
				continue
			}
			p50 = append(p50, plotter.XY{X: float64(k.GapNs), Y: k.Latency.P50Ns})
			p99 = append(p99, plotter.XY{X: float64(k.GapNs), Y: k.Latency.P99Ns})
		}
		ch.add(n+" p50", p50, i, solid)
		ch.add(n+" p99", p99, i, dotted)
	}
	return ch
}
