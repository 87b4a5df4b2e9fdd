package bench

// Report writing of `zerobuffer bench`: aligned tables on stdout, and
// results.json and results.csv (charts: chart.go).

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ---- tables ----

// table is a text table: a header, a rule, rows; columns separated by two
// spaces, numbers right-aligned.
type table struct {
	headers []string
	right   []bool // right-align this column
	rows    [][]string
}

// newTable makes a table; a header starting with '>' is right-aligned
// (the '>' is not shown).
func newTable(headers ...string) *table {
	t := &table{}
	for _, h := range headers {
		r := strings.HasPrefix(h, ">")
		t.headers = append(t.headers, strings.TrimPrefix(h, ">"))
		t.right = append(t.right, r)
	}
	return t
}

func (t *table) add(cells ...string) {
	row := make([]string, len(t.headers))
	copy(row, cells)
	t.rows = append(t.rows, row)
}

func (t *table) render(w io.Writer) {
	width := make([]int, len(t.headers))
	for i, h := range t.headers {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, row := range t.rows {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if t.right[i] {
				b.WriteString(pad + c)
			} else if i < len(cells)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.headers)
	rule := make([]string, len(width))
	for i, n := range width {
		rule[i] = strings.Repeat("-", n)
	}
	line(rule)
	for _, row := range t.rows {
		line(row)
	}
}

// ---- number formats ----

const missing = "-"

// fmtNs shows a duration given in ns with 3 significant digits and a unit
// that suits it.
func fmtNs(ns float64) string {
	switch {
	case !(ns > 0):
		return missing
	case ns < 1e3:
		return fmt.Sprintf("%.0fns", ns)
	case ns < 1e6:
		return sig3(ns/1e3) + "µs"
	case ns < 1e9:
		return sig3(ns/1e6) + "ms"
	}
	return sig3(ns/1e9) + "s"
}

// sig3 formats a number ≥ 1 with three significant digits.
func sig3(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// fmtRatio shows a ratio as "1.23×".
func fmtRatio(r float64) string {
	if !(r > 0) {
		return missing
	}
	if r >= 100 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// fmtRate shows a count per second: "12.3 M", "456 k", "78.9".
func fmtRate(v float64) string {
	switch {
	case !(v > 0):
		return missing
	case v >= 1e6:
		return sig3(v/1e6) + " M"
	case v >= 1e3:
		return sig3(v/1e3) + " k"
	case v >= 1:
		return sig3(v)
	}
	return fmt.Sprintf("%.3f", v)
}

func fmtFloat(v float64, prec int) string {
	if !(v > 0) {
		return missing
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// fmtBytes names a frame size: binary multiples as KiB and MiB, anything
// else in bytes with thousands separators.
func fmtBytes(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " B"
}

// pingPongVerdict is a ping-pong's goal cell: none when its placement
// differed from its floor's or its rounds disagree.
func pingPongVerdict(p pingPongResult, g goalResult, ok bool) string {
	switch {
	case p.PlacementDiffers:
		return "no verdict: placement ≠ floor's"
	case p.Unstable:
		return "unstable: " + fmtSpread(p.P50OverFloorMin, p.P50OverFloorMax)
	}
	return verdict(g, ok)
}

func verdict(g goalResult, ok bool) string {
	if !ok {
		return ""
	}
	return describeGoal(g) + " " + g.Verdict
}

// ---- the report, stage by stage ----

func printHeader(w io.Writer, r *benchResults) {
	m := r.Machine
	fmt.Fprintf(w, "zerobuffer bench — %s\n", r.StartedAt)
	fmt.Fprintf(w, "machine: %s, %d cores, %s %s, %s, GOMAXPROCS %d", m.CPUModel, m.Cores, m.Kernel, m.Arch, m.GoVersion, m.GOMAXPROCS)
	if m.ClockSource != "" {
		fmt.Fprintf(w, ", clock %s", m.ClockSource)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "pinned:  %s\n", m.PinNote)
	if m.LoadStart != "" {
		fmt.Fprintf(w, "load:    %s (1, 5, 15 min) at the start; other processes on these %d cores shift the figures\n", m.LoadStart, m.Cores)
	}
}

func stageTitle(w io.Writer, title string) {
	fmt.Fprintf(w, "\n== %s ==\n", title)
}

func printFloors(w io.Writer, r *benchResults) {
	stageTitle(w, "1. Floors: the raw mechanisms between two processes, no ring")
	if len(r.Floors.PingPong) > 0 {
		t := newTable("round trip", ">samples", ">min", ">p50", ">p90", ">p99", ">p99.9", ">max", "ran on")
		for _, f := range r.Floors.PingPong {
			l := f.Latency
			t.add(floorLabel(f.Mechanism), strconv.FormatInt(l.Count, 10), fmtNs(l.MinNs), fmtNs(l.P50Ns), fmtNs(l.P90Ns),
				fmtNs(l.P99Ns), fmtNs(l.P999Ns), fmtNs(l.MaxNs), placementCell(f.Placement))
		}
		t.render(w)
	}
	if len(r.Floors.Memcpy) > 0 {
		fmt.Fprintln(w)
		t := newTable("memcpy into a warm shared mapping", ">per copy", ">copies/s", ">GB/s")
		for _, m := range r.Floors.Memcpy {
			t.add(fmtBytes(m.FrameBytes), fmtNs(m.NsPerCopy), fmtRate(m.CopiesPerSec), fmtFloat(m.GBPerSec, 2))
		}
		t.render(w)
	}
}

func floorLabel(mech string) string {
	if spec, ok := floorSpecOf(Floor(mech)); ok {
		return spec.label
	}
	return mech
}

func printPingPong(w io.Writer, r *benchResults) {
	stageTitle(w, "2. Ping-pong: round trip through a request ring and a response ring")
	goals := goalIndex(r.Goals)
	t := newTable("notifier", ">frame", ">samples", ">min", ">p50", ">p90", ">p99", ">p99.9", ">max",
		">floor p50", ">p50÷floor", ">spread", ">p99÷floor", ">p50÷sem floor", ">cpu/rt ping", ">cpu/rt echo", "ran on", "goal (p50÷floor)")
	for _, p := range r.PingPong {
		l := p.Latency
		g, ok := goals[pingPongKey(p)]
		v := pingPongVerdict(p, g, ok)
		t.add(p.Notifier, fmtBytes(p.FrameBytes), strconv.FormatInt(l.Count, 10), fmtNs(l.MinNs), fmtNs(l.P50Ns), fmtNs(l.P90Ns),
			fmtNs(l.P99Ns), fmtNs(l.P999Ns), fmtNs(l.MaxNs), floorCell(p.FloorP50Ns, p.Floor), fmtRatio(p.P50OverFloor),
			fmtSpread(p.P50OverFloorMin, p.P50OverFloorMax), fmtRatio(p.P99OverFloor), fmtRatio(p.P50OverSemFloor),
			fmtNs(p.PingCPUNsPerRT), fmtNs(p.EchoCPUNsPerRT), placementCell(p.Placement), v)
	}
	t.render(w)
	if rounds := maxRounds(r.PingPong); rounds > 0 {
		fmt.Fprintf(w, "p50÷floor, p99÷floor: medians of %d rounds alternating floor and ring (spread: the p50 ratios' min–max);\n", rounds)
		fmt.Fprintln(w, "floor p50: the median of the floor's rounds. ran on: where the two processes were seen running (CPUs of")
		fmt.Fprintln(w, "this process | the other; shared: samples with both on one CPU; -: never seen running, e.g. asleep).")
	}
	for _, p := range r.PingPong {
		if p.PlacementDiffers {
			fmt.Fprintf(w, "%s %s: placement differs from its floor's (%s): no verdict.\n", p.Notifier, fmtBytes(p.FrameBytes), p.PlacementNote)
		}
		if p.Unstable {
			fmt.Fprintf(w, "%s %s: its rounds' p50÷floor span %s, more than %.0f× apart: no verdict from their median.\n",
				p.Notifier, fmtBytes(p.FrameBytes), fmtSpread(p.P50OverFloorMin, p.P50OverFloorMax), unstableSpread)
		}
	}
	fmt.Fprintf(w, "floors: %s (p50÷sem floor: semaphore vs the\n", floorsInWords(r.PingPong))
	fmt.Fprintln(w, "raw semaphore ping-pong). cpu/rt: CPU time per round trip of each process.")
	if none := notifiersWithoutFloor(r.PingPong); len(none) > 0 {
		fmt.Fprintf(w, "no floor registered for %s (bench.SetFloor): measured, no ratio and no goal.\n", joinWords(none))
	}
}

// floorsInWords says which notifiers each floor is for, e.g. "spin for
// spin and yield; futex for semaphore and futex".
func floorsInWords(rows []pingPongResult) string {
	var parts []string
	for _, spec := range floorSpecs {
		var names []string
		for _, p := range rows {
			if p.Floor == string(spec.floor) && !slices.Contains(names, p.Notifier) {
				names = append(names, p.Notifier)
			}
		}
		if len(names) > 0 {
			parts = append(parts, string(spec.floor)+" for "+joinWords(names))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// notifiersWithoutFloor lists the notifiers of rows that have no floor.
func notifiersWithoutFloor(rows []pingPongResult) []string {
	var names []string
	for _, p := range rows {
		if p.Floor == "" && !slices.Contains(names, p.Notifier) {
			names = append(names, p.Notifier)
		}
	}
	return names
}

// joinWords joins "a", "a and b", "a, b and c".
func joinWords(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// fmtSpread shows a range of ratios as "1.02–1.10×".
func fmtSpread(lo, hi float64) string {
	if !(lo > 0) || !(hi > 0) {
		return missing
	}
	return strings.TrimSuffix(fmtRatio(lo), "×") + "–" + fmtRatio(hi)
}

// placementCell names where a measurement ran, with the CPUs seen.
func placementCell(p Placement) string {
	c := p.Class()
	if c == "unknown" {
		return missing
	}
	cell := fmt.Sprintf("%s (%s | %s", c, joinCPUs(p.This), joinCPUs(p.Other))
	if c != "one CPU" && p.SharedSamples > 0 {
		cell += fmt.Sprintf("; shared %d/%d", p.SharedSamples, p.Samples)
	}
	return cell + ")"
}

func joinCPUs(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// maxRounds is the most rounds a ping-pong row has.
func maxRounds(rows []pingPongResult) int {
	n := 0
	for _, p := range rows {
		n = max(n, len(p.Rounds))
	}
	return n
}

// floorCell shows a floor with its mechanism, "-" when not measured.
func floorCell(ns float64, mech string) string {
	if !(ns > 0) {
		return missing
	}
	return fmtNs(ns) + " " + mech
}

func printStream(w io.Writer, r *benchResults) {
	stageTitle(w, "3. Streaming: a writer process into a reader process (the reader releases without reading)")
	goals := goalIndex(r.Goals)
	t := newTable("notifier", ">frame", ">frames/s", ">GB/s", ">memcpy GB/s", ">÷memcpy", ">reader cpu s/M", ">writer cpu s/M", "ran on", "goal")
	for _, s := range r.Stream {
		g, ok := goals[streamKey(s)]
		t.add(s.Notifier, fmtBytes(s.FrameBytes), fmtRate(s.FramesPerSec), fmtFloat(s.GBPerSec, 2), fmtFloat(s.MemcpyGBPerSec, 2),
			fmtRatio(s.OverMemcpy), fmtFloat(s.ReaderCPUSecPerMFrames, 3), fmtFloat(s.WriterCPUSecPerMFrames, 3),
			placementCell(s.Placement), verdict(g, ok))
	}
	t.render(w)
	fmt.Fprintln(w, "cpu s/M: CPU seconds per million frames in each process (getrusage; the writer child reports its own).")
	fmt.Fprintln(w, "ran on: CPUs of the reader (this process) | the writer, while measured.")
}

func printRelay(w io.Writer, r *benchResults) {
	stageTitle(w, fmt.Sprintf("4. Relay round trip: %s frames, process 1 → A → relay (copy) → B → process 1", fmtBytes(relayFrameBytes)))
	goals := goalIndex(r.Goals)
	t := newTable("notifier", "variant", ">fps", ">sent fps", ">frames", ">min", ">avg", ">p50", ">p90", ">p99", ">max", ">floor", ">p50÷floor",
		"ran on", "goal")
	relays := allRelays(r)
	for _, rl := range relays {
		l := rl.Latency
		g, ok := goals[relayKey(rl)]
		v := verdict(g, ok)
		if rl.PlacementDiffers {
			v = "no verdict: placement ≠ floor's"
		}
		t.add(rl.Notifier, relayVariantName(rl), strconv.Itoa(rl.FPS), fmtFloat(rl.SentFPS, 1), strconv.FormatInt(l.Count, 10), fmtNs(l.MinNs), fmtNs(l.AvgNs),
			fmtNs(l.P50Ns), fmtNs(l.P90Ns), fmtNs(l.P99Ns), fmtNs(l.MaxNs), fmtNs(rl.FloorNs), fmtRatio(rl.P50OverFloor),
			placementCell(rl.Placement), v)
	}
	t.render(w)
	if len(relays) > 0 && relays[0].FloorNs > 0 {
		fmt.Fprintf(w, "floor = 2 warm copies of the frame (2 × %s, memcpy floor; zero-copy: 1) + 2 wake-ups (one round trip of the futex floor\n",
			fmtNs(relays[0].FloorCopyNs))
		fmt.Fprintln(w, "at p50 for semaphore and futex, of the spin floor for the others). Send time is stamped just before process 1")
		fmt.Fprintln(w, "copies the frame into A. ran on: CPUs of process 1 | the relay during the rate.")
	}
	for _, rl := range relays {
		if rl.PlacementDiffers {
			fmt.Fprintf(w, "%s %s %d FPS: placement differs from its floor's (%s): no verdict.\n", rl.Notifier, relayVariantName(rl), rl.FPS, rl.PlacementNote)
		}
	}
	if len(relays) == 0 {
		return
	}
	printRelayVariants(w, r)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Where the round trip goes (p50 of each leg, stamped with CLOCK_MONOTONIC in both processes):")
	t = newTable("notifier", "variant", ">fps", ">copy into A", ">wake relay", ">copy A→B", ">wake back", ">sum", ">floor copy", ">paced copy",
		">floor wake", ">paced floor", ">p50÷paced floor")
	for _, rl := range relays {
		l := rl.Legs
		t.add(rl.Notifier, relayVariantName(rl), strconv.Itoa(rl.FPS), fmtNs(l.CopyANs), fmtNs(l.ToRelayNs), fmtNs(l.CopyBNs), fmtNs(l.BackNs),
			fmtNs(l.CopyANs+l.ToRelayNs+l.CopyBNs+l.BackNs), fmtNs(rl.FloorCopyNs), fmtNs(rl.PacedCopyNs),
			fmtNs(rl.FloorWakeNs), fmtNs(rl.PacedFloorNs), fmtRatio(rl.P50OverPacedFloor))
	}
	t.render(w)
	fmt.Fprintln(w, "copy into A: process 1's WriteFrame (zero-copy: Reserve, stamp, Commit); wake relay: from its return to the relay's ReadFrame returning;")
	fmt.Fprintln(w, "copy A→B: the relay's copy from A's mapping into B's; wake back: from there (Commit, post) to process 1's")
	fmt.Fprintln(w, "ReadFrame returning. paced copy: the same memcpy with no ring, one per period at the relay's rate (idle")
	fmt.Fprintln(w, "in between, as the relay's processes are); paced floor: 2 paced copies (zero-copy: 1) + 2 wake-ups. The goal stays on")
	fmt.Fprintln(w, "the back-to-back floor above.")
}

func printIdle(w io.Writer, r *benchResults) {
	stageTitle(w, "5. Idle cost: a reader waiting on an empty ring (writer connected, silent)")
	t := newTable("notifier", ">waited", ">cpu", ">% of a core", "reader ran on", "note")
	for _, i := range r.Idle {
		t.add(i.Notifier, fmt.Sprintf("%.1fs", i.Seconds), fmt.Sprintf("%.3fs", i.CPUSeconds), fmt.Sprintf("%.1f%%", i.CPUPercent),
			idlePlacementCell(i.Placement), i.Note)
	}
	t.render(w)
}

// idleNote says what a notifier's idle cost means.
func idleNote(notifier string, pct float64) string {
	switch {
	case pct >= 50:
		return "busy-polls: a whole core while idle"
	case notifier == "backoff":
		return "sleeps between polls (up to 1 ms): cheap, late first frame"
	case pct < 1:
		return "sleeps in the kernel"
	}
	return ""
}

func printGoals(w io.Writer, r *benchResults) {
	stageTitle(w, "Goals (figures, not the exit status)")
	if len(r.Goals) == 0 {
		fmt.Fprintln(w, "no goal could be evaluated (a stage or its floor was not run)")
		return
	}
	t := newTable("goal", "figure", ">value", "target", "result")
	pass := 0
	for _, g := range r.Goals {
		value := fmtRatio(g.Value)
		if g.Metric == "frames/s" {
			value = fmtRate(g.Value) + "/s"
		}
		t.add(g.Goal, g.Subject, value, describeGoal(g), g.Verdict)
		if g.Pass {
			pass++
		}
	}
	t.render(w)
	fmt.Fprintf(w, "%d of %d goals passed\n", pass, len(r.Goals))
}

func printErrors(w io.Writer, r *benchResults) {
	if len(r.Errors) == 0 {
		return
	}
	stageTitle(w, "Errors")
	for _, e := range r.Errors {
		fmt.Fprintln(w, e)
	}
}

// ---- files ----

// writeJSON writes results.json.
func writeJSON(path string, r *benchResults) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// csvHeader is results.csv's first line: one row per measurement, blank
// where a column does not apply.
var csvHeader = []string{
	"stage", "name", "frame_bytes", "fps", "samples",
	"min_ns", "avg_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns",
	"floor", "floor_p50_ns", "p50_over_floor", "p99_over_floor",
	"frames_per_second", "gb_per_second", "ratio_to_memcpy",
	"cpu_a_ns_per_op", "cpu_b_ns_per_op", "cpu_percent",
	"goal", "goal_result",
	// Where it ran (see placementColumns), the spread of a ping-pong's
	// rounds, and why a row has no verdict.
	"pin", "ran_on", "this_cpus", "other_cpus",
	"p50_over_floor_min", "p50_over_floor_max", "no_verdict",
}

// csvRows flattens the results: floors (stage "floor"), memcpy, pingpong,
// stream, relay (then the zero-copy relay, stage "relay-zerocopy"), idle, then with --pin=both the floors and ping-pongs
// measured on one CPU (pin "same"). cpu_a/cpu_b are this process's and
// the child's CPU per operation: ping/echo per round trip, reader/writer
// per frame.
func csvRows(r *benchResults) [][]string {
	goals := goalIndex(r.Goals)
	f := func(v float64) string {
		if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	i := func(v int) string {
		if v == 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	lat := func(l Latency) []string {
		return []string{strconv.FormatInt(l.Count, 10), f(l.MinNs), f(l.AvgNs), f(l.P50Ns), f(l.P90Ns), f(l.P99Ns), f(l.P999Ns), f(l.MaxNs)}
	}
	noLat := []string{"", "", "", "", "", "", "", ""}
	goal := func(k rowKey) []string {
		g, ok := goals[k]
		if !ok {
			return []string{"", ""}
		}
		res := "MISS"
		if g.Pass {
			res = "PASS"
		}
		return []string{g.Metric + " " + g.Op + " " + strconv.FormatFloat(g.Target, 'g', -1, 64), res}
	}
	row := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	pin := rowPin(r.Machine)
	// where: the placement columns, then the spread and no_verdict.
	where := func(pin string, p Placement, lo, hi float64, why string) []string {
		return append(placementColumns(pin, p), f(lo), f(hi), why)
	}
	nowhere := where(pin, Placement{}, 0, 0, "")
	var rows [][]string
	floorRows := func(pin string, floors []floorResult) {
		for _, fl := range floors {
			rows = append(rows, row([]string{"floor", fl.Mechanism, "", ""}, lat(fl.Latency),
				[]string{"", "", "", "", "", "", "", "", "", ""}, []string{"", ""}, where(pin, fl.Placement, 0, 0, "")))
		}
	}
	pingRows := func(pin string, pings []pingPongResult, judged bool) {
		for _, p := range pings {
			g := []string{"", ""}
			if judged {
				g = goal(pingPongKey(p))
			}
			rows = append(rows, row([]string{"pingpong", p.Notifier, i(p.FrameBytes), ""}, lat(p.Latency),
				[]string{p.Floor, f(p.FloorP50Ns), f(p.P50OverFloor), f(p.P99OverFloor), "", "", "", f(p.PingCPUNsPerRT), f(p.EchoCPUNsPerRT), ""},
				g, where(pin, p.Placement, p.P50OverFloorMin, p.P50OverFloorMax, noVerdictReason(p.PlacementDiffers, p.Unstable))))
		}
	}
	floorRows(pin, r.Floors.PingPong)
	for _, m := range r.Floors.Memcpy {
		// The time per copy is an average: avg_ns.
		rows = append(rows, row([]string{"memcpy", "memcpy", i(m.FrameBytes), ""}, []string{"", "", f(m.NsPerCopy), "", "", "", "", ""},
			[]string{"", "", "", "", f(m.CopiesPerSec), f(m.GBPerSec), "", "", "", ""}, []string{"", ""}, nowhere))
	}
	pingRows(pin, r.PingPong, true)
	for _, s := range r.Stream {
		rows = append(rows, row([]string{"stream", s.Notifier, i(s.FrameBytes), ""}, []string{strconv.FormatInt(s.Frames, 10), "", "", "", "", "", "", ""},
			[]string{"", "", "", "", f(s.FramesPerSec), f(s.GBPerSec), f(s.OverMemcpy),
				f(s.ReaderCPUSecPerMFrames * 1e3), f(s.WriterCPUSecPerMFrames * 1e3), ""},
			goal(streamKey(s)), where(pin, s.Placement, 0, 0, "")))
	}
	for _, rl := range allRelays(r) {
		rows = append(rows, row([]string{relayStage(rl), rl.Notifier, i(rl.FrameBytes), i(rl.FPS)}, lat(rl.Latency),
			[]string{rl.FloorMechanism, f(rl.FloorNs), f(rl.P50OverFloor), "", "", "", "", "", "", ""},
			goal(relayKey(rl)), where(pin, rl.Placement, 0, 0, noVerdictReason(rl.PlacementDiffers, false))))
	}
	for _, id := range r.Idle {
		rows = append(rows, row([]string{"idle", id.Notifier, "", ""}, noLat,
			[]string{"", "", "", "", "", "", "", "", "", strconv.FormatFloat(id.CPUPercent, 'f', 2, 64)}, []string{"", ""},
			where(pin, id.Placement, 0, 0, "")))
	}
	if r.SameCPU != nil {
		floorRows(pinSame, r.SameCPU.Floors)
		pingRows(pinSame, r.SameCPU.PingPong, false)
	}
	return withLatencyColumns(r, rows) // latency_csv.go
}

// noVerdictReason is the CSV's no_verdict cell.
func noVerdictReason(placementDiffers, unstable bool) string {
	switch {
	case placementDiffers:
		return "placement differs from floor's"
	case unstable:
		return "unstable rounds"
	}
	return ""
}

// writeCSV writes results.csv.
func writeCSV(path string, r *benchResults) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write(csvFullHeader())
	_ = w.WriteAll(csvRows(r)) // flushes
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeOutputs writes results.json, results.csv and the charts into dir
// and returns the files written.
func writeOutputs(dir string, r *benchResults) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, out := range []struct {
		name  string
		write func(string, *benchResults) error
	}{{"results.json", writeJSON}, {"results.csv", writeCSV}} {
		path := filepath.Join(dir, out.name)
		if err := out.write(path, r); err != nil {
			return files, fmt.Errorf("write %s: %w", path, err)
		}
		files = append(files, path)
	}
	charts, err := writeCharts(dir, r)
	files = append(files, charts...)
	return files, err
}
