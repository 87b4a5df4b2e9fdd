package stress

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// churnCycles is the number of create/connect/write/read/close cycles per
// notifier. A cycle costs well under a millisecond even under the race
// detector, so the count stays 1,000 there too.
const churnCycles = 1000

// raceInstances is the number of reader instances in the connect race,
// halved under the race detector.
func raceInstances() int {
	if testsupport.RaceEnabled {
		return 100
	}
	return 200
}

// churnCycle creates a buffer, writes 1-4 frames into it, reads them back
// and closes both sides in a random order.
func churnCycle(t *testing.T, sp *streamSpec, rnd *rng, expectEnd bool) {
	t.Helper()
	r, err := newReader(sp)
	require.NoError(t, err, "NewReader %s", sp.Buffer)
	w, err := connect(sp)
	if err != nil {
		r.Close()
		require.NoError(t, err, "Connect %s", sp.Buffer)
	}
	sw := newStreamWriter(w, sp)
	frames := uint64(1 + rnd.intn(4))
	err = errors.Join(sw.start(), sw.writeN(1, frames))
	if err == nil {
		sr := newStreamReader(r, sp)
		ctx, cancel := readCtx(hangGuard)
		for sr.next <= frames && err == nil {
			err = sr.read(ctx)
		}
		cancel()
	}
	if err != nil {
		w.Close()
		r.Close()
		require.NoError(t, err)
	}
	if expectEnd || rnd.chance(2) {
		require.NoError(t, w.Close())
		if expectEnd {
			ctx, cancel := readCtx(hangGuard)
			_, err := r.ReadFrame(ctx)
			cancel()
			require.ErrorIs(t, err, ring.ErrWriterClosed, "reading after the writer closed")
		}
		require.NoError(t, r.Close())
	} else {
		require.NoError(t, r.Close())
		require.NoError(t, w.Close())
	}
}

// Frames of the connect race carry their own key: an 8-byte tag, then the
// payload stream of that tag.
func putTagged(b []byte, tag uint64) {
	binary.LittleEndian.PutUint64(b, tag)
	fillPayload(b[8:], tag, 1)
}

func checkTagged(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("frame of %d bytes, want at least 8", len(b))
	}
	return checkPayload(b[8:], binary.LittleEndian.Uint64(b), 1)
}

type raceCounts struct {
	instances, connected, notFound, readerDead      int
	written, writeReaderDead, writeFull, framesRead int
}

