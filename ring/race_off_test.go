//go:build !race

package ring

// raceEnabled: the race detector slows atomics and syscalls tenfold, so
// the longest loops shrink under it.
const raceEnabled = false
