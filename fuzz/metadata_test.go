package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

// FuzzMetadata parses any block with any metadata_written_bytes, and
// round-trips the fuzzer's metadata through a block of the given size.
func FuzzMetadata(f *testing.F) {
	withPrefix := func(n uint64, rest string) []byte {
		b := binary.LittleEndian.AppendUint64(nil, n)
		return append(b, rest...)
	}
	f.Add([]byte{}, uint64(0), []byte{}, uint16(0))
	f.Add(withPrefix(5, "hello......"), uint64(13), []byte("hello"), uint16(64))
	f.Add(withPrefix(0, ""), uint64(8), []byte{}, uint16(8))
	f.Add(withPrefix(6, "hello......"), uint64(13), []byte("123456789"), uint16(16))
	f.Add(withPrefix(^uint64(0), "x"), uint64(9), []byte("x"), uint16(7))
	f.Add(withPrefix(5, "hello"), ^uint64(0), []byte{}, uint16(0))

	f.Fuzz(func(t *testing.T, block []byte, written uint64, meta []byte, blockSize uint16) {
		orig := bytes.Clone(block)
		got, err := layout.ParseMetadata(block, written)
		if !bytes.Equal(orig, block) {
			t.Fatalf("ParseMetadata wrote into the block")
		}
		switch {
		case err != nil:
			var fe *layout.FieldError
			if !errors.Is(err, layout.ErrCorrupt) || !errors.As(err, &fe) {
				t.Fatalf("ParseMetadata error %v is not a *FieldError wrapping ErrCorrupt", err)
			}
			if got != nil {
				t.Fatalf("ParseMetadata returned %d bytes with its error", len(got))
			}
			if written != 0 && written >= layout.MetadataPrefixSize && written <= uint64(len(block)) &&
				binary.LittleEndian.Uint64(block) == written-layout.MetadataPrefixSize {
				t.Fatalf("ParseMetadata refused a consistent block: %v", err)
			}
		case written == 0:
			if got != nil {
				t.Fatalf("nothing written, yet %d bytes returned", len(got))
			}
		default:
			if written < layout.MetadataPrefixSize || written > uint64(len(block)) {
				t.Fatalf("accepted metadata_written_bytes %d for a %d-byte block", written, len(block))
			}
			if n := binary.LittleEndian.Uint64(block); n != written-layout.MetadataPrefixSize || uint64(len(got)) != n {
				t.Fatalf("prefix %d, written %d, returned %d bytes", n, written, len(got))
			}
			if cap(got) != len(got) {
				t.Fatalf("returned slice has capacity %d past its %d bytes", cap(got), len(got))
			}
			if len(got) > 0 && unsafe.SliceData(got) != &block[layout.MetadataPrefixSize] {
				t.Fatalf("returned slice is not the block's bytes after the prefix")
			}
		}

		// Encode into a block of blockSize bytes (dirty, so a short write
		// shows), then parse it back.
		size := int(blockSize % 4096)
		dst := bytes.Repeat([]byte{0xd7}, size)
		n, err := layout.EncodeMetadata(dst, meta)
		fits := len(meta)+layout.MetadataPrefixSize <= size
		if !fits {
			if err == nil {
				t.Fatalf("encoded %d bytes of metadata into a %d-byte block", len(meta), size)
			}
			if !bytes.Equal(dst, bytes.Repeat([]byte{0xd7}, size)) {
				t.Fatalf("a failed EncodeMetadata wrote into the block")
			}
			return
		}
		if err != nil {
			t.Fatalf("EncodeMetadata(%d bytes into %d): %v", len(meta), size, err)
		}
		if n != uint64(len(meta))+layout.MetadataPrefixSize {
			t.Fatalf("EncodeMetadata returned %d for %d bytes", n, len(meta))
		}
		back, err := layout.ParseMetadata(dst, n)
		if err != nil || !bytes.Equal(back, meta) {
			t.Fatalf("round trip of %q gave %q, %v", meta, back, err)
		}
		if !bytes.Equal(dst[n:], bytes.Repeat([]byte{0xd7}, size-int(n))) {
			t.Fatalf("EncodeMetadata wrote past the metadata")
		}
	})
}
