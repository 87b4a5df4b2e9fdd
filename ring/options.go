package ring

import (
	"os"
	"time"
)

// Defaults for the options.
const (
	DefaultPermissions      os.FileMode   = 0o600
	DefaultWriteTimeout     time.Duration = 5 * time.Second
	DefaultLivenessInterval time.Duration = 100 * time.Millisecond
)

// Config sizes a buffer. Both sizes are rounded up to a multiple of 64.
type Config struct {
	// MetadataSize is the metadata block's size; 0 means no metadata.
	MetadataSize uint64
	// PayloadSize is the ring's size; it must hold at least one frame.
	PayloadSize uint64
}

// Option tunes a Reader or a Writer.
type Option func(*options)

type options struct {
	notifier     Notifier
	perm         os.FileMode
	writeTimeout time.Duration
	liveness     time.Duration
	unbatched    bool
}

func buildOptions(opts []Option) options {
	o := options{
		perm:         DefaultPermissions,
		writeTimeout: DefaultWriteTimeout,
		liveness:     DefaultLivenessInterval,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.liveness <= 0 {
		o.liveness = DefaultLivenessInterval
	}
	return o
}

// WithNotifier chooses the wait strategy. For a reader it is recorded in
// the OIEB; for a writer it must match the reader's. Without it the reader
// uses POSIX semaphores (the protocol's own) and the writer adopts the
// reader's, provided the reader's notifier package is linked into the
// writer's program (see NotifierNames). A Notifier value serves one Reader
// or Writer only.
func WithNotifier(n Notifier) Option { return func(o *options) { o.notifier = n } }

// WithPermissions sets the mode of the files a reader creates (segment,
// semaphores, lock file). The default, 0600, lets only the same user
// connect; the other implementations use 0666.
func WithPermissions(perm os.FileMode) Option { return func(o *options) { o.perm = perm.Perm() } }

// WithWriteTimeout bounds how long a writer waits for space before
// failing with ErrBufferFull (default 5 s).
func WithWriteTimeout(d time.Duration) Option { return func(o *options) { o.writeTimeout = d } }

// WithLivenessInterval sets how often a blocked side checks that its peer
// is alive, and so how soon a dead peer or a cancelled context is noticed
// (default 100 ms).
func WithLivenessInterval(d time.Duration) Option { return func(o *options) { o.liveness = d } }

// WithUnbatchedRelease makes a reader return each frame's space the moment
// the frame is released, as step 5 of the protocol's reading rules has it:
// Frame.Release adds the frame's bytes to payload_free_bytes, moves
// read_pos and read_count past it and signals the writer.
// By default a reader gathers released space and returns it in batches
// (see Reader.ReadFrame), which saves a post and the writer's cache lines
// per frame but leaves the control block a few frames behind the reader.
// Choose this where something outside the reader watches the control
// block frame by frame — a conformance suite does — or where a writer
// should see space at once. Writers ignore it.
func WithUnbatchedRelease() Option { return func(o *options) { o.unbatched = true } }
