package harmony

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/zerobuffer/zerobuffer-go/duplex"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// The duplex channel's sizes when a scenario asks for the "default config"
// (the reference steps': 4 KiB metadata, 1 MiB ring).
const (
	duplexMetadataSize = 4096
	duplexPayloadSize  = 1 << 20
)

// duplexServer is a serve's duplex server and its handler's record.
type duplexServer struct {
	srv    *duplex.Server
	name   string // base name
	cancel context.CancelFunc
	done   chan error // Serve's result, once it returns
	mu     sync.Mutex
	served int   // requests the handler finished
	wrote  error // the last response write's outcome
	sizes  []int // the sizes of the responses written, in order
	events chan error
	// received is closed when the handler gets its first request.
	received chan struct{}
	once     sync.Once
}

func (d *duplexServer) record(err error, size int) {
	d.mu.Lock()
	d.served++
	d.wrote = err
	if err == nil {
		d.sizes = append(d.sizes, size)
	}
	d.mu.Unlock()
	select {
	case d.events <- err:
	default:
	}
}

func (d *duplexServer) stop() error {
	err := d.srv.Close()
	if d.cancel != nil {
		d.cancel()
		<-d.done
	}
	return err
}

// duplexClient is a serve's duplex client and what it sent and received.
type duplexClient struct {
	c         *duplex.Client
	name      string
	sent      [][]byte
	responses [][]byte
	start     time.Time
	total     time.Duration
}

func (w *world) duplexClient() (*duplexClient, error) {
	if w.client == nil {
		return nil, errors.New("this process has no duplex client; a 'creates duplex channel client' step must come first")
	}
	return w.client, nil
}

func (w *world) listen(base string, meta, payload uint64) error {
	if w.server != nil {
		_ = w.server.stop()
		w.server = nil
	}
	name := w.bufferName(base)
	srv, err := duplex.Listen(name, ring.Config{MetadataSize: meta, PayloadSize: payload},
		duplex.WithErrorLog(func(err error) { w.logf(LevelWarning, "duplex server: %v", err) }))
	if err != nil {
		return fmt.Errorf("listen on %s: %w", name, err)
	}
	w.server = &duplexServer{srv: srv, name: base, events: make(chan error, 64), received: make(chan struct{})}
	w.logf(LevelInformation, "duplex server on %s (metadata %d, payload %d)", name, meta, payload)
	return nil
}

// serveWith starts the server's loop with handler h, which computes the
// response from the request's bytes after an optional delay.
func (w *world) serveWith(delay time.Duration, respond func(req []byte) []byte) error {
	d := w.server
	if d == nil {
		return errors.New("this process has no duplex server; a 'creates immutable duplex channel' step must come first")
	}
	if d.cancel != nil {
		return errors.New("the server already runs a handler")
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.done = cancel, make(chan error, 1)
	go func() {
		d.done <- d.srv.Serve(ctx, func(ctx context.Context, req duplex.Request, resp *duplex.ResponseWriter) error {
			d.once.Do(func() { close(d.received) })
			if err := sleep(ctx, delay); err != nil {
				return err
			}
			if respond == nil { // a handler that never answers: its process is about to crash
				<-ctx.Done()
				return ctx.Err()
			}
			out := respond(req.Bytes())
			err := resp.Write(out)
			d.record(err, len(out))
			return err
		})
	}()
	return nil
}

func echo(req []byte) []byte { return bytes.Clone(req) }

// requestSizes reads a request ring's sizes from its control block, so that
// a client's response ring matches the channel's configuration.
func requestSizes(name string) (ring.Config, error) {
	b := make([]byte, 0x28)
	f, err := os.Open("/dev/shm/" + name + "_request")
	if err != nil {
		return ring.Config{}, fmt.Errorf("%w: %v", duplex.ErrServerNotFound, err)
	}
	defer f.Close()
	if _, err := f.ReadAt(b, 0); err != nil {
		return ring.Config{}, fmt.Errorf("read the request ring's sizes: %w", err)
	}
	return ring.Config{MetadataSize: binary.LittleEndian.Uint64(b[0x08:]), PayloadSize: binary.LittleEndian.Uint64(b[0x20:])}, nil
}

func (dc *duplexClient) send(p []byte) error {
	if _, err := dc.c.Send(p); err != nil {
		return fmt.Errorf("send request %d: %w", len(dc.sent)+1, err)
	}
	dc.sent = append(dc.sent, p)
	return nil
}

// receive reads one response (copied) within timeout.
func (dc *duplexClient) receive(ctx context.Context, timeout time.Duration) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := dc.c.Receive(rctx)
	if err != nil {
		return nil, fmt.Errorf("receive response %d: %w", len(dc.responses)+1, err)
	}
	data := bytes.Clone(r.Bytes())
	if err := r.Release(); err != nil {
		return nil, err
	}
	dc.responses = append(dc.responses, data)
	return data, nil
}

