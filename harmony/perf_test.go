package harmony

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSizeReadsTheBenchmarkTables(t *testing.T) {
	for in, want := range map[string]int{"1KB": 1 << 10, "64KB": 64 << 10, "1MB": 1 << 20, "10MB": 10 << 20, "512": 512, " 2 KiB ": 2 << 10, "3b": 3} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "KB", "-1KB", "0", "1.5MB", "ten"} {
		_, err := parseSize(bad)
		assert.Error(t, err, bad)
	}
}

func TestParseRateReadsHertz(t *testing.T) {
	for in, want := range map[string]float64{"1Hz": 1, "100Hz": 100, "1kHz": 1e3, "10kHz": 1e4, "100kHz": 1e5, "2MHz": 2e6, "50": 50} {
		got, err := parseRate(in)
		require.NoError(t, err, in)
		assert.InDelta(t, want, got, 1e-9, in)
	}
	for _, bad := range []string{"", "Hz", "0Hz", "-5Hz", "fast"} {
		_, err := parseRate(bad)
		assert.Error(t, err, bad)
	}
}

func TestTableOrFallsBackOnlyWithoutATable(t *testing.T) {
	w := newWorld("1_1", func(int, string, ...any) {})
	def := [][]string{{"1KB", "10"}}
	rows, err := w.tableOr(def)
	require.NoError(t, err)
	assert.Equal(t, def, rows, "Harmony's runner passes no table: the scenario's own")

	w.params = map[string]string{"table": `[["size","n"],["4KB","7"],["1MB","3"]]`}
	rows, err = w.tableOr(def)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"4KB", "7"}, {"1MB", "3"}}, rows)

	w.params = map[string]string{"table": `[["size","n"]]`}
	_, err = w.tableOr(def)
	assert.ErrorContains(t, err, "no rows")
	w.params = map[string]string{"table": `not json`}
	_, err = w.tableOr(def)
	assert.Error(t, err)
}

func TestLatencyPercentilesAreNearestRank(t *testing.T) {
	var l latencyRow
	for i := 1; i <= 1000; i++ {
		l.samples = append(l.samples, time.Duration(i))
	}
	assert.Equal(t, time.Duration(500), l.pct(50))
	assert.Equal(t, time.Duration(990), l.pct(99))
	assert.Equal(t, time.Duration(999), l.pct(99.9))
	assert.Equal(t, time.Duration(1000), l.pct(100))
	assert.Equal(t, time.Duration(1), l.pct(0))
	assert.Equal(t, time.Duration(500), l.mean())
	assert.Equal(t, time.Duration(0), latencyRow{}.pct(50))
}

func TestPatternSourceIsTheFamilysPattern(t *testing.T) {
	src := newPatternSource(300)
	for _, seq := range []uint64{0, 1, 255, 256, 1000} {
		assert.Equal(t, framePattern(300, seq), src.frame(300, seq), "seq %d", seq)
	}
}
