package harmony

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// registerWrap: feature 5's wrap-around steps (5.5) and the continuous
// free space table (5.6). They drive the real ring and check what it did
// through the control block and the ring's bytes.
func registerWrap(r *Registry) {
	r.add(When, anyProcess+`writes frame that leaves `+q+` bytes at end with `+q+` pattern`, func(ctx context.Context, w *world, a []string) error {
		left, err := atou(a[0], "bytes left")
		if err != nil {
			return err
		}
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		size, pos := wr.PayloadSize(), wr.OIEB().PayloadWritePos.Load()%wr.PayloadSize()
		if left >= size || size-left < pos+17 {
			return fmt.Errorf("the writer is at offset %d of a %d-byte ring: no frame starting there ends %d bytes before the end", pos, size, left)
		}
		n := int(size - left - pos - 16)
		p, err := namedPattern(a[1], n, w.nextSeq[w.current])
		if err != nil {
			return err
		}
		if err := w.writeBytes(ctx, p); err != nil {
			return err
		}
		if got := wr.OIEB().PayloadWritePos.Load(); got != size-left {
			return fmt.Errorf("after a %d-byte frame at %d the writer is at %d, want %d (the Go writer never leaves a tail of 1-15 bytes)", n, pos, got, size-left)
		}
		w.logf(LevelInformation, "wrote a %d-byte frame at %d; %d bytes are left before the end", n, pos, left)
		return nil
	})
	r.add(When, anyProcess+`attempts to write `+q+` byte frame with `+q+` pattern`, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[0], "size")
		if err != nil {
			return err
		}
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		p, err := namedPattern(a[1], n, w.nextSeq[w.current])
		if err != nil {
			return err
		}
		o := wr.OIEB()
		wa := &wrapAttempt{size: uint64(n), seq: w.nextSeq[w.current], ring: wr.PayloadSize()}
		wa.before = [3]uint64{o.PayloadWritePos.Load(), o.PayloadFreeBytes.Load(), o.PayloadWrittenCount.Load()}
		w.attempted, w.lastErr = true, w.writeBytes(ctx, p)
		wa.after = [3]uint64{o.PayloadWritePos.Load(), o.PayloadFreeBytes.Load(), o.PayloadWrittenCount.Load()}
		wa.err = w.lastErr
		w.wrap = wa
		w.logf(LevelInformation, "write of %d bytes at %d with %d free: %v", n, wa.before[0], wa.before[1], w.lastErr)
		return nil
	})
	r.add(Then, `the `+q+` process should write wrap marker at current position`, func(_ context.Context, w *world, _ []string) error {
		wa, err := w.wrapDone()
		if err != nil {
			return err
		}
		toEnd := wa.ring - wa.before[0]%wa.ring
		if toEnd < 16 {
			return fmt.Errorf("only %d bytes were left before the end: too few for a wrap marker", toEnd)
		}
		if wa.after[2] != wa.before[2]+2 {
			return fmt.Errorf("the written count went %d→%d; a wrap marker and a frame count 2", wa.before[2], wa.after[2])
		}
		h, err := w.ringHeader(wa.before[0] % wa.ring)
		if err != nil {
			return err
		}
		if h != [2]uint64{0, 0} {
			return fmt.Errorf("the header at %d is {size %d, sequence %d}, not a wrap marker", wa.before[0], h[0], h[1])
		}
		return nil
	})
	r.add(Then, anyProcess+`should see payload_free_bytes reduced by wasted space`, func(_ context.Context, w *world, _ []string) error {
		wa, err := w.wrapDone()
		if err != nil {
			return err
		}
		wasted, span := wa.ring-wa.before[0]%wa.ring, 16+wa.size
		if wa.before[1]-wa.after[1] != wasted+span {
			return fmt.Errorf("payload_free_bytes went %d→%d; the %d wasted bytes and the %d-byte frame make %d", wa.before[1], wa.after[1], wasted, span, wasted+span)
		}
		return nil
	})
	r.add(Then, anyProcess+`frame should be written at buffer start`, func(_ context.Context, w *world, _ []string) error {
		wa, err := w.wrapDone()
		if err != nil {
			return err
		}
		if wa.after[0] != 16+wa.size {
			return fmt.Errorf("the writer is at %d after the frame; a %d-byte frame at the start ends at %d", wa.after[0], wa.size, 16+wa.size)
		}
		h, err := w.ringHeader(0)
		if err != nil {
			return err
		}
		if h != [2]uint64{wa.size, wa.seq} {
			return fmt.Errorf("the header at 0 is {size %d, sequence %d}, want {%d, %d}", h[0], h[1], wa.size, wa.seq)
		}
		return nil
	})
	r.add(When, `the `+q+` process reads next frame`, func(ctx context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		if len(w.held) > 0 {
			return fmt.Errorf("%d frames are still held; release them first so the control block shows where the reader is", len(w.held))
		}
		o := rd.OIEB()
		wr := &wrapRead{ring: rd.PayloadSize()}
		wr.posBefore, wr.countBefore = o.PayloadReadPos.Load()%wr.ring, o.PayloadReadCount.Load()
		if wr.ring-wr.posBefore >= 16 {
			if wr.hdrBefore, err = w.ringHeader(wr.posBefore); err != nil {
				return err
			}
		}
		f, err := w.readAndRelease(ctx, readTimeout)
		if err != nil {
			return err
		}
		wr.len, wr.seq = uint64(f.Len()), f.Seq()
		wr.posAfter, wr.countAfter = o.PayloadReadPos.Load(), o.PayloadReadCount.Load()
		w.wrapRd = wr
		w.logf(LevelInformation, "read frame %d (%d bytes): read_pos %d→%d, read_count %d→%d", f.Seq(), f.Len(), wr.posBefore, wr.posAfter, wr.countBefore, wr.countAfter)
		return nil
	})
	r.add(Then, `the `+q+` process should detect wrap marker`, func(_ context.Context, w *world, _ []string) error {
		wr := w.wrapRd
		if wr == nil {
			return errors.New("no 'reads next frame' step came first")
		}
		if wr.hdrBefore != [2]uint64{0, 0} {
			return fmt.Errorf("the reader was at %d, where the header is {size %d, sequence %d}: no wrap marker", wr.posBefore, wr.hdrBefore[0], wr.hdrBefore[1])
		}
		if wr.countAfter != wr.countBefore+2 {
			return fmt.Errorf("read_count went %d→%d; the marker and the frame after it count 2", wr.countBefore, wr.countAfter)
		}
		return nil
	})
	r.add(Then, anyProcess+`should jump to buffer start`, func(_ context.Context, w *world, _ []string) error {
		wr := w.wrapRd
		if wr == nil {
			return errors.New("no 'reads next frame' step came first")
		}
		if wr.posAfter != 16+wr.len {
			return fmt.Errorf("read_pos is %d after the %d-byte frame; from the start it would be %d", wr.posAfter, wr.len, 16+wr.len)
		}
		h, err := w.ringHeader(0)
		if err != nil {
			return err
		}
		if h != [2]uint64{wr.len, wr.seq} {
			return fmt.Errorf("the frame read (%d bytes, sequence %d) is not the one at the start {%d, %d}", wr.len, wr.seq, h[0], h[1])
		}
		return nil
	})
	r.add(Then, anyProcess+`should read `+q+` byte frame successfully with `+q+` pattern`, func(_ context.Context, w *world, a []string) error {
		n, err := atoi(a[0], "size")
		if err != nil {
			return err
		}
		if len(w.lastData) != n {
			return fmt.Errorf("the last frame read has %d bytes, want %d", len(w.lastData), n)
		}
		want, err := namedPattern(a[1], n, w.lastSeq)
		if err != nil {
			return err
		}
		if !bytes.Equal(w.lastData, want) {
			return fmt.Errorf("frame %d's %d bytes are not the %s pattern", w.lastSeq, n, a[1])
		}
		return nil
	})

	// 4.8's last steps follow a write this serve refuses at once (a frame
	// the ring can never place: see tooLargeWhy); its writer never has a
	// write left waiting between steps.
	noWaitingWrite := func(context.Context, *world, []string) error {
		return errors.New("this process has no write waiting for space: this serve's frame writes complete within their step, " +
			"or fail there — at once when no reader progress could make room (4.8's 7168-byte frame at offset 6160 of a 10240-byte ring); " +
			"see harmony/CONTRADICTIONS.md")
	}
	r.add(Then, `the `+q+` process should wait for space`, noWaitingWrite)
	r.add(Then, `the `+q+` process should complete write at buffer start`, noWaitingWrite)

	r.add(Given, `the `+q+` process creates buffer `+q+` with specific configuration`, func(_ context.Context, w *world, a []string) error {
		return w.createReader(a[1], specificMetadataSize, specificPayloadSize)
	})
	r.add(When, `the system tests continuous_free_bytes calculation with:`, func(_ context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		cols := make([][]string, 3)
		for i := range cols {
			if cols[i], err = w.tableColumn(i); err != nil {
				return err
			}
		}
		w.freeChecks, w.freeFails = 0, nil
		meta, size := rd.MetadataSize(), rd.PayloadSize()
		for i := range cols[0] {
			wp, err1 := atou(cols[0][i], "write_pos")
			rp, err2 := atou(cols[1][i], "read_pos")
			if err := errors.Join(err1, err2); err != nil {
				return err
			}
			name := fmt.Sprintf("%s-free-%d", w.bufferName(w.current), i+1)
			got, err := checkContinuousFree(name, meta, size, wp, rp)
			if err != nil {
				return fmt.Errorf("row %d (write_pos %d, read_pos %d): %w", i+1, wp, rp, err)
			}
			if want := strings.TrimSpace(cols[2][i]); want != "calculated" && want != strconv.FormatUint(got, 10) {
				w.freeFails = append(w.freeFails, fmt.Sprintf("row %d: %d, the table says %s", i+1, got, want))
			}
			w.freeChecks++
			w.logf(LevelInformation, "write_pos %d, read_pos %d: %d continuous bytes, checked on the ring", wp, rp, got)
		}
		return nil
	})
	r.add(Then, `the `+q+` process calculations should match specification`, func(_ context.Context, w *world, _ []string) error {
		if w.freeChecks == 0 {
			return errors.New("no continuous_free_bytes case was tested")
		}
		if len(w.freeFails) > 0 {
			return errors.New(strings.Join(w.freeFails, "; "))
		}
		return nil
	})
}

