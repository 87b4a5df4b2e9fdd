package fuzz

import (
	"bytes"
	"context"
	"testing"
	"time"
	"unsafe"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/ring"
	"github.com/zerobuffer/zerobuffer-go/sync/futex"
	"github.com/zerobuffer/zerobuffer-go/sync/spin"
)

const (
	// writeTimeout is the hostile writer's write timeout.
	writeTimeout = 20 * time.Millisecond
	// maxWriterOps bounds the writer's operations per iteration.
	maxWriterOps = 16
)

// FuzzWriterHostileOIEB lets the fuzzer corrupt a real buffer's OIEB (and,
// if it likes, the rest of the segment) before and after a writer
// connects, then drives the writer: SetMetadata, Reserve/Commit and
// WriteFrame with fuzzer-chosen sizes, interleaved with more corruption
// and with reads. The writer must return errors, or write strictly inside
// the payload block it found in the OIEB (which Validate bounded by the
// mapping), and never hang. Afterwards the reader reads what the writer
// left, under the reader target's checks.
//
// Inputs: cfg (geometry, notifier, hold), prep (honest traffic by an
// earlier writer, see runHonest, so that positions and counts are not
// zero), pre and post (patch records before and after Connect, see
// patcher), ops (see hostileWriter.run).
func FuzzWriterHostileOIEB(f *testing.F) {
	for _, s := range writerSeeds() {
		f.Add(s.cfg, s.prep, s.pre, s.post, s.ops)
	}
	f.Fuzz(func(t *testing.T, cfg uint8, prep, pre, post, ops []byte) {
		defer watchdog("FuzzWriterHostileOIEB iteration")()
		b := newBuffer(t, cfg&cfgGeometry, cfg>>cfgNotifier)
		defer b.close()
		if len(prep) > 0 {
			w, err := b.connect(2 * time.Millisecond)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			b.w = w
			b.runHonest(prep)
			b.checkDrained()
			if err := w.Close(); err != nil {
				t.Fatalf("writer Close: %v", err)
			}
			b.w = nil
		}

		b.patch(pre, 32)
		snap := b.oieb().Snapshot()
		start := time.Now()
		w, err := b.connect(writeTimeout)
		if took := time.Since(start); took > slack {
			t.Fatalf("Connect took %v", took)
		}
		if err != nil {
			// ErrBufferNotFound: reserved_1 rewritten to the semaphore
			// notifier's word (0) over a buffer made without semaphores.
			if !expectedErr(err, ring.ErrCorrupt, ring.ErrIncompatibleVersion, ring.ErrReaderDead,
				ring.ErrWriterAlreadyConnected, ring.ErrNotifierMismatch, ring.ErrBufferNotFound) {
				t.Fatalf("Connect: unexpected error %v", err)
			}
			if got := b.oieb().WriterPID.Load(); got != snap.WriterPID {
				t.Fatalf("a refused Connect changed writer_pid from %d to %d", snap.WriterPID, got)
			}
			return
		}
		b.w = w
		if err := snap.Validate(b.segmentSize()); err != nil {
			t.Fatalf("Connect accepted an OIEB that does not validate: %v", err)
		}
		if w.PayloadSize() != snap.PayloadSize {
			t.Fatalf("writer ring of %d bytes, the OIEB says %d", w.PayloadSize(), snap.PayloadSize)
		}
		b.patch(post, 32)
		hw := &hostileWriter{b: b, w: w, md: snap.MetadataSize, pl: snap.PayloadSize, hold: cfg&cfgHold != 0}
		hw.run(ops)
		if err := w.Close(); err != nil {
			t.Fatalf("writer Close: %v", err)
		}
		b.w = nil

		b.hostileReads(false)
		b.checkMetadata()
	})
}

// hostileWriter drives a writer over a corrupted OIEB. md and pl are the
// block sizes the OIEB gave when the writer connected: the writer's idea
// of where its ring is.
type hostileWriter struct {
	b        *buffer
	w        *ring.Writer
	md, pl   uint64
	hold     bool
	reserved []byte // the slot of an uncommitted Reserve
	resN     int
}

