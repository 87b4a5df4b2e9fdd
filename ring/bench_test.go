package ring_test

// The ring's Go benchmarks. The cross-process figures and the floors are
// measured by the bench package's engine, the code `zerobuffer bench`
// runs, so that `go test -bench` and the bench report the same
// measurements; the in-process variants (writer and reader as
// goroutines of one process) exist only here.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/bench"
	"github.com/zerobuffer/zerobuffer-go/ring"
	_ "github.com/zerobuffer/zerobuffer-go/sync/futex"
	_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
)

// The bench's children are this test binary run again: they take their
// role here, before the ring's TestMain.
func init() { bench.RunChild() }

// Frame sizes the streaming benchmarks cover: from telemetry to a 1080p
// YUV420 frame with a 16-byte timestamp header.
var benchSizes = []int{64, 1 << 10, 64 << 10, 1 << 20, 3110416}

// benchRing sizes an in-process streaming ring as the bench sizes its
// own: room for many small frames, and for at least 8 large ones.
func benchRing(size int) uint64 {
	return uint64(max(64<<20, 8*(size+16)))
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

var benchSeq atomic.Int64

// benchName is a buffer name for an in-process benchmark; it starts as
// every buffer of this test binary does, so TestMain's leftover check
// covers it.
func benchName() string {
	return fmt.Sprintf("zbtest-ring-%d-bench-%d", os.Getpid(), benchSeq.Add(1))
}

// engine returns a bench engine closed when b ends.
func engine(b *testing.B) *bench.Engine {
	e := bench.NewEngine(context.Background())
	b.Cleanup(e.Close)
	return e
}

func cpuTime() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// payload is a frame's source bytes, written: an untouched allocation
// reads the kernel's zero page, which no real frame does.
func payload(size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(i*7 + 1)
	}
	return p
}

// BenchmarkStream streams frames from a writer to a reader that releases
// each frame without touching its bytes (zero copy), for every frame size
// and notifier, reporting frames/s and CPU time per frame; the writer
// copies each payload in (WriteFrame). The memcpy sub-benchmark is the
// baseline: the same copies into a mapping of the same size, without the
// ring; memcpy_ratio = ring throughput / memcpy throughput, measured in
// the same run. The "processes" variant is the bench's stream stage.
func BenchmarkStream(b *testing.B) {
	for _, size := range benchSizes {
		var memcpyNs float64
		b.Run(sizeName(size)+"/memcpy", func(b *testing.B) {
			ns, err := engine(b).Memcpy(size, b.N)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(1e9/ns, "frames/s")
			b.ReportMetric(float64(size)/ns*1e3, "MB/s")
			memcpyNs = ns
		})
		for _, notifier := range ring.NotifierNames() {
			b.Run(sizeName(size)+"/"+notifier+"/goroutines", func(b *testing.B) {
				benchStreamInProcess(b, size, notifier, memcpyNs)
			})
			b.Run(sizeName(size)+"/"+notifier+"/processes", func(b *testing.B) {
				fig, err := engine(b).Stream(notifier, size, int64(b.N))
				if err != nil {
					b.Fatal(err)
				}
				reportStream(b, size, 1e9/fig.FramesPerSec, memcpyNs)
				b.ReportMetric(fig.ReaderCPUSecPerMFrames*1e3, "reader-cpu-ns/frame")
				b.ReportMetric(fig.WriterCPUSecPerMFrames*1e3, "writer-cpu-ns/frame")
			})
		}
	}
}

// reportStream reports a stream's throughput from its ns per frame.
func reportStream(b *testing.B, size int, ns, memcpyNs float64) {
	b.ReportMetric(1e9/ns, "frames/s")
	b.ReportMetric(float64(size)/ns*1e3, "MB/s")
	if memcpyNs > 0 {
		b.ReportMetric(memcpyNs/ns, "memcpy_ratio")
	}
}

func benchStreamInProcess(b *testing.B, size int, notifier string, memcpyNs float64) {
	name := benchName()
	n, err := ring.NewNotifier(notifier)
	if err != nil {
		b.Fatal(err)
	}
	r, err := ring.NewReader(name, ring.Config{PayloadSize: benchRing(size)}, ring.WithNotifier(n))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	w, err := ring.Connect(name)
	if err != nil {
		b.Fatal(err)
	}
	p := payload(size)
	var wg sync.WaitGroup
	var werr error
	cpu0 := cpuTime()
	b.ResetTimer()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < b.N; i++ {
			if werr = w.WriteFrame(p); werr != nil {
				return
			}
		}
	}()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			b.Fatal(err)
		}
		_ = f.Release()
	}
	b.StopTimer()
	wg.Wait()
	w.Close()
	if werr != nil {
		b.Fatal(werr)
	}
	reportStream(b, size, float64(b.Elapsed().Nanoseconds())/float64(b.N), memcpyNs)
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/frame")
}

