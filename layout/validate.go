package layout

import (
	"encoding/binary"
	"errors"
	"fmt"
)

var (
	// ErrCorrupt is the root of every error about impossible contents of
	// the OIEB, the metadata block or a frame header.
	ErrCorrupt = errors.New("zerobuffer: corrupt buffer")
	// ErrIncompatibleVersion is returned for an OIEB of another major
	// version or another size.
	ErrIncompatibleVersion = errors.New("zerobuffer: incompatible protocol version")
)

// FieldError names a field whose value is impossible, and why. It wraps
// ErrCorrupt or ErrIncompatibleVersion.
type FieldError struct {
	Field string // the OIEB field, e.g. "payload_write_pos"
	Value uint64 // the value found
	Limit uint64 // the bound it broke, when there is one
	Why   string // what is wrong, in words
	kind  error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%v: %s = %d: %s", e.kind, e.Field, e.Value, e.Why)
}

func (e *FieldError) Unwrap() error { return e.kind }

func corrupt(field string, value, limit uint64, why string, args ...any) error {
	if len(args) > 0 {
		why = fmt.Sprintf(why, args...)
	}
	return &FieldError{Field: field, Value: value, Limit: limit, Why: why, kind: ErrCorrupt}
}

// Validate checks every field of s for values that are impossible in a v1
// buffer mapped with mappingSize bytes. It returns nil or a *FieldError
// naming the first bad field. It does not look at the PIDs (liveness is not
// the wire format's business); of the reserved words it checks only that
// Reserved[0] is 0 or a notifier word (see ParseNotifierWord).
func (s *Snapshot) Validate(mappingSize uint64) error {
	if s.OIEBSize != OIEBSize {
		return &FieldError{Field: "oieb_size", Value: uint64(s.OIEBSize), Limit: OIEBSize,
			Why: fmt.Sprintf("v1 OIEB is %d bytes", OIEBSize), kind: ErrIncompatibleVersion}
	}
	if s.Version.Major != VersionMajor {
		return &FieldError{Field: "version.major", Value: uint64(s.Version.Major), Limit: VersionMajor,
			Why: fmt.Sprintf("this implementation speaks major version %d (found %s)", VersionMajor, s.Version), kind: ErrIncompatibleVersion}
	}
	if mappingSize < OIEBSize {
		return corrupt("mapping_size", mappingSize, OIEBSize, "segment smaller than the OIEB")
	}
	room := mappingSize - OIEBSize
	if s.MetadataSize > room {
		return corrupt("metadata_size", s.MetadataSize, room, "metadata block does not fit a %d-byte segment", mappingSize)
	}
	room -= s.MetadataSize
	if s.PayloadSize > room {
		return corrupt("payload_size", s.PayloadSize, room, "payload block does not fit a %d-byte segment after %d bytes of metadata", mappingSize, s.MetadataSize)
	}
	if s.PayloadSize <= FrameHeaderSize {
		return corrupt("payload_size", s.PayloadSize, FrameHeaderSize+1, "ring cannot hold a 1-byte frame")
	}
	if s.MetadataWrittenBytes > s.MetadataSize {
		return corrupt("metadata_written_bytes", s.MetadataWrittenBytes, s.MetadataSize, "more metadata written than the block holds")
	}
	if s.MetadataWrittenBytes != 0 && s.MetadataWrittenBytes < MetadataPrefixSize {
		return corrupt("metadata_written_bytes", s.MetadataWrittenBytes, MetadataPrefixSize, "written metadata is shorter than its length prefix")
	}
	if s.MetadataFreeBytes != s.MetadataSize-s.MetadataWrittenBytes {
		return corrupt("metadata_free_bytes", s.MetadataFreeBytes, s.MetadataSize-s.MetadataWrittenBytes,
			"must equal metadata_size - metadata_written_bytes")
	}
	if s.PayloadFreeBytes > s.PayloadSize {
		return corrupt("payload_free_bytes", s.PayloadFreeBytes, s.PayloadSize, "more free bytes than the ring holds")
	}
	if s.PayloadWritePos > s.PayloadSize {
		return corrupt("payload_write_pos", s.PayloadWritePos, s.PayloadSize, "beyond the end of the ring")
	}
	if s.PayloadReadPos > s.PayloadSize {
		return corrupt("payload_read_pos", s.PayloadReadPos, s.PayloadSize, "beyond the end of the ring")
	}
	if s.PayloadReadCount > s.PayloadWrittenCount {
		return corrupt("payload_read_count", s.PayloadReadCount, s.PayloadWrittenCount, "more frames read than written")
	}
	if _, _, err := ParseNotifierWord(s.Reserved[0]); err != nil {
		return err
	}
	return nil
}

// Validate validates a snapshot of o; see Snapshot.Validate.
func (o *OIEB) Validate(mappingSize uint64) error {
	s := o.Snapshot()
	return s.Validate(mappingSize)
}

// ParseMetadata returns the metadata held in block, given the OIEB's
// metadata_written_bytes: nil when none was written, else the bytes after
// the length prefix (a sub-slice of block, not a copy). A prefix that
// disagrees with writtenBytes, or that reaches past the block, is an error.
func ParseMetadata(block []byte, writtenBytes uint64) ([]byte, error) {
	if writtenBytes == 0 {
		return nil, nil
	}
	if writtenBytes < MetadataPrefixSize || writtenBytes > uint64(len(block)) {
		return nil, corrupt("metadata_written_bytes", writtenBytes, uint64(len(block)), "does not fit the %d-byte metadata block", len(block))
	}
	n := binary.LittleEndian.Uint64(block[:MetadataPrefixSize])
	if n != writtenBytes-MetadataPrefixSize {
		return nil, corrupt("metadata_length", n, writtenBytes-MetadataPrefixSize, "length prefix disagrees with metadata_written_bytes")
	}
	return block[MetadataPrefixSize:writtenBytes:writtenBytes], nil
}

// EncodeMetadata writes the length prefix and meta into block and returns
// the value of metadata_written_bytes. It fails when meta does not fit.
func EncodeMetadata(block []byte, meta []byte) (uint64, error) {
	if uint64(len(meta)) > uint64(len(block)) || uint64(len(block))-uint64(len(meta)) < MetadataPrefixSize {
		return 0, fmt.Errorf("zerobuffer: %d bytes of metadata do not fit a %d-byte block (8 bytes go to the length)", len(meta), len(block))
	}
	binary.LittleEndian.PutUint64(block[:MetadataPrefixSize], uint64(len(meta)))
	copy(block[MetadataPrefixSize:], meta)
	return MetadataPrefixSize + uint64(len(meta)), nil
}
