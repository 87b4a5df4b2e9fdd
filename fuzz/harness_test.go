package fuzz

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"testing"
	"time"
	"unsafe"

	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/ring"

	// Every notifier is linked in, so that the suites cover them all.
	_ "github.com/zerobuffer/zerobuffer-go/sync/futex"
	_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
)

// Bounds of the hostile-memory targets.
const (
	// watchdogAfter turns a hang into a crash the fuzzer reports. Every
	// wait in an iteration is bounded by tens of milliseconds, so a healthy
	// iteration takes well under a second even under the race detector.
	watchdogAfter = 5 * time.Second
	// readDeadline bounds each ReadFrame of the hostile phase.
	readDeadline = 20 * time.Millisecond
	// setupDeadline bounds each ReadFrame of the honest phases.
	setupDeadline = 10 * time.Millisecond
	// liveness is both sides' liveness interval: short, so that the
	// writer-PID and reader-PID checks run within the deadlines.
	liveness = 5 * time.Millisecond
	// slack is how late a bounded call may return before the target calls
	// it a hang: generous, as other processes may be hogging the CPUs.
	slack = 2 * time.Second
	// maxScriptOps and maxReads bound an iteration's work.
	maxScriptOps = 24
	maxReads     = 16
)

// geometries are the buffer shapes a fuzz input picks from: small rings
// (many wraps), and segments that end exactly at a page boundary, so that
// the guard page lies right behind the ring and any overrun faults.
var geometries = [8]struct{ md, pl uint64 }{
	{64, 1024},
	{256, 1024},
	{128, 2048},
	{192, 4096},
	{64, 3904},  // 128+64+3904 = 4096
	{128, 3840}, // 4096
	{192, 3776}, // 4096
	{256, 3712}, // 4096
}

// watchdog panics, with every goroutine's stack, when the iteration is not
// over within watchdogAfter: a hang becomes a crash with the input saved.
func watchdog(what string) (stop func()) {
	timer := time.AfterFunc(watchdogAfter, func() {
		debug.SetTraceback("all")
		panic(fmt.Sprintf("fuzz watchdog: %s still running after %v: a wait does not honour its deadline (hang); "+
			"under -fuzz, this worker's stacks are in %s", what, watchdogAfter, workerLog(os.Getpid())))
	})
	return func() { timer.Stop() }
}

// notifierName picks one of the ring's wait strategies.
func notifierName(i uint8) string {
	names := ring.NotifierNames()
	return names[int(i)%len(names)]
}

// buffer is one buffer under attack: the reader that owns it, possibly a
// writer, and a second mapping of the segment, the hostile peer's.
type buffer struct {
	t       *testing.T
	name    string
	kind    string // the notifier's name
	md, pl  uint64 // the blocks' real sizes
	r       *ring.Reader
	w       *ring.Writer
	peer    *shm.Segment // the attacker's mapping
	held    []ring.Frame
	nextSeq uint64 // the sequence number the reader expects next, honest phases
	lastSeq uint64 // the last sequence number a writer of ours used
}

