package ring

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/floor"
	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// Frame sizes the streaming benchmarks cover: from telemetry to a 1080p
// YUV420 frame with a 16-byte timestamp header.
var benchSizes = []int{64, 1 << 10, 64 << 10, 1 << 20, 3110416}

// benchRing sizes the ring for a frame size: room for many small frames,
// and for at least 8 large ones.
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

func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStream streams frames from a writer to a reader that releases
// each frame without touching its bytes (zero copy), for every frame size
// and notifier, reporting frames/s, MB/s and CPU time per frame; the
// writer copies each payload in (WriteFrame). The memcpy sub-benchmark is
// the baseline: the same copies into a mapping of the same size, without
// the ring; memcpy_ratio = ring throughput / memcpy throughput, measured
// in the same run.
func BenchmarkStream(b *testing.B) {
	for _, size := range benchSizes {
		var memcpyNs float64
		b.Run(sizeName(size)+"/memcpy", func(b *testing.B) {
			memcpyNs = benchMemcpy(b, size)
		})
		for _, notifier := range NotifierNames() {
			b.Run(sizeName(size)+"/"+notifier+"/goroutines", func(b *testing.B) {
				benchStreamInProcess(b, size, notifier, memcpyNs)
			})
			b.Run(sizeName(size)+"/"+notifier+"/processes", func(b *testing.B) {
				benchStreamCrossProcess(b, size, notifier, memcpyNs)
			})
		}
	}
}

// benchMemcpy copies size bytes at advancing offsets of a prefaulted
// shared mapping as large as the ring, and returns ns per copy.
func benchMemcpy(b *testing.B, size int) float64 {
	dst, err := unix.Mmap(-1, 0, int(benchRing(size)), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(dst)
	b.SetBytes(int64(size))
	b.ResetTimer()
	ns := floor.Memcpy(dst, size, b.N)
	b.ReportMetric(1e9/ns, "frames/s")
	return ns
}

func reportStream(b *testing.B, memcpyNs float64) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(1e9/ns, "frames/s")
	if memcpyNs > 0 {
		b.ReportMetric(memcpyNs/ns, "memcpy_ratio")
	}
}

func benchStreamInProcess(b *testing.B, size int, notifier string, memcpyNs float64) {
	name := uniqueName(b)
	r, err := NewReader(name, Config{PayloadSize: benchRing(size)}, withNotifier(b, notifier))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	w, err := Connect(name)
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, size)
	fillPattern(payload, 1) // written: an untouched buffer reads the zero page
	b.SetBytes(int64(size))
	var wg sync.WaitGroup
	var werr error
	cpu0 := cpuTime()
	b.ResetTimer()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < b.N; i++ {
			if werr = w.WriteFrame(payload); werr != nil {
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
		f.Release()
	}
	b.StopTimer()
	wg.Wait()
	w.Close()
	if werr != nil {
		b.Fatal(werr)
	}
	reportStream(b, memcpyNs)
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/frame")
}

// benchStreamCrossProcess reads in this process what a child process
// writes; the child connects first and starts on our signal, so process
// start-up is not timed. CPU time is reported per side.
func benchStreamCrossProcess(b *testing.B, size int, notifier string, memcpyNs float64) {
	name := uniqueName(b)
	r, err := NewReader(name, Config{PayloadSize: benchRing(size)}, withNotifier(b, notifier))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	c := startChild(b, "bench-writer", fmt.Sprintf("%d,%d", size, b.N), name)
	c.expectLine("CONNECTED")
	b.SetBytes(int64(size))
	ctx := context.Background()
	cpu0 := cpuTime()
	b.ResetTimer()
	fmt.Fprintln(c.stdin, "go")
	for i := 0; i < b.N; i++ {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			b.Fatal(err)
		}
		f.Release()
	}
	b.StopTimer()
	readerCPU := cpuTime() - cpu0
	writerCPU := c.readDuration("CPU")
	if err := c.wait(); err != nil {
		b.Fatal(err)
	}
	reportStream(b, memcpyNs)
	b.ReportMetric(float64(readerCPU.Nanoseconds())/float64(b.N), "reader-cpu-ns/frame")
	b.ReportMetric(float64(writerCPU.Nanoseconds())/float64(b.N), "writer-cpu-ns/frame")
}

