package bench_test

import "github.com/zerobuffer/zerobuffer-go/bench"

// A program that measures its own notifier next to the built-in ones:
// link the notifier packages in (blank imports of sync/futex, sync/spin
// and your own), say which floor yours is compared with, and hand main
// to the bench. `go run . --quick` then runs the whole comparison.
func Example() {
	bench.SetFloor("mine", bench.FloorFutex) // it sleeps in the kernel
	bench.Main()
}
