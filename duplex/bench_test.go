package duplex

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

func init() {
	// An echo server for the benchmark, serving until stdin closes.
	childRoles["bench-server"] = func(_, notifier, channel string) error {
		srv, err := Listen(channel, ring.Config{MetadataSize: 64, PayloadSize: 4 << 20}, WithNotifier(notifier))
		if err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() { done <- srv.Serve(context.Background(), echo) }()
		fmt.Println("READY")
		io.Copy(io.Discard, os.Stdin)
		cerr := srv.Close()
		<-done
		return cerr
	}
}

// BenchmarkCall measures Call against an echo server in another process,
// per notifier, request size and number of calls in flight (depth 1:
// one call at a time; depth 8: eight goroutines calling, pipelined). It
// reports requests/s and the p50 and p99 of a call's latency.
func BenchmarkCall(b *testing.B) {
	for _, notifier := range ring.NotifierNames() {
		b.Run("notifier="+notifier, func(b *testing.B) {
			name := uniqueName(b)
			child := startBenchServer(b, notifier, name)
			defer func() {
				if err := child.Wait(); err != nil {
					b.Error(err)
				}
			}()
			c, err := Dial(name, WithNotifier(notifier), WithResponseConfig(ring.Config{MetadataSize: 64, PayloadSize: 4 << 20}))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			for _, size := range []int{64, 1024} {
				for _, depth := range []int{1, 8} {
					b.Run(fmt.Sprintf("size=%d/depth=%d", size, depth), func(b *testing.B) {
						benchCalls(b, c, size, depth)
					})
				}
			}
		})
	}
}

func startBenchServer(b *testing.B, notifier, name string) *testsupport.Child {
	b.Helper()
	c := startChild(b, "bench-server", "-", notifier, name, nil)
	c.Expect("READY")
	return c
}

func benchCalls(b *testing.B, c *Client, size, depth int) {
	req := pattern(size, 1)
	ctx := context.Background()
	lat := make([][]time.Duration, depth)
	var next atomic.Int64
	var failed atomic.Value
	b.SetBytes(int64(size))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for g := range depth {
		wg.Go(func() {
			buf := make([]byte, 0, size)
			mine := make([]time.Duration, 0, b.N/depth+1)
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				var err error
				buf, err = c.AppendCall(ctx, buf[:0], req)
				mine = append(mine, time.Since(t0))
				if err != nil {
					failed.Store(err)
					return
				}
			}
			lat[g] = mine
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(all[len(all)*99/100].Nanoseconds()), "p99-ns")
}
