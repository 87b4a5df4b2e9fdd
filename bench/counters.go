package bench

// Counters next to the figures: the notify.Stats of every side of a
// measurement, taken over its measured window, and the few figures per
// operation (frame or round trip) that say why a latency or a CPU cost
// is what it is: wake system calls, sleeping system calls, spurious
// wake-ups, spin polls.

import (
	"fmt"
	"io"
	"strconv"

	"github.com/zerobuffer/zerobuffer-go/notify"
)

// OpCounters are the notifier counters of one measurement (see
// notify.Stats), over its measured window. Readers sums the
// sides that wait for data (and post space), Writers the sides that post
// data (and wait for space): in a ping-pong, each process has one of
// each. The per-operation figures count both.
type OpCounters struct {
	Ops     int64        `json:"ops"` // frames (stream, open loop, wake) or round trips (ping-pong)
	Readers notify.Stats `json:"readers"`
	Writers notify.Stats `json:"writers"`
	// WakesPerOp: wake system calls (FUTEX_WAKE) of every side per
	// operation, posts of data and of space.
	WakesPerOp float64 `json:"wakes_per_op"`
	// SleepsPerOp: sleeping system calls of every side per operation.
	SleepsPerOp float64 `json:"sleeps_per_op"`
	// SleptWaitsPerOp: waits that slept at least once, per operation.
	SleptWaitsPerOp float64 `json:"slept_waits_per_op"`
	// Spurious: returns from a sleep that found nothing, in all.
	Spurious uint64 `json:"spurious"`
	// SpinsPerOp: spin polls of every side per operation.
	SpinsPerOp float64 `json:"spins_per_op"`
}

// newOpCounters derives the per-operation figures of readers' and
// writers' counters over ops operations; nil when nothing was counted
// (a notifier that keeps no counters still has the ring's Frames).
func newOpCounters(ops int64, readers, writers notify.Stats) *OpCounters {
	if ops <= 0 {
		return nil
	}
	all := readers.Add(writers)
	per := func(v uint64) float64 { return float64(v) / float64(ops) }
	return &OpCounters{
		Ops: ops, Readers: readers, Writers: writers,
		WakesPerOp:      per(all.Wakes),
		SleepsPerOp:     per(all.Sleeps),
		SleptWaitsPerOp: per(all.WaitsSlept),
		Spurious:        all.Spurious,
		SpinsPerOp:      per(all.SpinIterations),
	}
}

// statsSub is a − b field by field: the counters of a window, from the
// counters at its end and at its start.
func statsSub(a, b notify.Stats) notify.Stats {
	return notify.Stats{
		Frames:         a.Frames - b.Frames,
		Waits:          a.Waits - b.Waits,
		WaitsAtOnce:    a.WaitsAtOnce - b.WaitsAtOnce,
		WaitsSpun:      a.WaitsSpun - b.WaitsSpun,
		WaitsSlept:     a.WaitsSlept - b.WaitsSlept,
		Polls:          a.Polls - b.Polls,
		Timeouts:       a.Timeouts - b.Timeouts,
		Sleeps:         a.Sleeps - b.Sleeps,
		Spurious:       a.Spurious - b.Spurious,
		SpinIterations: a.SpinIterations - b.SpinIterations,
		Wakes:          a.Wakes - b.Wakes,
		WakesSkipped:   a.WakesSkipped - b.WakesSkipped,
		SpaceBatches:   a.SpaceBatches - b.SpaceBatches,
	}
}

// fmtPerOp shows a count per operation: "0", "0.013", "1.00", "2,351".
func fmtPerOp(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 0.01:
		return strconv.FormatFloat(v, 'f', 4, 64)
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return fmtCount(uint64(v + 0.5))
}

// fmtCount writes 12345 as "12,345".
func fmtCount(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// counterCells are a row's counter columns (counterHeaders), "-" without
// counters.
func counterCells(c *OpCounters) []string {
	if c == nil {
		return []string{missing, missing, missing, missing}
	}
	return []string{fmtPerOp(c.WakesPerOp), fmtPerOp(c.SleepsPerOp), fmtCount(c.Spurious), fmtPerOp(c.SpinsPerOp)}
}

// counterHeaders head the counter columns; op names the operation.
func counterHeaders(op string) []string {
	return []string{">wakes/" + op, ">sleeps/" + op, ">spurious", ">spins/" + op}
}

// counterLegend explains the counter columns under a table.
func counterLegend(w io.Writer, op string) {
	fmt.Fprintf(w, "counters (notify.Stats over the measured window, both processes): wakes/%s: wake system calls\n", op)
	fmt.Fprintf(w, "(FUTEX_WAKE, data and space) per %s; sleeps/%s: sleeping system calls; spurious: sleeps that\n", op, op)
	fmt.Fprintf(w, "returned to nothing; spins/%s: polls while spinning.\n", op)
}

// counterRow is a row of a stage's counter table.
type counterRow struct {
	name  string
	bytes int
	c     *OpCounters
}

// printCounterTable prints a stage's counters below its table: one row
// per measurement, in the table's order.
func printCounterTable(w io.Writer, op string, rows []counterRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w)
	t := newTable(append([]string{"notifier", ">frame", ">" + op + "s", ">slept waits/" + op}, counterHeaders(op)...)...)
	for _, r := range rows {
		ops, slept := missing, missing
		if r.c != nil {
			ops, slept = fmtCount(uint64(r.c.Ops)), fmtPerOp(r.c.SleptWaitsPerOp)
		}
		t.add(append([]string{r.name, fmtBytes(r.bytes), ops, slept}, counterCells(r.c)...)...)
	}
	t.render(w)
	counterLegend(w, op)
}

// withCounters prints a stage's table, then its counter table.
func withCounters(print func(io.Writer, *benchResults), rows func(*benchResults) []counterRow, op string) func(io.Writer, *benchResults) {
	return func(w io.Writer, r *benchResults) {
		print(w, r)
		printCounterTable(w, op, rows(r))
	}
}

func pingPongCounters(r *benchResults) []counterRow {
	var rows []counterRow
	for _, p := range r.PingPong {
		rows = append(rows, counterRow{p.Notifier, p.FrameBytes, p.Counters})
	}
	return rows
}

func streamCounters(r *benchResults) []counterRow {
	var rows []counterRow
	for _, s := range r.Stream {
		rows = append(rows, counterRow{s.Notifier, s.FrameBytes, s.Counters})
	}
	return rows
}
