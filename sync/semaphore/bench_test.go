//go:build linux

package semaphore_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// helperEnv, when set, turns the test binary into a Go peer process for the
// cross-process benchmarks: "MODE WAITON POSTTO ROUNDS SPIN". The helper
// waits on WAITON and posts POSTTO, ROUNDS times. In mode "pingpong" it
// prints nothing; in mode "stream" it prints how many of its posts found a
// registered waiter.
const helperEnv = "ZB_SEMAPHORE_HELPER"

func helperMain(spec string) int {
	args := strings.Fields(spec)
	if len(args) != 5 || (args[0] != "pingpong" && args[0] != "stream") {
		fmt.Fprintf(os.Stderr, "helper: bad arguments %q\n", args)
		return 1
	}
	rounds, _ := strconv.Atoi(args[3])
	spin, _ := time.ParseDuration(args[4])
	waitOn, err := semaphore.Open(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	defer waitOn.Close()
	postTo, err := semaphore.Open(args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	defer postTo.Close()
	waitOn.SetSpin(spin)
	wakes := 0
	for i := range rounds {
		ok, err := waitOn.Wait(hang)
		if err != nil || !ok {
			fmt.Fprintf(os.Stderr, "helper: round %d: ok=%v err=%v\n", i, ok, err)
			return 2
		}
		if postTo.Waiters() > 0 {
			wakes++
		}
		if err := postTo.Post(); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 1
		}
	}
	if args[0] == "stream" {
		fmt.Println(wakes)
	}
	return 0
}

// helper starts the test binary as a Go peer process.
func helper(b *testing.B, mode, waitOn, postTo string, rounds int, spin time.Duration) *testsupport.Child {
	b.Helper()
	return testsupport.Reexec(b, "helper", []string{fmt.Sprintf("%s=%s %s %s %d %v", helperEnv, mode, waitOn, postTo, rounds, spin)})
}

var spins = []time.Duration{0, 2 * time.Microsecond, 5 * time.Microsecond, 10 * time.Microsecond, 20 * time.Microsecond, 50 * time.Microsecond}

// BenchmarkPostWait is one uncontended Post and Wait: two CAS, no syscall.
func BenchmarkPostWait(b *testing.B) {
	s := mustCreate(b, uniqueName(b), 0)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Post()
		_, _ = s.Wait(-1)
	}
}

