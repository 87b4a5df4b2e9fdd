//go:build linux

package semaphore_test

import (
	"testing"

	"github.com/zerobuffer/zerobuffer-go/notify/notifytest"
)

// The semaphore notifier keeps the Notifier contract (the suite's child
// processes are served by TestMain).
func TestConformance(t *testing.T) {
	notifytest.Run(t, "semaphore", notifytest.ReportsWriterWaiting())
}