// newBuffer creates a buffer of the geometry and notifier cfg picks and
// maps it a second time. Everything is undone by close.
func newBuffer(t *testing.T, geometry, notifier uint8) *buffer {
	g := geometries[geometry%uint8(len(geometries))]
	creating.RLock()
	defer creating.RUnlock()
	b := &buffer{t: t, name: newName(), kind: notifierName(notifier), md: g.md, pl: g.pl, nextSeq: 1}
	var err error
	// The name is fresh, so "already connected" can only be the race in
	// which another process's ring.CleanupStale holds our new lock file
	// for a moment (reported as a ring bug): try again.
	for attempt := 0; ; attempt++ {
		n, nerr := ring.NewNotifier(b.kind)
		if nerr != nil {
			t.Fatal(nerr)
		}
		b.r, err = ring.NewReader(b.name, ring.Config{MetadataSize: g.md, PayloadSize: g.pl},
			ring.WithNotifier(n), ring.WithLivenessInterval(liveness))
		if err == nil || !errors.Is(err, ring.ErrReaderAlreadyConnected) || attempt == 50 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	if b.r.PayloadSize() != g.pl {
		t.Fatalf("ring of %d bytes, asked for %d", b.r.PayloadSize(), g.pl)
	}
	b.peer, err = shm.Open(b.name, false, layout.OIEBSize)
	if err != nil {
		b.r.Close()
		t.Fatalf("map %s: %v", b.name, err)
	}
	if uint64(len(b.peer.Data)) != b.segmentSize() {
		t.Fatalf("segment of %d bytes, want %d", len(b.peer.Data), b.segmentSize())
	}
	return b
}

func (b *buffer) segmentSize() uint64 { return layout.SegmentSize(b.md, b.pl) }

// oieb is the attacker's view of the OIEB.
func (b *buffer) oieb() *layout.OIEB {
	o, err := layout.View(b.peer.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	return o
}

// connect connects a writer with short timeouts.
func (b *buffer) connect(writeTimeout time.Duration) (*ring.Writer, error) {
	return ring.Connect(b.name, ring.WithWriteTimeout(writeTimeout), ring.WithLivenessInterval(liveness))
}

// close releases every frame, closes everything, and checks that no file
// of the buffer is left.
func (b *buffer) close() {
	t := b.t
	for _, f := range b.held {
		f.Release()
	}
	b.held = nil
	if b.w != nil {
		b.w.Close()
		b.w = nil
	}
	if err := b.r.Close(); err != nil {
		t.Errorf("reader Close: %v", err)
	}
	if err := b.peer.Close(); err != nil {
		t.Errorf("unmap: %v", err)
	}
	for _, path := range testsupport.BufferFiles(b.name) {
		t.Errorf("%s left behind after Close", path)
		os.Remove(path)
	}
}

// payloadByte is the honest writers' content: frame seq, byte i.
func payloadByte(seq uint64, i int) byte { return byte(seq*131 + uint64(i)*7 + uint64(i>>8)) }

// frameSize maps a script byte (below 0xE0) to a frame size: small frames,
// and frames up to about half the ring, so that wraps and short tails come
// up.
func frameSize(op byte, pl uint64) int {
	if op < 0x80 {
		return int(op) + 1
	}
	return 1 + int(uint64(op-0x80)*(pl/2)/0x60)
}

// runHonest runs a script of honest traffic (no corruption): the writer
// b.w writes frames, the reader reads, holds, releases them, and checks
// every frame it reads. Script bytes:
//
//	00-DF  write a frame of frameSize(op) bytes
//	E0-EF  read a frame (odd: hold it, even: release it at once)
//	F0-F7  release every held frame
//	F8-FF  store metadata of (op&7)*9 bytes
//
// Failures here are ring bugs in honest operation.
func (b *buffer) runHonest(script []byte) {
	t := b.t
	for i, op := range script {
		if i == maxScriptOps {
			break
		}
		switch {
		case op < 0xE0:
			if b.w == nil {
				continue
			}
			n := frameSize(op, b.pl)
			buf, err := b.w.Reserve(n)
			if err != nil {
				if !errors.Is(err, ring.ErrBufferFull) && !errors.Is(err, ring.ErrFrameTooLarge) {
					t.Fatalf("honest Reserve(%d): %v", n, err)
				}
				continue
			}
			b.lastSeq++
			for j := range buf {
				buf[j] = payloadByte(b.lastSeq, j)
			}
			if err := b.w.Commit(); err != nil {
				t.Fatalf("honest Commit: %v", err)
			}
			// The Go writer never leaves a tail too short for a wrap
			// marker (foreign readers misread it).
			if tail := b.pl - b.oieb().PayloadWritePos.Load(); tail > 0 && tail < layout.FrameHeaderSize {
				t.Fatalf("honest Commit of %d bytes left a %d-byte tail", n, tail)
			}
		case op < 0xF0:
			ctx, cancel := context.WithTimeout(context.Background(), setupDeadline)
			f, err := b.r.ReadFrame(ctx)
			cancel()
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ring.ErrTooManyHeldFrames) ||
					errors.Is(err, ring.ErrWriterClosed) {
					continue
				}
				t.Fatalf("honest ReadFrame: %v", err)
			}
			b.checkFrame(f)
			if f.Seq() != b.nextSeq {
				t.Fatalf("honest ReadFrame: frame %d, want %d", f.Seq(), b.nextSeq)
			}
			for j, c := range f.Bytes() {
				if c != payloadByte(f.Seq(), j) {
					t.Fatalf("honest ReadFrame: frame %d byte %d is %#x, want %#x", f.Seq(), j, c, payloadByte(f.Seq(), j))
				}
			}
			b.nextSeq++
			if op&1 == 1 {
				b.held = append(b.held, f)
			} else if err := f.Release(); err != nil {
				t.Fatalf("honest Release: %v", err)
			}
		case op < 0xF8:
			b.releaseHeld()
		default:
			if b.w == nil {
				continue
			}
			meta := make([]byte, int(op&7)*9)
			for j := range meta {
				meta[j] = byte('a' + j%26)
			}
			err := b.w.SetMetadata(meta)
			if err != nil && !errors.Is(err, ring.ErrMetadataAlreadyWritten) && !errors.Is(err, ring.ErrMetadataTooLarge) {
				t.Fatalf("honest SetMetadata(%d bytes): %v", len(meta), err)
			}
		}
	}
}

