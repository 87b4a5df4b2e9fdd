package bench

// SVG charts of `zerobuffer bench` (gonum.org/v1/plot): ping-pong latency
// percentiles per notifier, streaming throughput by frame size, relay
// latency by rate. Log scales where the figures span decades.

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

const (
	chartWidth  = 9 * vg.Inch
	chartHeight = 5.5 * vg.Inch
)

// writeCharts draws every chart it has figures for into dir and returns
// the files.
func writeCharts(dir string, r *benchResults) ([]string, error) {
	var files []string
	save := func(name string, ch *chart) error {
		if ch == nil {
			return nil
		}
		path := filepath.Join(dir, name)
		if err := ch.save(path); err != nil {
			return fmt.Errorf("chart %s: %w", path, err)
		}
		files = append(files, path)
		return nil
	}
	for _, size := range pingPongSizes(r) {
		if err := save("pingpong-"+fileSize(size)+".svg", pingPongChart(r, size)); err != nil {
			return files, err
		}
	}
	if err := save("stream-throughput.svg", streamChart(r, false)); err != nil {
		return files, err
	}
	if err := save("stream-frames.svg", streamChart(r, true)); err != nil {
		return files, err
	}
	if err := save("relay-latency.svg", relayChart(r)); err != nil {
		return files, err
	}
	for _, c := range latencyCharts(r) { // latency_chart.go
		if err := save(c.file, c.chart); err != nil {
			return files, err
		}
	}
	return files, nil
}

func fileSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func pingPongSizes(r *benchResults) []int {
	var sizes []int
	for _, p := range r.PingPong {
		if !slices.Contains(sizes, p.FrameBytes) {
			sizes = append(sizes, p.FrameBytes)
		}
	}
	return sizes
}

// chart is a plot with its legend kept apart, to the right of the plot,
// where it hides no line.
type chart struct {
	p   *plot.Plot
	leg plot.Legend
}

func newChart(title, x, y string) *chart {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	return &chart{p: p, leg: leg}
}

func (ch *chart) logY() {
	ch.p.Y.Scale = plot.LogScale{}
	ch.p.Y.Tick.Marker = plot.TickerFunc(logTicks)
}

// logTicks labels 1, 2 and 5 times each power of ten (plot.LogTicks
// labels only the powers, often one or two on a whole axis).
func logTicks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	var ticks []plot.Tick
	for dec := math.Pow10(int(math.Floor(math.Log10(lo)))); dec <= hi; dec *= 10 {
		for m := 1; m < 10; m++ {
			v := dec * float64(m)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = tickLabel(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// tickLabel writes 20000000 as "20 M" and 5000 as "5 k".
func tickLabel(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + " M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + " k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// linearTicks puts about six labelled ticks on a linear axis, at 1, 2 or
// 5 times a power of ten.
func linearTicks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return nil
	}
	raw := (hi - lo) / 6
	mag := math.Pow10(int(math.Floor(math.Log10(raw))))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step/1e6; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 4, 64)})
	}
	return ticks
}

// Line styles: a notifier's figure solid, its tail (p99) dotted, a floor
// dashed.
type lineStyle int

const (
	solid lineStyle = iota
	dotted
	dashed
)

// floorColor draws the floors in greys, apart from the notifiers' colours.
func floorColor(i int) color.Color {
	g := uint8(40 + 50*(i%3))
	return color.RGBA{R: g, G: g, B: g, A: 255}
}

