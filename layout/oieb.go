package layout

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// OIEB is a view of the Operation Info Exchange Block as it lies in shared
// memory. Obtain one with View; never copy or construct one.
//
// Every field is read and written by two processes at once, so every access
// is an atomic operation on the mapped bytes (sync/atomic: loads acquire,
// stores and adds release; Go's atomics are sequentially consistent).
// Who writes what:
//
//   - The reader initialises every field when it creates the segment, then
//     owns PayloadReadPos, PayloadReadCount and ReaderPID, and adds released
//     bytes back to PayloadFreeBytes.
//   - The writer owns MetadataFreeBytes, MetadataWrittenBytes,
//     PayloadWritePos, PayloadWrittenCount and WriterPID, and subtracts the
//     bytes it uses from PayloadFreeBytes.
//   - The sizes, OIEBSize and Version never change after creation.
//
// A side may cache the fields it owns and must re-read the peer's fields
// when it needs a fresh value. Data written into the ring before a release
// store (or a notifier post) is visible to a peer after the matching
// acquire load (or wait).
type OIEB struct {
	OIEBSizeField        atomic.Uint32 // 0x00: always 128 in v1
	VersionField         atomic.Uint32 // 0x04: major, minor, patch, reserved (one byte each)
	MetadataSize         atomic.Uint64 // 0x08: size of the metadata block
	MetadataFreeBytes    atomic.Uint64 // 0x10: MetadataSize - MetadataWrittenBytes
	MetadataWrittenBytes atomic.Uint64 // 0x18: 8 + metadata length once written, else 0
	PayloadSize          atomic.Uint64 // 0x20: size of the ring
	PayloadFreeBytes     atomic.Uint64 // 0x28: free bytes in the ring
	PayloadWritePos      atomic.Uint64 // 0x30: next write offset (writer-owned)
	PayloadReadPos       atomic.Uint64 // 0x38: next read offset (reader-owned)
	PayloadWrittenCount  atomic.Uint64 // 0x40: frames written, wrap markers included
	PayloadReadCount     atomic.Uint64 // 0x48: frames read, wrap markers included
	WriterPID            atomic.Uint64 // 0x50: writer's PID, 0 when no writer
	ReaderPID            atomic.Uint64 // 0x58: reader's PID, 0 when no reader
	Reserved             [4]atomic.Uint64
	// Reserved[0] (0x60) records the reader's notifier; 0 means POSIX
	// semaphores (the v1 protocol). Reserved[1..3] (0x68-0x7f) belong to
	// the notifier recorded in Reserved[0]; in the semaphore mode a Go
	// reader records BatchedReleaseMark in Reserved[3].
}

// Field offsets in the OIEB, for code that works with raw bytes.
const (
	OffOIEBSize             = 0x00
	OffVersion              = 0x04
	OffMetadataSize         = 0x08
	OffMetadataFreeBytes    = 0x10
	OffMetadataWrittenBytes = 0x18
	OffPayloadSize          = 0x20
	OffPayloadFreeBytes     = 0x28
	OffPayloadWritePos      = 0x30
	OffPayloadReadPos       = 0x38
	OffPayloadWrittenCount  = 0x40
	OffPayloadReadCount     = 0x48
	OffWriterPID            = 0x50
	OffReaderPID            = 0x58
	OffReserved             = 0x60
)

// Compile-time checks that the Go struct matches the wire layout.
var (
	_ [OIEBSize - unsafe.Sizeof(OIEB{})]struct{}
	_ [unsafe.Sizeof(OIEB{}) - OIEBSize]struct{}
	_ [OffReaderPID - unsafe.Offsetof(OIEB{}.ReaderPID)]struct{}
	_ [unsafe.Offsetof(OIEB{}.ReaderPID) - OffReaderPID]struct{}
	_ [OffPayloadFreeBytes - unsafe.Offsetof(OIEB{}.PayloadFreeBytes)]struct{}
	_ [unsafe.Offsetof(OIEB{}.PayloadFreeBytes) - OffPayloadFreeBytes]struct{}
	_ [OffReserved - unsafe.Offsetof(OIEB{}.Reserved)]struct{}
	_ [unsafe.Offsetof(OIEB{}.Reserved) - OffReserved]struct{}
)

