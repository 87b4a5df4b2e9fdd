package unixgram_test

import (
	"testing"

	"github.com/zerobuffer/zerobuffer-go/notify/notifytest"
)

// The Notifier contract, as notifytest checks it for every strategy: in
// one process and across two. unixgram can tell when the writer sleeps
// (its sleeper word).
func TestConformance(t *testing.T) {
	notifytest.Run(t, "unixgram", notifytest.ReportsWriterWaiting())
}
