package pause

import (
	"testing"
	"time"
)

func TestPauseReturns(t *testing.T) {
	Pause(0)
	Pause(1)
	Pause(1000)
}

func BenchmarkPause(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Pause(1)
	}
}

func TestUntilCountsPolls(t *testing.T) {
	var polls uint64
	calls := 0
	ready := func() bool { calls++; return calls == 5 }
	if !Until(ready, time.Time{}, time.Hour, &polls) {
		t.Fatal("Until gave up before ready held")
	}
	if polls != 5 {
		t.Fatalf("polls = %d, want 5", polls)
	}
	polls, calls = 0, 0
	if Until(func() bool { calls++; return false }, time.Time{}, time.Microsecond, &polls) {
		t.Fatal("Until reported a condition that never held")
	}
	if polls != uint64(calls) || polls < clockEvery {
		t.Fatalf("polls = %d for %d calls", polls, calls)
	}
}