// View returns the OIEB lying at the start of mem. mem must hold at least
// OIEBSize bytes and start on an 8-byte boundary (a mapping always does).
// The view is valid as long as mem is.
func View(mem []byte) (*OIEB, error) {
	if len(mem) < OIEBSize {
		return nil, fmt.Errorf("zerobuffer: OIEB view needs %d bytes, have %d", OIEBSize, len(mem))
	}
	p := unsafe.Pointer(unsafe.SliceData(mem))
	if uintptr(p)%8 != 0 {
		return nil, fmt.Errorf("zerobuffer: OIEB view at %p is not 8-byte aligned", p)
	}
	return (*OIEB)(p), nil
}

// Version is the protocol version recorded in an OIEB.
type Version struct{ Major, Minor, Patch, Reserved uint8 }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Version returns the recorded protocol version.
func (o *OIEB) Version() Version {
	w := o.VersionField.Load()
	return Version{uint8(w), uint8(w >> 8), uint8(w >> 16), uint8(w >> 24)}
}

// SetVersion records v.
func (o *OIEB) SetVersion(v Version) {
	o.VersionField.Store(uint32(v.Major) | uint32(v.Minor)<<8 | uint32(v.Patch)<<16 | uint32(v.Reserved)<<24)
}

// Init writes a fresh OIEB for blocks of the given sizes: no metadata, an
// empty ring, no peers, Reserved[0] = notifierWord. The reader calls it on
// a zero-filled segment before anyone else can see it; ReaderPID is left
// for the caller to store last. In the semaphore mode it records
// BatchedReleaseMark: the Go reader returns space in batches.
func (o *OIEB) Init(metadataSize, payloadSize, notifierWord uint64) {
	o.OIEBSizeField.Store(OIEBSize)
	o.SetVersion(Version{VersionMajor, VersionMinor, VersionPatch, 0})
	o.MetadataSize.Store(metadataSize)
	o.MetadataFreeBytes.Store(metadataSize)
	o.MetadataWrittenBytes.Store(0)
	o.PayloadSize.Store(payloadSize)
	o.PayloadFreeBytes.Store(payloadSize)
	o.PayloadWritePos.Store(0)
	o.PayloadReadPos.Store(0)
	o.PayloadWrittenCount.Store(0)
	o.PayloadReadCount.Store(0)
	o.WriterPID.Store(0)
	o.ReaderPID.Store(0)
	o.Reserved[0].Store(notifierWord)
	for i := 1; i < len(o.Reserved); i++ {
		o.Reserved[i].Store(0)
	}
	if notifierWord == 0 {
		o.Reserved[3].Store(BatchedReleaseMark)
	}
}

// Snapshot is a plain copy of the OIEB's fields, for inspection, tests and
// validation. It is not a consistent instant when peers are active: each
// field is loaded atomically on its own.
type Snapshot struct {
	OIEBSize             uint32
	Version              Version
	MetadataSize         uint64
	MetadataFreeBytes    uint64
	MetadataWrittenBytes uint64
	PayloadSize          uint64
	PayloadFreeBytes     uint64
	PayloadWritePos      uint64
	PayloadReadPos       uint64
	PayloadWrittenCount  uint64
	PayloadReadCount     uint64
	WriterPID            uint64
	ReaderPID            uint64
	Reserved             [4]uint64
}

// Snapshot loads every field. The read count is loaded before the written
// count, so that ReadCount <= WrittenCount holds for honest peers.
func (o *OIEB) Snapshot() Snapshot {
	s := Snapshot{
		OIEBSize:             o.OIEBSizeField.Load(),
		Version:              o.Version(),
		MetadataSize:         o.MetadataSize.Load(),
		MetadataWrittenBytes: o.MetadataWrittenBytes.Load(),
		MetadataFreeBytes:    o.MetadataFreeBytes.Load(),
		PayloadSize:          o.PayloadSize.Load(),
		PayloadReadPos:       o.PayloadReadPos.Load(),
		PayloadWritePos:      o.PayloadWritePos.Load(),
		PayloadFreeBytes:     o.PayloadFreeBytes.Load(),
		PayloadReadCount:     o.PayloadReadCount.Load(),
		WriterPID:            o.WriterPID.Load(),
		ReaderPID:            o.ReaderPID.Load(),
	}
	s.PayloadWrittenCount = o.PayloadWrittenCount.Load()
	for i := range o.Reserved {
		s.Reserved[i] = o.Reserved[i].Load()
	}
	return s
}
