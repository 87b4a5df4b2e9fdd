package stress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// The fault suite kills and stops real processes. A child announces each
// state it reaches on a line of its own (READY, RESERVED k, COPYING k,
// BLOCKING k, HOLDING k, WAITING k); the parent acts on those lines and
// on the ring's state, never on elapsed time.

// faultSpec is an 8 KiB ring with frames of up to 1 KiB, so that a few
// unread frames plus a reserved slot always fit; Before frames are written
// before the fault.
func faultSpec(seed uint64, notifier string) *streamSpec {
	rnd := newRNG(seed)
	return &streamSpec{
		Buffer:   newName(),
		Notifier: notifier,
		Seed:     seed,
		Ring:     8192,
		Metadata: 64,
		MaxFrame: 1024,
		BigFrame: 8192 / 3,
		Before:   uint64(3 + rnd.intn(40)),
	}
}

// start writes the metadata, as run does before the stream.
func (sw *streamWriter) start() error {
	if meta := metadataFor(sw.sp); meta != nil {
		if err := sw.w.SetMetadata(meta); err != nil {
			return fmt.Errorf("set metadata: %w", err)
		}
	}
	return nil
}

// writeN writes frames from..to.
func (sw *streamWriter) writeN(from, to uint64) error {
	for seq := from; seq <= to; seq++ {
		if err := sw.write(seq); err != nil {
			return err
		}
	}
	return nil
}

// wouldBlock reports whether a frame of n bytes cannot be placed now: the
// ring's own placement rule (wrap when the frame does not fit before the
// end or would leave a 1-15 byte tail) against the free bytes.
func wouldBlock(o *layout.OIEB, size uint64, n int) bool {
	free, pos := o.PayloadFreeBytes.Load(), o.PayloadWritePos.Load()
	span, toEnd := uint64(n)+16, size-pos
	need := span
	if toEnd < span || (toEnd > span && toEnd-span < 16) {
		need += toEnd
	}
	return free < need
}

func init() {
	// writer-reserve: write Before frames, reserve and fill the next one,
	// never commit it.
	childRoles["writer-reserve"] = func(sp *streamSpec) error {
		w, err := connect(sp)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		sw := newStreamWriter(w, sp)
		if err := errors.Join(sw.start(), sw.writeN(1, sp.Before)); err != nil {
			return err
		}
		buf, err := w.Reserve(sp.size(sp.Before + 1))
		if err != nil {
			return fmt.Errorf("reserve: %w", err)
		}
		fillPayload(buf, sp.Seed, sp.Before+1) // a correct frame: only Commit may publish it
		say("RESERVED %d", sp.Before)
		holdUntilStdinCloses()
		return w.Close()
	}
	// writer-midcopy: write Before frames, reserve a large slot and fill
	// it byte by byte, over and over, until killed.
	childRoles["writer-midcopy"] = func(sp *streamSpec) error {
		w, err := connect(sp)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		sw := newStreamWriter(w, sp)
		if err := errors.Join(sw.start(), sw.writeN(1, sp.Before)); err != nil {
			return err
		}
		buf, err := w.Reserve(sp.BigFrame)
		if err != nil {
			return fmt.Errorf("reserve %d bytes: %w", sp.BigFrame, err)
		}
		want := make([]byte, len(buf))
		fillPayload(want, sp.Seed, sp.Before+1)
		say("COPYING %d", sp.Before)
		for pass := byte(0); ; pass++ {
			for i := range buf {
				buf[i] = want[i] ^ pass
			}
		}
	}
	// writer-blocked: write until the ring is full (nobody reads); say so
	// before the write that cannot complete.
	childRoles["writer-blocked"] = func(sp *streamSpec) error {
		w, err := connect(sp, ring.WithWriteTimeout(time.Hour))
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		sw := newStreamWriter(w, sp)
		if err := sw.start(); err != nil {
			return err
		}
		for seq := uint64(1); ; seq++ {
			blocking := wouldBlock(w.OIEB(), w.PayloadSize(), sp.size(seq))
			if blocking {
				say("BLOCKING %d", seq-1)
			}
			if err := sw.write(seq); err != nil {
				return err
			}
			if blocking {
				return fmt.Errorf("frame %d was written into a full ring", seq)
			}
		}
	}
	// reader-hold: read Before frames, releasing all but the last few,
	// and hold those until killed.
	childRoles["reader-hold"] = func(sp *streamSpec) error {
		r, err := newReader(sp)
		if err != nil {
			return fmt.Errorf("new reader: %w", err)
		}
		defer r.Close()
		say("READY")
		ctx, cancel := readCtx(hangGuard)
		defer cancel()
		keep := 1 + int(sp.Seed%4)
		var held []ring.Frame
		for seq := uint64(1); seq <= sp.Before; seq++ {
			f, err := r.ReadFrame(ctx)
			if err != nil {
				return fmt.Errorf("read frame %d: %w", seq, err)
			}
			if f.Seq() != seq {
				return fmt.Errorf("got frame %d, want %d", f.Seq(), seq)
			}
			if err := sp.verify(f.Bytes(), seq); err != nil {
				return err
			}
			held = append(held, f)
			if len(held) > keep {
				if err := held[0].Release(); err != nil {
					return err
				}
				held = held[1:]
			}
		}
		say("HOLDING %d", len(held))
		holdUntilStdinCloses()
		return nil
	}
	// reader-blocked: read Before frames, then wait for one more that
	// never comes.
	childRoles["reader-blocked"] = func(sp *streamSpec) error {
		r, err := newReader(sp)
		if err != nil {
			return fmt.Errorf("new reader: %w", err)
		}
		defer r.Close()
		say("READY")
		ctx, cancel := readCtx(hangGuard)
		defer cancel()
		for seq := uint64(1); seq <= sp.Before; seq++ {
			f, err := r.ReadFrame(ctx)
			if err != nil {
				return fmt.Errorf("read frame %d: %w", seq, err)
			}
			if f.Seq() != seq {
				return fmt.Errorf("got frame %d, want %d", f.Seq(), seq)
			}
			if err := errors.Join(sp.verify(f.Bytes(), seq), f.Release()); err != nil {
				return err
			}
		}
		say("WAITING %d", sp.Before)
		f, err := r.ReadFrame(ctx)
		return fmt.Errorf("ReadFrame returned frame %d, %v while the writer was idle", f.Seq(), err)
	}
}

