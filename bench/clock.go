package bench

// A cheap CLOCK_MONOTONIC for the open-loop and wake stages, whose
// stamps cross from one process to the other. monoNs (clock_gettime
// through x/sys) is a real system call; the runtime's nanotime reads
// the same clock through the vDSO, in tens of nanoseconds. Go's
// time.Now carries that reading too, but only as an offset from an
// origin private to each process, and matching two origins across
// processes would leave an error of about a system call (a few hundred
// ns: as much as a spin notifier's whole one-way latency). So the bench
// reads nanotime itself: the runtime keeps it reachable by linkname for
// exactly this use (go.dev/issue/67401), and on Linux it is
// clock_gettime(CLOCK_MONOTONIC), the clock monoNs reads.

import (
	_ "unsafe" // go:linkname
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// monoNow is CLOCK_MONOTONIC in ns, through the vDSO: comparable between
// processes, like monoNs, at a fraction of its cost.
func monoNow() int64 { return nanotime() }
