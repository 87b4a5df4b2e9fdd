package duplex

// Scenarios 13.9 and 13.10, where a side goes away mid-way, and the
// behaviours beyond the reference: a handler that leaves a request
// unanswered, calls that give up, and misuse.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

func init() {
	// A client that sends one request, says so and waits to be killed.
	childRoles["client-crash"] = func(_, notifier, channel string) error {
		c, err := Dial(channel, WithNotifier(notifier), WithResponseConfig(testResponseCfg))
		if err != nil {
			return err
		}
		if _, err := c.Send([]byte("will not wait for the answer")); err != nil {
			return err
		}
		fmt.Println("SENT")
		io.Copy(io.Discard, os.Stdin)
		return c.Close()
	}
}

// forEachMode runs f per notifier of modeNotifiers, with the remote side
// as a goroutine and as a process.
func forEachMode(t *testing.T, f func(t *testing.T, notifier string, cross bool)) {
	for _, notifier := range modeNotifiers {
		testsupport.BothModes(t, notifier, func(t *testing.T, cross bool) { f(t, notifier, cross) })
	}
}

// serveLocal listens on name and serves h until the test ends; the errors
// the server reports go to the returned channel.
func serveLocal(t *testing.T, name, notifier string, h Handler, opts ...Option) (*Server, chan error) {
	t.Helper()
	reports := make(chan error, 16)
	opts = append([]Option{WithNotifier(notifier), WithErrorLog(func(err error) {
		t.Log("server:", err)
		select {
		case reports <- err:
		default:
		}
	})}, opts...)
	srv, err := Listen(name, defaultCfg, opts...)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), h) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		require.ErrorIs(t, <-done, ErrServerClosed)
	})
	return srv, reports
}

// awaitReport waits for the server to report an error matching target.
func awaitReport(t *testing.T, reports chan error, target error) {
	t.Helper()
	timer := time.NewTimer(hangGuard)
	defer timer.Stop()
	for {
		select {
		case err := <-reports:
			if errors.Is(err, target) {
				return
			}
		case <-timer.C:
			t.Fatalf("the server reported no %v", target)
		}
	}
}

// 13.9: the client dies while the server handles its request; the server
// finds it gone when it writes the response, and serves the next client.
func TestClientDeathDuringResponseWait(t *testing.T) {
	forEachMode(t, func(t *testing.T, notifier string, cross bool) {
		name := uniqueName(t)
		clientDied := make(chan struct{})
		handling := make(chan struct{})
		writeErr := make(chan error, 1)
		first := true
		_, reports := serveLocal(t, name, notifier, func(ctx context.Context, req Request, resp *ResponseWriter) error {
			if first {
				// Processing outlasts the client: it answers only
				// once the client is dead.
				first = false
				close(handling)
				select {
				case <-clientDied:
				case <-ctx.Done():
					return ctx.Err()
				}
				// The server checks its client at most once per
				// liveness interval; let one pass since the last look.
				time.Sleep(2 * ring.DefaultLivenessInterval)
				err := resp.Write([]byte("too late"))
				writeErr <- err
				return err
			}
			return echo(ctx, req, resp)
		})

		if cross {
			c := startChild(t, "client-crash", "-", notifier, name, nil)
			c.Expect("SENT")
			<-handling
			c.Kill()
		} else {
			// A goroutine cannot die: its client closes without
			// waiting for the answer.
			c, err := Dial(name, WithNotifier(notifier), WithResponseConfig(testResponseCfg))
			require.NoError(t, err)
			_, err = c.Send([]byte("will not wait for the answer"))
			require.NoError(t, err)
			<-handling
			require.NoError(t, c.Close())
		}
		close(clientDied)
		require.ErrorIs(t, <-writeErr, ErrClientGone)
		awaitReport(t, reports, ErrClientGone)

		// The server carries on with the next client.
		c, err := Dial(name, WithNotifier(notifier), WithResponseConfig(testResponseCfg))
		require.NoError(t, err)
		defer func() { require.NoError(t, c.Close()) }()
		for k := range 3 {
			resp, err := c.Call(ctxFor(t), pattern(50, k))
			require.NoError(t, err)
			assert.Equal(t, pattern(50, k), resp)
		}
		require.NoError(t, ring.CleanupStale()) // what the killed client left
	})
}

func init() {
	// A server that answers requests 1-3 and leaves 4 and 5 pending.
	register(&scenario{
		name: "dispose-pending",
		cfg:  defaultCfg,
		handler: func(*env) Handler {
			return func(ctx context.Context, req Request, resp *ResponseWriter) error {
				if req.Seq() > 3 {
					<-ctx.Done()
					return ctx.Err()
				}
				return echo(ctx, req, resp)
			}
		},
	})
}

