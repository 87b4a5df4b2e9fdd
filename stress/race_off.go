//go:build !race

package stress

// raceEnabled reports whether this build runs under the race detector;
// the churn suite scales its cycle count by it.
const raceEnabled = false
