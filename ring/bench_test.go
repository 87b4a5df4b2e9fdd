package ring

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Frame sizes the benchmarks cover: from telemetry to a 1080p YUV420
// frame with a 16-byte timestamp header.
var benchSizes = []int{64, 1 << 10, 64 << 10, 1 << 20, 3110416}

// benchRing sizes the ring for a frame size: room for many small frames,
// and for at least 8 large ones (the relay setup of the other
// implementations uses 256 MiB for 3 MB frames).
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

// BenchmarkStream streams frames from a writer to a reader that releases
// each frame without touching its bytes (zero copy), reporting frames/s
// and MB/s; the writer copies each payload in (WriteFrame). The memcpy
// sub-benchmark is the baseline: the same copies into a mapping of the
// same size, without the ring. Compare frames/s of the two in one run;
// memcpy_ratio in the ring benchmarks is ring throughput / memcpy
// throughput, measured just before.
func BenchmarkStream(b *testing.B) {
	for _, size := range benchSizes {
		var memcpyNs float64
		b.Run(sizeName(size)+"/memcpy", func(b *testing.B) {
			memcpyNs = benchMemcpy(b, size)
		})
		b.Run(sizeName(size)+"/goroutines", func(b *testing.B) {
			benchStreamInProcess(b, size, memcpyNs)
		})
		b.Run(sizeName(size)+"/processes", func(b *testing.B) {
			benchStreamCrossProcess(b, size, memcpyNs)
		})
	}
}

// benchMemcpy copies size bytes at advancing offsets of a prefaulted
// shared mapping as large as the ring, and returns ns per copy.
func benchMemcpy(b *testing.B, size int) float64 {
	ringSize := int(benchRing(size))
	dst, err := unix.Mmap(-1, 0, ringSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(dst)
	src := make([]byte, size)
	fillPattern(src, 1)
	b.SetBytes(int64(size))
	b.ResetTimer()
	off := 0
	for i := 0; i < b.N; i++ {
		if off+size+16 > ringSize {
			off = 0
		}
		copy(dst[off+16:off+16+size], src)
		off += size + 16
	}
	b.StopTimer()
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(1e9/ns, "frames/s")
	return ns
}

func reportStream(b *testing.B, size int, memcpyNs float64) {
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(1e9/ns, "frames/s")
	if memcpyNs > 0 {
		b.ReportMetric(memcpyNs/ns, "memcpy_ratio")
	}
}

func benchStreamInProcess(b *testing.B, size int, memcpyNs float64) {
	name := uniqueName(b)
	r, err := NewReader(name, Config{PayloadSize: benchRing(size)})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	w, err := Connect(name)
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, size)
	fillPattern(payload, 0)
	b.SetBytes(int64(size))
	var wg sync.WaitGroup
	var werr error
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
	reportStream(b, size, memcpyNs)
}

// benchStreamCrossProcess reads in this process what a child process
// writes; the child connects first and starts on our signal, so process
// start-up is not timed.
func benchStreamCrossProcess(b *testing.B, size int, memcpyNs float64) {
	name := uniqueName(b)
	r, err := NewReader(name, Config{PayloadSize: benchRing(size)})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	c := startChild(b, "bench-writer", fmt.Sprintf("%d,%d", size, b.N), name)
	c.expectLine("CONNECTED")
	b.SetBytes(int64(size))
	ctx := context.Background()
	var ru0, ru1 unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru0)
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
	unix.Getrusage(unix.RUSAGE_SELF, &ru1)
	if err := c.wait(); err != nil {
		b.Fatal(err)
	}
	reportStream(b, size, memcpyNs)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "reader-cpu-ns/frame")
}

// runBenchWriter is the child side of benchStreamCrossProcess; params is
// "size,count".
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
	fillPattern(payload, 0)
	fmt.Println("CONNECTED")
	var line [8]byte
	os.Stdin.Read(line[:])
	for i := 0; i < frames; i++ {
		if err := w.WriteFrame(payload); err != nil {
			return err
		}
	}
	return nil
}
