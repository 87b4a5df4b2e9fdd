package stress_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zerobuffer/zerobuffer-go/ring"
	"github.com/zerobuffer/zerobuffer-go/stress"

	// Every notifier of this module is linked in, so that the suites
	// cover them all.
	_ "github.com/zerobuffer/zerobuffer-go/sync/futex"
	_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
)

// The repository's own stress tests are the suites over every registered
// notifier, called as any other module would call them.

func TestMain(m *testing.M) { stress.Main(m) }

func TestStreamRandomSizes(t *testing.T) { stress.RandomSizes(t, stress.Options{}) }

func TestStreamPauses(t *testing.T) { stress.Pauses(t, stress.Options{}) }

func TestStreamReserveHold(t *testing.T) { stress.ReserveHold(t, stress.Options{}) }

func TestMemoryOrdering(t *testing.T) { stress.MemoryOrdering(t, stress.Options{}) }

func TestFaults(t *testing.T) { stress.Faults(t, stress.Options{}) }

func TestChurn(t *testing.T) { stress.Churn(t, stress.Options{}) }

// TestEveryNotifierLinked guards the thin callers above: they cover the
// notifiers of this module only if all of them are registered here.
func TestEveryNotifierLinked(t *testing.T) {
	assert.Subset(t, ring.NotifierNames(), []string{"semaphore", "futex", "hybrid", "spin", "yield", "backoff", "adaptive"})
}
