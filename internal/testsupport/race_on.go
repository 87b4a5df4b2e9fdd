//go:build race

package testsupport

// RaceEnabled reports whether this build runs under the race detector,
// which slows atomics and syscalls tenfold: tests scale their counts by it
// (never their verdicts).
const RaceEnabled = true