// connectRace runs readers that come and go on one name against a writer
// goroutine connecting in a loop. Connect may fail with ErrBufferNotFound
// or ErrReaderDead, or succeed; writes may fail with ErrReaderDead (the
// reader left) or ErrBufferFull (it did not read in time); nothing else,
// no panic, no hang.
func connectRace(t *testing.T, notifier, name string, seed uint64, instances int) raceCounts {
	var c raceCounts
	var stop atomic.Bool
	var wg sync.WaitGroup
	var rerr, werr error
	wg.Add(2)
	go func() { // readers
		defer wg.Done()
		defer stop.Store(true)
		rnd := newRNG(seed ^ 0x72)
		for i := 0; i < instances; i++ {
			sp := &streamSpec{Buffer: name, Notifier: notifier, Ring: uint64(1024 + 64*rnd.intn(16))}
			r, err := newReader(sp)
			if err != nil {
				rerr = fmt.Errorf("reader instance %d: NewReader: %w", i, err)
				return
			}
			c.instances++
			for range rnd.intn(5) {
				ctx, cancel := readCtx(rnd.logDuration(100*time.Microsecond, 5*time.Millisecond))
				f, err := r.ReadFrame(ctx)
				cancel()
				switch {
				case err == nil:
					err = errors.Join(checkTagged(f.Bytes()), f.Release())
					c.framesRead++
				case isOneOf(err, context.DeadlineExceeded, ring.ErrWriterClosed):
					err = nil
				}
				if err != nil {
					o := r.OIEB()
					rerr = fmt.Errorf("reader instance %d, read %d: %w (this instance's OIEB: writer PID %d, written count %d, read count %d, write pos %d, read pos %d)",
						i, c.framesRead, err, o.WriterPID.Load(), o.PayloadWrittenCount.Load(), o.PayloadReadCount.Load(),
						o.PayloadWritePos.Load(), o.PayloadReadPos.Load())
					r.Close()
					return
				}
			}
			if err := r.Close(); err != nil {
				rerr = fmt.Errorf("reader instance %d: close: %w", i, err)
				return
			}
		}
	}()
	go func() { // writer
		defer wg.Done()
		rnd := newRNG(seed ^ 0x77)
		buf := make([]byte, 64)
		for !stop.Load() {
			w, err := ring.Connect(name, ring.WithLivenessInterval(liveness), ring.WithWriteTimeout(50*time.Millisecond))
			switch {
			case errors.Is(err, ring.ErrBufferNotFound):
				c.notFound++
				continue
			case errors.Is(err, ring.ErrReaderDead):
				c.readerDead++
				continue
			case err != nil:
				werr = fmt.Errorf("ring.Connect: %w (want success, ErrBufferNotFound or ErrReaderDead)", err)
				stop.Store(true)
				return
			}
			c.connected++
			for range 1 + rnd.intn(3) {
				b := buf[:8+rnd.intn(57)]
				putTagged(b, rnd.next())
				err := w.WriteFrame(b)
				switch {
				case err == nil:
					c.written++
					continue
				case errors.Is(err, ring.ErrReaderDead):
					c.writeReaderDead++
				case errors.Is(err, ring.ErrBufferFull):
					c.writeFull++
				default:
					werr = fmt.Errorf("WriteFrame: %w (want success, ErrReaderDead or ErrBufferFull)", err)
				}
				break
			}
			if err := w.Close(); err != nil && werr == nil {
				werr = fmt.Errorf("writer Close: %w", err)
			}
			if werr != nil {
				stop.Store(true)
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Fatalf("connect race still running after %v (hang guard): %+v", hangGuard, c)
	}
	require.NoError(t, rerr)
	require.NoError(t, werr)
	return c
}

// Churn creates, uses and closes buffers over and over on a few reused
// names (1,000 cycles per notifier), then races a writer connecting in a
// loop against readers that come and go (200 reader instances, 100 under
// the race detector). Afterwards nothing of it is left: files,
// descriptors, goroutines, child processes. It compares this process's
// descriptors, goroutines and children before and after, so it must not
// run in parallel with other tests. The duration does not apply.
func Churn(t *testing.T, opts Options) {
	run(t, opts, func(cfg config) {
		cfg.forEachNotifier(t, func(t *testing.T, notifier string) {
			churn(t, cfg, notifier)
		})
	})
}

func churn(t *testing.T, cfg config, notifier string) {
	seed := cfg.seedFor(t)
	rnd := newRNG(seed)
	names := []string{newName(), newName(), newName(), newName(), newName()}
	spec := func(i int) *streamSpec {
		size := uint64(1024 + 64*rnd.intn(48))
		return &streamSpec{
			Buffer:   names[i%len(names)],
			Notifier: notifier,
			Seed:     mix64(seed + uint64(i)),
			Ring:     size,
			Metadata: uint64(64 * rnd.intn(2)),
			MaxFrame: int(size / 8),
		}
	}
	churnCycle(t, spec(0), rnd, false) // warm up whatever the runtime opens once
	fds := fdCount(t)
	goroutines := goleak.IgnoreCurrent()
	kids := testsupport.ChildPIDs()

	cycles := churnCycles
	start := time.Now()
	for i := range cycles {
		churnCycle(t, spec(i), rnd, i%100 == 0)
	}
	elapsed := time.Since(start)
	t.Logf("%d create/connect/write/read/close cycles on %d names in %v (%.0f cycles/s)",
		cycles, len(names), elapsed.Round(time.Millisecond), float64(cycles)/elapsed.Seconds())

	start = time.Now()
	c := connectRace(t, notifier, names[0], seed, raceInstances())
	t.Logf("connect race: %d reader instances in %v; writer connects: %d ok, %d ErrBufferNotFound, %d ErrReaderDead; frames: %d written, %d read; writes refused: %d ErrReaderDead, %d ErrBufferFull",
		c.instances, time.Since(start).Round(time.Millisecond), c.connected, c.notFound, c.readerDead,
		c.written, c.framesRead, c.writeReaderDead, c.writeFull)

	for _, name := range names {
		require.Empty(t, testsupport.BufferFiles(name), "files of %s after churn", name)
	}
	require.Equal(t, fds, fdCount(t), "open file descriptors before and after churn")
	goleak.VerifyNone(t, goroutines)
	require.ElementsMatch(t, kids, testsupport.ChildPIDs(), "child processes before and after churn")
}
