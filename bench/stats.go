package bench

// Statistics of `zerobuffer bench`: latencies go into an HDR histogram
// (1 ns to 10 s, 3 significant digits) and come out as a summary of
// percentiles; ratios and rates are derived here so that the engine only
// measures and the report only prints.

import (
	"math"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The histogram's range and precision: any latency from 1 ns to 10 s, each
// recorded within 0.1 %.
const (
	histLowest  = 1
	histHighest = int64(10 * time.Second)
	histDigits  = 3
)

// latencyHist records latencies. Values outside the range are clamped to
// it (and counted), so a stall of more than 10 s still shows as the max.
type latencyHist struct {
	h       *hdrhistogram.Histogram
	clamped int64
}

func newLatencyHist() *latencyHist {
	return &latencyHist{h: hdrhistogram.New(histLowest, histHighest, histDigits)}
}

// Record adds one latency.
func (l *latencyHist) Record(d time.Duration) { l.RecordNs(int64(d)) }

// RecordNs adds one latency in nanoseconds.
func (l *latencyHist) RecordNs(ns int64) {
	switch {
	case ns < histLowest:
		ns = histLowest
		l.clamped++
	case ns > histHighest:
		ns = histHighest
		l.clamped++
	}
	_ = l.h.RecordValue(ns) // in range by construction
}

// merge adds what o recorded (nil adds nothing).
func (l *latencyHist) merge(o *latencyHist) {
	if o == nil {
		return
	}
	l.h.Merge(o.h)
	l.clamped += o.clamped
}

// Count is the number of latencies recorded.
func (l *latencyHist) Count() int64 { return l.h.TotalCount() }

// Latency summarises the round trips of a measurement (an HDR histogram
// of 1 ns to 10 s, 3 significant digits). Every figure is
// in nanoseconds.
type Latency struct {
	Count  int64   `json:"count"`
	MinNs  float64 `json:"min_ns"`
	AvgNs  float64 `json:"avg_ns"`
	P50Ns  float64 `json:"p50_ns"`
	P90Ns  float64 `json:"p90_ns"`
	P99Ns  float64 `json:"p99_ns"`
	P999Ns float64 `json:"p999_ns"`
	MaxNs  float64 `json:"max_ns"`
}

// Summary returns the percentiles; the zero summary when nothing was
// recorded.
func (l *latencyHist) Summary() Latency {
	if l == nil || l.h.TotalCount() == 0 {
		return Latency{}
	}
	q := func(p float64) float64 { return float64(l.h.ValueAtQuantile(p)) }
	return Latency{
		Count:  l.h.TotalCount(),
		MinNs:  float64(l.h.Min()),
		AvgNs:  l.h.Mean(),
		P50Ns:  q(50),
		P90Ns:  q(90),
		P99Ns:  q(99),
		P999Ns: q(99.9),
		MaxNs:  float64(l.h.Max()),
	}
}

// percentile names and accessors, in the order tables and charts show them.
var percentileNames = []string{"p50", "p90", "p99", "p99.9"}

func (s Latency) percentiles() []float64 {
	return []float64{s.P50Ns, s.P90Ns, s.P99Ns, s.P999Ns}
}

// ratio is a/b, or 0 when either is not a positive finite number (a figure
// that is missing rather than infinite).
func ratio(a, b float64) float64 {
	if !(a > 0) || !(b > 0) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return 0
	}
	return a / b
}

// median is the middle value of v (the mean of the two middle ones for
// an even count), 0 for none. v is not changed.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// perSecond is count events over d, 0 for an empty interval.
func perSecond(count int64, d time.Duration) float64 {
	if d <= 0 || count <= 0 {
		return 0
	}
	return float64(count) / d.Seconds()
}

// secondsPerMillion is CPU seconds per million events.
func secondsPerMillion(cpu time.Duration, count int64) float64 {
	if count <= 0 || cpu < 0 {
		return 0
	}
	return cpu.Seconds() / float64(count) * 1e6
}

// gbPerSecond is bytes/s in GB/s (10^9 bytes).
func gbPerSecond(framesPerSec float64, frameBytes int) float64 {
	return framesPerSec * float64(frameBytes) / 1e9
}
