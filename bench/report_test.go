package bench

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleResults is a small run with a figure of every kind, made up.
func sampleResults() *benchResults {
	lat := func(p50 float64) Latency {
		return Latency{Count: 1000, MinNs: p50 / 2, AvgNs: p50 * 1.1, P50Ns: p50, P90Ns: p50 * 1.2, P99Ns: p50 * 2, P999Ns: p50 * 5, MaxNs: p50 * 10}
	}
	r := &benchResults{
		Tool:      "zerobuffer bench",
		StartedAt: "2026-01-02 03:04:05 UTC",
		Machine:   machineInfo{CPUModel: "Test CPU", Cores: 2, GOMAXPROCS: 2, Kernel: "Linux 6.1", Arch: "x86_64", GoVersion: "go1.26", PinNote: "no"},
		Floors: floorResults{
			PingPong: []floorResult{{"spin", lat(300), Placement{}}, {"futex", lat(8000), Placement{}}, {"semaphore", lat(9000), Placement{}}},
			Memcpy:   []memcpyResult{{64, 10, 1e8, 6.4}, {relayFrameBytes, 300e3, 3333, 10.4}},
		},
		Idle:   []idleResult{{Notifier: "spin", Seconds: 3, CPUSeconds: 3, CPUPercent: 100, Note: idleNote("spin", 100)}},
		Errors: []string{},
	}
	for _, n := range []string{"semaphore", "futex", "hybrid", "spin"} {
		r.PingPong = append(r.PingPong, pingPongResultOf(r, n, 64, PingPongFigures{Latency: lat(1000), PingCPUNsPerRT: 500, EchoCPUNsPerRT: 400}, nil))
		r.Stream = append(r.Stream, streamResultOf(r, n, 64, StreamFigures{Frames: 1e6, Seconds: 1, FramesPerSec: 8e6, ReaderCPUSecPerMFrames: 0.1, WriterCPUSecPerMFrames: 0.12}))
		r.Stream = append(r.Stream, streamResultOf(r, n, relayFrameBytes, StreamFigures{Frames: 3000, Seconds: 1, FramesPerSec: 3000, ReaderCPUSecPerMFrames: 10, WriterCPUSecPerMFrames: 300}))
	}
	for _, fps := range []int{30, 1000} {
		r.RelayPacedCopy = append(r.RelayPacedCopy, pacedCopy{FPS: fps, P50Ns: 400e3})
		r.Relay = append(r.Relay, relayResultOf(r, "semaphore", relayFigures{fps: fps, sentFPS: float64(fps), lat: lat(700e3),
			legs: relayLegs{CopyANs: 330e3, ToRelayNs: 10e3, CopyBNs: 340e3, BackNs: 20e3}}))
	}
	r.Goals = evaluateGoals(r)
	return r
}

func TestTableAlignment(t *testing.T) {
	tb := newTable("name", ">count", ">latency", "note")
	tb.add("semaphore", "12", "1.23µs", "first")
	tb.add("x", "123456", "45ns", "")
	tb.add("hybrid", "7", "10.0ms", "last one")
	var b bytes.Buffer
	tb.render(&b)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 5) // header, rule, 3 rows
	// The rule shows the columns: each cell lies within its column, text
	// starting at the column's left edge, numbers ending at its right edge.
	rule := []rune(lines[1])
	type span struct{ from, to int }
	var cols []span
	for i := 0; i < len(rule); {
		if rule[i] != '-' {
			i++
			continue
		}
		j := i
		for j < len(rule) && rule[j] == '-' {
			j++
		}
		cols = append(cols, span{i, j})
		i = j
	}
	require.Len(t, cols, 4)
	for _, l := range append([]string{lines[0]}, lines[2:]...) {
		r := []rune(l)
		cell := func(c span) string {
			to := min(c.to, len(r))
			if c.from >= to {
				return ""
			}
			return string(r[c.from:to])
		}
		// Text columns: no leading space; number columns: no trailing one.
		assert.False(t, strings.HasPrefix(cell(cols[0]), " "), "%q", l)
		assert.False(t, strings.HasSuffix(cell(cols[1]), " "), "%q", l)
		assert.False(t, strings.HasSuffix(cell(cols[2]), " "), "%q", l)
		// The gap between columns is blank.
		for k := 1; k < len(cols); k++ {
			if cols[k].from <= len(r) {
				assert.Equal(t, "  ", string(r[cols[k-1].to:cols[k].from]), "%q", l)
			}
		}
		assert.Equal(t, l, strings.TrimRight(l, " "), "trailing blanks in %q", l)
	}
	assert.Equal(t, utf8.RuneCountInString(lines[2][:strings.Index(lines[2], "1.23µs")+len("1.23µs")]),
		utf8.RuneCountInString(lines[3][:strings.Index(lines[3], "45ns")+len("45ns")]), "latencies end in the same column")
}

func TestNumberFormats(t *testing.T) {
	for ns, want := range map[float64]string{0: "-", 45: "45ns", 999: "999ns", 1234: "1.23µs", 45600: "45.6µs", 2.5e6: "2.50ms", 3e9: "3.00s"} {
		assert.Equal(t, want, fmtNs(ns), "fmtNs(%v)", ns)
	}
	for n, want := range map[int]string{64: "64 B", 1024: "1 KiB", 65536: "64 KiB", 1 << 20: "1 MiB", 3110416: "3,110,416 B", 1000: "1,000 B"} {
		assert.Equal(t, want, fmtBytes(n), "fmtBytes(%d)", n)
	}
	assert.Equal(t, "1.23×", fmtRatio(1.234))
	assert.Equal(t, "150×", fmtRatio(150))
	assert.Equal(t, "-", fmtRatio(0))
	assert.Equal(t, "12.3 M", fmtRate(12.3e6))
	assert.Equal(t, "456 k", fmtRate(456e3))
	assert.Equal(t, "78.9", fmtRate(78.9))
}