// readUntil reads (and checks) frames until frame last has been read.
func readUntil(t *testing.T, sr *streamReader, last uint64) {
	t.Helper()
	ctx, cancel := readCtx(hangGuard)
	defer cancel()
	for sr.next <= last {
		require.NoError(t, sr.read(ctx))
	}
}

// expectWriterDead reads what the killed writer committed — exactly
// committed frames in all, each intact — and then wants ErrWriterDead.
func expectWriterDead(t *testing.T, sr *streamReader, committed uint64, killed time.Time) {
	t.Helper()
	ctx, cancel := readCtx(deathBound)
	defer cancel()
	var err error
	for err == nil {
		err = sr.read(ctx)
		require.LessOrEqual(t, sr.st.Frames, committed, "the reader returned a frame the killed writer never committed")
	}
	require.ErrorIs(t, err, ring.ErrWriterDead, "after the writer was killed (bound %v)", deathBound)
	require.Equal(t, committed, sr.st.Frames, "frames committed by the killed writer and read")
	t.Logf("ErrWriterDead %v after the kill, %d committed frames all read intact", time.Since(killed).Round(time.Millisecond), committed)
}

// killReaderAfter starts a reader child in role, writes sp.Before frames
// to it, kills it once it prints marker, and checks that the writer
// reports it dead.
func killReaderAfter(t *testing.T, sp *streamSpec, role, marker string) (*ring.Writer, *streamWriter) {
	c := startChild(t, role, sp)
	c.Expect("READY")
	w, err := connect(sp)
	require.NoError(t, err)
	t.Cleanup(func() { w.Close() })
	sw := newStreamWriter(w, sp)
	require.NoError(t, errors.Join(sw.start(), sw.writeN(1, sp.Before)))
	c.Expect(marker)
	c.Kill()
	expectReaderDead(t, sw, sp.Before+1, time.Now())
	return w, sw
}

// expectReaderDead writes on until the ring fills and wants ErrReaderDead.
func expectReaderDead(t *testing.T, sw *streamWriter, next uint64, killed time.Time) uint64 {
	t.Helper()
	limit := next + sw.sp.Ring/17 + 2 // more frames than the ring can hold
	for ; ; next++ {
		err := sw.write(next)
		if err == nil {
			require.Less(t, next, limit, "writes keep succeeding into a ring nobody reads")
			require.Less(t, time.Since(killed), deathBound, "no ErrReaderDead within the bound")
			continue
		}
		require.ErrorIs(t, err, ring.ErrReaderDead, "writing after the reader was killed")
		t.Logf("ErrReaderDead %v after the kill, at frame %d", time.Since(killed).Round(time.Millisecond), next)
		return next
	}
}