// runBenchWriter is the child side of benchStreamCrossProcess; params is
// "size,count". It prints its CPU time for the frames at the end.
func runBenchWriter(params, buffer string) error {
	size, count, ok := strings.Cut(params, ",")
	if !ok {
		return fmt.Errorf("bad params %q", params)
	}
	n, _ := strconv.Atoi(size)
	frames, _ := strconv.Atoi(count)
	w, err := Connect(buffer, WithWriteTimeout(time.Minute))
	if err != nil {
		return err
	}
	defer w.Close()
	payload := make([]byte, n)
	fillPattern(payload, 1) // written: an untouched buffer reads the zero page
	fmt.Println("CONNECTED")
	var line [8]byte
	os.Stdin.Read(line[:])
	cpu0 := cpuTime()
	for i := 0; i < frames; i++ {
		if err := w.WriteFrame(payload); err != nil {
			return err
		}
	}
	fmt.Println("CPU", (cpuTime() - cpu0).Nanoseconds())
	return nil
}

// readDuration reads the child's line "PREFIX <nanoseconds>".
func (c *child) readDuration(prefix string) time.Duration {
	c.t.Helper()
	for {
		line, err := c.stdout.ReadString('\n')
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), prefix+" "); ok {
			ns, _ := strconv.ParseInt(rest, 10, 64)
			return time.Duration(ns)
		}
		if err != nil {
			return 0
		}
	}
}

// BenchmarkPingPong measures 64-byte round trips through two rings (a
// request ring and a response ring) per notifier, as goroutines and as
// processes, reporting p50 and p99 and their ratio to the floor of the
// notifier's mechanism, measured first in the same run: the spin floor
// (a cache line bounced between two processes) for the spin family and the
// hybrid, the futex floor (a futex ping-pong) for futex and semaphore.
// CPU time per round trip is reported for each side: a notifier that is
// fast because it burns a core says so.
func BenchmarkPingPong(b *testing.B) {
	floors := map[floor.Mechanism]float64{}
	for _, m := range []floor.Mechanism{floor.Spin, floor.Futex} {
		b.Run("floor-"+string(m), func(b *testing.B) { floors[m] = benchFloor(b, m) })
	}
	b.Run("floor-semaphore", benchSemaphoreFloor)
	for _, notifier := range NotifierNames() {
		mech := floor.Spin
		if notifier == "futex" || notifier == "semaphore" {
			mech = floor.Futex
		}
		for _, cross := range []bool{false, true} {
			mode := map[bool]string{false: "goroutines", true: "processes"}[cross]
			b.Run(notifier+"/"+mode, func(b *testing.B) {
				p50 := benchPingPong(b, notifier, cross)
				if f := floors[mech]; f > 0 {
					b.ReportMetric(p50/f, "p50/floor-"+string(mech))
				}
			})
		}
	}
}

// percentiles reports p50 and p99 of the recorded round trips and returns
// p50.
func percentiles(b *testing.B, rtts []time.Duration) float64 {
	slices.Sort(rtts)
	p := func(q float64) float64 { return float64(rtts[int(q*float64(len(rtts)-1))].Nanoseconds()) }
	b.ReportMetric(p(0.5), "p50-ns")
	b.ReportMetric(p(0.99), "p99-ns")
	return p(0.5)
}