func TestPrintReport(t *testing.T) {
	r := sampleResults()
	var b bytes.Buffer
	printHeader(&b, r)
	for _, p := range []func(*bytes.Buffer){
		func(w *bytes.Buffer) { printFloors(w, r) }, func(w *bytes.Buffer) { printPingPong(w, r) },
		func(w *bytes.Buffer) { printStream(w, r) }, func(w *bytes.Buffer) { printRelay(w, r) },
		func(w *bytes.Buffer) { printIdle(w, r) }, func(w *bytes.Buffer) { printGoals(w, r) },
	} {
		p(&b)
	}
	out := b.String()
	for _, want := range []string{"Test CPU", "1. Floors", "2. Ping-pong", "3. Streaming", "4. Relay", "5. Idle", "Goals",
		"futex (wait/wake)", "3,110,416 B", "≤ 1.20×", "PASS", "MISS", "busy-polls", "goals passed"} {
		assert.Contains(t, out, want)
	}
	// The relay's legs: 2 × 400µs paced copies + 2 wake-ups of 4µs (half
	// the 8µs futex floor) = 808µs; 700µs ÷ 808µs = 0.87×.
	assert.Regexp(t, `semaphore +copy +1000 +330µs +10\.0µs +340µs +20\.0µs +700µs +300µs +400µs +4\.00µs +808µs +0\.87×`, out)
}

func TestBenchJSONShape(t *testing.T) {
	r := sampleResults()
	path := filepath.Join(t.TempDir(), "results.json")
	require.NoError(t, writeJSON(path, r))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"tool", "started_at", "machine", "settings", "floors", "pingpong", "stream", "relay", "idle", "goals", "errors"} {
		assert.Contains(t, m, k)
	}
	pp := m["pingpong"].([]any)[0].(map[string]any)
	for _, k := range []string{"notifier", "frame_bytes", "latency", "floor", "p50_over_floor", "p99_over_floor", "ping_cpu_ns_per_round_trip"} {
		assert.Contains(t, pp, k)
	}
	lat := pp["latency"].(map[string]any)
	for _, k := range []string{"count", "min_ns", "avg_ns", "p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"} {
		assert.Contains(t, lat, k)
	}
	assert.Contains(t, m["floors"].(map[string]any), "memcpy")
	g := m["goals"].([]any)[0].(map[string]any)
	for _, k := range []string{"goal", "subject", "value", "op", "target", "pass", "verdict"} {
		assert.Contains(t, g, k)
	}
	// It reads back into the same structure.
	var back benchResults
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, r.PingPong, back.PingPong)
	assert.Equal(t, r.Stream, back.Stream)
}

func TestBenchCSVShape(t *testing.T) {
	r := sampleResults()
	rows := csvOf(t, r)
	require.NotEmpty(t, rows)
	assert.Equal(t, csvFullHeader(), rows[0])
	want := len(r.Floors.PingPong) + len(r.Floors.Memcpy) + len(r.PingPong) + len(r.Stream) + len(r.Relay) + len(r.Idle)
	assert.Len(t, rows[1:], want, "one row per measurement")
	stages := map[string]int{}
	col := map[string]int{}
	for i, h := range csvHeader {
		col[h] = i
	}
	for _, row := range rows[1:] {
		require.Len(t, row, len(csvFullHeader()))
		stages[row[0]]++
		if row[0] == "pingpong" && row[col["name"]] == "futex" {
			assert.Equal(t, "1000", row[col["p50_ns"]])
			assert.Equal(t, "futex", row[col["floor"]])
			assert.NotEmpty(t, row[col["goal"]])
			assert.Contains(t, []string{"PASS", "MISS"}, row[col["goal_result"]])
		}
	}
	assert.Equal(t, map[string]int{"floor": 3, "memcpy": 2, "pingpong": 4, "stream": 8, "relay": 2, "idle": 1}, stages)
}

func TestChartsWritten(t *testing.T) {
	dir := t.TempDir()
	files, err := writeCharts(dir, sampleResults())
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.Greater(t, len(b), 1000, f)
		assert.Contains(t, string(b), "<svg", f)
	}
	assert.ElementsMatch(t, []string{"pingpong-64B.svg", "stream-throughput.svg", "stream-frames.svg", "relay-latency.svg"}, names)

	// Nothing measured: no chart, no error.
	files, err = writeCharts(t.TempDir(), &benchResults{})
	require.NoError(t, err)
	assert.Empty(t, files)
}

func TestWriteOutputs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	files, err := writeOutputs(dir, sampleResults())
	require.NoError(t, err)
	assert.Len(t, files, 6)
	for _, f := range files {
		st, err := os.Stat(f)
		require.NoError(t, err)
		assert.Positive(t, st.Size())
	}
}

// csvOf writes r's CSV into a temporary file and reads it back.
func csvOf(t *testing.T, r *benchResults) [][]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "results.csv")
	require.NoError(t, writeCSV(path, r))
	return readCSV(t, path)
}

// readCSV reads a CSV file the bench wrote.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}
