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