// Writer ops, one op byte each (op&7), then arguments:
//
//	0  WriteFrame(n)   n u16, or pl-16-n when op&8
//	1  Reserve(n)      likewise; the slot is checked and filled
//	2  Commit
//	3  SetMetadata     length u8
//	4  the reader reads a frame (held when the cfgHold bit is set)
//	5, 6  one patch record (see patcher) follows
//	7  Reserve(-n)     n u8: sizes 0 and below
func (hw *hostileWriter) run(ops []byte) {
	b, t := hw.b, hw.b.t
	p := &patcher{b: b, in: ops, mem: b.peer.Data}
	for i := 0; i < maxWriterOps && len(p.in) > 0; i++ {
		op := p.u8()
		sizeArg := func() int {
			v := p.uint(2)
			if op&8 != 0 {
				return int(int64(hw.pl - layout.FrameHeaderSize - v))
			}
			return int(v)
		}
		switch op & 7 {
		case 0:
			n := sizeArg()
			payload := make([]byte, max(n, 0))
			for j := range payload {
				payload[j] = byte(j)
			}
			hw.frameOp("WriteFrame", func() error { return hw.w.WriteFrame(payload) })
		case 1:
			n := sizeArg()
			hw.frameOp("Reserve", func() error {
				buf, err := hw.w.Reserve(n)
				if err == nil {
					hw.checkSlot(buf, n)
					for j := range buf {
						buf[j] = byte(j)
					}
					hw.reserved, hw.resN = buf, n
				}
				return err
			})
		case 2:
			hw.frameOp("Commit", func() error {
				err := hw.w.Commit()
				if err == nil {
					if hw.reserved == nil {
						t.Fatalf("Commit succeeded with nothing reserved")
					}
					if pos := b.oieb().PayloadWritePos.Load(); pos > hw.pl {
						t.Fatalf("Commit stored payload_write_pos %d in a %d-byte ring", pos, hw.pl)
					}
					hw.reserved = nil
				}
				return err
			})
		case 3:
			n := int(p.u8())
			meta := bytes.Repeat([]byte{'m'}, n)
			start := time.Now()
			err := hw.w.SetMetadata(meta)
			hw.checkTime("SetMetadata", start)
			if err != nil && !expectedErr(err, ring.ErrMetadataAlreadyWritten, ring.ErrMetadataTooLarge) {
				t.Fatalf("SetMetadata(%d bytes): unexpected error %v", n, err)
			}
			if err == nil && uint64(n)+layout.MetadataPrefixSize > hw.md {
				t.Fatalf("SetMetadata stored %d bytes in a %d-byte block", n, hw.md)
			}
		case 4:
			ctx, cancel := context.WithTimeout(context.Background(), setupDeadline)
			f, err := b.r.ReadFrame(ctx)
			cancel()
			if err == nil {
				b.checkFrame(f)
				if hw.hold {
					b.held = append(b.held, f)
				} else if err := f.Release(); err != nil {
					t.Fatalf("Release: %v", err)
				}
			}
		case 5, 6:
			p.apply(1)
		case 7:
			n := -int(p.u8())
			hw.frameOp("Reserve", func() error {
				buf, err := hw.w.Reserve(n)
				if err == nil {
					t.Fatalf("Reserve(%d) returned %d bytes", n, len(buf))
				}
				return err
			})
		}
	}
}

// frameOp runs a frame operation and checks that it returned in time,
// with an expected error, and wrote nothing outside the writer's ring.
func (hw *hostileWriter) frameOp(what string, op func() error) {
	b, t := hw.b, hw.b.t
	mem := b.peer.Data
	ringStart := layout.PayloadOffset(hw.md)
	ringEnd := ringStart + hw.pl
	metaBefore := bytes.Clone(mem[layout.OIEBSize:ringStart])
	tailBefore := bytes.Clone(mem[ringEnd:])
	start := time.Now()
	err := op()
	hw.checkTime(what, start)
	if err != nil && !expectedErr(err, ring.ErrBufferFull, ring.ErrReaderDead, ring.ErrFrameTooLarge,
		ring.ErrInvalidFrameSize, ring.ErrReservePending, ring.ErrNothingReserved) {
		t.Fatalf("%s: unexpected error %v", what, err)
	}
	if !bytes.Equal(metaBefore, mem[layout.OIEBSize:ringStart]) {
		t.Fatalf("%s wrote into the metadata block [%d, %d) (its ring is [%d, %d))", what, layout.OIEBSize, ringStart, ringStart, ringEnd)
	}
	if !bytes.Equal(tailBefore, mem[ringEnd:]) {
		t.Fatalf("%s wrote past its ring [%d, %d) of a %d-byte segment", what, ringStart, ringEnd, len(mem))
	}
}

func (hw *hostileWriter) checkTime(what string, start time.Time) {
	if took := time.Since(start); took > writeTimeout+slack {
		hw.b.t.Fatalf("%s took %v with a %v write timeout", what, took, writeTimeout)
	}
}