// replacementStream connects a new writer to r's buffer and streams
// frames from it, in a goroutine, into r.
//
// The writer connects before r reads. Until a writer connects, the ring
// still records the dead one's PID, and r rightly reports it dead at its
// first liveness check; had the connect raced the read, a connect slower
// than one liveness interval (a busy machine, a spinning reader holding
// the CPU) would fail the test.
func replacementStream(t *testing.T, r *ring.Reader, sp *streamSpec) {
	t.Helper()
	w, err := connect(sp)
	require.NoError(t, err, "connect the replacement writer")
	done := make(chan error, 1)
	go func() {
		_, err := newStreamWriter(w, sp).run()
		done <- errors.Join(err, w.Close())
	}()
	_, rerr := newStreamReader(r, sp).run()
	if rerr != nil {
		r.Close()
	}
	select {
	case werr := <-done:
		require.NoError(t, rerr, "reader")
		require.NoError(t, werr, "writer")
	case <-time.After(hangGuard):
		t.Fatalf("replacement writer hung; reader: %v", rerr)
	}
}

// afterWriterDeath checks that the surviving reader goes on reporting the
// dead writer until a replacement connects, that it then takes the
// replacement's frames, and that a new reader takes the name and streams.
func afterWriterDeath(t *testing.T, r *ring.Reader, sp *streamSpec) {
	t.Helper()
	ctx, cancel := readCtx(deathBound)
	_, err := r.ReadFrame(ctx)
	cancel()
	require.ErrorIs(t, err, ring.ErrWriterDead, "reading again before a replacement writer connected")
	again := *sp
	again.Seed = mix64(sp.Seed + 1)
	again.Frames = 200
	again.Metadata = 0 // the dead writer stored it already
	again.Continued = true
	replacementStream(t, r, &again)
	require.NoError(t, r.Close())
	takeOver(t, sp, nil)
}

// takeOver checks that a new reader can take sp's name after a death and
// stream with a new writer. When old is set, it is the previous writer,
// still connected: it must now find its reader dead.
func takeOver(t *testing.T, sp *streamSpec, old *streamWriter) {
	t.Helper()
	fresh := *sp
	fresh.Seed = mix64(sp.Seed + 2)
	fresh.Frames = 300
	r := openReader(t, &fresh)
	if old != nil {
		err := old.write(old.st.Frames + 1)
		require.ErrorIs(t, err, ring.ErrReaderDead, "the old writer, after a new reader took the name")
		require.NoError(t, old.w.Close())
	}
	replacementStream(t, r, &fresh)
	require.NoError(t, r.Close())
	require.Empty(t, testsupport.BufferFiles(sp.Buffer), "files of %s after the new reader closed", sp.Buffer)
}

func parseCount(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	require.NoError(t, err)
	return n
}

