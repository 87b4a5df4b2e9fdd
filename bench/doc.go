// Package bench measures every wait strategy (notifier) registered in a
// program on the same ring, each figure next to the floor of its raw
// mechanism measured in the same run: the engine behind `zerobuffer
// bench`, offered as a library so that a notifier written outside this
// module is measured exactly like the built-in ones.
//
// A run has seven stages: floors (raw round trips between two processes
// without a ring: a polled cache line, a futex ping-pong, a semaphore
// ping-pong; and memcpy into a warm shared mapping), pingpong (round
// trips through a request ring and a response ring), stream (a writer
// process into a reader process), relay (3.1 MB frames through a relay
// process and back, paced; copying, then zero-copy), idle (the CPU a
// waiting reader burns), openloop (64 B frames at fixed offered rates,
// one-way latency from each frame's intended send time: corrected for
// coordinated omission, with each side's CPU per frame) and wake (the
// first frame after an idle gap). Each records where its two processes
// ran. Beside the figures it prints the notifiers' counters (notify.Stats:
// wake and sleeping system calls, spurious wake-ups, spins). It prints a
// table per stage, the goals as PASS or MISS, and with --out
// writes results.json, results.csv and SVG charts. Usage lists the
// options.
//
// # Measuring your own notifier
//
// The bench measures the notifiers of ring.NotifierNames(): whatever
// packages the program links in. A program that links in its own
// notifier package gets the whole comparison with a one-line main:
//
//	package main
//
//	import (
//		"github.com/zerobuffer/zerobuffer-go/bench"
//		_ "github.com/zerobuffer/zerobuffer-go/sync/futex"
//		_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
//		_ "example.com/mynotifier" // registers "mine"
//	)
//
//	func init() { bench.SetFloor("mine", bench.FloorFutex) }
//
//	func main() { bench.Main() }
//
// and `go run . --quick` (or `--notifiers mine,futex --out dir`) runs it.
// SetFloor says which floor a notifier's ping-pong is compared with:
// FloorFutex for one that sleeps in the kernel, FloorSpin for one that
// polls first. A notifier without a floor is measured all the same, with
// its ratios and goal left blank.
//
// The other process of each measurement is the program itself, run again
// with an environment variable naming its role. Main handles that; a
// program with a main of its own calls RunChild first thing, and then
// Run with its arguments. A test binary that measures calls RunChild from
// its TestMain (or an init function), and may use an Engine directly for
// the figures of a Go benchmark.
//
// Every buffer the bench creates is named zb-bench-PID-… and removed
// before the measurement returns, even when it fails; children are
// killed with the bench (SIGINT, SIGTERM, or its death).
package bench
