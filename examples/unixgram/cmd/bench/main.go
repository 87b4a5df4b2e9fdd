// Command bench is `zerobuffer bench` with the unixgram notifier linked in
// beside the module's own: every stage measures it next to the built-in
// notifiers on the same ring, with the same floors, in the same run.
//
//	go run ./cmd/bench --quick
//	go run ./cmd/bench --notifiers unixgram,futex,semaphore --out bench-out
//
// It takes bench's options (--help lists them).
package main

import (
	"github.com/zerobuffer/zerobuffer-go/bench"
	"github.com/zerobuffer/zerobuffer-go/examples/unixgram"
	_ "github.com/zerobuffer/zerobuffer-go/sync/futex"
	_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
)

// unixgram sleeps in the kernel (in epoll, through the netpoller) from its
// first wait, like futex and semaphore: its ping-pong is compared with the
// futex floor, the cheapest kernel wake-up between two processes.
func init() { bench.SetFloor(unixgram.Name, bench.FloorFutex) }

func main() { bench.Main() }
