package duplex

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/proc"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// Handler answers one request. It writes exactly one response through
// resp (Write, or Reserve and Commit) before it returns; the request's
// bytes are valid until then. A returned error is reported (WithErrorLog);
// a request left unanswered is dealt with as the package doc says. ctx
// ends when the server is closed or Serve's context ends.
type Handler func(ctx context.Context, req Request, resp *ResponseWriter) error

// Request is a request frame, read in place from the request ring.
type Request struct {
	f ring.Frame
}

// Bytes is the request's payload, in the shared memory: valid until the
// handler returns; do not write to it.
func (q Request) Bytes() []byte { return q.f.Bytes() }

// Len is the payload's length.
func (q Request) Len() int { return q.f.Len() }

// Seq is the request's sequence number in the request ring (1 for a
// client's first request).
func (q Request) Seq() uint64 { return q.f.Seq() }

// Server serves one channel: it owns the request ring and answers one
// client at a time. Serve runs the loop; Close ends it and removes the
// request ring. Close may be called from any goroutine.
type Server struct {
	name string
	o    options
	r    *ring.Reader

	mu      sync.Mutex
	serving bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}
	closing chan struct{} // closed when the first Close is done
}

// Listen creates NAME_request with the sizes of cfg and returns the
// server; Serve starts answering. A name a live server holds fails with
// ring.ErrReaderAlreadyConnected.
func Listen(name string, cfg ring.Config, opts ...Option) (*Server, error) {
	o := buildOptions(opts)
	ro, err := o.readerOptions()
	if err != nil {
		return nil, fmt.Errorf("duplex: listen %s: %w", name, err)
	}
	r, err := ring.NewReader(name+"_request", cfg, ro...)
	if err != nil {
		return nil, fmt.Errorf("duplex: listen %s: %w", name, err)
	}
	return &Server{name: name, o: o, r: r}, nil
}

// Name is the channel's name.
func (s *Server) Name() string { return s.name }

// Serve answers requests with h until Close (ErrServerClosed), until ctx
// ends (ctx's error), or until the request ring fails (a corrupt ring).
// Between clients it waits for the next one. Only one Serve runs at a
// time (ErrServing).
func (s *Server) Serve(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("duplex: nil handler")
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrServerClosed
	case s.serving:
		s.mu.Unlock()
		return ErrServing
	}
	ctx, cancel := context.WithCancel(ctx)
	s.serving, s.cancel, s.done = true, cancel, make(chan struct{})
	s.mu.Unlock()

	err := s.serve(ctx, h)

	s.mu.Lock()
	closed := s.closed
	s.serving = false
	close(s.done)
	s.mu.Unlock()
	cancel()
	if closed {
		return ErrServerClosed
	}
	return err
}

// Close stops Serve, waiting for a running handler to return, and removes
// the request ring. It is idempotent: a Close that finds another under way
// returns nil once that one is done.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		closing := s.closing
		s.mu.Unlock()
		<-closing
		return nil
	}
	s.closed = true
	s.closing = make(chan struct{})
	defer close(s.closing)
	var done chan struct{}
	if s.serving {
		s.cancel()
		done = s.done
	}
	s.mu.Unlock()
	if done != nil {
		<-done
	}
	return s.r.Close()
}

func (s *Server) report(err error) {
	if s.o.errorLog != nil {
		s.o.errorLog(fmt.Errorf("duplex %s: %w", s.name, err))
	}
}

// serve is the loop over clients. carry holds a request already read that
// belongs to the next client (one that connected as the last left). last
// is the response ring of the session that ended: its client is done, but
// the ring may still be there while that client closes, and must not be
// taken for the next client's.
func (s *Server) serve(ctx context.Context, h Handler) error {
	var carry ring.Frame
	defer func() { carry.Release() }()
	var last ring.BufferID
	for {
		w, err := s.awaitClient(ctx, last, &carry)
		if err != nil {
			return err
		}
		last = w.BufferID()
		err = s.session(ctx, w, h, &carry)
		w.Close()
		if err != nil {
			return err
		}
	}
}

