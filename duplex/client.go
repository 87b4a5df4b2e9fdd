package duplex

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// Client sends requests to a server and reads its responses. Call is safe
// for concurrent use and pipelines concurrent calls; the low-level Send,
// Reserve, Commit and Receive are safe too, but mixing them with Call
// breaks the pairing of responses with calls (see the package doc).
type Client struct {
	name string
	o    options

	sendMu   sync.Mutex // guards w and sent
	w        *ring.Writer
	sent     uint64 // requests committed
	reserved atomic.Bool

	// The receive side. turn is a token (a channel of capacity 1, so that
	// taking it can be abandoned when a context ends): its holder alone
	// uses r. received and pending are guarded by mu.
	turn     chan struct{}
	r        *ring.Reader
	mu       sync.Mutex
	received uint64           // responses read
	pending  map[uint64]*call // calls waiting, by the number of their request

	closing context.Context // done when Close starts
	close   context.CancelFunc
	once    sync.Once
	err     error
}

type call struct {
	dst  []byte
	err  error
	done chan struct{}
}

// Dial connects to the server listening on name: it opens NAME_request as
// its writer (ErrServerNotFound when no server listens), writes the
// metadata of WithMetadata, and creates NAME_response.
func Dial(name string, opts ...Option) (*Client, error) {
	o := buildOptions(opts)
	ro, err := o.readerOptions()
	if err != nil {
		return nil, fmt.Errorf("duplex: dial %s: %w", name, err)
	}
	w, err := ring.Connect(name+"_request", o.ringOpts...)
	if err != nil {
		if errors.Is(err, ring.ErrBufferNotFound) || errors.Is(err, ring.ErrReaderDead) {
			err = fmt.Errorf("%w: %w", ErrServerNotFound, err)
		}
		return nil, fmt.Errorf("duplex: dial %s: %w", name, err)
	}
	if len(o.metadata) > 0 {
		if err := w.SetMetadata(o.metadata); err != nil {
			w.Close()
			return nil, fmt.Errorf("duplex: dial %s: %w", name, err)
		}
	}
	r, err := ring.NewReader(name+"_response", o.responseCfg, ro...)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("duplex: dial %s: %w", name, err)
	}
	c := &Client{name: name, o: o, w: w, r: r, turn: make(chan struct{}, 1), pending: map[uint64]*call{}}
	c.closing, c.close = context.WithCancel(context.Background())
	return c, nil
}

// Name is the channel's name.
func (c *Client) Name() string { return c.name }

// serverErr marks the ring errors that mean the server is gone.
func serverErr(err error) error {
	if errors.Is(err, ring.ErrReaderDead) || errors.Is(err, ring.ErrWriterDead) || errors.Is(err, ring.ErrWriterClosed) {
		return fmt.Errorf("%w: %w", ErrServerGone, err)
	}
	return err
}

// checkServer is the cheap look at the server a send takes: a server that
// closed cleared its PID from the request ring (the ring's writer notices
// a dead one only when it waits for room). The caller holds sendMu.
func (c *Client) checkServer() error {
	if c.w.OIEB().ReaderPID.Load() == 0 {
		return fmt.Errorf("%w: %w: request ring closed", ErrServerGone, ring.ErrReaderDead)
	}
	return nil
}

// Send copies p into the request ring as one request and returns its
// sequence number. It blocks while the request ring is full, up to the
// ring's write timeout (ring.ErrBufferFull).
func (c *Client) Send(p []byte) (uint64, error) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closing.Err() != nil {
		return 0, ErrClosed
	}
	if err := c.checkServer(); err != nil {
		return 0, err
	}
	if err := c.w.WriteFrame(p); err != nil {
		return 0, serverErr(err)
	}
	c.sent++
	return c.sent, nil
}

// Reserve claims room for an n-byte request in the request ring and
// returns it to be filled in place (zero copy); Commit sends it. Until
// then other sends fail with ring.ErrReservePending.
func (c *Client) Reserve(n int) ([]byte, error) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closing.Err() != nil {
		return nil, ErrClosed
	}
	if err := c.checkServer(); err != nil {
		return nil, err
	}
	buf, err := c.w.Reserve(n)
	if err != nil {
		return nil, serverErr(err)
	}
	c.reserved.Store(true)
	return buf, nil
}

// Commit sends the request Reserve handed out and returns its sequence
// number.
func (c *Client) Commit() (uint64, error) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closing.Err() != nil {
		return 0, ErrClosed
	}
	if !c.reserved.Load() {
		return 0, ring.ErrNothingReserved
	}
	c.reserved.Store(false)
	if err := c.w.Commit(); err != nil {
		return 0, serverErr(err)
	}
	c.sent++
	return c.sent, nil
}

// SetMetadata writes the request ring's metadata, once (see WithMetadata
// to have it there before the server sees the client).
func (c *Client) SetMetadata(meta []byte) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closing.Err() != nil {
		return ErrClosed
	}
	return c.w.SetMetadata(meta)
}

// ServerConnected reports whether the server that created the request ring
// is still there.
func (c *Client) ServerConnected() bool {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closing.Err() != nil {
		return false
	}
	pid := c.w.OIEB().ReaderPID.Load()
	return pid != 0 && pidAlive(pid)
}