// 13.10: the server is closed with two responses pending: the client's
// receives fail, nothing is left in /dev/shm, and a new server takes the
// name at once.
func TestDisposeWithResponsesPending(t *testing.T) {
	sc := scenarioRegistry["dispose-pending"]
	forEachMode(t, func(t *testing.T, notifier string, cross bool) {
		e := &env{name: uniqueName(t), notifier: notifier, events: make(chan string, 8)}
		var srv serverSide
		if cross {
			c := startChild(t, "server", sc.name, notifier, e.name, e.events)
			c.Expect("READY")
			srv = &remoteServer{c: c}
		} else {
			srv = startLocalServer(t, sc, e)
		}
		c, err := Dial(e.name, WithNotifier(notifier), WithResponseConfig(testResponseCfg))
		require.NoError(t, err)
		for k := range 5 {
			_, err := c.Send(pattern(64, k))
			require.NoError(t, err)
		}
		for k := range 3 {
			resp, err := c.Receive(ctxFor(t))
			require.NoError(t, err)
			assert.Equal(t, pattern(64, k), resp.Bytes())
			require.NoError(t, resp.Release())
		}
		require.NoError(t, srv.stop())
		for range 2 {
			resp, err := c.Receive(ctxFor(t))
			require.ErrorIs(t, err, ErrServerGone, "a pending response: %q seq %d", resp.Bytes(), resp.Seq())
		}
		_, err = c.Send([]byte("after"))
		require.ErrorIs(t, err, ErrServerGone)
		require.Empty(t, leftovers(e.name+"_request"), "the server's files")
		require.NoError(t, c.Close())
		require.Empty(t, leftovers(e.name), "the channel's files")

		// The name is free at once.
		_, _ = serveLocal(t, e.name, notifier, echo)
		c2, err := Dial(e.name, WithNotifier(notifier), WithResponseConfig(testResponseCfg))
		require.NoError(t, err)
		resp, err := c2.Call(ctxFor(t), []byte("again"))
		require.NoError(t, err)
		assert.Equal(t, "again", string(resp))
		require.NoError(t, c2.Close())
	})
}

// A handler that returns without answering ends the session: the client
// is not left misaligned but told the server is gone, and the next client
// is served.
func TestUnansweredRequestEndsSession(t *testing.T) {
	name := uniqueName(t)
	_, reports := serveLocal(t, name, "semaphore", func(ctx context.Context, req Request, resp *ResponseWriter) error {
		if string(req.Bytes()) == "fail" {
			return errors.New("cannot")
		}
		return echo(ctx, req, resp)
	})
	c, err := Dial(name, WithResponseConfig(testResponseCfg))
	require.NoError(t, err)
	resp, err := c.Call(ctxFor(t), []byte("one"))
	require.NoError(t, err)
	assert.Equal(t, "one", string(resp))
	_, err = c.Call(ctxFor(t), []byte("fail"))
	require.ErrorIs(t, err, ErrServerGone)
	awaitReport(t, reports, ErrNoResponse)
	_, err = c.Call(ctxFor(t), []byte("two"))
	require.ErrorIs(t, err, ErrServerGone, "no misaligned answer")
	require.NoError(t, c.Close())

	c, err = Dial(name, WithResponseConfig(testResponseCfg))
	require.NoError(t, err)
	defer c.Close()
	resp, err = c.Call(ctxFor(t), []byte("next client"))
	require.NoError(t, err)
	assert.Equal(t, "next client", string(resp))
}

// With WithErrorResponse an unanswered request gets the application's
// error payload and the session goes on; a handler error after its
// response is only reported.
func TestErrorResponse(t *testing.T) {
	name := uniqueName(t)
	_, reports := serveLocal(t, name, "semaphore", func(ctx context.Context, req Request, resp *ResponseWriter) error {
		switch string(req.Bytes()) {
		case "fail":
			return errors.New("cannot")
		case "answer then fail":
			if err := resp.Write([]byte("answered")); err != nil {
				return err
			}
			if err := resp.Write([]byte("twice")); !errors.Is(err, ErrResponseWritten) {
				return fmt.Errorf("second write: %v", err)
			}
			return errLate
		}
		return echo(ctx, req, resp)
	}, WithErrorResponse(func(req Request, err error) []byte {
		return []byte("error: " + err.Error() + " for " + string(req.Bytes()))
	}))
	c, err := Dial(name, WithResponseConfig(testResponseCfg))
	require.NoError(t, err)
	defer c.Close()
	for _, tc := range []struct{ req, want string }{
		{"one", "one"},
		{"fail", "error: cannot for fail"},
		{"two", "two"},
		{"answer then fail", "answered"},
		{"three", "three"},
	} {
		resp, err := c.Call(ctxFor(t), []byte(tc.req))
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(resp))
	}
	awaitReport(t, reports, errLate)
}

var errLate = errors.New("late failure")