// checkDrained checks the accounting after honest traffic: once every
// frame written has been read and released, and the reader has looked for
// the next one (the reader may publish released space lazily, but before
// it waits), the whole ring is free again and every frame and wrap marker
// written is counted as read.
func (b *buffer) checkDrained() {
	t := b.t
	if len(b.held) != 0 || b.nextSeq != b.lastSeq+1 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	f, err := b.r.ReadFrame(ctx)
	cancel()
	if err == nil {
		f.Release()
		t.Fatalf("every frame read, yet ReadFrame returned frame %d", f.Seq())
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ring.ErrWriterClosed) {
		t.Fatalf("ReadFrame on a drained ring: %v", err)
	}
	s := b.oieb().Snapshot()
	if s.PayloadFreeBytes != b.pl || s.PayloadReadCount != s.PayloadWrittenCount {
		t.Fatalf("every frame read and released, yet %d of %d bytes free (%d written, %d read)",
			s.PayloadFreeBytes, b.pl, s.PayloadWrittenCount, s.PayloadReadCount)
	}
}

func (b *buffer) releaseHeld() {
	for _, f := range b.held {
		if err := f.Release(); err != nil {
			b.t.Fatalf("Release: %v", err)
		}
	}
	b.held = b.held[:0]
}

// readerMapping is the reader's own mapping of the segment.
func (b *buffer) readerMapping() []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(b.r.OIEB())), b.segmentSize())
}

// checkFrame asserts that a frame the reader handed out lies inside the
// reader's ring, after a header that describes it.
func (b *buffer) checkFrame(f ring.Frame) {
	t := b.t
	data := f.Bytes()
	if !f.Valid() || len(data) == 0 || f.Len() != len(data) {
		t.Fatalf("ReadFrame returned an invalid or empty frame (valid %v, %d bytes) without an error", f.Valid(), len(data))
	}
	seg := b.readerMapping()
	base := uintptr(unsafe.Pointer(unsafe.SliceData(seg)))
	ringStart := base + uintptr(layout.PayloadOffset(b.md))
	ringEnd := ringStart + uintptr(b.pl)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	if p < ringStart+layout.FrameHeaderSize || p > ringEnd || uintptr(len(data)) > ringEnd-p {
		t.Fatalf("frame %d: bytes at ring offset %d..%d, outside the %d-byte ring (and room for its header)",
			f.Seq(), int64(p-ringStart), int64(p-ringStart)+int64(len(data)), b.pl)
	}
	if uintptr(cap(data)) > ringEnd-p {
		t.Fatalf("frame %d: capacity %d reaches past the ring", f.Seq(), cap(data))
	}
	h, err := layout.ParseFrameHeader(seg[p-base-layout.FrameHeaderSize:])
	if err != nil || h.PayloadSize != uint64(len(data)) || h.SequenceNumber != f.Seq() {
		t.Fatalf("frame %d of %d bytes follows header %+v", f.Seq(), len(data), h)
	}
}

// checkMetadata asserts that the reader's metadata lies inside its
// metadata block, or is a corruption error.
func (b *buffer) checkMetadata() {
	t := b.t
	meta, err := b.r.Metadata()
	if err != nil {
		if !errors.Is(err, layout.ErrCorrupt) {
			t.Fatalf("Metadata: unexpected error %v", err)
		}
		return
	}
	if meta == nil {
		return
	}
	base := uintptr(unsafe.Pointer(b.r.OIEB()))
	start := base + layout.OIEBSize + layout.MetadataPrefixSize
	end := base + uintptr(layout.PayloadOffset(b.md))
	if len(meta) == 0 {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(meta)))
	if p != start || uintptr(cap(meta)) > end-p {
		t.Fatalf("Metadata: %d bytes (cap %d) at segment offset %d, outside the metadata block [%d, %d)",
			len(meta), cap(meta), p-base, layout.OIEBSize, layout.PayloadOffset(b.md))
	}
}