var faultCases = []struct {
	name string
	run  func(t *testing.T, sp *streamSpec)
}{
	{"writer-killed-reserved", func(t *testing.T, sp *streamSpec) {
		r := openReader(t, sp)
		c := startChild(t, "writer-reserve", sp)
		sr := newStreamReader(r, sp)
		readUntil(t, sr, sp.Before-2) // two committed frames stay unread
		k := parseCount(t, c.Expect("RESERVED "))
		c.Kill()
		expectWriterDead(t, sr, k, time.Now())
		afterWriterDeath(t, r, sp)
	}},
	{"writer-killed-mid-copy", func(t *testing.T, sp *streamSpec) {
		r := openReader(t, sp)
		c := startChild(t, "writer-midcopy", sp)
		sr := newStreamReader(r, sp)
		readUntil(t, sr, sp.Before) // room for the large slot
		k := parseCount(t, c.Expect("COPYING "))
		c.Kill()
		expectWriterDead(t, sr, k, time.Now())
		afterWriterDeath(t, r, sp)
	}},
	{"writer-killed-blocked-full", func(t *testing.T, sp *streamSpec) {
		r := openReader(t, sp)
		c := startChild(t, "writer-blocked", sp)
		k := parseCount(t, c.Expect("BLOCKING "))
		require.True(t, wouldBlock(r.OIEB(), r.PayloadSize(), sp.size(k+1)), "the ring has no room for frame %d", k+1)
		c.Kill()
		expectWriterDead(t, newStreamReader(r, sp), k, time.Now())
		afterWriterDeath(t, r, sp)
	}},
	{"reader-killed-holding", func(t *testing.T, sp *streamSpec) {
		_, sw := killReaderAfter(t, sp, "reader-hold", "HOLDING ")
		takeOver(t, sp, sw) // the old writer is still connected
	}},
	{"reader-killed-waiting", func(t *testing.T, sp *streamSpec) {
		w, _ := killReaderAfter(t, sp, "reader-blocked", "WAITING ")
		require.NoError(t, w.Close())
		takeOver(t, sp, nil)
	}},
	{"writer-stopped", func(t *testing.T, sp *streamSpec) {
		// The writer is at most a ringful ahead of the reader, so with
		// 1,000 frames to go after Before it is stopped mid-stream.
		sp.Before = 200 + sp.Before
		sp.Frames = sp.Before + 1000
		r := openReader(t, sp)
		c := startChild(t, "stream-writer", sp)
		sr := newStreamReader(r, sp)
		readUntil(t, sr, sp.Before)
		c.Signal(syscall.SIGSTOP)
		c.WaitStopped()
		timeouts, drained := 0, 0
		for timeouts < 3 {
			ctx, cancel := readCtx(5 * liveness)
			err := sr.read(ctx)
			cancel()
			switch {
			case err == nil:
				drained++
			case errors.Is(err, context.DeadlineExceeded):
				timeouts++
			default:
				t.Fatalf("reading while the writer is stopped (a stopped writer is slow, not dead): %v", err)
			}
		}
		require.True(t, testsupport.AllThreadsStopped(c.PID()), "the writer stayed stopped")
		c.Signal(syscall.SIGCONT)
		rs, err := sr.run()
		require.NoError(t, err, "after SIGCONT")
		var ws streamStats
		require.NoError(t, json.Unmarshal([]byte(c.Expect("DONE ")), &ws))
		require.NoError(t, c.Wait())
		require.Equal(t, sp.Frames, rs.Frames)
		require.Equal(t, ws.Bytes, rs.Bytes)
		t.Logf("writer stopped after frame %d: %d frames drained, then %d waits of %v timed out without a death; %d frames intact in all",
			sp.Before, drained, timeouts, 5*liveness, rs.Frames)
	}},
	{"reader-stopped", func(t *testing.T, sp *streamSpec) {
		sp.Before = 200 + sp.Before
		sp.Frames = sp.Before + 1000
		c := startChild(t, "stream-reader", sp)
		c.Expect("READY")
		w, err := connect(sp, ring.WithWriteTimeout(5*liveness))
		require.NoError(t, err)
		t.Cleanup(func() { w.Close() })
		sw := newStreamWriter(w, sp)
		require.NoError(t, sw.start())
		// A busy machine can make a live reader slow: ErrBufferFull is
		// retried, never ErrReaderDead.
		write := func(seq uint64) {
			for {
				err := sw.write(seq)
				if !errors.Is(err, ring.ErrBufferFull) {
					require.NoError(t, err, "frame %d", seq)
					return
				}
				sw.st.BufferFull++
			}
		}
		for seq := uint64(1); seq <= sp.Before; seq++ {
			write(seq)
		}
		c.Signal(syscall.SIGSTOP)
		c.WaitStopped()
		seq, timeouts, filled := sp.Before+1, 0, 0
		for timeouts < 3 {
			err := sw.write(seq)
			switch {
			case err == nil:
				seq++
				filled++
			case errors.Is(err, ring.ErrBufferFull):
				timeouts++
			default:
				t.Fatalf("writing while the reader is stopped (a stopped reader is slow, not dead): %v", err)
			}
		}
		require.True(t, testsupport.AllThreadsStopped(c.PID()), "the reader stayed stopped")
		c.Signal(syscall.SIGCONT)
		for ; seq <= sp.Frames; seq++ {
			write(seq)
		}
		require.NoError(t, w.Close())
		var rs streamStats
		require.NoError(t, json.Unmarshal([]byte(c.Expect("DONE ")), &rs))
		require.NoError(t, c.Wait())
		require.Equal(t, sp.Frames, rs.Frames)
		require.Equal(t, sw.st.Bytes, rs.Bytes)
		t.Logf("reader stopped after frame %d: %d more frames filled the ring, then %d writes timed out (ErrBufferFull) without a death; %d frames intact in all, %d ErrBufferFull retried while it ran",
			sp.Before, filled, timeouts, rs.Frames, sw.st.BufferFull)
	}},
}

// Faults kills and stops real peer processes at chosen states: SIGKILL of
// the writer between Reserve and Commit, in the middle of filling a large
// slot and while blocked on a full ring; SIGKILL of the reader while it
// holds frames and while it waits; SIGSTOP and SIGCONT of either. The
// survivor reports the death (ErrWriterDead, ErrReaderDead) and never
// returns a torn or uncommitted frame; a stopped peer is slow, never dead.
// Its scenarios are fixed: the duration does not apply.
func Faults(t *testing.T, opts Options) {
	run(t, opts, func(cfg config) {
		cfg.forEachNotifier(t, func(t *testing.T, notifier string) {
			for _, fc := range faultCases {
				t.Run(fc.name, func(t *testing.T) {
					fc.run(t, faultSpec(cfg.seedFor(t), notifier))
				})
			}
		})
	})
}
