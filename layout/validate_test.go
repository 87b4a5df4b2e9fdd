package layout_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

const (
	testMD      = 256
	testPL      = 4096
	testMapping = layout.OIEBSize + testMD + testPL
)

// validSnapshot is a plausible OIEB of a buffer in use: metadata written,
// frames in flight.
func validSnapshot() layout.Snapshot {
	return layout.Snapshot{
		OIEBSize:             layout.OIEBSize,
		Version:              layout.Version{Major: 1},
		MetadataSize:         testMD,
		MetadataFreeBytes:    testMD - 40,
		MetadataWrittenBytes: 40,
		PayloadSize:          testPL,
		PayloadFreeBytes:     testPL - 1040,
		PayloadWritePos:      2080,
		PayloadReadPos:       1040,
		PayloadWrittenCount:  2,
		PayloadReadCount:     1,
		WriterPID:            1234,
		ReaderPID:            1235,
	}
}

func TestValidateAcceptsValid(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*layout.Snapshot)
		mapping uint64
	}{
		{"in use", func(*layout.Snapshot) {}, testMapping},
		{"fresh", func(s *layout.Snapshot) {
			*s = layout.Snapshot{OIEBSize: 128, Version: layout.Version{Major: 1}, MetadataSize: testMD,
				MetadataFreeBytes: testMD, PayloadSize: testPL, PayloadFreeBytes: testPL}
		}, testMapping},
		{"other minor, patch and reserved", func(s *layout.Snapshot) {
			s.Version = layout.Version{Major: 1, Minor: 9, Patch: 9, Reserved: 9}
		}, testMapping},
		{"mapping larger than the blocks", func(*layout.Snapshot) {}, testMapping + 4096},
		{"no metadata block", func(s *layout.Snapshot) {
			s.MetadataSize, s.MetadataFreeBytes, s.MetadataWrittenBytes = 0, 0, 0
		}, layout.OIEBSize + testPL},
		{"metadata block full", func(s *layout.Snapshot) {
			s.MetadataWrittenBytes, s.MetadataFreeBytes = testMD, 0
		}, testMapping},
		{"empty metadata written", func(s *layout.Snapshot) {
			s.MetadataWrittenBytes, s.MetadataFreeBytes = 8, testMD-8
		}, testMapping},
		{"positions at the end of the ring", func(s *layout.Snapshot) {
			s.PayloadWritePos, s.PayloadReadPos = testPL, testPL
		}, testMapping},
		{"ring all free", func(s *layout.Snapshot) { s.PayloadFreeBytes = testPL }, testMapping},
		{"ring full", func(s *layout.Snapshot) { s.PayloadFreeBytes = 0 }, testMapping},
		{"counts equal", func(s *layout.Snapshot) { s.PayloadReadCount = s.PayloadWrittenCount }, testMapping},
		{"smallest ring", func(s *layout.Snapshot) {
			s.PayloadSize, s.PayloadFreeBytes, s.PayloadWritePos, s.PayloadReadPos = 17, 17, 0, 0
		}, testMapping},
		{"PIDs and reserved_2..4 are not looked at", func(s *layout.Snapshot) {
			s.WriterPID, s.ReaderPID, s.Reserved = ^uint64(0), ^uint64(0), [4]uint64{0, 2, 3, 4}
		}, testMapping},
		{"a notifier word in reserved_1, of any kind", func(s *layout.Snapshot) {
			s.Reserved[0] = layout.NotifierWord(200, 77)
		}, testMapping},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSnapshot()
			tt.mod(&s)
			assert.NoError(t, s.Validate(tt.mapping))
		})
	}
}

