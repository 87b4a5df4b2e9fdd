package ring

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

// Errors a caller can test with errors.Is. Each error the package returns
// wraps exactly one of them (or is a *SequenceError / *CorruptionError,
// which match ErrSequence / ErrCorrupt).
var (
	ErrInvalidName            = errors.New("zerobuffer: invalid buffer name")
	ErrInvalidConfig          = errors.New("zerobuffer: invalid configuration")
	ErrBufferNotFound         = errors.New("zerobuffer: buffer not found")
	ErrReaderAlreadyConnected = errors.New("zerobuffer: reader already connected")
	ErrWriterAlreadyConnected = errors.New("zerobuffer: writer already connected")
	ErrReaderDead             = errors.New("zerobuffer: reader dead")
	ErrWriterDead             = errors.New("zerobuffer: writer dead")
	ErrWriterClosed           = errors.New("zerobuffer: writer closed")
	ErrBufferFull             = errors.New("zerobuffer: buffer full")
	ErrFrameTooLarge          = errors.New("zerobuffer: frame too large")
	ErrInvalidFrameSize       = errors.New("zerobuffer: invalid frame size")
	ErrMetadataAlreadyWritten = errors.New("zerobuffer: metadata already written")
	ErrMetadataTooLarge       = errors.New("zerobuffer: metadata too large")
	ErrNotifierMismatch       = errors.New("zerobuffer: notifier mismatch")
	ErrReservePending         = errors.New("zerobuffer: a reserved frame is not committed")
	ErrNothingReserved        = errors.New("zerobuffer: nothing reserved to commit")
	ErrTooManyHeldFrames      = errors.New("zerobuffer: too many frames held unreleased")
	ErrClosed                 = errors.New("zerobuffer: closed")
	ErrSequence               = errors.New("zerobuffer: sequence error")

	// ErrIncompatibleVersion and ErrCorrupt are the layout package's.
	ErrIncompatibleVersion = layout.ErrIncompatibleVersion
	ErrCorrupt             = layout.ErrCorrupt
)

// SequenceError reports a frame whose sequence number is not the one
// expected. It matches ErrSequence.
type SequenceError struct {
	Expected, Got uint64
}

func (e *SequenceError) Error() string {
	return fmt.Sprintf("zerobuffer: sequence error: expected frame %d, got %d", e.Expected, e.Got)
}

// Is makes errors.Is(err, ErrSequence) hold.
func (e *SequenceError) Is(target error) bool { return target == ErrSequence }

// CorruptionError reports a frame header that cannot be right: a size of 0
// where a frame must be, or a frame reaching past the end of the ring. It
// matches ErrCorrupt.
type CorruptionError struct {
	Offset      uint64 // the header's offset in the ring
	PayloadSize uint64 // the size the header claims
	RingSize    uint64 // the ring's payload_size
	Why         string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("zerobuffer: corrupt frame at ring offset %d (payload_size %d, ring %d bytes): %s",
		e.Offset, e.PayloadSize, e.RingSize, e.Why)
}

func (e *CorruptionError) Unwrap() error { return ErrCorrupt }

// prefix starts every error message of the module (the ring's, the
// layout's), once.
const prefix = "zerobuffer: "

// errorf is fmt.Errorf for the ring's errors: when an error of ours is
// wrapped in another, the inner one's prefix is dropped from the message,
// so that it reads "zerobuffer: buffer cam0: corrupt buffer: …", never
// "zerobuffer: buffer cam0: zerobuffer: corrupt buffer: …". errors.Is and
// errors.As see the same chain as fmt.Errorf's.
func errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	msg := err.Error()
	head, rest := "", msg
	if r, ok := strings.CutPrefix(msg, prefix); ok {
		head, rest = prefix, r
	}
	clean := head + strings.ReplaceAll(rest, ": "+prefix, ": ")
	if clean == msg {
		return err
	}
	return &onePrefix{msg: clean, err: err}
}

// onePrefix is an error whose message errorf cleaned.
type onePrefix struct {
	msg string
	err error
}

func (e *onePrefix) Error() string { return e.msg }
func (e *onePrefix) Unwrap() error { return e.err }
