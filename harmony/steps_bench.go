package harmony

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// registerBench: the benchmarks of feature 14 that measure one mechanism
// (memory barriers, semaphores) or the ring's fill level under load.
func registerBench(r *Registry) {
	// 14.4: memory barriers.
	r.add(Given, `measure atomic fence operations`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		st.barrierNs = bestNsPerOp(fencedStores)
		w.logf(LevelInformation, "a sequentially consistent atomic store (a full barrier on amd64: XCHG; on arm64: STLR): %.2f ns", st.barrierNs)
		return nil
	})
	r.add(When, `compare with and without memory barriers`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		if st.barrierNs == 0 {
			return errors.New("the fenced operations were not measured first")
		}
		st.plainNs = bestNsPerOp(plainStores)
		st.barrierCompared = true
		w.logf(LevelInformation, "plain store %.2f ns, fenced store %.2f ns: the barrier costs %.2f ns", st.plainNs, st.barrierNs, max(st.barrierNs-st.plainNs, 0))
		return nil
	})
	r.add(Then, `verify data integrity maintained`, func(ctx context.Context, w *world, _ []string) error {
		n, err := w.integrityRun(ctx, w.perfBase("barrier"), 2000)
		if err != nil {
			return err
		}
		w.logf(LevelInformation, "%d frames of 1-4096 bytes crossed goroutines through the ring, every byte as written", n)
		return nil
	})
	r.add(Then, `expect less than `+q+` ns per barrier`, func(_ context.Context, w *world, a []string) error {
		st := w.perfState()
		if !st.barrierCompared {
			return errors.New("no barrier cost was measured and compared")
		}
		limit, err := strconv.ParseFloat(a[0], 64)
		if err != nil {
			return fmt.Errorf("limit %q is not a number of nanoseconds", a[0])
		}
		if st.barrierNs >= limit {
			return fmt.Errorf("a fenced store costs %.2f ns, want less than %s ns", st.barrierNs, a[0])
		}
		return nil
	})

	// 14.5: semaphore signalling.
	r.add(Given, `measure sem_post/sem_wait operation cost`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		return w.withSemaphores(func(a, b *semaphore.Sem) error {
			const n = 100000
			start := time.Now()
			for i := 0; i < n; i++ {
				if err := a.Post(); err != nil {
					return err
				}
				if ok, err := a.Wait(time.Second); !ok || err != nil {
					return fmt.Errorf("wait after post: ok %v, %v", ok, err)
				}
			}
			st.semOpNs = float64(time.Since(start).Nanoseconds()) / n
			trip, err := semPingPong(a, b, 20000)
			if err != nil {
				return err
			}
			a.SetSpin(0)
			b.SetSpin(0)
			sleeping, err := semPingPong(a, b, 5000)
			if err != nil {
				return err
			}
			st.semWakeNs = float64(trip.Nanoseconds()) / 2
			w.logf(LevelInformation, "sem_post + sem_wait, uncontended: %.0f ns; a signal to a waiting goroutine: %.0f ns with the default spin (%s), %.0f ns when every wait sleeps in the kernel",
				st.semOpNs, st.semWakeNs, semaphore.DefaultSpin, float64(sleeping.Nanoseconds())/2)
			return nil
		})
	})
	r.add(When, `test at rates:`, func(ctx context.Context, w *world, _ []string) error {
		rows, err := w.tableOr([][]string{{"1Hz", "negligible"}, {"100Hz", "negligible"}, {"1kHz", "negligible"},
			{"10kHz", "negligible"}, {"100kHz", "measurable"}})
		if err != nil {
			return err
		}
		st := w.perfState()
		st.semRates = nil
		return w.withSemaphores(func(a, _ *semaphore.Sem) error {
			for _, row := range rows {
				hz, err := parseRate(row[0])
				if err != nil {
					return err
				}
				d := 500 * time.Millisecond
				if hz < 10 {
					d = 2 * time.Second // a few signals at the slowest rates
				}
				rr, err := semAtRate(ctx, a, hz, d)
				if err != nil {
					return fmt.Errorf("%s: %w", row[0], err)
				}
				rr.label = row[0]
				if len(row) > 1 {
					rr.expected = row[1]
				}
				st.semRates = append(st.semRates, rr)
			}
			return nil
		})
	})
	r.add(Then, `report CPU usage and latency impact`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		if len(st.semRates) == 0 {
			return errors.New("no rate was measured")
		}
		for _, rr := range st.semRates {
			w.logf(LevelInformation, "%-7s %d signals (%.0f/s): CPU %.2f%% of a core, %.1f µs per signal; latency P50 %s, P99 %s (expected impact: %s)",
				rr.label, rr.signals, float64(rr.signals)/rr.use.wall.Seconds(), rr.use.percent(),
				float64(rr.use.cpu.Microseconds())/float64(max(rr.signals, 1)), rr.p50, rr.p99, rr.expected)
		}
		return nil
	})

	// 14.6: utilization under load.
	r.add(Given, `the `+q+` process is configured to be faster than reader`, func(_ context.Context, w *world, _ []string) error {
		w.perfState().fasterWriter = true
		w.logf(LevelInformation, "writer %d frames/s, reader %d frames/s, %d-byte frames", utilWriterHz, utilReaderHz, utilFrameSize)
		return nil
	})
	r.add(When, `monitor buffer utilization over time`, func(ctx context.Context, w *world, _ []string) error {
		st := w.perfState()
		if !st.fasterWriter {
			return errors.New("the writer was not configured to be faster than the reader")
		}
		run, err := w.utilizationRun(ctx, w.perfBase("utilization"))
		if err != nil {
			return err
		}
		st.util = run
		peak := 0.0
		for _, s := range run.samples {
			peak = max(peak, s.util)
		}
		w.logf(LevelInformation, "%d samples over %s; peak utilization %.0f%%; the writer stopped at %s after %d frames",
			len(run.samples), run.samples[len(run.samples)-1].at.Round(time.Millisecond), 100*peak, run.stoppedAt.Round(time.Millisecond), run.written)
		return nil
	})
	r.add(Then, `verify degradation detection at `+q, func(_ context.Context, w *world, a []string) error {
		st := w.perfState()
		if st.util == nil {
			return errors.New("utilization was not monitored")
		}
		thr, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(a[0]), "%"), 64)
		if err != nil || thr <= 0 || thr > 100 {
			return fmt.Errorf("threshold %q is not a percentage", a[0])
		}
		st.threshold = thr / 100
		st.degraded = false
		for _, s := range st.util.samples {
			if !st.degraded && s.util >= st.threshold {
				st.degraded, st.degradeAt = true, s.at
			}
		}
		if !st.degraded {
			return fmt.Errorf("utilization never reached %s with a writer twice as fast as its reader", a[0])
		}
		for _, s := range st.util.samples {
			if s.at > st.util.stoppedAt && s.util < st.threshold {
				st.recovery = s.at - st.util.stoppedAt
				return nil
			}
		}
		return fmt.Errorf("utilization stayed at or above %s after the writer stopped", a[0])
	})
	r.add(Then, `report time to degradation`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		if !st.degraded {
			return errors.New("no degradation was detected")
		}
		w.logf(LevelInformation, "utilization reached %.0f%% after %s", 100*st.threshold, st.degradeAt.Round(time.Millisecond))
		return nil
	})
	r.add(Then, `report recovery time`, func(_ context.Context, w *world, _ []string) error {
		st := w.perfState()
		if !st.degraded {
			return errors.New("no degradation was detected")
		}
		w.logf(LevelInformation, "after the writer stopped, utilization fell below %.0f%% in %s and the ring was empty after %s",
			100*st.threshold, st.recovery.Round(time.Millisecond), st.util.emptyAfter.Round(time.Millisecond))
		return nil
	})
}