// Response is a response frame, read in place from the response ring.
type Response struct {
	c *Client
	f ring.Frame
}

// Bytes is the response's payload, in the shared memory: valid until
// Release; do not write to it.
func (r Response) Bytes() []byte { return r.f.Bytes() }

// Len is the payload's length.
func (r Response) Len() int { return r.f.Len() }

// Seq is the response's sequence number in the response ring: the n-th
// response answers the n-th request.
func (r Response) Seq() uint64 { return r.f.Seq() }

// Release hands the response's space back to the server. Responses may be
// released in any order; releasing twice does nothing.
func (r Response) Release() error {
	if r.c == nil {
		return nil
	}
	select {
	case r.c.turn <- struct{}{}:
	case <-r.c.closing.Done():
		return nil // the ring is going away with the frame
	}
	defer func() { <-r.c.turn }()
	return r.f.Release()
}

// Receive waits for the next response, until ctx ends, and returns it in
// place; Release it when done. A dead or stopped server gives
// ErrServerGone.
func (c *Client) Receive(ctx context.Context) (Response, error) {
	select {
	case c.turn <- struct{}{}:
	case <-c.closing.Done():
		return Response{}, ErrClosed
	case <-ctx.Done():
		return Response{}, ctx.Err()
	}
	defer func() { <-c.turn }()
	f, err := c.read(ctx)
	if err != nil {
		return Response{}, err
	}
	c.mu.Lock()
	c.received++
	c.mu.Unlock()
	return Response{c: c, f: f}, nil
}

// read reads one frame, ending at ctx's end or at Close. The caller holds
// the turn.
func (c *Client) read(ctx context.Context) (ring.Frame, error) {
	if c.closing.Err() != nil {
		return ring.Frame{}, ErrClosed
	}
	rctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.closing, cancel)
	f, err := c.r.ReadFrame(rctx)
	stop()
	cancel()
	if err != nil {
		if c.closing.Err() != nil && ctx.Err() == nil {
			return ring.Frame{}, ErrClosed
		}
		return ring.Frame{}, serverErr(err)
	}
	return f, nil
}

// Call sends req and returns a copy of its response. It is safe for
// concurrent use: concurrent calls are pipelined. When ctx ends first,
// Call returns ctx's error and the response, when it comes, is dropped.
func (c *Client) Call(ctx context.Context, req []byte) ([]byte, error) {
	return c.AppendCall(ctx, nil, req)
}

// AppendCall is Call appending the response to dst (which it returns,
// grown), so that a caller can reuse one buffer.
func (c *Client) AppendCall(ctx context.Context, dst, req []byte) ([]byte, error) {
	cl := &call{dst: dst, done: make(chan struct{})}
	ticket, err := c.send(req, cl)
	if err != nil {
		return dst, err
	}
	for {
		select {
		case <-cl.done:
			return cl.dst, cl.err
		case c.turn <- struct{}{}:
			err := c.readUntil(ctx, ticket)
			<-c.turn
			if err != nil {
				if c.abandon(ticket) {
					return dst, err
				}
			}
		case <-c.closing.Done():
			if c.abandon(ticket) {
				return dst, ErrClosed
			}
		case <-ctx.Done():
			if c.abandon(ticket) {
				return dst, ctx.Err()
			}
		}
	}
}

// send writes req and registers cl as waiting for the response to it,
// before the request goes out, so whoever reads that response finds cl.
func (c *Client) send(req []byte, cl *call) (uint64, error) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.closing.Err() != nil {
		return 0, ErrClosed
	}
	if err := c.checkServer(); err != nil {
		return 0, err
	}
	ticket := c.sent + 1
	c.mu.Lock()
	c.pending[ticket] = cl
	c.mu.Unlock()
	if err := c.w.WriteFrame(req); err != nil {
		c.mu.Lock()
		delete(c.pending, ticket)
		c.mu.Unlock()
		return 0, serverErr(err)
	}
	c.sent = ticket
	return ticket, nil
}

// abandon withdraws a call from the queue. It reports false when the
// response was handed over meanwhile (the caller then finds it on done).
func (c *Client) abandon(ticket uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pending[ticket]; ok {
		delete(c.pending, ticket)
		return true
	}
	return false
}

// readUntil reads responses, handing each to its call (or dropping it when
// its call gave up), until the response to ticket is read. The caller
// holds the turn.
func (c *Client) readUntil(ctx context.Context, ticket uint64) error {
	for {
		c.mu.Lock()
		if c.received >= ticket {
			c.mu.Unlock()
			return nil // handed over already
		}
		c.mu.Unlock()
		f, err := c.read(ctx)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.received++
		n := c.received
		cl := c.pending[n]
		delete(c.pending, n)
		c.mu.Unlock()
		if cl != nil {
			cl.dst = append(cl.dst, f.Bytes()...)
			close(cl.done)
		}
		if err := f.Release(); err != nil {
			return err
		}
		if n >= ticket {
			return nil
		}
	}
}

// Close removes the response ring and disconnects from the request ring.
// Calls and receives in progress return ErrClosed. It is idempotent.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.close()
		c.sendMu.Lock()
		werr := c.w.Close()
		c.sendMu.Unlock()
		c.turn <- struct{}{} // held for good: nobody reads any more
		c.err = errors.Join(werr, c.r.Close())
	})
	return c.err
}
