package layout_test

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

func TestView(t *testing.T) {
	mem := alignedBytes(layout.OIEBSize + 16)
	tests := []struct {
		name string
		mem  []byte
		ok   bool
	}{
		{"nil", nil, false},
		{"empty", mem[:0], false},
		{"one short", mem[:layout.OIEBSize-1], false},
		{"exact", mem[:layout.OIEBSize], true},
		{"longer", mem, true},
		{"misaligned by 1", mem[1 : 1+layout.OIEBSize], false},
		{"misaligned by 4", mem[4 : 4+layout.OIEBSize], false},
		{"aligned at 8", mem[8 : 8+layout.OIEBSize], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := layout.View(tt.mem)
			if !tt.ok {
				assert.Error(t, err)
				assert.Nil(t, o)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, unsafe.Pointer(unsafe.SliceData(tt.mem)), unsafe.Pointer(o), "the view lies on the bytes")
		})
	}
}

func mustView(t *testing.T, mem []byte) *layout.OIEB {
	t.Helper()
	o, err := layout.View(mem)
	require.NoError(t, err)
	return o
}

func TestVersion(t *testing.T) {
	mem := alignedBytes(layout.OIEBSize)
	o := mustView(t, mem)
	tests := []struct {
		v   layout.Version
		raw [4]byte
		str string
	}{
		{layout.Version{Major: 1}, [4]byte{1, 0, 0, 0}, "1.0.0"},
		{layout.Version{Major: 1, Minor: 2, Patch: 3, Reserved: 4}, [4]byte{1, 2, 3, 4}, "1.2.3"},
		{layout.Version{Major: 255, Minor: 254, Patch: 253, Reserved: 252}, [4]byte{255, 254, 253, 252}, "255.254.253"},
		{layout.Version{}, [4]byte{}, "0.0.0"},
	}
	for _, tt := range tests {
		o.SetVersion(tt.v)
		assert.Equal(t, tt.raw[:], mem[layout.OffVersion:layout.OffVersion+4], "wire bytes of %v", tt.v)
		assert.Equal(t, tt.v, o.Version())
		assert.Equal(t, tt.str, tt.v.String())
		assert.Zero(t, binary.LittleEndian.Uint32(mem[layout.OffOIEBSize:]), "SetVersion leaves oieb_size alone")
	}
	// Bytes written by a foreign peer read back as the same version.
	copy(mem[layout.OffVersion:], []byte{1, 7, 9, 0})
	assert.Equal(t, layout.Version{Major: 1, Minor: 7, Patch: 9}, o.Version())
}

// dirty fills mem with a pattern, so that Init must write every field.
func dirty(mem []byte) {
	for i := range mem {
		mem[i] = byte(0xA5 ^ i)
	}
}

func TestInit(t *testing.T) {
	mem := alignedBytes(layout.OIEBSize)
	dirty(mem)
	o := mustView(t, mem)
	word := layout.NotifierWord(1, 0x1234)
	o.Init(256, 4096, word)

	u64 := func(off int) uint64 { return binary.LittleEndian.Uint64(mem[off:]) }
	assert.Equal(t, uint32(layout.OIEBSize), binary.LittleEndian.Uint32(mem[layout.OffOIEBSize:]))
	assert.Equal(t, []byte{1, 0, 0, 0}, mem[layout.OffVersion:layout.OffVersion+4])
	want := map[int]uint64{
		layout.OffMetadataSize:         256,
		layout.OffMetadataFreeBytes:    256,
		layout.OffMetadataWrittenBytes: 0,
		layout.OffPayloadSize:          4096,
		layout.OffPayloadFreeBytes:     4096,
		layout.OffPayloadWritePos:      0,
		layout.OffPayloadReadPos:       0,
		layout.OffPayloadWrittenCount:  0,
		layout.OffPayloadReadCount:     0,
		layout.OffWriterPID:            0,
		layout.OffReaderPID:            0,
		layout.OffReserved:             word,
		layout.OffReserved + 8:         0,
		layout.OffReserved + 16:        0,
		layout.OffReserved + 24:        0,
	}
	for off, v := range want {
		assert.Equal(t, v, u64(off), "field at %#x", off)
	}
	require.NoError(t, o.Validate(layout.SegmentSize(256, 4096)), "a fresh OIEB is valid")
}

func TestSnapshot(t *testing.T) {
	mem := alignedBytes(layout.OIEBSize)
	o := mustView(t, mem)
	// Write every field through its wire offset, so the test checks the
	// offsets as well as the loads.
	put := func(off int, v uint64) { binary.LittleEndian.PutUint64(mem[off:], v) }
	binary.LittleEndian.PutUint32(mem[layout.OffOIEBSize:], 128)
	copy(mem[layout.OffVersion:], []byte{1, 2, 3, 4})
	put(layout.OffMetadataSize, 0x101)
	put(layout.OffMetadataFreeBytes, 0x102)
	put(layout.OffMetadataWrittenBytes, 0x103)
	put(layout.OffPayloadSize, 0x104)
	put(layout.OffPayloadFreeBytes, 0x105)
	put(layout.OffPayloadWritePos, 0x106)
	put(layout.OffPayloadReadPos, 0x107)
	put(layout.OffPayloadWrittenCount, 0x108)
	put(layout.OffPayloadReadCount, 0x109)
	put(layout.OffWriterPID, 0x10a)
	put(layout.OffReaderPID, 0x10b)
	for i := 0; i < 4; i++ {
		put(layout.OffReserved+8*i, 0x10c+uint64(i))
	}
	want := layout.Snapshot{
		OIEBSize:             128,
		Version:              layout.Version{Major: 1, Minor: 2, Patch: 3, Reserved: 4},
		MetadataSize:         0x101,
		MetadataFreeBytes:    0x102,
		MetadataWrittenBytes: 0x103,
		PayloadSize:          0x104,
		PayloadFreeBytes:     0x105,
		PayloadWritePos:      0x106,
		PayloadReadPos:       0x107,
		PayloadWrittenCount:  0x108,
		PayloadReadCount:     0x109,
		WriterPID:            0x10a,
		ReaderPID:            0x10b,
		Reserved:             [4]uint64{0x10c, 0x10d, 0x10e, 0x10f},
	}
	assert.Equal(t, want, o.Snapshot())

	// The atomic accessors see the same fields.
	assert.Equal(t, uint64(0x104), o.PayloadSize.Load())
	assert.Equal(t, uint64(0x10b), o.ReaderPID.Load())
	o.PayloadWritePos.Store(0x200)
	assert.Equal(t, uint64(0x200), binary.LittleEndian.Uint64(mem[layout.OffPayloadWritePos:]))
}
