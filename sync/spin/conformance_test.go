package spin

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/zerobuffer/zerobuffer-go/notify/notifytest"
)

func TestMain(m *testing.M) {
	notifytest.ServeChild()
	goleak.VerifyTestMain(m)
}

// The three spin strategies keep the Notifier contract. A polling writer
// never sleeps, so WriterWaiting stays false.
func TestConformance(t *testing.T) {
	for _, name := range []string{"spin", "yield", "backoff"} {
		t.Run(name, func(t *testing.T) { notifytest.Run(t, name) })
	}
}