// Patch records, decoded by applyPatches. Each starts with an op byte
// whose low two bits choose the record:
//
//	0  raw:    op, off u16, n, then n%32+1 bytes   copied into region(op>>2)
//	1  field:  op, idx, mode, v u64                 OIEB word idx%16 set by mode
//	2  header: op, off u16, size u32, seq i8        a frame header in the ring
//	3  fill:   op, off u16, n u16, c                n bytes of c into region(op>>2)
//
// Regions: 0 OIEB, 1 metadata block, 2 ring, 3 whole segment; offsets wrap
// at the region's size and writes stop at its end. Field modes: 0 v,
// 1 payload_size-v, 2 payload_size+v, 3 current+v. A header's offset is
// from the reader's read position when op&4 (else from 0); its size is
// taken as is, or (op>>3&3) 1: the room left after the header minus size,
// 2: size 0 (a wrap marker), 3: room+size. Its sequence number is the next
// expected one plus seq, or 0 when op&0x20. Missing bytes read as 0.
type patcher struct {
	b   *buffer
	in  []byte
	mem []byte
	rp  uint64 // the read position the reader published before the patches
}

func (p *patcher) u8() byte {
	if len(p.in) == 0 {
		return 0
	}
	c := p.in[0]
	p.in = p.in[1:]
	return c
}

func (p *patcher) uint(n int) uint64 {
	var v uint64
	for i := 0; i < n; i++ {
		v |= uint64(p.u8()) << (8 * i)
	}
	return v
}

func (p *patcher) region(sel byte) []byte {
	b := p.b
	switch sel & 3 {
	case 0:
		return p.mem[:layout.OIEBSize]
	case 1:
		return p.mem[layout.OIEBSize:layout.PayloadOffset(b.md)]
	case 2:
		return p.mem[layout.PayloadOffset(b.md):b.segmentSize()]
	}
	return p.mem
}

// apply decodes and applies records until the input or maxRecords runs
// out, and reports how many it applied.
func (p *patcher) apply(maxRecords int) int {
	b := p.b
	n := 0
	for ; len(p.in) > 0 && n < maxRecords; n++ {
		op := p.u8()
		switch op & 3 {
		case 0:
			reg := p.region(op >> 2)
			off, size := int(p.uint(2)), int(p.u8()%32)+1
			data := p.in[:min(size, len(p.in))]
			p.in = p.in[len(data):]
			if len(reg) > 0 {
				copy(reg[off%len(reg):], data)
			}
		case 1:
			idx, mode, v := int(p.u8()%16), p.u8()%4, p.uint(8)
			word := p.mem[8*idx:]
			switch mode {
			case 1:
				v = b.pl - v
			case 2:
				v = b.pl + v
			case 3:
				v += binary.LittleEndian.Uint64(word)
			}
			binary.LittleEndian.PutUint64(word, v)
		case 2:
			off, size, delta := p.uint(2), p.uint(4), int8(p.u8())
			base := uint64(0)
			if op&4 != 0 {
				base = p.rp
			}
			pos := (base + off) % b.pl
			room := b.pl - pos - min(b.pl-pos, layout.FrameHeaderSize)
			switch op >> 3 & 3 {
			case 1:
				size = room - size
			case 2:
				size = 0
			case 3:
				size = room + size
			}
			seq := b.nextSeq + uint64(int64(delta))
			if op&0x20 != 0 {
				seq = 0
			}
			var hdr [layout.FrameHeaderSize]byte
			layout.PutFrameHeader(hdr[:], layout.FrameHeader{PayloadSize: size, SequenceNumber: seq})
			copy(p.region(2)[pos:], hdr[:])
		case 3:
			reg := p.region(op >> 2)
			off, size, c := int(p.uint(2)), int(p.uint(2)), p.u8()
			if len(reg) > 0 {
				off %= len(reg)
				size = min(size, len(reg)-off)
				for i := range size {
					reg[off+i] = c
				}
			}
		}
	}
	return n
}

// patch applies the records of in to the segment through the attacker's
// mapping.
func (b *buffer) patch(in []byte, maxRecords int) {
	p := &patcher{b: b, in: in, mem: b.peer.Data}
	p.rp = binary.LittleEndian.Uint64(p.mem[layout.OffPayloadReadPos:]) % b.pl
	p.apply(maxRecords)
}

// expectedErr reports whether err is one of the errors a ring operation
// may return when its peer or its memory is hostile.
func expectedErr(err error, allowed ...error) bool {
	for _, a := range allowed {
		if errors.Is(err, a) {
			return true
		}
	}
	return false
}
