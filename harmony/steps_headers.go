package harmony

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// registerHeaders: frame headers under corruption (10.2) and where frames
// and control fields lie in memory (12.2).
func registerHeaders(r *Registry) {
	r.add(When, `the `+q+` process writes valid frame`, func(ctx context.Context, w *world, _ []string) error {
		return w.write(ctx, 1024)
	})
	r.add(Then, `test multiple corruption scenarios:`, func(ctx context.Context, w *world, _ []string) error {
		kinds, err := w.tableColumn(0)
		if err != nil {
			return err
		}
		wants, err := w.tableColumn(1)
		if err != nil {
			return err
		}
		if w.current == "" {
			return errors.New("no buffer was created or connected to")
		}
		w.corruption = nil
		var fails []string
		for i, kind := range kinds {
			name := fmt.Sprintf("%s-corrupt-%d", w.bufferName(w.current), i+1)
			outcome, err := corruptAndRead(ctx, name, strings.TrimSpace(kind), strings.TrimSpace(wants[i]))
			if err != nil {
				fails = append(fails, fmt.Sprintf("%s: %v", kind, err))
				continue
			}
			w.corruption = append(w.corruption, outcome)
			w.logf(LevelInformation, "%s: %s", kind, outcome)
		}
		if len(fails) > 0 {
			return errors.New(strings.Join(fails, "; "))
		}
		return nil
	})

	r.add(When, anyProcess+`writes various sized frames`, func(ctx context.Context, w *world, _ []string) error {
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		o := wr.OIEB()
		w.layoutLog = nil
		for _, n := range variousSizes {
			seq := w.nextSeq[w.current]
			if err := w.write(ctx, n); err != nil {
				return err
			}
			end := o.PayloadWritePos.Load()
			w.layoutLog = append(w.layoutLog, frameSpot{at: end - uint64(16+n), size: uint64(n), seq: seq})
		}
		return nil
	})
	r.add(Then, `the `+q+` process should verify all data access respects alignment`, func(ctx context.Context, w *world, _ []string) error {
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		if len(w.layoutLog) == 0 {
			return errors.New("no 'writes various sized frames' step came first")
		}
		o := wr.OIEB()
		if err := checkOIEBAlignment(o); err != nil {
			return err
		}
		meta, size := o.MetadataSize.Load(), o.PayloadSize.Load()
		if (128+meta)%64 != 0 || size%64 != 0 {
			return fmt.Errorf("the payload block starts at %d and is %d bytes: both must be multiples of 64", 128+meta, size)
		}
		path := "/dev/shm/" + w.bufferName(w.current)
		unaligned := 0
		for _, s := range w.layoutLog {
			h, err := readHeaderAt(path, 128+meta, s.at)
			if err != nil {
				return err
			}
			if h != [2]uint64{s.size, s.seq} {
				return fmt.Errorf("the header at ring offset %d reads {size %d, sequence %d}, want {%d, %d}", s.at, h[0], h[1], s.size, s.seq)
			}
			body, err := readRingAt(path, 128+meta+s.at+16, s.size)
			if err != nil {
				return err
			}
			if !bytes.Equal(body, framePattern(int(s.size), s.seq)) {
				return fmt.Errorf("frame %d's %d bytes at ring offset %d are not its pattern", s.seq, s.size, s.at+16)
			}
			if s.at%8 != 0 {
				unaligned++
			}
		}
		// Frames are packed (16 + size bytes each), so most headers are not
		// 8-byte aligned; every implementation reads them as bytes or as
		// unaligned loads, never with atomics. What needs alignment — the
		// control block's fields, used with atomics — is checked above.
		w.logf(LevelInformation, "%d frames read back; %d of their headers sit at offsets that are not multiples of 8 (frames are packed), read byte-wise", len(w.layoutLog), unaligned)
		return nil
	})
}

// variousSizes are the frame sizes of "writes various sized frames": around
// the header size, the word size and the cache line, and a larger one.
var variousSizes = []int{1, 7, 8, 15, 16, 17, 31, 63, 64, 65, 127, 255, 1000}

// frameSpot is a frame written and where its header lies in the ring.
type frameSpot struct{ at, size, seq uint64 }