// Targets of the memory-barrier benchmark: package variables, so that the
// compiler keeps every store.
var (
	benchFenced atomic.Uint64
	benchPlain  [8]uint64
)

func fencedStores(n int) {
	for i := 0; i < n; i++ {
		benchFenced.Store(uint64(i))
	}
}

func plainStores(n int) {
	for i := 0; i < n; i++ {
		benchPlain[i&7] = uint64(i)
	}
}

// bestNsPerOp runs f over a million operations a few times and keeps the
// fastest trial, the one least disturbed by the rest of the machine.
func bestNsPerOp(f func(n int)) float64 {
	const n = 1 << 20
	best := 0.0
	for trial := 0; trial < 7; trial++ {
		start := time.Now()
		f(n)
		ns := float64(time.Since(start).Nanoseconds()) / n
		if trial == 0 || ns < best {
			best = ns
		}
	}
	return best
}

// integrityRun sends n frames of varying sizes from one goroutine to
// another through a private ring and checks every byte and sequence.
func (w *world) integrityRun(ctx context.Context, base string, n int) (int, error) {
	p, err := w.openPair(base, 64<<10)
	if err != nil {
		return 0, err
	}
	defer func() { _ = p.close() }()
	src := newPatternSource(4096)
	sizeOf := func(seq uint64) int { return int(seq*2654435761%4096) + 1 }
	errc := make(chan error, 1)
	go func() {
		for seq := uint64(1); seq <= uint64(n); seq++ {
			f, err := p.r.ReadFrame(ctx)
			if err != nil {
				errc <- fmt.Errorf("read frame %d: %w", seq, err)
				return
			}
			if f.Seq() != seq || !bytes.Equal(f.Bytes(), src.frame(sizeOf(seq), seq)) {
				errc <- fmt.Errorf("frame %d (%d bytes) is not what was written as frame %d", f.Seq(), f.Len(), seq)
				return
			}
			if err := f.Release(); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	var werr error
	for seq := uint64(1); seq <= uint64(n) && werr == nil; seq++ {
		if werr = p.wr.WriteFrame(src.frame(sizeOf(seq), seq)); werr != nil {
			werr = fmt.Errorf("write frame %d: %w", seq, werr)
		}
	}
	if werr != nil {
		_ = p.wr.Close() // the reader sees the writer gone and ends
		p.wr = nil
		<-errc
		return 0, werr
	}
	return n, <-errc
}

// withSemaphores creates a private pair of the family's named semaphores
// (files in /dev/shm, as the ring's), runs f and removes them.
func (w *world) withSemaphores(f func(a, b *semaphore.Sem) error) error {
	name := w.bufferName(w.perfBase("sem"))
	a, err := semaphore.Create(semaphore.DataName(name), 0, 0o600)
	if err != nil {
		return fmt.Errorf("create semaphore: %w", err)
	}
	defer func() { _ = a.Close(); _ = semaphore.Unlink(semaphore.DataName(name)) }()
	b, err := semaphore.Create(semaphore.SpaceName(name), 0, 0o600)
	if err != nil {
		return fmt.Errorf("create semaphore: %w", err)
	}
	defer func() { _ = b.Close(); _ = semaphore.Unlink(semaphore.SpaceName(name)) }()
	return f(a, b)
}

// semPingPong bounces a signal between two goroutines n times and returns
// the mean round trip.
func semPingPong(a, b *semaphore.Sem, n int) (time.Duration, error) {
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if ok, err := a.Wait(5 * time.Second); !ok || err != nil {
				errc <- fmt.Errorf("pong wait: ok %v, %v", ok, err)
				return
			}
			if err := b.Post(); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := a.Post(); err != nil {
			return 0, errors.Join(err, <-errc)
		}
		if ok, err := b.Wait(5 * time.Second); !ok || err != nil {
			return 0, errors.Join(fmt.Errorf("ping wait: ok %v, %v", ok, err), <-errc)
		}
	}
	return time.Since(start) / time.Duration(n), <-errc
}

// rateRow is one signalling rate of the semaphore benchmark.
type rateRow struct {
	label, expected string
	signals         int
	use             cpuUse
	p50, p99        time.Duration
}

// semAtRate posts a at hz for d (sleeping to each deadline; behind
// schedule, it posts at once) while a goroutine waits on it, and measures
// the process's CPU and each signal's latency from post to wake.
func semAtRate(ctx context.Context, a *semaphore.Sem, hz float64, d time.Duration) (rateRow, error) {
	total := max(int(hz*d.Seconds()), 1)
	posted := make(chan time.Time, total)
	lat := make([]time.Duration, 0, total)
	errc := make(chan error, 1)
	go func() {
		for i := 0; i < total; i++ {
			ok, err := a.Wait(5 * time.Second)
			woke := time.Now()
			if !ok || err != nil {
				errc <- fmt.Errorf("wait for signal %d: ok %v, %v", i+1, ok, err)
				return
			}
			lat = append(lat, woke.Sub(<-posted))
		}
		errc <- nil
	}()
	start, err := cpuNow()
	if err != nil {
		return rateRow{}, err
	}
	period := time.Duration(float64(time.Second) / hz)
	for i := 0; i < total; i++ {
		if wait := time.Until(start.wall.Add(time.Duration(i) * period)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return rateRow{}, errors.Join(ctx.Err(), drainPosts(a, total-i, posted, errc))
			}
		}
		t := time.Now()
		if err := a.Post(); err != nil {
			return rateRow{}, errors.Join(err, drainPosts(a, total-i, posted, errc))
		}
		posted <- t
	}
	if err := <-errc; err != nil {
		return rateRow{}, err
	}
	end, err := cpuNow()
	if err != nil {
		return rateRow{}, err
	}
	slices.Sort(lat)
	return rateRow{signals: total, use: start.until(end), p50: lat[len(lat)/2], p99: lat[min(len(lat)*99/100, len(lat)-1)]}, nil
}