// TestValidateRules has one case per rule of Validate, in its order.
func TestValidateRules(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*layout.Snapshot)
		mapping uint64
		kind    error
		field   string
		value   uint64
	}{
		{"oieb_size", func(s *layout.Snapshot) { s.OIEBSize = 64 }, testMapping,
			layout.ErrIncompatibleVersion, "oieb_size", 64},
		{"oieb_size zero", func(s *layout.Snapshot) { s.OIEBSize = 0 }, testMapping,
			layout.ErrIncompatibleVersion, "oieb_size", 0},
		{"major 2", func(s *layout.Snapshot) { s.Version.Major = 2 }, testMapping,
			layout.ErrIncompatibleVersion, "version.major", 2},
		{"major 0", func(s *layout.Snapshot) { s.Version = layout.Version{Minor: 1} }, testMapping,
			layout.ErrIncompatibleVersion, "version.major", 0},
		{"mapping smaller than the OIEB", func(*layout.Snapshot) {}, layout.OIEBSize - 1,
			layout.ErrCorrupt, "mapping_size", layout.OIEBSize - 1},
		{"metadata_size past the mapping", func(s *layout.Snapshot) { s.MetadataSize = testMD + testPL + 1 }, testMapping,
			layout.ErrCorrupt, "metadata_size", testMD + testPL + 1},
		{"metadata_size huge", func(s *layout.Snapshot) { s.MetadataSize = ^uint64(0) }, testMapping,
			layout.ErrCorrupt, "metadata_size", ^uint64(0)},
		{"payload_size past the mapping", func(s *layout.Snapshot) { s.PayloadSize = testPL + 64 }, testMapping,
			layout.ErrCorrupt, "payload_size", testPL + 64},
		{"payload_size huge", func(s *layout.Snapshot) { s.PayloadSize = ^uint64(0) - 100 }, testMapping,
			layout.ErrCorrupt, "payload_size", ^uint64(0) - 100},
		{"payload_size holds no frame", func(s *layout.Snapshot) {
			s.PayloadSize, s.PayloadFreeBytes, s.PayloadWritePos, s.PayloadReadPos = 16, 0, 0, 0
		}, testMapping, layout.ErrCorrupt, "payload_size", 16},
		{"payload_size zero", func(s *layout.Snapshot) {
			s.PayloadSize, s.PayloadFreeBytes, s.PayloadWritePos, s.PayloadReadPos = 0, 0, 0, 0
		}, testMapping, layout.ErrCorrupt, "payload_size", 0},
		{"metadata_written_bytes past the block", func(s *layout.Snapshot) {
			s.MetadataWrittenBytes, s.MetadataFreeBytes = testMD+1, 0
		}, testMapping, layout.ErrCorrupt, "metadata_written_bytes", testMD + 1},
		{"metadata_written_bytes shorter than the prefix", func(s *layout.Snapshot) {
			s.MetadataWrittenBytes, s.MetadataFreeBytes = 7, testMD-7
		}, testMapping, layout.ErrCorrupt, "metadata_written_bytes", 7},
		{"metadata_free_bytes disagrees", func(s *layout.Snapshot) { s.MetadataFreeBytes = testMD }, testMapping,
			layout.ErrCorrupt, "metadata_free_bytes", testMD},
		{"payload_free_bytes past the ring", func(s *layout.Snapshot) { s.PayloadFreeBytes = testPL + 1 }, testMapping,
			layout.ErrCorrupt, "payload_free_bytes", testPL + 1},
		{"payload_write_pos past the ring", func(s *layout.Snapshot) { s.PayloadWritePos = testPL + 1 }, testMapping,
			layout.ErrCorrupt, "payload_write_pos", testPL + 1},
		{"payload_read_pos past the ring", func(s *layout.Snapshot) { s.PayloadReadPos = ^uint64(0) }, testMapping,
			layout.ErrCorrupt, "payload_read_pos", ^uint64(0)},
		{"payload_read_count past written", func(s *layout.Snapshot) { s.PayloadReadCount = 3 }, testMapping,
			layout.ErrCorrupt, "payload_read_count", 3},
		{"reserved_1 not a notifier word", func(s *layout.Snapshot) { s.Reserved[0] = 7 }, testMapping,
			layout.ErrCorrupt, "reserved_1", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSnapshot()
			tt.mod(&s)
			err := s.Validate(tt.mapping)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			other := layout.ErrCorrupt
			if tt.kind == layout.ErrCorrupt {
				other = layout.ErrIncompatibleVersion
			}
			assert.NotErrorIs(t, err, other)
			var fe *layout.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
			assert.Equal(t, tt.value, fe.Value)
			assert.NotEmpty(t, fe.Why)
			assert.Contains(t, err.Error(), tt.field)
		})
	}
}