// matchAll checks every response so far equals its request (the n-th
// response answers the n-th request).
func (dc *duplexClient) matchAll(want int) error {
	if len(dc.responses) != want {
		return fmt.Errorf("%d responses, want %d", len(dc.responses), want)
	}
	for i, r := range dc.responses {
		if i >= len(dc.sent) {
			return fmt.Errorf("response %d has no request", i+1)
		}
		if !bytes.Equal(r, dc.sent[i]) {
			return fmt.Errorf("response %d (%d bytes) does not match its request (%d bytes)", i+1, len(r), len(dc.sent[i]))
		}
	}
	return nil
}

// registerDuplex: feature 13, the duplex channel, over package duplex.
func registerDuplex(r *Registry) {
	create := func(_ context.Context, w *world, a []string) error {
		meta, err := atou(a[2], "metadata size")
		if err != nil {
			return err
		}
		payload, err := atou(a[3], "payload size")
		if err != nil {
			return err
		}
		return w.listen(a[1], meta, payload)
	}
	r.add(Given, `the `+q+` process creates immutable duplex channel `+q+` with metadata size `+q+` and payload size `+q, create)
	r.add(Given, `the `+q+` process creates immutable duplex channel `+q+` with default config`, func(_ context.Context, w *world, a []string) error {
		return w.listen(a[1], duplexMetadataSize, duplexPayloadSize)
	})
	r.add(Given, `the `+q+` process creates immutable duplex channel `+q+` with processing mode `+q, func(_ context.Context, w *world, a []string) error {
		if a[2] != "SingleThread" {
			return fmt.Errorf("processing mode %q: the Go server handles one request at a time (SingleThread) only", a[2])
		}
		return w.listen(a[1], duplexMetadataSize, duplexPayloadSize)
	})
	r.add(When, `a new `+q+` process creates immutable duplex channel `+q, func(_ context.Context, w *world, a []string) error {
		w.attempted, w.lastErr = true, w.listen(a[1], duplexMetadataSize, duplexPayloadSize)
		return nil
	})
	r.add(Then, `the new server should reuse same channel name successfully`, func(_ context.Context, w *world, _ []string) error {
		if !w.attempted {
			return errors.New("no new server was created")
		}
		return w.lastErr
	})
	r.add(Given, `the `+q+` process starts echo handler`, func(_ context.Context, w *world, _ []string) error {
		return w.serveWith(0, echo)
	})
	r.add(Given, `the `+q+` process starts handler with `+q+` ms processing time`, func(_ context.Context, w *world, a []string) error {
		ms, err := atoi(a[1], "processing time")
		if err != nil {
			return err
		}
		return w.serveWith(time.Duration(ms)*time.Millisecond, echo)
	})
	r.add(Given, `the `+q+` process starts handler with `+q+` second processing delay`, func(_ context.Context, w *world, a []string) error {
		s, err := atoi(a[1], "processing delay")
		if err != nil {
			return err
		}
		return w.serveWith(time.Duration(s)*time.Second, echo)
	})
	r.add(Given, `the `+q+` process starts handler that crashes after `+q+` ms`, func(_ context.Context, w *world, a []string) error {
		ms, err := atoi(a[1], "delay")
		if err != nil {
			return err
		}
		// The handler stops answering; the runner's crash step ends the process.
		return w.serveWith(time.Duration(ms)*time.Millisecond, nil)
	})
	r.add(Given, `the `+q+` process starts handler that doubles request size`, func(_ context.Context, w *world, _ []string) error {
		return w.serveWith(0, func(req []byte) []byte { return append(bytes.Clone(req), req...) })
	})
	r.add(Given, `the `+q+` process starts handler that implements XOR with key `+q, func(_ context.Context, w *world, a []string) error {
		var key byte
		if _, err := fmt.Sscanf(a[1], "0x%x", &key); err != nil {
			if _, err := fmt.Sscanf(a[1], "%d", &key); err != nil {
				return fmt.Errorf("XOR key %q is not a byte", a[1])
			}
		}
		return w.serveWith(0, func(req []byte) []byte {
			out := make([]byte, len(req))
			for i, b := range req {
				out[i] = b ^ key
			}
			return out
		})
	})
	r.add(When, `the `+q+` process creates duplex channel client `+q, func(_ context.Context, w *world, a []string) error {
		name := w.bufferName(a[1])
		cfg, err := requestSizes(name)
		if err != nil {
			return fmt.Errorf("connect to channel %s: %w", name, err)
		}
		c, err := duplex.Dial(name, duplex.WithResponseConfig(cfg))
		if err != nil {
			return fmt.Errorf("connect to channel %s: %w", name, err)
		}
		if w.client != nil {
			_ = w.client.c.Close()
		}
		w.client = &duplexClient{c: c, name: a[1]}
		w.logf(LevelInformation, "duplex client on %s (response ring: metadata %d, payload %d)", name, cfg.MetadataSize, cfg.PayloadSize)
		return nil
	})
	patterned := func(n int, stamp bool) []byte {
		p := simplePattern(n)
		if stamp && n >= 8 {
			binary.LittleEndian.PutUint64(p, uint64(time.Now().UnixMicro()))
		}
		return p
	}
	sendSized := func(stamp bool) func(context.Context, *world, []string) error {
		return func(_ context.Context, w *world, a []string) error {
			dc, err := w.duplexClient()
			if err != nil {
				return err
			}
			n, err := atoi(a[1], "size")
			if err != nil {
				return err
			}
			if n <= 0 {
				return fmt.Errorf("request size %d: a request holds at least one byte", n)
			}
			return dc.send(patterned(n, stamp))
		}
	}
	r.add(When, `the `+q+` process sends request with size `+q, sendSized(true))
	r.add(When, `the `+q+` process sends request of `+q+` bytes`, sendSized(false))
	r.add(When, `the `+q+` process sends `+q+` byte frame with test pattern`, sendSized(false))
	r.add(When, `the `+q+` process sends request`, func(_ context.Context, w *world, a []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		return dc.send([]byte(fmt.Sprintf("Request %d", len(dc.sent))))
	})
	r.add(Then, `response should match request with size `+q, func(ctx context.Context, w *world, a []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		n, err := atoi(a[0], "size")
		if err != nil {
			return err
		}
		resp, err := dc.receive(ctx, 5*time.Second)
		if err != nil {
			return err
		}
		req := dc.sent[len(dc.responses)-1]
		if len(resp) != n || !bytes.Equal(resp, req) {
			return fmt.Errorf("response %d has %d bytes and matches its request: %v; want %d bytes, equal", len(dc.responses), len(resp), bytes.Equal(resp, req), n)
		}
		return nil
	})
	sequential := func(ctx context.Context, w *world, a []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		n, err := atoi(a[1], "count")
		if err != nil {
			return err
		}
		dc.start = time.Now()
		first := len(dc.sent)
		for i := range n {
			if err := dc.send([]byte(fmt.Sprintf("Request %d", first+i))); err != nil {
				return err
			}
		}
		for range n {
			if _, err := dc.receive(ctx, 5*time.Second); err != nil {
				return err
			}
		}
		dc.total = time.Since(dc.start)
		return nil
	}
	r.add(When, `the `+q+` process sends `+q+` requests sequentially`, sequential)
	r.add(When, `the `+q+` process sends `+q+` requests from single thread`, sequential)
	r.add(When, `the `+q+` process sends `+q+` requests`, func(_ context.Context, w *world, a []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		n, err := atoi(a[1], "count")
		if err != nil {
			return err
		}
		for i := range n {
			if err := dc.send([]byte(fmt.Sprintf("Request %d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	count := func(_ context.Context, w *world, a []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		n, err := atoi(a[1], "count")
		if err != nil {
			return err
		}
		return dc.matchAll(n)
	}
	r.add(Then, `the `+q+` process receives `+q+` responses in order`, count)
	r.add(Then, `the `+q+` process receives exactly `+q+` responses`, count)
	r.add(Then, `all `+q+` responses match their requests`, func(ctx context.Context, w *world, a []string) error {
		return count(ctx, w, []string{"", a[0]})
	})
	all := func(_ context.Context, w *world, _ []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		return dc.matchAll(len(dc.sent))
	}
	r.add(Then, `responses should match requests by content`, all)
	r.add(Then, `no responses should be lost or duplicated`, all)
	r.add(Then, `responses should arrive in order`, all)
	r.add(When, `the `+q+` process receives `+q+` responses`, func(ctx context.Context, w *world, a []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		n, err := atoi(a[1], "count")
		if err != nil {
			return err
		}
		for range n {
			if _, err := dc.receive(ctx, 5*time.Second); err != nil {
				return err
			}
		}
		return dc.matchAll(len(dc.responses))
	})
	r.add(When, `the `+q+` process measures total response time`, func(ctx context.Context, w *world, _ []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		for len(dc.responses) < len(dc.sent) {
			if _, err := dc.receive(ctx, 10*time.Second); err != nil {
				return err
			}
		}
		dc.total = time.Since(dc.start)
		w.logf(LevelInformation, "%d responses in %s", len(dc.responses), dc.total)
		return nil
	})
	r.add(Then, `total time should be at least `+q+` ms`, func(_ context.Context, w *world, a []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		ms, err := atoi(a[0], "time")
		if err != nil {
			return err
		}
		if dc.total < time.Duration(ms)*time.Millisecond {
			return fmt.Errorf("the responses took %s, less than %d ms: the handler's delays overlapped", dc.total, ms)
		}
		return nil
	})
	r.add(Then, `the `+q+` process simulates crash during processing`, func(ctx context.Context, w *world, _ []string) error {
		d := w.server
		if d == nil || d.cancel == nil {
			return errors.New("this process runs no duplex handler")
		}
		select {
		case <-d.received:
		case <-time.After(5 * time.Second):
			return errors.New("no request reached the handler within 5 s")
		case <-ctx.Done():
			return ctx.Err()
		}
		w.crashSoon(100 * time.Millisecond)
		return nil
	})
	r.add(When, `the `+q+` process simulates crash after `+q+` seconds?`, func(_ context.Context, w *world, a []string) error {
		s, err := atoi(a[1], "seconds")
		if err != nil {
			return err
		}
		w.crashSoon(time.Duration(s) * time.Second)
		return nil
	})
	r.add(When, `the `+q+` process waits for response with timeout `+q+` seconds`, func(ctx context.Context, w *world, a []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		s, err := atoi(a[1], "timeout")
		if err != nil {
			return err
		}
		_, err = dc.receive(ctx, time.Duration(s)*time.Second)
		w.attempted, w.lastErr = true, err
		w.logf(LevelInformation, "waiting for the response: %v", err)
		return nil
	})
	serverGone := func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(duplex.ErrServerGone)
	}
	r.add(Then, `the `+q+` process should detect server death`, serverGone)
	r.add(Then, `an appropriate exception should be thrown`, serverGone)
	r.add(When, `the `+q+` process does not read responses`, func(_ context.Context, w *world, _ []string) error {
		_, err := w.duplexClient()
		return err
	})
	r.add(When, `the `+q+` process reads one response`, func(ctx context.Context, w *world, _ []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		_, err = dc.receive(ctx, 5*time.Second)
		return err
	})
	// 13.6: the server's response write, which the scenario expects to
	// block on a full response ring. See responseWrite.
	r.add(Then, `the `+q+` process attempts to send response of `+q+` bytes`, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "size")
		if err != nil {
			return err
		}
		rw, err := w.responseWrite(ctx)
		if err != nil {
			return err
		}
		if rw.size != n {
			return fmt.Errorf("the handler's response to the request is %d bytes, not %d", rw.size, n)
		}
		return nil
	})
	r.add(Then, `the `+q+` process should block on response write`, func(ctx context.Context, w *world, _ []string) error {
		rw, err := w.responseWrite(ctx)
		if err != nil {
			return err
		}
		span := uint64(16 + rw.size)
		return fmt.Errorf("the handler's %d-byte response (%d with its header) was written at once: the client's response ring holds %d bytes "+
			"and had %d free before it (responses written: %d, unread: %d). A response write blocks only behind unread responses "+
			"with less than %d bytes free, and the server has answered every request it got (%d): a duplex server writes exactly one response per request "+
			"(the n-th response answers the n-th request; the reference servers' handlers return theirs the same way), so there is no "+
			"second response to block; see harmony/CONTRADICTIONS.md",
			rw.size, span, rw.ring, rw.freeBefore, rw.responses, rw.unread, span, rw.responses)
	})
	r.add(Then, `the `+q+` process should unblock and complete write`, func(ctx context.Context, w *world, _ []string) error {
		rw, err := w.responseWrite(ctx)
		if err != nil {
			return err
		}
		w.logf(LevelInformation, "the %d-byte response was written (it never blocked)", rw.size)
		return nil
	})
	r.add(When, `the `+q+` process acquires zero-copy request buffer of size `+q, func(_ context.Context, w *world, a []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		n, err := atoi(a[1], "size")
		if err != nil {
			return err
		}
		buf, err := dc.c.Reserve(n)
		if err != nil {
			return fmt.Errorf("reserve a %d-byte request: %w", n, err)
		}
		w.reserved = buf
		return nil
	})
	r.add(When, `the `+q+` process fills buffer with test pattern`, func(_ context.Context, w *world, _ []string) error {
		if w.reserved == nil {
			return errors.New("no request buffer is reserved")
		}
		copy(w.reserved, simplePattern(len(w.reserved)))
		return nil
	})
	r.add(When, `the `+q+` process commits request`, func(_ context.Context, w *world, _ []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		if w.reserved == nil {
			return errors.New("no request buffer is reserved")
		}
		sent := bytes.Clone(w.reserved)
		if _, err := dc.c.Commit(); err != nil {
			return fmt.Errorf("commit the request: %w", err)
		}
		dc.sent, w.reserved = append(dc.sent, sent), nil
		return nil
	})
	r.add(Then, `response should contain same test pattern`, func(ctx context.Context, w *world, _ []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		resp, err := dc.receive(ctx, 5*time.Second)
		if err != nil {
			return err
		}
		if !isSimplePattern(resp) || !bytes.Equal(resp, dc.sent[len(dc.responses)-1]) {
			return fmt.Errorf("the %d-byte response is not the request's test pattern", len(resp))
		}
		return nil
	})
	r.add(Then, `no memory allocations in send path`, func(ctx context.Context, w *world, _ []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		const rounds = 64
		payload := simplePattern(64)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range rounds {
			buf, err := dc.c.Reserve(len(payload))
			if err != nil {
				return err
			}
			copy(buf, payload)
			if _, err := dc.c.Commit(); err != nil {
				return err
			}
		}
		runtime.ReadMemStats(&after)
		for range rounds { // the echoes
			r, err := dc.c.Receive(ctx)
			if err != nil {
				return err
			}
			if err := r.Release(); err != nil {
				return err
			}
		}
		// The count is the whole process's; the serve's other goroutines are
		// idle meanwhile, so a per-send allocation shows as one per round.
		if n := after.Mallocs - before.Mallocs; n >= rounds {
			return fmt.Errorf("%d heap allocations in %d zero-copy sends", n, rounds)
		}
		w.logf(LevelInformation, "%d heap allocations in %d zero-copy sends", after.Mallocs-before.Mallocs, rounds)
		return nil
	})
	r.add(Then, `response should contain XOR transformed data`, func(ctx context.Context, w *world, _ []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		resp, err := dc.receive(ctx, 5*time.Second)
		if err != nil {
			return err
		}
		req := dc.sent[len(dc.responses)-1]
		if len(resp) != len(req) {
			return fmt.Errorf("the response has %d bytes, the request %d", len(resp), len(req))
		}
		for i := range req {
			if resp[i] != req[i]^0xFF {
				return fmt.Errorf("byte %d: %#x is not %#x XOR 0xFF", i, resp[i], req[i])
			}
		}
		return nil
	})
	r.add(Then, `the server handler receives immutable request frame`, func(_ context.Context, w *world, _ []string) error {
		// Seen from the client (where the step is routed): every response
		// byte is the transform of the request byte as sent, so the handler
		// read the request frame unaltered.
		req, resp, err := w.lastExchange()
		if err != nil {
			return err
		}
		for j := range req {
			if resp[j]^req[j] != 0xFF {
				return fmt.Errorf("byte %d of the response does not come from the request as sent", j)
			}
		}
		return nil
	})
	r.add(Then, `the server handler returns new response data`, func(_ context.Context, w *world, _ []string) error {
		req, resp, err := w.lastExchange()
		if err != nil {
			return err
		}
		if bytes.Equal(resp, req) {
			return errors.New("the response is the request echoed, not new data")
		}
		return nil
	})
	r.add(Then, `the `+q+` process completes processing after `+q+` seconds`, func(ctx context.Context, w *world, a []string) error {
		d := w.server
		if d == nil || d.cancel == nil {
			return errors.New("this process runs no duplex handler")
		}
		s, err := atoi(a[1], "seconds")
		if err != nil {
			return err
		}
		select {
		case err := <-d.events:
			w.lastErr, w.attempted = err, true
			w.logf(LevelInformation, "the handler finished; its response write: %v", err)
			return nil
		case <-time.After(time.Duration(s)*time.Second + 5*time.Second):
			return fmt.Errorf("the handler did not finish within %d s and 5 s more", s)
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	r.add(Then, `the `+q+` process attempts to send response`, func(_ context.Context, w *world, _ []string) error {
		if !w.attempted {
			return errors.New("the handler has not written a response yet")
		}
		return nil
	})
	r.add(Then, `the `+q+` process detects client death when writing`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFailure(duplex.ErrClientGone)
	})
	r.add(Then, `the `+q+` process continues processing other requests`, func(ctx context.Context, w *world, _ []string) error {
		d := w.server
		if d == nil {
			return errors.New("this process has no duplex server")
		}
		select {
		case err := <-d.done:
			return fmt.Errorf("the server stopped: %v", err)
		default:
		}
		c, err := duplex.Dial(w.bufferName(d.name), duplex.WithResponseConfig(ring.Config{MetadataSize: 64, PayloadSize: 64 << 10}))
		if err != nil {
			return fmt.Errorf("a new client: %w", err)
		}
		defer c.Close()
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		resp, err := c.Call(cctx, []byte("after the crash"))
		if err != nil {
			return fmt.Errorf("a new client's request: %w", err)
		}
		if string(resp) != "after the crash" {
			return fmt.Errorf("the new client got %q", resp)
		}
		return nil
	})
	r.add(Then, `the `+q+` process disposes server while `+q+` responses pending`, func(_ context.Context, w *world, _ []string) error {
		d := w.server
		if d == nil {
			return errors.New("this process has no duplex server")
		}
		w.server = nil
		return d.stop()
	})
	r.add(When, `the `+q+` process attempts to receive pending responses`, func(ctx context.Context, w *world, _ []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		// Responses the server wrote before it went are still there to read;
		// after them, the client must be told the server is gone.
		for len(dc.responses) < len(dc.sent) {
			if _, err = dc.receive(ctx, 5*time.Second); err != nil {
				break
			}
		}
		if err == nil {
			_, err = dc.receive(ctx, 5*time.Second)
		}
		w.attempted, w.lastErr = true, err
		w.logf(LevelInformation, "%d of %d responses read; then: %v", len(dc.responses), len(dc.sent), err)
		return nil
	})
	r.add(Then, `the `+q+` process should receive exception on pending`, serverGone)
	r.add(Then, `all shared memory should be cleaned up`, func(_ context.Context, w *world, _ []string) error {
		dc, err := w.duplexClient()
		if err != nil {
			return err
		}
		if err := dc.c.Close(); err != nil && !errors.Is(err, duplex.ErrClosed) {
			return err
		}
		w.client = nil
		name := w.bufferName(dc.name)
		for _, p := range []string{name + "_request", name + "_response"} {
			for _, f := range []string{"/dev/shm/" + p, "/dev/shm/sem.sem-w-" + p, "/dev/shm/sem.sem-r-" + p} {
				if _, err := os.Stat(f); err == nil {
					return fmt.Errorf("%s is still there", f)
				}
			}
		}
		return nil
	})
}

// responseSeen is what a server serve knows of its last response write.
type responseSeen struct {
	size              int    // the response's payload bytes
	ring, freeBefore  uint64 // the response ring's size, and its free bytes before the response
	responses, unread uint64 // responses written so far, and those the client has not read
}

// responseWrite waits (up to 5 s) for the handler to have answered a
// request, then reads the response ring's control block.
func (w *world) responseWrite(ctx context.Context) (responseSeen, error) {
	d := w.server
	if d == nil || d.cancel == nil {
		return responseSeen{}, errors.New("this process runs no duplex handler")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.mu.Lock()
		sizes, wrote, served := append([]int(nil), d.sizes...), d.wrote, d.served
		d.mu.Unlock()
		if wrote != nil {
			return responseSeen{}, fmt.Errorf("the handler's response write failed: %w", wrote)
		}
		if served > 0 && len(sizes) > 0 {
			b := make([]byte, 0x50)
			f, err := os.Open("/dev/shm/" + w.bufferName(d.name) + "_response")
			if err != nil {
				return responseSeen{}, fmt.Errorf("open the response ring: %w", err)
			}
			_, err = f.ReadAt(b, 0)
			f.Close()
			if err != nil {
				return responseSeen{}, fmt.Errorf("read the response ring's control block: %w", err)
			}
			le := binary.LittleEndian
			size, free := le.Uint64(b[0x20:]), le.Uint64(b[0x28:])
			written, read := le.Uint64(b[0x40:]), le.Uint64(b[0x48:])
			last := sizes[len(sizes)-1]
			return responseSeen{size: last, ring: size, freeBefore: free + uint64(16+last),
				responses: uint64(len(sizes)), unread: written - read}, nil
		}
		if time.Now().After(deadline) {
			return responseSeen{}, errors.New("the handler wrote no response within 5 s")
		}
		select {
		case <-ctx.Done():
			return responseSeen{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// lastExchange is the client's last request and the response it got.
func (w *world) lastExchange() (req, resp []byte, err error) {
	dc, err := w.duplexClient()
	if err != nil {
		return nil, nil, err
	}
	if len(dc.responses) == 0 {
		return nil, nil, errors.New("no response was received")
	}
	i := len(dc.responses) - 1
	return dc.sent[i], dc.responses[i], nil
}
