package fuzz

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/sync/spin"
)

// alignedBytes returns n zero bytes on an 8-byte boundary, as a mapping
// would start.
func alignedBytes(n int) []byte {
	words := make([]uint64, n/8+1)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

// oiebBytes encodes a fresh OIEB for the given block sizes.
func oiebBytes(md, pl uint64, mod func(o *layout.OIEB)) []byte {
	b := alignedBytes(layout.OIEBSize)
	o, _ := layout.View(b)
	o.Init(md, pl, 0)
	o.ReaderPID.Store(1234)
	if mod != nil {
		mod(o)
	}
	return b
}

// maxUsedMapping bounds the buffers FuzzOIEBValidate builds to use a valid
// OIEB.
const maxUsedMapping = 1 << 20

// FuzzOIEBValidate validates any 128 bytes as an OIEB of a mapping of any
// size. Errors must be *layout.FieldError wrapping ErrCorrupt or
// ErrIncompatibleVersion; an OIEB that passes must describe blocks and
// positions inside the mapping, and the slices a reader or writer would
// build from it must be buildable.
func FuzzOIEBValidate(f *testing.F) {
	f.Add(oiebBytes(256, 4096, nil), uint64(128+256+4096))
	f.Add(oiebBytes(0, 64, nil), uint64(192))
	f.Add(oiebBytes(64, 1024, func(o *layout.OIEB) {
		o.MetadataWrittenBytes.Store(20)
		o.MetadataFreeBytes.Store(44)
		o.PayloadWritePos.Store(1024)
		o.PayloadReadPos.Store(1000)
		o.PayloadFreeBytes.Store(24)
		o.PayloadWrittenCount.Store(9)
		o.PayloadReadCount.Store(8)
	}), uint64(128+64+1024))
	f.Add(oiebBytes(64, 1024, func(o *layout.OIEB) { o.Reserved[0].Store(spin.BackoffKind.Word(1000)) }), uint64(4096))
	f.Add(oiebBytes(64, 1024, func(o *layout.OIEB) { o.SetVersion(layout.Version{Major: 2}) }), uint64(4096))
	f.Add(oiebBytes(64, 1024, func(o *layout.OIEB) { o.PayloadSize.Store(^uint64(0)) }), uint64(4096))
	f.Add(oiebBytes(^uint64(0)-127, 64, nil), ^uint64(0))
	f.Add(make([]byte, 3), uint64(0))

	f.Fuzz(func(t *testing.T, raw []byte, mappingSize uint64) {
		mem := alignedBytes(layout.OIEBSize)
		copy(mem, raw)
		o, err := layout.View(mem)
		if err != nil {
			t.Fatal(err)
		}
		s := o.Snapshot()
		checkSnapshot(t, mem, s)

		err = s.Validate(mappingSize)
		if err2 := o.Validate(mappingSize); (err == nil) != (err2 == nil) {
			t.Fatalf("Snapshot.Validate: %v, OIEB.Validate: %v", err, err2)
		}
		if err != nil {
			checkValidateError(t, s, mappingSize, err)
			return
		}
		checkValidOffsets(t, s, mappingSize)
		if mappingSize <= maxUsedMapping {
			useValidOIEB(t, mem, s, mappingSize)
		}
	})
}

// checkSnapshot compares every field of the snapshot with the wire bytes.
func checkSnapshot(t *testing.T, mem []byte, s layout.Snapshot) {
	t.Helper()
	u64 := func(off int) uint64 { return binary.LittleEndian.Uint64(mem[off:]) }
	want := layout.Snapshot{
		OIEBSize:             binary.LittleEndian.Uint32(mem[layout.OffOIEBSize:]),
		Version:              layout.Version{Major: mem[4], Minor: mem[5], Patch: mem[6], Reserved: mem[7]},
		MetadataSize:         u64(layout.OffMetadataSize),
		MetadataFreeBytes:    u64(layout.OffMetadataFreeBytes),
		MetadataWrittenBytes: u64(layout.OffMetadataWrittenBytes),
		PayloadSize:          u64(layout.OffPayloadSize),
		PayloadFreeBytes:     u64(layout.OffPayloadFreeBytes),
		PayloadWritePos:      u64(layout.OffPayloadWritePos),
		PayloadReadPos:       u64(layout.OffPayloadReadPos),
		PayloadWrittenCount:  u64(layout.OffPayloadWrittenCount),
		PayloadReadCount:     u64(layout.OffPayloadReadCount),
		WriterPID:            u64(layout.OffWriterPID),
		ReaderPID:            u64(layout.OffReaderPID),
		Reserved:             [4]uint64{u64(0x60), u64(0x68), u64(0x70), u64(0x78)},
	}
	if s != want {
		t.Fatalf("snapshot %+v does not match the bytes %+v", s, want)
	}
}

func checkValidateError(t *testing.T, s layout.Snapshot, mappingSize uint64, err error) {
	t.Helper()
	var fe *layout.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("Validate error %v (%T) is not a *layout.FieldError", err, err)
	}
	incompatible := errors.Is(err, layout.ErrIncompatibleVersion)
	corrupt := errors.Is(err, layout.ErrCorrupt)
	if incompatible == corrupt {
		t.Fatalf("Validate error %v wraps ErrIncompatibleVersion=%v ErrCorrupt=%v; want exactly one", err, incompatible, corrupt)
	}
	versionField := fe.Field == "oieb_size" || fe.Field == "version.major"
	if versionField != incompatible {
		t.Fatalf("field %s reported as incompatible=%v: %v", fe.Field, incompatible, err)
	}
	if fe.Field == "" || fe.Why == "" || err.Error() == "" {
		t.Fatalf("Validate error lacks a field or a reason: %#v", fe)
	}
	// The version rules come first: a v1 OIEB of 128 bytes is never
	// reported incompatible, and anything else always is.
	isV1 := s.OIEBSize == layout.OIEBSize && s.Version.Major == layout.VersionMajor
	if isV1 == incompatible {
		t.Fatalf("OIEB size %d major %d, error %v", s.OIEBSize, s.Version.Major, err)
	}
}