// add adds a series in colour i (a floor's grey for a dashed series),
// skipping points a log scale cannot show; a series with no point left
// is not drawn.
func (ch *chart) add(name string, pts plotter.XYs, i int, style lineStyle) {
	var keep plotter.XYs
	for _, pt := range pts {
		if pt.X > 0 && pt.Y > 0 {
			keep = append(keep, pt)
		}
	}
	if len(keep) == 0 {
		return
	}
	l, s, err := plotter.NewLinePoints(keep)
	if err != nil {
		return
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	s.Color = l.Color
	s.Shape = plotutil.Shape(i)
	switch style {
	case dotted:
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	case dashed:
		l.Color, s.Color = floorColor(i), floorColor(i)
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		l.Width = vg.Points(1)
		s.Shape = draw.CircleGlyph{}
		s.Radius = vg.Points(1.5)
	}
	ch.p.Add(l, s)
	ch.leg.Add(name, l, s)
}

// save draws the plot on the left and the legend on the right of an SVG
// canvas.
func (ch *chart) save(path string) error {
	c := vgsvg.New(chartWidth, chartHeight)
	dc := draw.New(c)
	r := ch.leg.Rectangle(dc)
	// Room for the text in any serif font a viewer substitutes.
	pad := vg.Points(8)
	legW := (r.Max.X-r.Min.X)*1.25 + pad
	plotArea := dc
	plotArea.Max.X -= legW
	ch.p.Draw(plotArea)
	legArea := dc
	legArea.Min.X = dc.Max.X - legW + pad/2
	legArea.Max.Y -= vg.Points(30) // below the title
	ch.leg.Draw(legArea)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// logRange pads a log axis so that the end labels fit.
func logRange(a *plot.Axis, lo, hi float64) {
	a.Min, a.Max = lo/1.4, hi*1.4
}

// pingPongChart: x the percentile, y the latency (µs, log), a line per
// notifier and a dashed line per floor.
func pingPongChart(r *benchResults, size int) *chart {
	labels := append([]string{"min"}, percentileNames...)
	labels = append(labels, "max")
	points := func(l Latency) plotter.XYs {
		vals := append([]float64{l.MinNs}, l.percentiles()...)
		vals = append(vals, l.MaxNs)
		pts := make(plotter.XYs, len(vals))
		for i, v := range vals {
			pts[i] = plotter.XY{X: float64(i + 1), Y: v / 1e3}
		}
		return pts
	}
	ch := newChart(fmt.Sprintf("Ping-pong round trip, %s frames (two rings, two processes)", fmtBytes(size)),
		"percentile", "round trip (µs, log)")
	ch.logY()
	ticks := make([]plot.Tick, len(labels))
	for i, l := range labels {
		ticks[i] = plot.Tick{Value: float64(i + 1), Label: l}
	}
	ch.p.X.Tick.Marker = plot.ConstantTicks(ticks)
	ch.p.X.Min, ch.p.X.Max = 0.7, float64(len(labels))+0.3
	n := 0
	for _, pp := range r.PingPong {
		if pp.FrameBytes != size {
			continue
		}
		ch.add(pp.Notifier, points(pp.Latency), n, solid)
		n++
	}
	if n == 0 {
		return nil
	}
	for i, f := range r.Floors.PingPong {
		ch.add(f.Mechanism+" floor", points(f.Latency), i, dashed)
	}
	return ch
}

// chartSize labels a frame size on an axis: the relay's frame as "3.1 MB".
func chartSize(n int) string {
	if n == relayFrameBytes {
		return "3.1 MB"
	}
	return fmtBytes(n)
}

// streamChart: x the frame size (log), y GB/s or frames/s (log), a line
// per notifier and the memcpy floor dashed.
func streamChart(r *benchResults, frames bool) *chart {
	if len(r.Stream) == 0 {
		return nil
	}
	title, ylabel := "Streaming throughput by frame size (writer process → reader process)", "GB/s (log)"
	if frames {
		title, ylabel = "Streaming frames per second by frame size", "frames/s (log)"
	}
	ch := newChart(title, "frame size (log)", ylabel)
	ch.logY()
	ch.p.X.Scale = plot.LogScale{}
	var sizes []int
	var names []string
	for _, s := range r.Stream {
		if !slices.Contains(sizes, s.FrameBytes) {
			sizes = append(sizes, s.FrameBytes)
		}
		if !slices.Contains(names, s.Notifier) {
			names = append(names, s.Notifier)
		}
	}
	slices.Sort(sizes)
	ticks := make([]plot.Tick, len(sizes))
	for i, s := range sizes {
		ticks[i] = plot.Tick{Value: float64(s), Label: chartSize(s)}
	}
	ch.p.X.Tick.Marker = plot.ConstantTicks(ticks)
	logRange(&ch.p.X, float64(sizes[0]), float64(sizes[len(sizes)-1]))
	byX := func(a, b plotter.XY) int { return int(a.X - b.X) }
	for i, name := range names {
		var pts plotter.XYs
		for _, s := range r.Stream {
			if s.Notifier != name {
				continue
			}
			y := s.GBPerSec
			if frames {
				y = s.FramesPerSec
			}
			pts = append(pts, plotter.XY{X: float64(s.FrameBytes), Y: y})
		}
		slices.SortFunc(pts, byX)
		ch.add(name, pts, i, solid)
	}
	var mem plotter.XYs
	for _, m := range r.Floors.Memcpy {
		if !slices.Contains(sizes, m.FrameBytes) {
			continue
		}
		y := m.GBPerSec
		if frames {
			y = m.CopiesPerSec
		}
		mem = append(mem, plotter.XY{X: float64(m.FrameBytes), Y: y})
	}
	slices.SortFunc(mem, byX)
	ch.add("memcpy floor", mem, 0, dashed)
	return ch
}

// relayChart: x the rate (FPS, log), y the round trip (ms); per notifier
// p50 solid, p99 dotted and the floor dashed, in one colour; the
// zero-copy relay's p50 and floor in another.
func relayChart(r *benchResults) *chart {
	if len(r.Relay) == 0 {
		return nil
	}
	ch := newChart(fmt.Sprintf("Relay round trip, %s frames, by rate", fmtBytes(relayFrameBytes)), "frames per second (log)", "round trip (ms)")
	ch.p.X.Scale = plot.LogScale{}
	var rates []int
	var names []string
	for _, rl := range r.Relay {
		if !slices.Contains(rates, rl.FPS) {
			rates = append(rates, rl.FPS)
		}
		if !slices.Contains(names, rl.Notifier) {
			names = append(names, rl.Notifier)
		}
	}
	slices.Sort(rates)
	ticks := make([]plot.Tick, len(rates))
	for i, f := range rates {
		ticks[i] = plot.Tick{Value: float64(f), Label: fmt.Sprint(f)}
	}
	ch.p.X.Tick.Marker = plot.ConstantTicks(ticks)
	logRange(&ch.p.X, float64(rates[0]), float64(rates[len(rates)-1]))
	ch.p.Y.Min = 0
	ch.p.Y.Tick.Marker = plot.TickerFunc(linearTicks)
	for i, name := range names {
		var p50, p99, fl plotter.XYs
		for _, rl := range r.Relay {
			if rl.Notifier != name {
				continue
			}
			x := float64(rl.FPS)
			p50 = append(p50, plotter.XY{X: x, Y: rl.Latency.P50Ns / 1e6})
			p99 = append(p99, plotter.XY{X: x, Y: rl.Latency.P99Ns / 1e6})
			fl = append(fl, plotter.XY{X: x, Y: rl.FloorNs / 1e6})
		}
		ch.add(name+" p50", p50, i, solid)
		ch.add(name+" p99", p99, i, dotted)
		ch.add(name+" floor", fl, i, dashed)
	}
	// The zero-copy relay, in colours of its own: its p50 and its floor.
	for i, name := range names {
		var p50, fl plotter.XYs
		for _, rl := range r.RelayZeroCopy {
			if rl.Notifier == name {
				p50 = append(p50, plotter.XY{X: float64(rl.FPS), Y: rl.Latency.P50Ns / 1e6})
				fl = append(fl, plotter.XY{X: float64(rl.FPS), Y: rl.FloorNs / 1e6})
			}
		}
		if len(p50) > 0 {
			ch.add(name+" zero-copy p50", p50, len(names)+i, solid)
			ch.add(name+" zero-copy floor", fl, len(names)+i, dashed)
		}
	}
	return ch
}
