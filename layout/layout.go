// Package layout is the ZeroBuffer v1 wire format and nothing else: offsets,
// sizes, rounding, the OIEB view over mapped memory, the frame header, the
// metadata block, and validation of all of them.
//
// The package makes no system calls. Every function is pure except the OIEB
// accessors, which are atomic operations on the bytes they view.
//
// A shared-memory segment for a buffer is laid out as
//
//	offset 0                     OIEB, 128 bytes
//	offset 128                   metadata block, MetadataSize bytes
//	offset 128+MetadataSize      payload block (the ring), PayloadSize bytes
//
// with both sizes multiples of 64 when a ZeroBuffer reader created them. All
// integers are little-endian.
package layout

import (
	"encoding/binary"
	"fmt"
)

const (
	// OIEBSize is the size of the Operation Info Exchange Block in v1.
	OIEBSize = 128
	// BlockAlignment is the granularity to which block sizes are rounded.
	BlockAlignment = 64
	// FrameHeaderSize is the size of the header before every frame.
	FrameHeaderSize = 16
	// MetadataPrefixSize is the size of the length prefix of the metadata block.
	MetadataPrefixSize = 8

	// VersionMajor, VersionMinor and VersionPatch are the protocol version
	// this package speaks. A different major version is incompatible.
	VersionMajor = 1
	VersionMinor = 0
	VersionPatch = 0

	// MinPayloadSize is the smallest ring this package accepts: it holds
	// one frame of up to 48 bytes.
	MinPayloadSize = BlockAlignment
)

// RoundUp rounds n up to a multiple of BlockAlignment. It reports false
// when the result would overflow.
func RoundUp(n uint64) (uint64, bool) {
	r := (n + BlockAlignment - 1) &^ (BlockAlignment - 1)
	if r < n {
		return 0, false
	}
	return r, true
}

// SegmentSize is the size of the shared-memory segment holding blocks of
// the given (already rounded) sizes.
func SegmentSize(metadataSize, payloadSize uint64) uint64 {
	return OIEBSize + metadataSize + payloadSize
}

// MetadataOffset is the offset of the metadata block in the segment.
func MetadataOffset() uint64 { return OIEBSize }

// PayloadOffset is the offset of the payload block in a segment whose
// metadata block has the given size.
func PayloadOffset(metadataSize uint64) uint64 { return OIEBSize + metadataSize }

// FrameHeader precedes every frame in the ring. A header whose PayloadSize
// is 0 is a wrap marker: the rest of the ring up to its end is unused and
// the next frame starts at offset 0.
type FrameHeader struct {
	PayloadSize    uint64
	SequenceNumber uint64
}

// IsWrapMarker reports whether h marks a wrap to the start of the ring.
func (h FrameHeader) IsWrapMarker() bool { return h.PayloadSize == 0 }

// ErrShortHeader is returned when fewer than FrameHeaderSize bytes are given.
var ErrShortHeader = fmt.Errorf("zerobuffer: frame header needs %d bytes", FrameHeaderSize)

// ParseFrameHeader decodes the header at the start of b.
func ParseFrameHeader(b []byte) (FrameHeader, error) {
	if len(b) < FrameHeaderSize {
		return FrameHeader{}, ErrShortHeader
	}
	return FrameHeader{
		PayloadSize:    binary.LittleEndian.Uint64(b[0:8]),
		SequenceNumber: binary.LittleEndian.Uint64(b[8:16]),
	}, nil
}

// PutFrameHeader encodes h at the start of b.
func PutFrameHeader(b []byte, h FrameHeader) error {
	if len(b) < FrameHeaderSize {
		return ErrShortHeader
	}
	binary.LittleEndian.PutUint64(b[0:8], h.PayloadSize)
	binary.LittleEndian.PutUint64(b[8:16], h.SequenceNumber)
	return nil
}

// FrameSpan is the number of ring bytes a frame of payloadSize occupies,
// header included.
func FrameSpan(payloadSize uint64) uint64 { return FrameHeaderSize + payloadSize }
