package bench

// A cheap CLOCK_MONOTONIC for the open-loop and wake stages. monoNs (a
// clock_gettime system call through x/sys) costs a system call; Go's
// own monotonic reading goes through the vDSO, and on Linux it is
// CLOCK_MONOTONIC too, but counted from an origin private to each
// process. monoClock pins that origin to CLOCK_MONOTONIC once, so that
// its readings are comparable between the processes at the price of
// one vDSO call each.

import (
	"math"
	"time"
)

// monoClock reads CLOCK_MONOTONIC in ns as base + (time since t0), t0
// being a Go time whose CLOCK_MONOTONIC reading is base.
type monoClock struct {
	t0   time.Time
	base int64
}

// calibrateTries is how many brackets newMonoClock takes; the narrowest
// wins.
const calibrateTries = 16

// newMonoClock brackets a Go time.Now between two CLOCK_MONOTONIC system
// calls, calibrateTries times, and keeps the narrowest bracket: the
// clock's offset from CLOCK_MONOTONIC is at most half of it (a
// microsecond or less; a preempted try makes a wide bracket and loses).
func newMonoClock() monoClock {
	return calibrate(monoNs, time.Now)
}

// calibrate is newMonoClock with its two clocks given, for the tests.
func calibrate(mono func() int64, now func() time.Time) monoClock {
	var best monoClock
	span := int64(math.MaxInt64)
	for range calibrateTries {
		a := mono()
		t := now()
		b := mono()
		if b-a < span {
			span = b - a
			best = monoClock{t0: t, base: a + (b-a)/2}
		}
	}
	return best
}

// now is CLOCK_MONOTONIC in ns.
func (c monoClock) now() int64 { return c.base + int64(time.Since(c.t0)) }
