package duplex

import (
	"log"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// Defaults of the reference implementations.
const (
	// DefaultResponseMetadataSize and DefaultResponsePayloadSize size the
	// response ring a client creates.
	DefaultResponseMetadataSize = 4 << 10
	DefaultResponsePayloadSize  = 256 << 20
	// ConnectPollInterval is how often a server looks for its client's
	// response ring.
	ConnectPollInterval = 100 * time.Millisecond
)

// Option tunes a Server (Listen) or a Client (Dial). Options that concern
// only one side are ignored by the other.
type Option func(*options)

type options struct {
	notifier      string
	ringOpts      []ring.Option
	responseCfg   ring.Config
	metadata      []byte
	clientWait    time.Duration
	errorLog      func(error)
	errorResponse func(req Request, err error) []byte
	onInit        func(metadata []byte)
	connectHook   func() // tests: called after each look for a client's response ring
}

func buildOptions(opts []Option) options {
	o := options{
		responseCfg: ring.Config{MetadataSize: DefaultResponseMetadataSize, PayloadSize: DefaultResponsePayloadSize},
		errorLog:    func(err error) { log.Print(err) },
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// readerOptions are the ring options for the ring this side creates.
func (o *options) readerOptions() ([]ring.Option, error) {
	ro := append([]ring.Option(nil), o.ringOpts...)
	if o.notifier != "" {
		n, err := ring.NewNotifier(o.notifier)
		if err != nil {
			return nil, err
		}
		ro = append(ro, ring.WithNotifier(n))
	}
	return ro, nil
}

// WithNotifier names the wait strategy (see ring.NotifierNames) of the ring
// this side creates: the request ring for a server, the response ring for
// a client. The other side's writer adopts it. The default is POSIX
// semaphores, the only one the other implementations speak.
func WithNotifier(name string) Option { return func(o *options) { o.notifier = name } }

// WithRingOptions passes options to both rings of this side (permissions,
// write timeout, liveness interval). Do not pass ring.WithNotifier here: a
// Notifier value serves one ring; use WithNotifier.
func WithRingOptions(opts ...ring.Option) Option {
	return func(o *options) { o.ringOpts = append(o.ringOpts, opts...) }
}

// WithResponseConfig sizes the response ring a client creates (default
// 4 KiB metadata, 256 MiB ring, as the other implementations).
func WithResponseConfig(cfg ring.Config) Option { return func(o *options) { o.responseCfg = cfg } }

// WithMetadata makes Dial write meta into the request ring's metadata
// block before it creates the response ring, so the server's OnInit sees
// it. The protocol lets a buffer's metadata be written once: when an
// earlier client of the same server wrote it, Dial fails with
// ring.ErrMetadataAlreadyWritten.
func WithMetadata(meta []byte) Option { return func(o *options) { o.metadata = meta } }

// WithClientWait bounds how long Serve waits for a client's response ring
// each time it waits for one (ErrNoClient). The reference servers give up
// after 5 s; the default, 0, waits until the server is closed.
func WithClientWait(d time.Duration) Option { return func(o *options) { o.clientWait = d } }

// WithErrorLog receives the errors a server reports and carries on after:
// handler errors, unanswered requests, clients that went away. The default
// logs them with the standard logger; nil discards them.
func WithErrorLog(f func(error)) Option {
	return func(o *options) {
		if f == nil {
			f = func(error) {}
		}
		o.errorLog = f
	}
}

// WithErrorResponse makes the server answer a request its handler left
// unanswered with f's payload, so the session goes on (see the package
// doc). The request is still valid while f runs. A nil or empty payload
// ends the session as without this option.
func WithErrorResponse(f func(req Request, err error) []byte) Option {
	return func(o *options) { o.errorResponse = f }
}

// WithOnInit is called by Serve each time a client connects, with the
// request ring's metadata as the client left it (empty if the client has
// not written any yet; see WithMetadata). The bytes are valid during the
// call only.
func WithOnInit(f func(metadata []byte)) Option { return func(o *options) { o.onInit = f } }
