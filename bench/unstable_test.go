package bench

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roundsOf makes a ping-pong's rounds with the given p50 ratios over a
// 100 ns floor, all on two cores.
func roundsOf(ratios ...float64) []ratioRound {
	two := Placement{Samples: 5, This: []int{0}, Other: []int{1}}
	var rounds []ratioRound
	for _, q := range ratios {
		rounds = append(rounds, ratioRound{FloorP50Ns: 100, FloorP99Ns: 200, RingP50Ns: 100 * q, RingP99Ns: 200 * q,
			P50OverFloor: q, P99OverFloor: q, FloorPlacement: two, RingPlacement: two})
	}
	return rounds
}

func TestUnstableRounds(t *testing.T) {
	for _, c := range []struct {
		name     string
		ratios   []float64
		unstable bool
	}{
		{"rounds that agree", []float64{2.2, 2.5, 2.4}, false},
		{"just within the spread", []float64{1.0, 1.5, 2.0}, false},
		{"a backoff round locked at 1 ms", []float64{2.2, 2.6, 2500}, true},
		{"bimodal", []float64{2.1, 5.7, 2.2, 5.9, 6.0}, true},
		{"one round", []float64{3}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p pingPongResult
			roundRatios(&p, roundsOf(c.ratios...))
			assert.Equal(t, c.unstable, p.Unstable)
		})
	}
	var p pingPongResult
	roundRatios(&p, []ratioRound{{RingP50Ns: 100}, {RingP50Ns: 1e6}})
	assert.False(t, p.Unstable, "without a floor there is no ratio to disagree")
}

// A measurement whose rounds disagree gets no goal and no PASS or MISS:
// its median is only whichever regime had more rounds.
func TestUnstableMeasurementHasNoVerdict(t *testing.T) {
	r := sampleResults()
	r.PingPong = nil
	for _, c := range []struct {
		notifier string
		ratios   []float64
	}{{"spin", []float64{2.2, 2.6, 2500}}, {"yield", []float64{1.1, 1.2, 1.3}}} {
		fig := PingPongFigures{Latency: Latency{Count: 10, P50Ns: 200, P99Ns: 400}}
		r.PingPong = append(r.PingPong, pingPongResultOf(r, c.notifier, 64, fig, roundsOf(c.ratios...)))
	}
	r.Goals = evaluateGoals(r)
	goals := goalIndex(r.Goals)
	_, ok := goals[pingPongKey(r.PingPong[0])]
	assert.False(t, ok, "no goal from unstable rounds")
	g, ok := goals[pingPongKey(r.PingPong[1])]
	require.True(t, ok, "rounds that agree are judged")
	assert.True(t, g.Pass)

	var b bytes.Buffer
	printPingPong(&b, r)
	out := b.String()
	var spinRow, yieldRow string
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "spin ") && spinRow == "":
			spinRow = l // the table's row, not the note below it
		case strings.HasPrefix(l, "yield ") && yieldRow == "":
			yieldRow = l
		}
	}
	assert.Contains(t, spinRow, "unstable: 2.20–2500×")
	assert.NotContains(t, spinRow, "PASS")
	assert.NotContains(t, spinRow, "MISS")
	assert.Contains(t, yieldRow, "PASS")
	assert.Contains(t, out, "spin 64 B: its rounds' p50÷floor span 2.20–2500×")
}