// awaitClient connects to the client's response ring, polling. It passes
// over last, the response ring of the client served before (see serve).
func (s *Server) awaitClient(ctx context.Context, last ring.BufferID, carry *ring.Frame) (*ring.Writer, error) {
	var deadline time.Time
	if s.o.clientWait > 0 {
		deadline = time.Now().Add(s.o.clientWait)
	}
	tick := time.NewTicker(ConnectPollInterval)
	defer tick.Stop()
	for {
		if err := s.dropOrphans(carry); err != nil {
			return nil, err
		}
		w, err := ring.Connect(s.name+"_response", s.o.ringOpts...)
		if err == nil && !last.IsZero() && w.BufferID() == last {
			w.Close()
			err = errors.New("only the last client's response ring is there")
		}
		if s.o.connectHook != nil {
			s.o.connectHook()
		}
		if err == nil {
			return w, nil
		}
		if errors.Is(err, ring.ErrNotifierMismatch) || errors.Is(err, ring.ErrInvalidName) {
			return nil, fmt.Errorf("duplex: connect to %s_response: %w", s.name, err)
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return nil, fmt.Errorf("%w within %v: %w", ErrNoClient, s.o.clientWait, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// writerAlive reports whether a client is connected to the request ring.
func (s *Server) writerAlive() bool {
	pid := s.r.OIEB().WriterPID.Load()
	return pid != 0 && pidAlive(pid)
}

// dropOrphans drops the requests of a client that went away before it
// could be answered (it left before the server found its response ring):
// while no live writer is recorded in the request ring, what is in it has
// nobody to go back to, and answering it to the next client would
// misalign that client's responses. A carried request is dropped on the
// same grounds: its client, the last to connect, left.
func (s *Server) dropOrphans(carry *ring.Frame) error {
	if carry.Valid() && !s.writerAlive() {
		s.report(fmt.Errorf("%w: dropping request %d of a client that left unanswered", ErrClientGone, carry.Seq()))
		carry.Release()
		*carry = ring.Frame{}
	}
	for s.r.Available() && !s.writerAlive() {
		f, err := s.r.ReadFrame(context.Background())
		if err != nil {
			if errors.Is(err, ring.ErrWriterDead) || errors.Is(err, ring.ErrWriterClosed) {
				return nil
			}
			return fmt.Errorf("duplex %s: read request: %w", s.name, err)
		}
		s.report(fmt.Errorf("%w: dropping request %d of a client that left unanswered", ErrClientGone, f.Seq()))
		f.Release()
	}
	return nil
}

// session answers one client. It returns nil when the client is gone and
// its requests are drained, or the error that ends Serve.
func (s *Server) session(ctx context.Context, w *ring.Writer, h Handler, carry *ring.Frame) error {
	if s.o.onInit != nil {
		meta, err := s.r.Metadata()
		if err != nil {
			return err
		}
		s.o.onInit(meta)
	}
	client := clientWatch{w: w, interval: ring.DefaultLivenessInterval}
	// One ResponseWriter serves the session, so a request costs no
	// allocation.
	rw := &ResponseWriter{w: w, client: &client}
	var lastSeq uint64
	for {
		var f ring.Frame
		if carry.Valid() {
			f, *carry = *carry, ring.Frame{}
		} else {
			var err error
			if f, err = s.r.ReadFrame(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if errors.Is(err, ring.ErrWriterDead) || errors.Is(err, ring.ErrWriterClosed) {
					return nil // the client left and every request of it was answered
				}
				return fmt.Errorf("duplex %s: read request: %w", s.name, err)
			}
		}
		if f.Seq() <= lastSeq {
			// A new writer starts again at 1: the client we answer
			// left and another took its place.
			*carry = f
			return nil
		}
		if !client.alive() {
			if lastSeq == 0 && s.writerAlive() && !w.IsCurrent() {
				// Nothing of this session was read yet and its client
				// is gone, but a live client writes requests and the
				// response ring we hold is no longer the one under the
				// name: this may be a newer client's first request.
				// It is kept for the next session, not dropped.
				*carry = f
				return nil
			}
			lastSeq = f.Seq()
			f.Release()
			s.report(fmt.Errorf("%w: dropping request %d", ErrClientGone, lastSeq))
			return s.drain(ctx, w, lastSeq, carry)
		}
		lastSeq = f.Seq()
		rw.state, rw.err = stateNone, nil
		herr := h(ctx, Request{f}, rw)
		// A reservation left uncommitted cannot be taken back but by
		// closing the writer: that ends the session below.
		if rw.state == stateNone && rw.err == nil && s.o.errorResponse != nil {
			if p := s.o.errorResponse(Request{f}, herr); len(p) > 0 {
				rw.err = rw.Write(p)
			}
		}
		f.Release()
		switch {
		case rw.state == stateCommitted:
			if herr != nil {
				s.report(fmt.Errorf("handler of request %d: %w", lastSeq, herr))
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(rw.err, ErrClientGone):
			s.report(fmt.Errorf("request %d: %w", lastSeq, rw.err))
			return s.drain(ctx, w, lastSeq, carry)
		default:
			cause := herr
			if cause == nil {
				cause = rw.err
			}
			if cause == nil && rw.state == stateReserved {
				cause = errors.New("reserved but not committed")
			}
			s.report(fmt.Errorf("%w to request %d (ending the session): %v", ErrNoResponse, lastSeq, cause))
			return s.drain(ctx, w, lastSeq, carry)
		}
	}
}

// drain ends a session whose client can no longer be answered in step: it
// closes the response ring's writer (the client sees ErrServerGone once it
// has read what was answered) and drops the client's requests until the
// client goes away, so that the next client starts aligned.
func (s *Server) drain(ctx context.Context, w *ring.Writer, lastSeq uint64, carry *ring.Frame) error {
	w.Close()
	for {
		f, err := s.r.ReadFrame(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, ring.ErrWriterDead) || errors.Is(err, ring.ErrWriterClosed) {
				return nil
			}
			return fmt.Errorf("duplex %s: read request: %w", s.name, err)
		}
		if f.Seq() <= lastSeq {
			*carry = f // the next client's first request
			return nil
		}
		lastSeq = f.Seq()
		f.Release()
	}
}

// clientWatch checks that the client reading the response ring lives. A
// look costs system calls (kill, /proc), so it is taken at most once per
// liveness interval: a response written within that interval of the
// client's death goes into its abandoned ring, harmlessly, and the death
// shows at the next look or when the request ring goes quiet. A client
// that closed clears its PID, which shows at once.
type clientWatch struct {
	w        *ring.Writer
	interval time.Duration
	peer     proc.Peer
	checked  time.Time
	ok       bool
}

func (c *clientWatch) alive() bool {
	if c.w.OIEB().ReaderPID.Load() == 0 {
		c.ok = false
		return false
	}
	now := time.Now()
	if c.ok && now.Sub(c.checked) < c.interval {
		return true
	}
	c.checked = now
	c.ok = c.peer.Alive(c.w.OIEB().ReaderPID.Load())
	return c.ok
}

const (
	stateNone = iota
	stateReserved
	stateCommitted
)

// ResponseWriter writes the one response to a request, copying (Write) or
// in place (Reserve, then Commit). Writes block while the response ring is
// full, up to the ring's write timeout (ring.ErrBufferFull), and fail with
// ErrClientGone once the client is found dead or closed. A response must
// not be empty: the protocol has no empty frames.
type ResponseWriter struct {
	w      *ring.Writer
	client *clientWatch
	state  int
	err    error
}

// MaxSize is the largest response the client's ring can take.
func (rw *ResponseWriter) MaxSize() int { return rw.w.MaxFrameSize() }

// Write sends p as the response.
func (rw *ResponseWriter) Write(p []byte) error {
	buf, err := rw.Reserve(len(p))
	if err != nil {
		return err
	}
	copy(buf, p)
	return rw.Commit()
}

// Reserve claims room for an n-byte response in the response ring and
// returns it to be filled in place; Commit sends it.
func (rw *ResponseWriter) Reserve(n int) ([]byte, error) {
	switch rw.state {
	case stateCommitted:
		return nil, ErrResponseWritten
	case stateReserved:
		return nil, ring.ErrReservePending
	}
	if !rw.client.alive() {
		rw.err = fmt.Errorf("%w: %w", ErrClientGone, ring.ErrReaderDead)
		return nil, rw.err
	}
	buf, err := rw.w.Reserve(n)
	if err != nil {
		if errors.Is(err, ring.ErrReaderDead) {
			err = fmt.Errorf("%w: %w", ErrClientGone, err)
		}
		rw.err = err
		return nil, err
	}
	rw.state = stateReserved
	return buf, nil
}

// Commit sends the response Reserve handed out.
func (rw *ResponseWriter) Commit() error {
	switch rw.state {
	case stateCommitted:
		return ErrResponseWritten
	case stateNone:
		return ring.ErrNothingReserved
	}
	if err := rw.w.Commit(); err != nil {
		rw.err = err
		return err
	}
	rw.state = stateCommitted
	return nil
}

// Written reports whether the response was committed.
func (rw *ResponseWriter) Written() bool { return rw.state == stateCommitted }
