package unixgram_test

import (
	"testing"

	"github.com/zerobuffer/zerobuffer-go/stress"
)

// TestMain lets the suites' child processes play their parts (the test
// binary re-executes itself) and, after the tests, fails the run if a
// buffer file, a child process or a goroutine outlived them.
func TestMain(m *testing.M) { stress.Main(m) }