// anyProcess lets a step that the reference writes without its process
// ("And writes …", routed to the process of the step before) also be
// written with it.
const anyProcess = `(?:the '[^']*' process )?`

// The sizes "with specific configuration" gives a buffer: the family's
// usual 10 KiB ring, room for the positions of 5.6's table.
const (
	specificMetadataSize = 1024
	specificPayloadSize  = 10240
)

// wrapAttempt is what the control block showed around a write that may
// wrap: write_pos, payload_free_bytes, payload_written_count.
type wrapAttempt struct {
	size, seq, ring uint64
	before, after   [3]uint64
	err             error
}

// wrapRead is what the control block and the ring showed around one read.
type wrapRead struct {
	ring, len, seq          uint64
	posBefore, posAfter     uint64
	countBefore, countAfter uint64
	hdrBefore               [2]uint64 // the header at posBefore
}

// wrapDone returns the last wrapping attempt, or why it did not happen.
func (w *world) wrapDone() (*wrapAttempt, error) {
	wa := w.wrap
	if wa == nil {
		return nil, errors.New("no 'attempts to write' step came first")
	}
	if wa.err == nil {
		return wa, nil
	}
	toEnd := wa.ring - wa.before[0]%wa.ring
	span := 16 + wa.size
	if errors.Is(wa.err, ring.ErrBufferFull) && toEnd < span {
		return nil, fmt.Errorf("the write did not happen: the %d-byte frame (%d with its header) does not fit the %d bytes left before the end of the ring, "+
			"so it needs those %d bytes plus its own %d, %d free bytes, and %d were free: the reader has not released the frames before it. "+
			"No writer can wrap here until the reader does (PROTOCOL.md, writing a frame, steps 1-2; the same in the C++, C# and Python writers), "+
			"and nothing before this step reads them; see harmony/CONTRADICTIONS.md (%w)",
			wa.size, span, toEnd, toEnd, span, toEnd+span, wa.before[1], wa.err)
	}
	return nil, fmt.Errorf("the write did not happen: %w", wa.err)
}