// checkSlot asserts that a slot Reserve returned lies inside the writer's
// ring, in its own mapping, after a header announcing it.
func (hw *hostileWriter) checkSlot(buf []byte, n int) {
	t := hw.b.t
	if len(buf) != n || n <= 0 {
		t.Fatalf("Reserve(%d) returned %d bytes", n, len(buf))
	}
	segSize := hw.b.segmentSize()
	base := uintptr(unsafe.Pointer(hw.w.OIEB()))
	ringStart := base + uintptr(layout.PayloadOffset(hw.md))
	ringEnd := ringStart + uintptr(hw.pl)
	if ringEnd > base+uintptr(segSize) || ringEnd < ringStart {
		t.Fatalf("writer ring [%d, +%d) does not fit the %d-byte segment", layout.PayloadOffset(hw.md), hw.pl, segSize)
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	if p < ringStart+layout.FrameHeaderSize || p > ringEnd || uintptr(cap(buf)) > ringEnd-p {
		t.Fatalf("Reserve(%d) slot at ring offset %d (cap %d) outside the %d-byte ring and room for its header",
			n, int64(p-ringStart), cap(buf), hw.pl)
	}
	seg := unsafe.Slice((*byte)(unsafe.Pointer(hw.w.OIEB())), segSize)
	h, _ := layout.ParseFrameHeader(seg[p-base-layout.FrameHeaderSize:])
	if h.PayloadSize != uint64(n) {
		t.Fatalf("Reserve(%d) slot follows header %+v", n, h)
	}
}

type writerSeed struct {
	cfg                  uint8
	prep, pre, post, ops []byte
}

func sizeOp(op byte, fromEnd bool, n uint16) []byte {
	if fromEnd {
		op |= 8
	}
	return []byte{op, byte(n), byte(n >> 8)}
}

// writerSeeds corrupt what the writer relies on: its position, the free
// bytes, the counts, the sizes, the metadata fields, the PIDs and the
// notifier word, before and after it connects, and ask for frames at the
// size limits.
func writerSeeds() []writerSeed {
	honest := []byte{0xFC, 0x90, 0x90, 0xE0, 0xA0, 0xE0}
	frames := cat(sizeOp(0, false, 100), sizeOp(1, false, 300), []byte{2}, sizeOp(0, true, 0), []byte{4, 4},
		sizeOp(1, true, 16), []byte{2, 4}, sizeOp(0, false, 1), []byte{3, 20, 4})
	field := func(off int, mode byte, v uint64) []byte { return fieldPatch(off, mode, v) }
	opPatch := func(rec []byte) []byte { return append([]byte{5}, rec...) }
	return []writerSeed{
		{0, nil, nil, nil, frames},
		{0, honest, nil, nil, frames},
		{0, honest, field(layout.OffPayloadWritePos, 1, 0), nil, frames},  // at the end
		{0, honest, field(layout.OffPayloadWritePos, 1, 5), nil, frames},  // 5 bytes before it
		{0, honest, field(layout.OffPayloadWritePos, 1, 17), nil, frames}, // a marker's room
		{1, honest, field(layout.OffPayloadWritePos, 0, 1<<40), nil, frames},
		{0, honest, field(layout.OffPayloadFreeBytes, 1, 0), nil, frames},
		{0, honest, nil, field(layout.OffPayloadFreeBytes, 0, ^uint64(0)), frames},
		{0, honest, nil, field(layout.OffPayloadWritePos, 2, 1000), frames},
		{2, honest, nil, field(layout.OffPayloadSize, 0, 1<<40), frames},
		{3, honest, field(layout.OffPayloadSize, 0, 17), nil, frames},
		{4, honest, cat(field(layout.OffMetadataSize, 0, 0), field(layout.OffMetadataFreeBytes, 0, 0), field(layout.OffPayloadSize, 0, 4096-128)), nil, frames},
		{5, honest, cat(field(layout.OffMetadataSize, 0, 3968-17), field(layout.OffMetadataFreeBytes, 0, 3968-17), field(layout.OffPayloadSize, 0, 17)), nil, frames},
		{0, nil, nil, field(layout.OffMetadataWrittenBytes, 0, 0), cat([]byte{3, 200}, opPatch(field(layout.OffMetadataWrittenBytes, 0, 0)), []byte{3, 8})},
		{0, nil, cat(field(layout.OffMetadataSize, 0, 1<<20), field(layout.OffMetadataFreeBytes, 0, 1<<20)), nil, frames},
		{0, nil, field(layout.OffReaderPID, 0, 0), nil, frames},
		{0, nil, nil, field(layout.OffReaderPID, 0, 0), cat(sizeOp(0, true, 0), sizeOp(0, true, 0))},
		{0, nil, field(layout.OffWriterPID, 0, 1), nil, frames},
		{0, nil, field(layout.OffPayloadReadCount, 0, 5), nil, frames},
		{0, nil, rawPatch(0, 4, []byte{2}), nil, frames},
		{0, nil, field(layout.OffReserved, 0, spin.BackoffKind.Word(1<<31)), nil, cat(sizeOp(0, true, 0), sizeOp(0, true, 0))},
		{0, nil, field(layout.OffReserved, 0, futex.Kind.Word(0)), nil, frames},
		{1 << cfgNotifier, honest, nil, field(layout.OffPayloadFreeBytes, 0, 0), frames},
		{2<<cfgNotifier | cfgHold, honest, nil, opPatch(field(layout.OffPayloadFreeBytes, 0, 1<<30)), cat(frames, frames)},
		{3<<cfgNotifier | 5, honest, field(layout.OffPayloadWritePos, 1, 1), nil, frames},
		{4 << cfgNotifier, honest, nil, field(layout.OffReserved+8, 0, ^uint64(0)), frames},
		{5 << cfgNotifier, honest, nil, nil, cat(sizeOp(1, false, 64), opPatch(field(layout.OffPayloadWritePos, 0, 7)), []byte{2}, frames)},
		{0, honest, nil, nil, cat(sizeOp(1, false, 64), sizeOp(1, false, 64), []byte{2, 2, 7, 0, 7, 5})},
	}
}
