package pause

import "testing"

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
