package spin

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/notify"
)

// A recorded word with absurd parameters (a corrupt or hostile OIEB) must
// not make a wait ignore its deadline: found by FuzzWriterHostileOIEB,
// where 2^31 spins before the first clock check held a writer for a
// minute past a 20 ms write timeout.
func TestAdoptedParametersCannotDefeatDeadlines(t *testing.T) {
	never := func() bool { return false }
	for _, word := range []uint64{
		YieldKind.Word(1 << 31),
		BackoffKind.Word(^uint32(0)),
		BusyKind.Word(0),
	} {
		n, ok := FromWord(word)
		require.True(t, ok, "%#x", word)
		require.NoError(t, n.Create("x", nil, 0))
		done := make(chan bool, 1)
		go func() {
			ok, _ := n.WaitData(never, 20*time.Millisecond)
			done <- ok
		}()
		select {
		case ok := <-done:
			assert.False(t, ok)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s wait ignored its deadline", notify.Name(word))
		}
		require.NoError(t, n.Close())
	}
	assert.LessOrEqual(t, NewYield(1<<40).spins, MaxSpins)
	assert.LessOrEqual(t, NewBackoff(0, 0, 0, time.Hour).maxPark, MaxPark)
}

func TestKindRoundTrips(t *testing.T) {
	for _, n := range []*Notifier{NewBusy(), NewYield(77), NewBackoff(0, 0, 0, 5*time.Millisecond)} {
		got, ok := FromWord(n.Word())
		require.True(t, ok)
		assert.Equal(t, n.Word(), got.Word())
	}
	_, ok := FromWord(0)
	assert.False(t, ok, "the semaphore word is not a spin notifier")
}

// A backoff sleep is bounded by a fraction of the time already waited, so
// that the overshoot it adds to a ping-pong hop (the peer's next wait)
// shrinks from hop to hop instead of sustaining itself, as doubling
// sleeps did (rounds locked at 1.1 ms per hop).
func TestBackoffParkIsAFractionOfTheWait(t *testing.T) {
	const us = time.Microsecond
	minPark, maxPark := 20*us, time.Millisecond
	for _, c := range []struct {
		name            string
		waited, timeout time.Duration
		want            time.Duration
	}{
		{"yield before 8 × minPark", 159 * us, time.Second, 0},
		{"first sleep at 8 × minPark", 160 * us, time.Second, 20 * us},
		{"an eighth of the wait", 800 * us, time.Second, 100 * us},
		{"capped at maxPark", 100 * time.Millisecond, time.Second, maxPark},
		{"cut to the time left", 800 * us, 830 * us, 30 * us},
		{"yield when under minPark is left", 800 * us, 810 * us, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, backoffPark(c.waited, c.timeout, minPark, maxPark))
		})
	}
	for waited := time.Duration(0); waited < 20*time.Millisecond; waited += 7 * us {
		p := backoffPark(waited, time.Second, minPark, maxPark)
		require.LessOrEqual(t, p*ParkFraction, waited, "waited %v", waited)
		require.LessOrEqual(t, p, maxPark)
	}
}

func TestBackoffParameters(t *testing.T) {
	n := NewBackoff(0, 0, 0, 0)
	assert.Equal(t, DefaultMinPark, n.minPark)
	assert.Equal(t, DefaultMaxPark, n.maxPark)
	// A maxPark below minPark is recorded as given; minPark comes down.
	n = NewBackoff(0, 0, 0, 5*time.Microsecond)
	assert.Equal(t, 5*time.Microsecond, n.maxPark)
	assert.Equal(t, 5*time.Microsecond, n.minPark)
	got, ok := FromWord(n.Word())
	require.True(t, ok)
	assert.Equal(t, n.Word(), got.Word())
}
