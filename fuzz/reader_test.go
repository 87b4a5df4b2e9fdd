package fuzz

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// cfg byte of the hostile-memory targets.
const (
	cfgGeometry    = 0x07 // geometries[cfg&7]
	cfgCloseWriter = 0x08 // reader target: the writer closes before the attack
	cfgHold        = 0x10 // hold frames read under attack until the end
	cfgNotifier    = 5    // notifierName(cfg>>5)
)

// FuzzReaderHostileMemory runs honest traffic through a real buffer, then
// lets the fuzzer overwrite parts of its shared memory (OIEB, metadata
// block, ring) and post the data notifier spuriously, as a buggy or
// malicious writer would, and reads on. Every ReadFrame must return a frame
// lying inside the ring, or an error, within its deadline; Metadata must
// return bytes inside the metadata block or an error. A hang past the
// watchdog and any out-of-bounds access (the segments have a guard page
// behind them) crash the worker, and the fuzzer saves the input.
//
// Inputs: cfg (see cfgGeometry and the rest), script (honest traffic, see
// runHonest), patches (see patcher), posts (spurious data posts).
func FuzzReaderHostileMemory(f *testing.F) {
	for _, s := range readerSeeds() {
		f.Add(s.cfg, s.script, s.patches, s.posts)
	}
	f.Fuzz(func(t *testing.T, cfg uint8, script, patches []byte, posts uint8) {
		defer watchdog("FuzzReaderHostileMemory iteration")()
		b := newBuffer(t, cfg&cfgGeometry, cfg>>cfgNotifier)
		defer b.close()
		w, err := b.connect(2 * time.Millisecond)
		if err != nil {
			t.Fatalf("Connect: %v", err)
		}
		b.w = w
		b.runHonest(script)
		b.releaseHeld()
		b.checkDrained()
		if cfg&cfgCloseWriter != 0 {
			if err := b.w.Close(); err != nil {
				t.Fatalf("writer Close: %v", err)
			}
			b.w = nil
		}

		b.patch(patches, 64)
		b.postData(int(posts))
		b.hostileReads(cfg&cfgHold != 0)
		b.checkMetadata()
	})
}

// postData posts the data notifier n extra times through a notifier of
// the reader's kind attached to the attacker's mapping: frames announced
// that nobody wrote.
func (b *buffer) postData(n int) {
	if n == 0 {
		return
	}
	t := b.t
	nt, err := ring.NewNotifier(b.kind)
	if err != nil {
		t.Fatal(err)
	}
	if err := nt.Open(b.name, b.oieb()); err != nil {
		t.Fatalf("open the %s notifier of %s: %v", b.kind, b.name, err)
	}
	defer nt.Close()
	for range n {
		if err := nt.PostData(); err != nil {
			t.Fatalf("PostData: %v", err)
		}
	}
}

// hostileReads reads until the reader gives up, checking every frame and
// every error.
func (b *buffer) hostileReads(hold bool) {
	t := b.t
	for range maxReads {
		ctx, cancel := context.WithTimeout(context.Background(), readDeadline)
		start := time.Now()
		f, err := b.r.ReadFrame(ctx)
		took := time.Since(start)
		cancel()
		if took > readDeadline+slack {
			t.Fatalf("ReadFrame with a %v deadline took %v (result %v)", readDeadline, took, err)
		}
		switch {
		case err == nil:
			b.checkFrame(f)
			if hold {
				b.held = append(b.held, f)
			} else if err := f.Release(); err != nil {
				t.Fatalf("Release: %v", err)
			}
			continue
		case errors.Is(err, ring.ErrTooManyHeldFrames):
			b.releaseHeld()
			continue
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ring.ErrWriterClosed), errors.Is(err, ring.ErrWriterDead):
			return
		case errors.Is(err, ring.ErrSequence), errors.Is(err, ring.ErrCorrupt):
			var se *ring.SequenceError
			var ce *ring.CorruptionError
			if !errors.As(err, &se) && !errors.As(err, &ce) {
				t.Fatalf("ReadFrame: %v is neither a *SequenceError nor a *CorruptionError", err)
			}
			if ce != nil && (ce.Offset >= b.pl || ce.RingSize != b.pl) {
				t.Fatalf("ReadFrame: corruption reported at offset %d of a %d-byte ring: %v", ce.Offset, ce.RingSize, err)
			}
			// A ring that lied is not read on: the same error, at once.
			ctx, cancel := context.WithTimeout(context.Background(), readDeadline)
			f2, err2 := b.r.ReadFrame(ctx)
			cancel()
			if err2 == nil || err2.Error() != err.Error() {
				if err2 == nil {
					f2.Release()
				}
				t.Fatalf("ReadFrame after %v returned %v", err, err2)
			}
			return
		default:
			t.Fatalf("ReadFrame: unexpected error %v", err)
		}
	}
}

