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
	"runtime"
	"time"
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

// monoNow is CLOCK_MONOTONIC in ns, through the vDSO: comparable between
// processes, like monoNs, at a fraction of its cost.
func monoNow() int64 { return nanotime() }

// threadCPUTime is the CPU time thread tid of this process has used:
// clock_gettime of the thread's CPU clock (the kernel's
// MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): ^tid << 3 | 6); 0 if the
// thread is gone.
func threadCPUTime(tid int) time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(int32(^tid<<3|6), &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// samplerCPU is the CPU time used so far by the thread of the child's
// placement sampler, which runs in this process: the open-loop stage
// takes it out of the reader's CPU (a few % of a core: at 1 k frames/s,
// tens of µs a frame that are the harness's). It waits for a sampler
// just started to name its thread.
func (c *benchChild) samplerCPU() time.Duration {
	for range 10_000 {
		if tid := c.sampler.tid.Load(); tid != 0 {
			return threadCPUTime(int(tid))
		}
		runtime.Gosched()
	}
	return 0
}