// ringHeader reads the frame header at ring offset pos of the current
// buffer, through the segment's file.
func (w *world) ringHeader(pos uint64) ([2]uint64, error) {
	o, err := w.oieb()
	if err != nil {
		return [2]uint64{}, err
	}
	return readHeaderAt("/dev/shm/"+w.bufferName(w.current), 128+o.MetadataSize.Load(), pos)
}

func readHeaderAt(path string, base, pos uint64) ([2]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return [2]uint64{}, fmt.Errorf("open the segment: %w", err)
	}
	defer f.Close()
	var hdr [16]byte
	if _, err := f.ReadAt(hdr[:], int64(base+pos)); err != nil {
		return [2]uint64{}, fmt.Errorf("read the header at ring offset %d: %w", pos, err)
	}
	return [2]uint64{binary.LittleEndian.Uint64(hdr[:8]), binary.LittleEndian.Uint64(hdr[8:])}, nil
}

// namedPattern fills a frame with one of the feature files' named patterns:
// "incremental" is byte i = i mod 256; "sequential" is byte i =
// (sequence + i) mod 256, the family's per-frame test pattern.
func namedPattern(name string, n int, seq uint64) ([]byte, error) {
	switch name {
	case "incremental":
		return simplePattern(n), nil
	case "sequential":
		return framePattern(n, seq), nil
	}
	return nil, fmt.Errorf("unknown pattern %q (known: incremental, sequential)", name)
}

