package bench

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The zero-copy relay's floor has one copy where the copying relay's has
// two; each variant is judged against its own, and keeps its own rows.
func TestRelayZeroCopyRows(t *testing.T) {
	r := sampleResults() // copy 300µs (memcpy floor), futex floor 8µs: wake 4µs; paced copy 400µs
	legs := relayLegs{CopyANs: 2e3, ToRelayNs: 10e3, CopyBNs: 340e3, BackNs: 20e3}
	for _, fps := range []int{30, 1000} {
		r.RelayZeroCopy = append(r.RelayZeroCopy, relayResultOf(r, "semaphore", relayFigures{zeroCopy: true, fps: fps,
			sentFPS: float64(fps), lat: Latency{Count: 100, P50Ns: 350e3, P99Ns: 500e3}, legs: legs}))
	}
	r.Goals = evaluateGoals(r)
	z, c := r.RelayZeroCopy[0], r.Relay[0]
	assert.True(t, z.ZeroCopy)
	assert.EqualValues(t, 300e3+2*4e3, z.FloorNs, "1 copy + 2 wake-ups")
	assert.EqualValues(t, 2*300e3+2*4e3, c.FloorNs, "2 copies + 2 wake-ups")
	assert.EqualValues(t, 400e3+2*4e3, z.PacedFloorNs)
	assert.InDelta(t, 350e3/308e3, z.P50OverFloor, 1e-9)

	goals := goalIndex(r.Goals)
	g, ok := goals[relayKey(z)]
	require.True(t, ok)
	assert.Equal(t, "semaphore 30 FPS zero-copy", g.Subject)
	assert.Equal(t, "p50 ÷ (1 copy + 2 wake-ups)", g.Metric)
	g, ok = goals[relayKey(c)]
	require.True(t, ok)
	assert.Equal(t, "semaphore 30 FPS", g.Subject, "the copying relay keeps its own goal")

	var b bytes.Buffer
	printRelay(&b, r)
	out := b.String()
	assert.Regexp(t, `semaphore +zero-copy +30 +30\.0 +100 .* 350µs .* 308µs +1\.14×`, out)
	assert.Contains(t, out, "Copying and zero-copy side by side")
	// 700µs copying, 350µs zero-copy: 0.50×.
	assert.Regexp(t, `semaphore +1000 +700µs +1\.15× +350µs +1\.14× +0\.50×`, out)

	rows := csvOf(t, r)
	stages := map[string]int{}
	for _, row := range rows[1:] {
		stages[row[0]]++
	}
	assert.Equal(t, 2, stages["relay"])
	assert.Equal(t, 2, stages["relay-zerocopy"])
}

// The zero-copy sender writes only the header: the relay still gets and
// passes on whole frames, and every one comes back.
func TestRelayZeroCopyEngine(t *testing.T) {
	t.Cleanup(func() { checkNoBenchFiles(t) })
	e := NewEngine(context.Background())
	defer e.Close()
	figs, err := e.relayVariant("futex", true, []int{1000, 500}, 1, 3, 16<<20)
	require.NoError(t, err)
	require.Len(t, figs, 2)
	for _, f := range figs {
		assert.True(t, f.zeroCopy)
		assert.EqualValues(t, 3, f.lat.Count)
		assert.Positive(t, f.legs.CopyBNs, "the relay's copy")
	}
}

func TestRelayChartShowsZeroCopy(t *testing.T) {
	r := sampleResults()
	for _, fps := range []int{30, 1000} {
		r.RelayZeroCopy = append(r.RelayZeroCopy, relayResultOf(r, "semaphore", relayFigures{zeroCopy: true, fps: fps,
			lat: Latency{Count: 100, P50Ns: 350e3, P99Ns: 500e3}}))
	}
	dir := t.TempDir()
	_, err := writeCharts(dir, r)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "relay-latency.svg"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "semaphore zero-copy p50")
	assert.Contains(t, string(b), "semaphore zero-copy floor")
}
