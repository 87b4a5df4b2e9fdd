//go:build !race

package model

// raceEnabled: the checker runs one goroutine and no atomics, so the race
// detector only slows it; under it the tests check the CI bounds alone.
const raceEnabled = false