// continuousFree is the largest frame span (header included) a writer can
// place without waiting, from the control block: in place up to the end of
// the ring or up to read_pos, or, when the reader is past the start, at
// the start after a wrap — which costs the tail as well, so it fits when
// free ≥ tail + span, that is span ≤ read_pos. This is the reference's
// continuous free space (its writers' get_continuous_free_space) and
// PROTOCOL.md's "needed" rule solved for the span.
func continuousFree(size, wpos, rpos, free uint64) uint64 {
	wpos %= size
	switch {
	case free == 0:
		return 0
	case wpos < rpos:
		return rpos - wpos
	case rpos == 0:
		return size - wpos
	default:
		return max(size-wpos, rpos)
	}
}

// checkContinuousFree brings a fresh ring of the given sizes to write_pos
// wp and read_pos rp with frames written and read, computes the continuous
// free space from its control block, and checks it on the ring: a frame of
// one byte more is refused, a frame of exactly that span is written, where
// the rule says.
func checkContinuousFree(name string, meta, size, wp, rp uint64) (uint64, error) {
	if wp >= size || rp >= size {
		return 0, fmt.Errorf("positions must be below the ring's size %d", size)
	}
	rd, err := ring.NewReader(name, ring.Config{MetadataSize: meta, PayloadSize: size}, ring.WithUnbatchedRelease())
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	wr, err := ring.Connect(name, ring.WithWriteTimeout(20*time.Millisecond))
	if err != nil {
		return 0, err
	}
	defer wr.Close()
	o := rd.OIEB()
	write := func(span uint64) error {
		if span < 17 {
			return fmt.Errorf("a %d-byte step cannot be made with frames (a frame takes at least 17 bytes)", span)
		}
		return wr.WriteFrame(make([]byte, span-16))
	}
	consume := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		defer cancel()
		f, err := rd.ReadFrame(ctx)
		if err != nil {
			return err
		}
		return f.Release()
	}
	// Both positions at min(wp, rp) or rp, nothing unread; then the
	// unread frames up to wp.
	var steps []error
	if rp > 0 {
		steps = append(steps, write(rp), consume())
	}
	switch {
	case wp > rp:
		steps = append(steps, write(wp-rp))
	case wp < rp:
		steps = append(steps, write(size-rp))
		if wp > 0 {
			steps = append(steps, write(wp))
		}
	}
	if err := errors.Join(steps...); err != nil {
		return 0, fmt.Errorf("set the positions up: %w", err)
	}
	w0, r0, free := o.PayloadWritePos.Load()%size, o.PayloadReadPos.Load(), o.PayloadFreeBytes.Load()
	if w0 != wp || r0 != rp {
		return 0, fmt.Errorf("the ring is at write_pos %d, read_pos %d after the set-up", w0, r0)
	}
	c := continuousFree(size, w0, r0, free)
	if c < 17 {
		return c, nil // no frame fits: nothing to write
	}
	if err := wr.WriteFrame(make([]byte, c+1-16)); err == nil {
		return 0, fmt.Errorf("a %d-byte frame (one more than the %d continuous bytes) was written", c+1-16, c)
	} else if !errors.Is(err, ring.ErrBufferFull) && !errors.Is(err, ring.ErrFrameTooLarge) {
		return 0, fmt.Errorf("one byte more than the continuous space: %w", err)
	}
	if err := wr.WriteFrame(make([]byte, c-16)); err != nil {
		return 0, fmt.Errorf("a frame of the %d continuous bytes: %w", c, err)
	}
	at := w0
	if size-w0 < c && (w0 >= r0) { // the rule placed it at the start
		at = 0
	}
	if got := o.PayloadWritePos.Load(); got != at+c {
		return 0, fmt.Errorf("the %d-byte frame ended at %d; the rule puts it at %d", c, got, at)
	}
	return c, nil
}
