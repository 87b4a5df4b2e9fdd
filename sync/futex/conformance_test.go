package futex_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/zerobuffer/zerobuffer-go/notify/notifytest"
	_ "github.com/zerobuffer/zerobuffer-go/sync/futex"
)

func TestMain(m *testing.M) {
	notifytest.ServeChild()
	goleak.VerifyTestMain(m)
}

// The futex strategies keep the Notifier contract.
func TestConformance(t *testing.T) {
	for _, name := range []string{"futex", "hybrid", "adaptive"} {
		t.Run(name, func(t *testing.T) { notifytest.Run(t, name, notifytest.ReportsWriterWaiting()) })
	}
}
