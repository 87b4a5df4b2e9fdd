// Package pause is the CPU's spin-wait hint, for loops that poll memory
// another core writes: PAUSE on amd64, YIELD on arm64. It lets the core
// know it is spinning, which frees resources for a hyper-thread sibling and
// avoids the memory-order mis-speculation penalty when the awaited write
// arrives.
package pause

import "time"

// Pause executes the hint n times.
func Pause(n uint32)

// clockEvery is how many polls go between clock readings: a vDSO clock
// read costs about as much as a few dozen polls.
const clockEvery = 64

// Until polls ready, pausing between polls, until it holds (true) or budget
// has passed (false). start is when the caller's wait began; a zero start
// is taken as now. Each call of ready adds one to *polls, so that callers
// can count the spin iterations a wait made.
func Until(ready func() bool, start time.Time, budget time.Duration, polls *uint64) bool {
	if budget <= 0 {
		*polls++
		return ready()
	}
	if start.IsZero() {
		start = time.Now()
	}
	n := uint64(0)
	for {
		for range clockEvery {
			n++
			if ready() {
				*polls += n
				return true
			}
			Pause(1)
		}
		if time.Since(start) >= budget {
			*polls += n + 1
			return ready()
		}
	}
}
