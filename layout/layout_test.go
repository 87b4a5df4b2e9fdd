package layout_test

import (
	"encoding/hex"
	"math"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

// alignedBytes returns n zero bytes starting on an 8-byte boundary, as a
// mapping would.
func alignedBytes(n int) []byte {
	words := make([]uint64, (n+7)/8+1)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

func TestRoundUp(t *testing.T) {
	const maxAligned = math.MaxUint64 &^ (layout.BlockAlignment - 1) // 0xFFFF_FFFF_FFFF_FFC0
	tests := []struct {
		name string
		in   uint64
		want uint64
		ok   bool
	}{
		{"zero", 0, 0, true},
		{"one", 1, 64, true},
		{"just below", 63, 64, true},
		{"exact", 64, 64, true},
		{"just above", 65, 128, true},
		{"large exact", 1 << 40, 1 << 40, true},
		{"large odd", 1<<40 + 1, 1<<40 + 64, true},
		{"largest aligned", maxAligned, maxAligned, true},
		{"overflow by one", maxAligned + 1, 0, false},
		{"overflow max", math.MaxUint64, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := layout.RoundUp(tt.in)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
			if ok {
				assert.Zero(t, got%layout.BlockAlignment)
				assert.GreaterOrEqual(t, got, tt.in)
				assert.Less(t, got-tt.in, uint64(layout.BlockAlignment))
			}
		})
	}
}

func TestSegmentGeometry(t *testing.T) {
	tests := []struct {
		md, pl        uint64
		segment, poff uint64
	}{
		{0, 64, 192, 128},
		{64, 1024, 1216, 192},
		{4096, 1 << 20, 128 + 4096 + 1<<20, 128 + 4096},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.segment, layout.SegmentSize(tt.md, tt.pl), "SegmentSize(%d, %d)", tt.md, tt.pl)
		assert.Equal(t, tt.poff, layout.PayloadOffset(tt.md), "PayloadOffset(%d)", tt.md)
	}
	assert.Equal(t, uint64(layout.OIEBSize), layout.MetadataOffset())
	assert.Equal(t, uint64(16), layout.FrameSpan(0))
	assert.Equal(t, uint64(1040), layout.FrameSpan(1024))
}

func TestFrameHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		h    layout.FrameHeader
		raw  string // the 16 bytes, hex
	}{
		{"wrap marker", layout.FrameHeader{}, "00000000000000000000000000000000"},
		{"first frame", layout.FrameHeader{PayloadSize: 1024, SequenceNumber: 1}, "00040000000000000100000000000000"},
		{"little endian", layout.FrameHeader{PayloadSize: 0x0807060504030201, SequenceNumber: 0x100f0e0d0c0b0a09},
			"0102030405060708090a0b0c0d0e0f10"},
		{"max", layout.FrameHeader{PayloadSize: math.MaxUint64, SequenceNumber: math.MaxUint64},
			"ffffffffffffffffffffffffffffffff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, layout.FrameHeaderSize+4)
			for i := range buf {
				buf[i] = 0xAA
			}
			require.NoError(t, layout.PutFrameHeader(buf, tt.h))
			assert.Equal(t, tt.raw, hex.EncodeToString(buf[:layout.FrameHeaderSize]))
			assert.Equal(t, []byte{0xAA, 0xAA, 0xAA, 0xAA}, buf[layout.FrameHeaderSize:], "bytes after the header untouched")

			got, err := layout.ParseFrameHeader(buf)
			require.NoError(t, err)
			assert.Equal(t, tt.h, got)
			assert.Equal(t, tt.h.PayloadSize == 0, got.IsWrapMarker())
		})
	}
}

func TestFrameHeaderShortBuffers(t *testing.T) {
	for n := 0; n < layout.FrameHeaderSize; n++ {
		buf := make([]byte, n)
		_, err := layout.ParseFrameHeader(buf)
		assert.ErrorIs(t, err, layout.ErrShortHeader, "parse %d bytes", n)
		assert.ErrorIs(t, layout.PutFrameHeader(buf, layout.FrameHeader{PayloadSize: 1, SequenceNumber: 1}),
			layout.ErrShortHeader, "put into %d bytes", n)
		for _, c := range buf {
			assert.Zero(t, c, "a failed put writes nothing")
		}
	}
	_, err := layout.ParseFrameHeader(nil)
	assert.ErrorIs(t, err, layout.ErrShortHeader)
	_, err = layout.ParseFrameHeader(make([]byte, layout.FrameHeaderSize))
	assert.NoError(t, err)
}

func TestWrapMarker(t *testing.T) {
	tests := []struct {
		h    layout.FrameHeader
		wrap bool
	}{
		{layout.FrameHeader{}, true},
		{layout.FrameHeader{SequenceNumber: 7}, true}, // the size alone decides
		{layout.FrameHeader{PayloadSize: 1}, false},
		{layout.FrameHeader{PayloadSize: 1, SequenceNumber: 1}, false},
		{layout.FrameHeader{PayloadSize: math.MaxUint64}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.wrap, tt.h.IsWrapMarker(), "%+v", tt.h)
	}
	// A zeroed ring reads as a wrap marker.
	h, err := layout.ParseFrameHeader(make([]byte, 64))
	require.NoError(t, err)
	assert.True(t, h.IsWrapMarker())
}
