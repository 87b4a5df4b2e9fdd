package bench

import (
	"testing"

	"go.uber.org/goleak"

	// The bench measures the notifiers the program links in: the tests
	// link in every built-in one.
	_ "github.com/zerobuffer/zerobuffer-go/sync/futex"
	_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
)

// The bench's children are this test binary run again: RunChild hands
// them to their role before the tests (Main does this in a program).
func TestMain(m *testing.M) {
	RunChild()
	goleak.VerifyTestMain(m)
}
