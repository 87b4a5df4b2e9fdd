package unixgram_test

import (
	"testing"

	"github.com/zerobuffer/zerobuffer-go/notify/notifytest"
	"github.com/zerobuffer/zerobuffer-go/stress"
)

// TestMain lets the child processes of the conformance suite and of the
// stress suites play their parts (the test binary re-executes itself) and,
// after the tests, fails the run if a buffer file, a child process or a
// goroutine outlived them.
func TestMain(m *testing.M) {
	notifytest.ServeChild()
	stress.Main(m)
}