// checkOIEBAlignment checks that the control block starts on a cache line
// and that each field, accessed with atomics, is aligned to its size.
func checkOIEBAlignment(o *oiebView) error {
	base := uintptr(unsafe.Pointer(o))
	if base%64 != 0 {
		return fmt.Errorf("the control block is mapped at %#x, not on a 64-byte boundary", base)
	}
	fields := []struct {
		name  string
		addr  uintptr
		align uintptr
	}{
		{"oieb_size", uintptr(unsafe.Pointer(&o.OIEBSizeField)), 4},
		{"version", uintptr(unsafe.Pointer(&o.VersionField)), 4},
		{"metadata_size", uintptr(unsafe.Pointer(&o.MetadataSize)), 8},
		{"payload_free_bytes", uintptr(unsafe.Pointer(&o.PayloadFreeBytes)), 8},
		{"payload_write_pos", uintptr(unsafe.Pointer(&o.PayloadWritePos)), 8},
		{"payload_read_pos", uintptr(unsafe.Pointer(&o.PayloadReadPos)), 8},
		{"payload_written_count", uintptr(unsafe.Pointer(&o.PayloadWrittenCount)), 8},
		{"payload_read_count", uintptr(unsafe.Pointer(&o.PayloadReadCount)), 8},
		{"writer_pid", uintptr(unsafe.Pointer(&o.WriterPID)), 8},
		{"reader_pid", uintptr(unsafe.Pointer(&o.ReaderPID)), 8},
	}
	for _, f := range fields {
		if f.addr%f.align != 0 {
			return fmt.Errorf("%s lies at %#x, not aligned to %d bytes", f.name, f.addr, f.align)
		}
	}
	return nil
}

func readRingAt(path string, off, n uint64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the segment: %w", err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, int64(off)); err != nil {
		return nil, fmt.Errorf("read %d bytes at %d: %w", n, off, err)
	}
	return b, nil
}

// corruptAndRead makes a ring of its own (both ends in this process: the
// scenario's reader is another process, which this step cannot make read),
// writes one valid frame, corrupts its header the way kind says, reads, and
// checks the reader's answer against want.
//
// Protocol v1 frame headers have no magic number; "header magic corrupted"
// is taken as the whole header overwritten with bytes that are no header.
func corruptAndRead(ctx context.Context, name, kind, want string) (string, error) {
	const size = 4096
	rd, err := ring.NewReader(name, ring.Config{PayloadSize: size})
	if err != nil {
		return "", err
	}
	defer rd.Close()
	wr, err := ring.Connect(name)
	if err != nil {
		return "", err
	}
	defer wr.Close()
	if err := wr.WriteFrame(framePattern(1024, 1)); err != nil {
		return "", err
	}
	var hdr [16]byte
	binary.LittleEndian.PutUint64(hdr[:8], 1024)
	binary.LittleEndian.PutUint64(hdr[8:], 1)
	var wantErr []error
	switch kind {
	case "payload_size > remaining":
		binary.LittleEndian.PutUint64(hdr[:8], size-16+1) // one byte past the ring's end
		wantErr = []error{ring.ErrCorrupt}
	case "sequence_number invalid":
		binary.LittleEndian.PutUint64(hdr[8:], 42) // the reader expects 1
		wantErr = []error{ring.ErrSequence}
	case "header magic corrupted":
		copy(hdr[:], bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 4))
		wantErr = []error{ring.ErrCorrupt, ring.ErrSequence}
	default:
		return "", fmt.Errorf("unknown corruption type %q", kind)
	}
	switch want {
	case "reader handles gracefully", "reader detects error", "reader rejects frame":
	default:
		return "", fmt.Errorf("unknown expected result %q", want)
	}
	f, err := os.OpenFile("/dev/shm/"+name, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	_, err = f.WriteAt(hdr[:], 128) // no metadata block: the ring starts at 128
	f.Close()
	if err != nil {
		return "", fmt.Errorf("corrupt the header: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	fr, err := rd.ReadFrame(rctx)
	if err == nil {
		_ = fr.Release()
		return "", fmt.Errorf("the reader returned a %d-byte frame %d", fr.Len(), fr.Seq())
	}
	matched := false
	for _, e := range wantErr {
		matched = matched || errors.Is(err, e)
	}
	if !matched {
		return "", fmt.Errorf("want %v, got: %w", errors.Join(wantErr...), err)
	}
	// Gracefully: the reader stays stopped on the same error, and closes.
	if _, again := rd.ReadFrame(rctx); again == nil || again.Error() != err.Error() {
		return "", fmt.Errorf("a second read after %q returned %v", err, again)
	}
	return "rejected: " + err.Error(), nil
}