// A call whose context ends gives up its place; the response to it is
// dropped when it comes and the calls after it stay aligned.
func TestAbandonedCallKeepsAlignment(t *testing.T) {
	name := uniqueName(t)
	release := make(chan struct{})
	serveLocal(t, name, "semaphore", func(ctx context.Context, req Request, resp *ResponseWriter) error {
		if string(req.Bytes()) == "slow" {
			<-release
		}
		return echo(ctx, req, resp)
	})
	c, err := Dial(name, WithResponseConfig(testResponseCfg))
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = c.Call(ctx, []byte("slow"))
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(release)
	for k := range 5 {
		resp, err := c.Call(ctxFor(t), pattern(10, k))
		require.NoError(t, err)
		assert.Equal(t, pattern(10, k), resp, "call %d after the abandoned one", k)
	}
}

func TestMisuse(t *testing.T) {
	name := uniqueName(t)
	_, err := Dial(name)
	require.ErrorIs(t, err, ErrServerNotFound)
	require.ErrorIs(t, err, ring.ErrBufferNotFound)

	srv, err := Listen(name, defaultCfg, WithErrorLog(nil))
	require.NoError(t, err)
	_, err = Listen(name, defaultCfg)
	require.ErrorIs(t, err, ring.ErrReaderAlreadyConnected)
	_, err = Listen(name, defaultCfg, WithNotifier("no-such-notifier"))
	require.ErrorIs(t, err, ring.ErrNotifierMismatch)
	require.Error(t, srv.Serve(context.Background(), nil), "nil handler")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, echo) }()
	require.Eventually(t, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.serving
	}, hangGuard, time.Millisecond)
	require.ErrorIs(t, srv.Serve(context.Background(), echo), ErrServing)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	c, err := Dial(name, WithResponseConfig(testResponseCfg))
	require.NoError(t, err)
	_, err = c.Commit()
	require.ErrorIs(t, err, ring.ErrNothingReserved)
	_, err = c.Send(nil)
	require.ErrorIs(t, err, ring.ErrInvalidFrameSize)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")
	_, err = c.Call(context.Background(), []byte("x"))
	require.ErrorIs(t, err, ErrClosed)
	_, err = c.Receive(context.Background())
	require.ErrorIs(t, err, ErrClosed)

	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "Close is idempotent")
	require.ErrorIs(t, srv.Serve(context.Background(), echo), ErrServerClosed)
	require.Empty(t, leftovers(name))
}

// Close ends the calls waiting on it.
func TestCloseEndsWaitingCalls(t *testing.T) {
	name := uniqueName(t)
	hold := make(chan struct{})
	serveLocal(t, name, "semaphore", func(ctx context.Context, req Request, resp *ResponseWriter) error {
		select {
		case <-hold:
		case <-ctx.Done():
		}
		return echo(ctx, req, resp)
	}, WithErrorLog(nil))
	defer close(hold)
	c, err := Dial(name, WithResponseConfig(testResponseCfg))
	require.NoError(t, err)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := c.Call(context.Background(), []byte("held"))
			errs <- err
		}()
	}
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.pending) == 3
	}, hangGuard, time.Millisecond)
	require.NoError(t, c.Close())
	for range 3 {
		require.ErrorIs(t, <-errs, ErrClosed)
	}
}

// The metadata a client writes on Dial reaches the server's OnInit. The
// request ring's metadata is written once in its life (the protocol's
// rule): a later client sees the first one's and cannot write its own.
func TestMetadataReachesOnInit(t *testing.T) {
	name := uniqueName(t)
	inits := make(chan string, 4)
	serveLocal(t, name, "semaphore", echo, WithOnInit(func(meta []byte) { inits <- string(meta) }))
	c, err := Dial(name, WithResponseConfig(testResponseCfg), WithMetadata([]byte("first client")))
	require.NoError(t, err)
	_, err = c.Call(ctxFor(t), []byte("x"))
	require.NoError(t, err)
	require.Equal(t, "first client", <-inits)
	require.NoError(t, c.Close())

	_, err = Dial(name, WithResponseConfig(testResponseCfg), WithMetadata([]byte("second client")))
	require.ErrorIs(t, err, ring.ErrMetadataAlreadyWritten)
	c, err = Dial(name, WithResponseConfig(testResponseCfg))
	require.NoError(t, err)
	_, err = c.Call(ctxFor(t), []byte("x"))
	require.NoError(t, err)
	require.Equal(t, "first client", <-inits)
	require.NoError(t, c.Close())
}

// WithClientWait bounds Serve's wait for a client, as the reference
// servers' 5 s does.
func TestClientWait(t *testing.T) {
	srv, err := Listen(uniqueName(t), defaultCfg, WithClientWait(200*time.Millisecond))
	require.NoError(t, err)
	defer srv.Close()
	require.ErrorIs(t, srv.Serve(context.Background(), echo), ErrNoClient)
}
