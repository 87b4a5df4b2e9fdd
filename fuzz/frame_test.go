package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

// FuzzFrameHeader parses any bytes as a frame header, re-encodes what it
// parsed, and round-trips the fuzzer's own header values.
func FuzzFrameHeader(f *testing.F) {
	f.Add([]byte{}, uint64(0), uint64(0))
	f.Add(make([]byte, 15), uint64(1), uint64(1))
	f.Add(make([]byte, 16), uint64(1024), uint64(1))
	f.Add([]byte("\x00\x04\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00trailing"), uint64(0), uint64(7))
	f.Add(bytes.Repeat([]byte{0xff}, 17), ^uint64(0), ^uint64(0))

	f.Fuzz(func(t *testing.T, b []byte, size, seq uint64) {
		h, err := layout.ParseFrameHeader(b)
		if len(b) < layout.FrameHeaderSize {
			if !errors.Is(err, layout.ErrShortHeader) {
				t.Fatalf("ParseFrameHeader(%d bytes) = %+v, %v; want ErrShortHeader", len(b), h, err)
			}
			if h != (layout.FrameHeader{}) {
				t.Fatalf("a failed parse returned %+v", h)
			}
			short := bytes.Clone(b)
			if err := layout.PutFrameHeader(short, layout.FrameHeader{PayloadSize: size, SequenceNumber: seq}); !errors.Is(err, layout.ErrShortHeader) {
				t.Fatalf("PutFrameHeader into %d bytes: %v; want ErrShortHeader", len(b), err)
			}
			if !bytes.Equal(short, b) {
				t.Fatalf("a failed PutFrameHeader wrote into the buffer")
			}
		} else {
			if err != nil {
				t.Fatalf("ParseFrameHeader(%d bytes): %v", len(b), err)
			}
			if got := binary.LittleEndian.Uint64(b); h.PayloadSize != got {
				t.Fatalf("payload size %d, bytes say %d", h.PayloadSize, got)
			}
			if got := binary.LittleEndian.Uint64(b[8:]); h.SequenceNumber != got {
				t.Fatalf("sequence %d, bytes say %d", h.SequenceNumber, got)
			}
			if h.IsWrapMarker() != (h.PayloadSize == 0) {
				t.Fatalf("IsWrapMarker of %+v = %v", h, h.IsWrapMarker())
			}
			// Parse then encode gives the same 16 bytes back, and only those.
			out := bytes.Repeat([]byte{0x5c}, len(b))
			if err := layout.PutFrameHeader(out, h); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out[:layout.FrameHeaderSize], b[:layout.FrameHeaderSize]) {
				t.Fatalf("re-encoding %x gave %x", b[:layout.FrameHeaderSize], out[:layout.FrameHeaderSize])
			}
			if !bytes.Equal(out[layout.FrameHeaderSize:], bytes.Repeat([]byte{0x5c}, len(b)-layout.FrameHeaderSize)) {
				t.Fatalf("PutFrameHeader wrote past the header")
			}
		}

		// Encode then parse the fuzzer's values.
		want := layout.FrameHeader{PayloadSize: size, SequenceNumber: seq}
		buf := make([]byte, layout.FrameHeaderSize)
		if err := layout.PutFrameHeader(buf, want); err != nil {
			t.Fatal(err)
		}
		got, err := layout.ParseFrameHeader(buf)
		if err != nil || got != want {
			t.Fatalf("round trip of %+v gave %+v, %v", want, got, err)
		}
		if size <= ^uint64(0)-layout.FrameHeaderSize && layout.FrameSpan(size) != size+layout.FrameHeaderSize {
			t.Fatalf("FrameSpan(%d) = %d", size, layout.FrameSpan(size))
		}
	})
}