type readerSeed struct {
	cfg             uint8
	script, patches []byte
	posts           uint8
}

// Helpers to write patch records by hand.

func rawPatch(region byte, off uint16, data []byte) []byte {
	out := []byte{region << 2, byte(off), byte(off >> 8), byte(len(data) - 1)}
	return append(out, data...)
}

func fieldPatch(off int, mode byte, v uint64) []byte {
	return binary.LittleEndian.AppendUint64([]byte{1, byte(off / 8), mode}, v)
}

// headerPatch writes a header at off from the read position (fromRead) or
// from 0, sizeMode as in patcher, seq relative to the next expected.
func headerPatch(fromRead bool, sizeMode byte, off uint16, size uint32, seqDelta int8, zeroSeq bool) []byte {
	op := byte(2) | sizeMode<<3
	if fromRead {
		op |= 4
	}
	if zeroSeq {
		op |= 0x20
	}
	out := []byte{op, byte(off), byte(off >> 8)}
	out = binary.LittleEndian.AppendUint32(out, size)
	return append(out, byte(seqDelta))
}

func fillPatch(region byte, off, n uint16, c byte) []byte {
	return []byte{3 | region<<2, byte(off), byte(off >> 8), byte(n), byte(n >> 8), c}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// readerSeeds aim at the reader's checks: the header at the read position
// (sizes at and past the room left, zero sizes, wrap markers, sequence
// numbers off by one), the short tail, spurious posts, the metadata
// fields, the PIDs — for the default notifier and the others.
func readerSeeds() []readerSeed {
	// Honest traffic: metadata, frames that wrap in a 1 KiB ring, some
	// held across the wrap.
	wraps := []byte{0xFB, 0x90, 0x90, 0xE0, 0xA0, 0xE1, 0xE0, 0xF0, 0xB0, 0x10}
	short := []byte{0xFA, 0x85, 0xE0, 0x85, 0xE0, 0x30}
	return []readerSeed{
		{0, wraps, nil, 0},
		{0, wraps, headerPatch(true, 1, 0, 0, 0, false), 1},                                           // fills the ring exactly
		{0, wraps, headerPatch(true, 1, 0, 0xffffffff, 0, false), 1},                                  // one byte past the end
		{0, wraps, headerPatch(true, 3, 0, 1000, 0, false), 2},                                        // far past the end
		{0, wraps, headerPatch(true, 0, 0, 16, 1, false), 1},                                          // sequence gap
		{0, wraps, headerPatch(true, 2, 0, 0, 0, true), 1},                                            // wrap marker at the read position
		{0, wraps, cat(headerPatch(true, 2, 0, 0, 0, true), headerPatch(false, 2, 0, 0, 0, true)), 3}, // marker to a marker at 0
		{0, wraps, headerPatch(true, 2, 0, 0, 0, false), 1},                                           // size 0, right sequence
		{0, nil, nil, 5},                        // posts and no frames
		{0, short, fillPatch(2, 0, 4096, 0), 4}, // wiped ring
		{1, short, fillPatch(2, 0, 4096, 0xff), 4},
		{4, wraps, cat(fieldPatch(layout.OffPayloadWrittenCount, 0, 1<<40), fieldPatch(layout.OffPayloadReadPos, 1, 3)), 2},
		{5, short, cat(fieldPatch(layout.OffMetadataWrittenBytes, 0, 1<<20), fieldPatch(layout.OffMetadataSize, 0, 1<<30)), 0},
		{2, wraps, rawPatch(1, 0, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), 0}, // metadata prefix
		{3, wraps, fieldPatch(layout.OffWriterPID, 0, 0x7fffffff), 0},                         // a dead writer
		{cfgCloseWriter, wraps, fieldPatch(layout.OffPayloadWrittenCount, 3, 1), 1},
		{cfgHold, wraps, headerPatch(true, 0, 0, 8, 0, false), 40},
		{1 << cfgNotifier, wraps, headerPatch(true, 3, 0, 1, 0, false), 1},
		{2 << cfgNotifier, wraps, fieldPatch(layout.OffPayloadWrittenCount, 3, 5), 0},
		{3<<cfgNotifier | 6, wraps, headerPatch(true, 1, 0, 0xffffffff, 0, false), 0},
		{4<<cfgNotifier | cfgCloseWriter, short, fieldPatch(layout.OffPayloadWrittenCount, 3, 1), 0},
		{5<<cfgNotifier | cfgHold, wraps, cat(fieldPatch(layout.OffPayloadWrittenCount, 3, 9), fillPatch(2, 0, 4096, 0x11)), 0},
	}
}