// drainPosts lets a waiter that is still expecting n signals finish.
func drainPosts(a *semaphore.Sem, n int, posted chan time.Time, errc chan error) error {
	for i := 0; i < n; i++ {
		_ = a.Post()
		posted <- time.Now()
	}
	return <-errc
}

// The utilization run: a writer twice as fast as its reader fills a ring.
const (
	utilFrameSize   = 4096
	utilPayloadSize = 256 << 10
	utilWriterHz    = 500
	utilReaderHz    = 250
)

type utilSample struct {
	at   time.Duration
	util float64
}

type utilRun struct {
	samples    []utilSample
	stoppedAt  time.Duration // when the writer stopped writing
	emptyAfter time.Duration // from stoppedAt to the ring being empty
	written    int
}

// utilizationRun paces a writer at utilWriterHz and a reader at
// utilReaderHz on a private ring, samples the fill level the control block
// shows every millisecond, stops the writer once a write had to wait for
// space, and lets the reader drain the ring.
func (w *world) utilizationRun(ctx context.Context, base string) (*utilRun, error) {
	p, err := w.openPair(base, utilPayloadSize)
	if err != nil {
		return nil, err
	}
	defer func() { _ = p.close() }()
	src := newPatternSource(utilFrameSize)
	o := p.r.OIEB()
	start := time.Now()
	run := &utilRun{}
	var stopped atomic.Int64 // ns since start, once the writer stopped
	readErr := make(chan error, 1)
	go func() {
		period := time.Second / utilReaderHz
		for i := 0; ; i++ {
			if wait := time.Until(start.Add(time.Duration(i) * period)); wait > 0 {
				time.Sleep(wait)
			}
			f, err := p.r.ReadFrame(ctx)
			if errors.Is(err, ring.ErrWriterClosed) {
				readErr <- nil
				return
			}
			if err != nil {
				readErr <- err
				return
			}
			if !bytes.Equal(f.Bytes(), src.frame(utilFrameSize, f.Seq())) {
				readErr <- fmt.Errorf("frame %d is not what was written", f.Seq())
				return
			}
			if err := f.Release(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	sampleDone := make(chan struct{})
	quit := make(chan struct{})
	go func() {
		defer close(sampleDone)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			used := 1 - float64(o.PayloadFreeBytes.Load())/float64(utilPayloadSize)
			run.samples = append(run.samples, utilSample{at: time.Since(start), util: used})
		}
	}()
	period := time.Second / utilWriterHz
	var werr error
	for seq := uint64(1); time.Since(start) < 10*time.Second; seq++ {
		if wait := time.Until(start.Add(time.Duration(seq-1) * period)); wait > 0 {
			time.Sleep(wait)
		}
		full := o.PayloadFreeBytes.Load() < utilFrameSize+16
		if werr = p.wr.WriteFrame(src.frame(utilFrameSize, seq)); werr != nil {
			break
		}
		run.written++
		if full {
			break // a write had to wait for space: the ring was full
		}
	}
	stopped.Store(int64(time.Since(start)))
	cerr := p.wr.Close()
	p.wr = nil
	rerr := <-readErr
	emptyAt := time.Since(start)
	close(quit)
	<-sampleDone
	run.stoppedAt = time.Duration(stopped.Load())
	run.emptyAfter = emptyAt - run.stoppedAt
	if err := errors.Join(werr, cerr, rerr); err != nil {
		return nil, fmt.Errorf("utilization run on %s: %w", p.name, err)
	}
	if len(run.samples) == 0 {
		return nil, errors.New("no utilization sample was taken")
	}
	return run, nil
}