// checkValidOffsets asserts that what Validate accepted lies inside the
// mapping, with arithmetic that cannot overflow.
func checkValidOffsets(t *testing.T, s layout.Snapshot, mappingSize uint64) {
	t.Helper()
	fail := func(what string) {
		t.Helper()
		t.Fatalf("Validate accepted %s: %+v for a %d-byte mapping", what, s, mappingSize)
	}
	if s.OIEBSize != layout.OIEBSize || s.Version.Major != layout.VersionMajor {
		fail("another version")
	}
	if mappingSize < layout.OIEBSize {
		fail("a mapping smaller than the OIEB")
	}
	room := mappingSize - layout.OIEBSize
	if s.MetadataSize > room {
		fail("a metadata block past the mapping")
	}
	mdEnd := layout.PayloadOffset(s.MetadataSize) // 128 + metadata_size, no overflow now
	if mdEnd > mappingSize || mdEnd < layout.OIEBSize {
		fail("a metadata block past the mapping")
	}
	if s.PayloadSize > mappingSize-mdEnd {
		fail("a payload block past the mapping")
	}
	if end := layout.SegmentSize(s.MetadataSize, s.PayloadSize); end > mappingSize || end < mdEnd {
		fail("a payload block past the mapping")
	}
	if s.PayloadSize < layout.FrameSpan(1) {
		fail("a ring that holds no frame")
	}
	if s.MetadataWrittenBytes > s.MetadataSize ||
		(s.MetadataWrittenBytes != 0 && s.MetadataWrittenBytes < layout.MetadataPrefixSize) ||
		s.MetadataFreeBytes != s.MetadataSize-s.MetadataWrittenBytes {
		fail("impossible metadata accounting")
	}
	if s.PayloadWritePos > s.PayloadSize || s.PayloadReadPos > s.PayloadSize {
		fail("a position past the ring")
	}
	if s.PayloadFreeBytes > s.PayloadSize {
		fail("more free bytes than the ring")
	}
	if s.PayloadReadCount > s.PayloadWrittenCount {
		fail("more frames read than written")
	}
	if _, _, err := layout.ParseNotifierWord(s.Reserved[0]); err != nil {
		fail("an unknown notifier word")
	}
}

// useValidOIEB builds, over a buffer of mappingSize bytes holding the
// OIEB, the slices a reader and a writer build from a valid OIEB, and
// touches what they touch first.
func useValidOIEB(t *testing.T, oieb []byte, s layout.Snapshot, mappingSize uint64) {
	t.Helper()
	seg := alignedBytes(int(mappingSize))
	copy(seg, oieb)
	md, pl := s.MetadataSize, s.PayloadSize
	metadata := seg[layout.MetadataOffset() : layout.MetadataOffset()+md : layout.MetadataOffset()+md]
	ringStart := layout.PayloadOffset(md)
	ring := seg[ringStart : ringStart+pl : ringStart+pl]

	// The reader's view of the metadata (a zero prefix: consistent only
	// when nothing or nothing but the prefix was written).
	meta, err := layout.ParseMetadata(metadata, s.MetadataWrittenBytes)
	if err == nil && s.MetadataWrittenBytes > layout.MetadataPrefixSize {
		t.Fatalf("a zero length prefix accepted for %d written bytes", s.MetadataWrittenBytes)
	}
	_ = meta
	// The writer's metadata, filling what is free.
	if s.MetadataWrittenBytes == 0 && md >= layout.MetadataPrefixSize {
		if _, err := layout.EncodeMetadata(metadata, make([]byte, md-layout.MetadataPrefixSize)); err != nil {
			t.Fatalf("metadata of %d bytes into a %d-byte block: %v", md-layout.MetadataPrefixSize, md, err)
		}
	}

	// The header at each position, as far as it fits before the end.
	for _, pos := range []uint64{s.PayloadReadPos, s.PayloadWritePos, 0} {
		if pl-pos >= layout.FrameHeaderSize {
			if _, err := layout.ParseFrameHeader(ring[pos:]); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The writer's next frame: the largest that fits at the write
	// position, or at 0 after a wrap marker.
	w := s.PayloadWritePos
	if toEnd := pl - w; toEnd >= layout.FrameSpan(1) {
		n := toEnd - layout.FrameHeaderSize
		layout.PutFrameHeader(ring[w:], layout.FrameHeader{PayloadSize: n, SequenceNumber: 1})
		clear(ring[w+layout.FrameHeaderSize : w+layout.FrameSpan(n)])
	} else {
		if toEnd >= layout.FrameHeaderSize {
			layout.PutFrameHeader(ring[w:], layout.FrameHeader{})
		}
		n := pl - layout.FrameHeaderSize
		layout.PutFrameHeader(ring, layout.FrameHeader{PayloadSize: n, SequenceNumber: 1})
		clear(ring[layout.FrameHeaderSize:layout.FrameSpan(n)])
	}
	// The reader's next frame at the read position.
	r := s.PayloadReadPos
	if pl-r >= layout.FrameHeaderSize {
		h, _ := layout.ParseFrameHeader(ring[r:])
		if h.PayloadSize != 0 && h.PayloadSize <= pl-r-layout.FrameHeaderSize {
			_ = ring[r+layout.FrameHeaderSize : r+layout.FrameSpan(h.PayloadSize)]
		}
	}
}
