package unixgram_test

import (
	"testing"

	"github.com/zerobuffer/zerobuffer-go/stress"
)

// The repository's stress suites (random sizes, pauses, holds, memory
// ordering, faults, churn), over this strategy, in goroutine pairs and
// process pairs. ZB_STRESS_DURATION and ZB_STRESS_SEED tune them as they
// do the repository's own (see package stress).
func TestStress(t *testing.T) {
	stress.All(t, stress.Options{Notifiers: []string{"unixgram"}})
}