func TestValidateOIEB(t *testing.T) {
	mem := alignedBytes(layout.OIEBSize)
	o := mustView(t, mem)
	o.Init(testMD, testPL, 0)
	require.NoError(t, o.Validate(testMapping))
	o.PayloadWritePos.Store(testPL + 1)
	var fe *layout.FieldError
	require.ErrorAs(t, o.Validate(testMapping), &fe)
	assert.Equal(t, "payload_write_pos", fe.Field)
	assert.Equal(t, uint64(testPL), fe.Limit)
	// Raw bytes of another major version.
	mem[layout.OffVersion] = 2
	assert.ErrorIs(t, o.Validate(testMapping), layout.ErrIncompatibleVersion)
}

// metadataBlock returns a block of size bytes with meta encoded at its
// start by hand (not by EncodeMetadata).
func metadataBlock(size int, meta []byte) []byte {
	b := bytes.Repeat([]byte{0xEE}, size)
	binary.LittleEndian.PutUint64(b, uint64(len(meta)))
	copy(b[8:], meta)
	return b
}

func TestParseMetadata(t *testing.T) {
	meta := []byte("codec=yuv420")
	tests := []struct {
		name    string
		block   []byte
		written uint64
		want    []byte
		field   string // the FieldError's field when an error is expected
	}{
		{"none written", metadataBlock(64, nil), 0, nil, ""},
		{"none written, empty block", nil, 0, nil, ""},
		{"round trip", metadataBlock(64, meta), 8 + uint64(len(meta)), meta, ""},
		{"empty metadata", metadataBlock(64, nil), 8, []byte{}, ""},
		{"fills the block", metadataBlock(20, meta), 20, meta, ""},
		{"prefix disagrees", metadataBlock(64, meta), 8 + uint64(len(meta)) - 1, nil, "metadata_length"},
		{"prefix longer than written", metadataBlock(64, meta), 8, nil, "metadata_length"},
		{"written beyond the block", metadataBlock(16, nil), 17, nil, "metadata_written_bytes"},
		{"written beyond an empty block", nil, 8, nil, "metadata_written_bytes"},
		{"written shorter than the prefix", metadataBlock(64, nil), 7, nil, "metadata_written_bytes"},
		{"written huge", metadataBlock(64, nil), ^uint64(0), nil, "metadata_written_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := layout.ParseMetadata(tt.block, tt.written)
			if tt.field != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, layout.ErrCorrupt)
				var fe *layout.FieldError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tt.field, fe.Field)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			if tt.want == nil {
				assert.Nil(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, len(got), cap(got), "capacity ends at the metadata")
			if len(got) > 0 {
				assert.Same(t, &tt.block[8], &got[0], "a sub-slice of the block, not a copy")
			}
		})
	}
}

func TestEncodeMetadata(t *testing.T) {
	tests := []struct {
		name  string
		block int
		meta  []byte
		ok    bool
	}{
		{"small", 64, []byte("hello"), true},
		{"empty", 64, nil, true},
		{"exact fit", 16, []byte("12345678"), true},
		{"prefix only", 8, nil, true},
		{"one too many", 16, []byte("123456789"), false},
		{"larger than the block", 16, bytes.Repeat([]byte{1}, 32), false},
		{"block shorter than the prefix", 7, nil, false},
		{"no block", 0, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			block := bytes.Repeat([]byte{0xEE}, tt.block)
			written, err := layout.EncodeMetadata(block, tt.meta)
			if !tt.ok {
				assert.Error(t, err)
				assert.Zero(t, written)
				assert.Equal(t, bytes.Repeat([]byte{0xEE}, tt.block), block, "a failed encode writes nothing")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, uint64(8+len(tt.meta)), written)
			assert.Equal(t, uint64(len(tt.meta)), binary.LittleEndian.Uint64(block))
			got, err := layout.ParseMetadata(block, written)
			require.NoError(t, err)
			assert.Equal(t, string(tt.meta), string(got))
		})
	}
}

func TestFieldErrorUnwrap(t *testing.T) {
	s := validSnapshot()
	s.PayloadReadCount = 10
	err := s.Validate(testMapping)
	var fe *layout.FieldError
	require.ErrorAs(t, err, &fe)
	assert.True(t, errors.Is(fe, layout.ErrCorrupt))
	assert.Equal(t, layout.ErrCorrupt, fe.Unwrap())
	assert.Equal(t, uint64(2), fe.Limit)
}