func benchFloor(b *testing.B, m floor.Mechanism) float64 {
	name := uniqueName(b)
	seg, err := shm.Create(name, floor.SegmentSize, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer shm.Unlink(name)
	defer seg.Close()
	w, _ := floor.View(seg.Data)
	c := startChild(b, "floor-pong", string(m)+","+strconv.Itoa(b.N), name)
	c.expectLine("READY")
	rtts := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	if _, err := w.Ping(m, b.N, func(d time.Duration) { rtts = append(rtts, d) }, nil); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if err := c.wait(); err != nil {
		b.Fatal(err)
	}
	return percentiles(b, rtts)
}

func benchSemaphoreFloor(b *testing.B) {
	name := uniqueName(b)
	n := semaphore.New(semaphore.WithSpin(0))
	if err := n.Create(name, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	defer n.Remove(name)
	defer n.Close()
	ping, _ := semaphore.Open(semaphore.DataName(name))
	pong, _ := semaphore.Open(semaphore.SpaceName(name))
	defer ping.Close()
	defer pong.Close()
	c := startChild(b, "floor-pong", "semaphore,"+strconv.Itoa(b.N), name)
	c.expectLine("READY")
	rtts := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	last := time.Now()
	for i := 0; i < b.N; i++ {
		ping.Post()
		if ok, err := pong.Wait(hangGuard); !ok || err != nil {
			b.Fatal("semaphore floor stalled", err)
		}
		now := time.Now()
		rtts = append(rtts, now.Sub(last))
		last = now
	}
	b.StopTimer()
	if err := c.wait(); err != nil {
		b.Fatal(err)
	}
	percentiles(b, rtts)
}

// runFloorPong is the child side of the floors; params "mechanism,rounds".
func runFloorPong(params, name string) error {
	mech, count, _ := strings.Cut(params, ",")
	rounds, _ := strconv.Atoi(count)
	if mech == "semaphore" {
		ping, err := semaphore.Open(semaphore.DataName(name))
		if err != nil {
			return err
		}
		defer ping.Close()
		pong, err := semaphore.Open(semaphore.SpaceName(name))
		if err != nil {
			return err
		}
		defer pong.Close()
		ping.SetSpin(0)
		fmt.Println("READY")
		for range rounds {
			if ok, err := ping.Wait(hangGuard); !ok || err != nil {
				return fmt.Errorf("semaphore floor stalled: %v", err)
			}
			pong.Post()
		}
		return nil
	}
	seg, err := shm.Open(name, false, floor.SegmentSize)
	if err != nil {
		return err
	}
	defer seg.Close()
	w, err := floor.View(seg.Data)
	if err != nil {
		return err
	}
	fmt.Println("READY")
	return w.Pong(floor.Mechanism(mech), rounds, nil)
}

// benchPingPong bounces 64-byte frames: this side writes a request and
// reads the response; the echo side (a goroutine or a child process) reads
// each request and writes it back.
func benchPingPong(b *testing.B, notifier string, cross bool) float64 {
	req, resp := uniqueName(b), uniqueName(b)
	r, err := NewReader(resp, Config{PayloadSize: 1 << 20}, withNotifier(b, notifier))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var echoCPU func() time.Duration
	if cross {
		c := startChild(b, "echo", notifier+","+resp, req)
		c.expectLine("READY")
		defer c.wait()
		echoCPU = func() time.Duration { return c.readDuration("CPU") }
	} else {
		ready := make(chan error, 1)
		done := make(chan time.Duration, 1)
		go func() { done <- runEcho(notifier, resp, req, func(err error) { ready <- err }) }()
		if err := <-ready; err != nil {
			b.Fatal(err)
		}
		echoCPU = func() time.Duration { return <-done }
	}
	w, err := Connect(req)
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, 64)
	ctx := context.Background()
	rtts := make([]time.Duration, 0, b.N)
	cpu0 := cpuTime()
	b.ResetTimer()
	last := time.Now()
	for i := 0; i < b.N; i++ {
		if err := w.WriteFrame(payload); err != nil {
			b.Fatal(err)
		}
		f, err := r.ReadFrame(ctx)
		if err != nil {
			b.Fatal(err)
		}
		f.Release()
		now := time.Now()
		rtts = append(rtts, now.Sub(last))
		last = now
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	w.Close()
	echo := echoCPU()
	if cross {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "ping-cpu-ns/rt")
		b.ReportMetric(float64(echo.Nanoseconds())/float64(b.N), "echo-cpu-ns/rt")
	} else {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/rt")
	}
	return percentiles(b, rtts)
}

// runEcho creates the request ring req, connects to the response ring
// resp, calls ready, and echoes frames until the requester closes. It
// returns its CPU time (the whole process's, when it is a goroutine).
func runEcho(notifier, resp, req string, ready func(error)) time.Duration {
	n, err := NewNotifier(notifier)
	if err != nil {
		ready(err)
		return 0
	}
	r, err := NewReader(req, Config{PayloadSize: 1 << 20}, WithNotifier(n))
	if err != nil {
		ready(err)
		return 0
	}
	defer r.Close()
	w, err := Connect(resp)
	if err != nil {
		ready(err)
		return 0
	}
	defer w.Close()
	ready(nil)
	cpu0 := cpuTime()
	ctx := context.Background()
	for {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			return cpuTime() - cpu0 // the requester closed
		}
		buf, err := w.Reserve(f.Len())
		if err != nil {
			return cpuTime() - cpu0
		}
		copy(buf, f.Bytes())
		f.Release()
		if w.Commit() != nil {
			return cpuTime() - cpu0
		}
	}
}
