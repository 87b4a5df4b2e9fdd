package bench

// The columns results.csv gained with the open-loop and wake stages and
// the counters: appended after csvHeader, blank where they do not apply.
// The new stages' rows are built by column name, so that they fit
// whatever columns csvHeader has.

import (
	"math"
	"strconv"
)

// csvLatencyHeader are the columns after csvHeader.
var csvLatencyHeader = []string{
	"sent_fps", "gap_ns", "gap_seen_ns", "pacing_ns_per_op", "cpu_ns_per_op_without_pacing", "saturated",
	"wakes_per_op", "sleeps_per_op", "slept_waits_per_op", "spurious", "spins_per_op", "note",
}

// csvFullHeader is results.csv's header: csvHeader, then
// csvLatencyHeader.
func csvFullHeader() []string {
	return append(append([]string{}, csvHeader...), csvLatencyHeader...)
}

// csvFloat writes a figure, blank when it is 0 or not finite.
func csvFloat(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// latencyCSV fills a row's latency columns.
func latencyCSV(m map[string]string, l Latency) {
	m["samples"] = strconv.FormatInt(l.Count, 10)
	for col, v := range map[string]float64{"min_ns": l.MinNs, "avg_ns": l.AvgNs, "p50_ns": l.P50Ns, "p90_ns": l.P90Ns,
		"p99_ns": l.P99Ns, "p999_ns": l.P999Ns, "max_ns": l.MaxNs} {
		m[col] = csvFloat(v)
	}
}

// countersCSV fills a row's counter columns (none without counters).
func countersCSV(m map[string]string, c *OpCounters) {
	if c == nil {
		return
	}
	per := func(v float64) string {
		if v == 0 {
			return "0"
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	m["wakes_per_op"], m["sleeps_per_op"], m["slept_waits_per_op"] = per(c.WakesPerOp), per(c.SleepsPerOp), per(c.SleptWaitsPerOp)
	m["spurious"], m["spins_per_op"] = strconv.FormatUint(c.Spurious, 10), per(c.SpinsPerOp)
}

// csvRowOf lays a row given by column name out along header.
func csvRowOf(m map[string]string, header []string) []string {
	row := make([]string, len(header))
	for i, h := range header {
		row[i] = m[h]
	}
	return row
}

// withLatencyColumns pads the rows of csvRows to csvHeader, appends the
// counter columns of the ping-pong and stream rows (found by stage,
// notifier and frame size), and adds the open-loop and wake rows.
func withLatencyColumns(r *benchResults, rows [][]string) [][]string {
	full := csvFullHeader()
	out := make([][]string, 0, len(rows)+len(r.OpenLoop)+len(r.Wake))
	for _, row := range rows {
		base := make([]string, len(csvHeader))
		copy(base, row)
		m := map[string]string{}
		if len(row) >= 3 {
			countersCSV(m, countersOfRow(r, row[0], row[1], row[2]))
		}
		out = append(out, append(base, csvRowOf(m, csvLatencyHeader)...))
	}
	for _, m := range append(openLoopCSV(r), wakeCSV(r)...) {
		out = append(out, csvRowOf(m, full))
	}
	return out
}

// countersOfRow finds the counters of a ping-pong or stream row.
func countersOfRow(r *benchResults, stage, name, bytes string) *OpCounters {
	size, err := strconv.Atoi(bytes)
	if err != nil {
		return nil
	}
	switch stage {
	case "pingpong":
		for _, p := range r.PingPong {
			if p.Notifier == name && p.FrameBytes == size {
				return p.Counters
			}
		}
	case "stream":
		for _, s := range r.Stream {
			if s.Notifier == name && s.FrameBytes == size {
				return s.Counters
			}
		}
	}
	return nil
}
