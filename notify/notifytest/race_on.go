//go:build race

package notifytest

// raceEnabled: the race detector slows atomics and system calls tenfold,
// so the streams send fewer events.
const raceEnabled = true