// BenchmarkPingPong bounces a token between two goroutines through two
// semaphores: each round trip is two posts and two waits that must block.
func BenchmarkPingPong(b *testing.B) {
	for _, spin := range spins {
		b.Run(fmt.Sprint("spin=", spin), func(b *testing.B) {
			ping := mustCreate(b, uniqueName(b), 0)
			pong := mustCreate(b, uniqueName(b), 0)
			ping.SetSpin(spin)
			pong.SetSpin(spin)
			n := b.N
			done := make(chan struct{})
			go func() {
				defer close(done)
				for range n {
					if ok, err := ping.Wait(hang); !ok || err != nil {
						panic(fmt.Sprint("ping wait: ", ok, err))
					}
					_ = pong.Post()
				}
			}()
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range n {
				_ = ping.Post()
				if ok, err := pong.Wait(hang); !ok || err != nil {
					b.Fatal("pong wait: ", ok, err)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			<-done
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/roundtrip")
		})
	}
}

// BenchmarkPingPongProcess is the same between this process and a peer
// process: another Go process (spinning as configured) or glibc's sem_wait
// (which never spins; only this side does).
func BenchmarkPingPongProcess(b *testing.B) {
	tool := buildTool(b, b.TempDir())
	for _, peer := range []string{"go", "glibc"} {
		for _, spin := range spins {
			b.Run(fmt.Sprintf("peer=%s/spin=%v", peer, spin), func(b *testing.B) {
				ping, pong := uniqueName(b), uniqueName(b)
				pingS := mustCreate(b, ping, 0)
				pongS := mustCreate(b, pong, 0)
				pongS.SetSpin(spin)
				n := b.N
				var wait func() error // reaps the peer; a failing test's cleanup kills it
				if peer == "go" {
					wait = helper(b, "pingpong", ping, pong, n, spin).Wait
				} else {
					cmd := exec.Command(tool, "pingpong", ping, pong, strconv.Itoa(n), strconv.Itoa(int(hang/time.Millisecond)))
					cmd.Stderr = os.Stderr
					require.NoError(b, cmd.Start())
					b.Cleanup(func() {
						if cmd.ProcessState == nil {
							_ = cmd.Process.Kill()
							_ = cmd.Wait()
						}
					})
					wait = cmd.Wait
				}
				b.ResetTimer()
				start := time.Now()
				for i := range n {
					_ = pingS.Post()
					if ok, err := pongS.Wait(hang); !ok || err != nil {
						b.Fatal("round ", i, ": ", ok, err)
					}
				}
				elapsed := time.Since(start)
				b.StopTimer()
				require.NoError(b, wait())
				b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/roundtrip")
			})
		}
	}
}

// BenchmarkStream is a ring in miniature: a writer posts "data" once per
// frame and may run at most window frames ahead, waiting on "space" that
// the reader posts once per frame it has consumed. wakes/frame counts the
// posts that found a registered waiter (so paid for FUTEX_WAKE), on both
// semaphores: spinning is meant to drive it towards zero.
func BenchmarkStream(b *testing.B) {
	const window = 64
	for _, spin := range spins {
		b.Run(fmt.Sprint("spin=", spin), func(b *testing.B) {
			data := mustCreate(b, uniqueName(b), 0)
			space := mustCreate(b, uniqueName(b), window)
			data.SetSpin(spin)
			space.SetSpin(spin)
			n := b.N
			done := make(chan int)
			go func() { // reader
				wakes := 0
				for range n {
					if ok, err := data.Wait(hang); !ok || err != nil {
						panic(fmt.Sprint("data wait: ", ok, err))
					}
					if space.Waiters() > 0 {
						wakes++
					}
					_ = space.Post()
				}
				done <- wakes
			}()
			wakes := 0
			b.ResetTimer()
			for range n { // writer
				if ok, err := space.Wait(hang); !ok || err != nil {
					b.Fatal("space wait: ", ok, err)
				}
				if data.Waiters() > 0 {
					wakes++
				}
				_ = data.Post()
			}
			wakes += <-done
			b.StopTimer()
			b.ReportMetric(float64(wakes)/float64(n), "wakes/frame")
		})
	}
}

// BenchmarkStreamProcess is BenchmarkStream with the reader in another Go
// process, as in real use, and a writer that spends gap producing each
// frame, so that the faster reader runs dry between frames: without a spin
// longer than gap, every frame costs the reader a sleep and the writer a
// FUTEX_WAKE.
func BenchmarkStreamProcess(b *testing.B) {
	const window = 64
	for _, gap := range []time.Duration{0, 2 * time.Microsecond, 8 * time.Microsecond} {
		for _, spin := range spins {
			b.Run(fmt.Sprintf("gap=%v/spin=%v", gap, spin), func(b *testing.B) {
				dataName, spaceName := uniqueName(b), uniqueName(b)
				data := mustCreate(b, dataName, 0)
				space := mustCreate(b, spaceName, window)
				space.SetSpin(spin)
				n := b.N
				peer := helper(b, "stream", dataName, spaceName, n, spin)
				wakes := 0
				b.ResetTimer()
				for i := range n {
					if gap > 0 { // "produce" the frame
						for t0 := time.Now(); time.Since(t0) < gap; {
						}
					}
					if ok, err := space.Wait(hang); !ok || err != nil {
						b.Fatal("round ", i, ": ", ok, err) // the cleanup kills the peer
					}
					if data.Waiters() > 0 {
						wakes++
					}
					_ = data.Post()
				}
				require.NoError(b, peer.Wait())
				b.StopTimer()
				readerWakes, err := strconv.Atoi(strings.TrimSpace(peer.Output()))
				require.NoError(b, err)
				b.ReportMetric(float64(wakes+readerWakes)/float64(n), "wakes/frame")
			})
		}
	}
}