// BenchmarkPingPong measures 64-byte round trips through two rings (a
// request ring and a response ring) per notifier, as goroutines and as
// processes, reporting p50 and p99 and, for the processes, their ratio to
// the floor of the notifier's mechanism (bench.FloorOf) measured first in
// the same run: the spin floor (a cache line bounced between two
// processes) for the spin family and the hybrid, the futex floor for
// futex and semaphore. CPU time per round trip is reported for each
// side: a notifier that is fast because it burns a core says so. The
// floors and the "processes" variant are the bench's floors and
// ping-pong stages.
func BenchmarkPingPong(b *testing.B) {
	floors := map[bench.Floor]float64{}
	for _, f := range []bench.Floor{bench.FloorSpin, bench.FloorFutex, bench.FloorSemaphore} {
		b.Run("floor-"+string(f), func(b *testing.B) {
			lat, err := engine(b).FloorRoundTrips(f, b.N)
			if err != nil {
				b.Fatal(err)
			}
			reportLatency(b, lat)
			floors[f] = lat.P50Ns
		})
	}
	for _, notifier := range ring.NotifierNames() {
		b.Run(notifier+"/goroutines", func(b *testing.B) { benchPingPongInProcess(b, notifier) })
		b.Run(notifier+"/processes", func(b *testing.B) {
			fig, err := engine(b).PingPong(notifier, 64, b.N)
			if err != nil {
				b.Fatal(err)
			}
			reportLatency(b, fig.Latency)
			b.ReportMetric(fig.PingCPUNsPerRT, "ping-cpu-ns/rt")
			b.ReportMetric(fig.EchoCPUNsPerRT, "echo-cpu-ns/rt")
			if f, ok := bench.FloorOf(notifier); ok && floors[f] > 0 {
				b.ReportMetric(fig.Latency.P50Ns/floors[f], "p50/floor-"+string(f))
			}
		})
	}
}

func reportLatency(b *testing.B, l bench.Latency) {
	b.ReportMetric(l.P50Ns, "p50-ns")
	b.ReportMetric(l.P99Ns, "p99-ns")
}

// benchPingPongInProcess bounces 64-byte frames between this goroutine
// (writes a request, reads the response) and an echo goroutine.
func benchPingPongInProcess(b *testing.B, notifier string) {
	req, resp := benchName(), benchName()
	n, err := ring.NewNotifier(notifier)
	if err != nil {
		b.Fatal(err)
	}
	r, err := ring.NewReader(resp, ring.Config{PayloadSize: 1 << 20}, ring.WithNotifier(n))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ready := make(chan error, 1)
	done := make(chan struct{})
	go func() { defer close(done); echo(notifier, resp, req, ready) }()
	if err := <-ready; err != nil {
		b.Fatal(err)
	}
	w, err := ring.Connect(req)
	if err != nil {
		b.Fatal(err)
	}
	p := make([]byte, 64)
	ctx := context.Background()
	rtts := make([]time.Duration, 0, b.N)
	cpu0 := cpuTime()
	b.ResetTimer()
	last := time.Now()
	for i := 0; i < b.N; i++ {
		if err := w.WriteFrame(p); err != nil {
			b.Fatal(err)
		}
		f, err := r.ReadFrame(ctx)
		if err != nil {
			b.Fatal(err)
		}
		_ = f.Release()
		now := time.Now()
		rtts = append(rtts, now.Sub(last))
		last = now
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	w.Close()
	<-done
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/rt")
	slices.Sort(rtts)
	q := func(q float64) float64 { return float64(rtts[int(q*float64(len(rtts)-1))].Nanoseconds()) }
	b.ReportMetric(q(0.5), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
}

// echo creates the request ring req, connects to the response ring resp,
// says so on ready, and echoes frames until the requester closes.
func echo(notifier, resp, req string, ready chan<- error) {
	n, err := ring.NewNotifier(notifier)
	if err != nil {
		ready <- err
		return
	}
	r, err := ring.NewReader(req, ring.Config{PayloadSize: 1 << 20}, ring.WithNotifier(n))
	if err != nil {
		ready <- err
		return
	}
	defer r.Close()
	w, err := ring.Connect(resp)
	if err != nil {
		ready <- err
		return
	}
	defer w.Close()
	ready <- nil
	ctx := context.Background()
	for {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			return // the requester closed
		}
		buf, err := w.Reserve(f.Len())
		if err != nil {
			return
		}
		copy(buf, f.Bytes())
		_ = f.Release()
		if w.Commit() != nil {
			return
		}
	}
}
