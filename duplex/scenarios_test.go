package duplex

// The ten scenarios of the reference's 13-DuplexChannel.feature, each run
// with the server as a goroutine and as a separate process. Scenarios 13.9
// and 13.10, where a side goes away mid-way, have tests of their own
// below. No check depends on timing except 13.4's lower bound, which load
// can only make longer.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

var defaultCfg = ring.Config{MetadataSize: 4096, PayloadSize: 1 << 20}

// 13.1: echo of 1 B, 1 KiB and 100 KiB.
var scEcho = &scenario{
	name:    "echo",
	cfg:     ring.Config{MetadataSize: 4096, PayloadSize: 1048576},
	handler: echoHandler,
	client: func(t *testing.T, _ *env, c *Client) {
		for k, n := range []int{1, 1024, 102400} {
			req := pattern(n, k)
			resp, err := c.Call(ctxFor(t), req)
			require.NoError(t, err, "request of %d bytes", n)
			require.Equal(t, req, resp, "response to the request of %d bytes", n)
		}
	},
}

// 13.2: ten requests sent one after the other come back in order, once
// each.
var scOrder = &scenario{
	name:    "order",
	cfg:     defaultCfg,
	handler: echoHandler,
	client: func(t *testing.T, _ *env, c *Client) {
		const n = 10
		for k := range n {
			seq, err := c.Send(pattern(100+k, k))
			require.NoError(t, err)
			require.Equal(t, uint64(k+1), seq, "request sequence")
		}
		for k := range n {
			resp, err := c.Receive(ctxFor(t))
			require.NoError(t, err)
			assert.Equal(t, uint64(k+1), resp.Seq(), "response sequence")
			assert.Equal(t, pattern(100+k, k), resp.Bytes(), "response %d", k)
			require.NoError(t, resp.Release())
		}
		// Nothing more comes: no response was duplicated.
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := c.Receive(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	},
}

// 13.3: twenty requests from one goroutine; then (beyond the reference,
// whose client needs external locking) concurrent, pipelined Calls, each
// getting its own response.
var scConcurrent = &scenario{
	name:    "concurrent",
	cfg:     defaultCfg,
	handler: echoHandler,
	client: func(t *testing.T, _ *env, c *Client) {
		const n = 20
		for k := range n {
			_, err := c.Send(pattern(64, k))
			require.NoError(t, err)
		}
		for k := range n {
			resp, err := c.Receive(ctxFor(t))
			require.NoError(t, err)
			assert.Equal(t, pattern(64, k), resp.Bytes(), "response %d", k)
			require.NoError(t, resp.Release())
		}

		const callers, calls = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for g := range callers {
			wg.Go(func() {
				var buf []byte
				for k := range calls {
					req := pattern(1+(g*calls+k)%300, g*calls+k)
					var err error
					if buf, err = c.AppendCall(ctxFor(t), buf[:0], req); err != nil {
						errs <- fmt.Errorf("caller %d call %d: %w", g, k, err)
						return
					}
					if string(buf) != string(req) {
						errs <- fmt.Errorf("caller %d call %d: response does not match its request", g, k)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	},
}

// 13.4: a handler taking 100 ms answers three requests one at a time, in
// order: three responses take at least 300 ms (a lower bound, which load
// only makes longer).
var scSlow = &scenario{
	name: "slow-handler",
	cfg:  defaultCfg,
	handler: func(*env) Handler {
		return func(ctx context.Context, req Request, resp *ResponseWriter) error {
			time.Sleep(100 * time.Millisecond)
			return echo(ctx, req, resp)
		}
	},
	client: func(t *testing.T, _ *env, c *Client) {
		start := time.Now()
		for k := range 3 {
			_, err := c.Send(pattern(32, k))
			require.NoError(t, err)
		}
		for k := range 3 {
			resp, err := c.Receive(ctxFor(t))
			require.NoError(t, err)
			assert.Equal(t, pattern(32, k), resp.Bytes(), "response %d in order", k)
			require.NoError(t, resp.Release())
		}
		assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	},
}

// 13.5: the server dies while it handles a request; the client's wait for
// the response ends with ErrServerGone well within its 5 s timeout.
var scServerDeath = &scenario{
	name: "server-death",
	cfg:  defaultCfg,
	handler: func(e *env) Handler {
		return func(ctx context.Context, req Request, resp *ResponseWriter) error {
			time.Sleep(100 * time.Millisecond)
			e.crash()
			<-ctx.Done() // a goroutine server is being closed
			return ctx.Err()
		}
	},
	serverDies: true,
	client: func(t *testing.T, _ *env, c *Client) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := c.Call(ctx, pattern(1024, 0))
		require.ErrorIs(t, err, ErrServerGone)
		require.NotErrorIs(t, err, context.DeadlineExceeded)
		// A closing server (the goroutine case) removes its request
		// ring just after it stops answering.
		require.Eventually(t, func() bool { return !c.ServerConnected() }, hangGuard, 10*time.Millisecond)
	},
}

// 13.6: a handler that doubles the request blocks on the full 10 KiB
// response ring until the client reads a response.
var scFull = &scenario{
	name: "response-ring-full",
	cfg:  ring.Config{MetadataSize: 1024, PayloadSize: 10240},
	// The server's writes wait as long as the test needs.
	serverOpts: []Option{WithRingOptions(ring.WithWriteTimeout(hangGuard))},
	clientOpts: []Option{WithResponseConfig(ring.Config{MetadataSize: 1024, PayloadSize: 10240})},
	handler: func(e *env) Handler {
		return func(ctx context.Context, req Request, resp *ResponseWriter) error {
			e.signal(fmt.Sprintf("writing %d", req.Seq()))
			buf, err := resp.Reserve(2 * req.Len())
			if err != nil {
				return err
			}
			copy(buf, req.Bytes())
			copy(buf[req.Len():], req.Bytes())
			if err := resp.Commit(); err != nil {
				return err
			}
			e.signal(fmt.Sprintf("wrote %d", req.Seq()))
			return nil
		}
	},
	client: func(t *testing.T, e *env, c *Client) {
		want := func(k int) []byte { return append(pattern(4096, k), pattern(4096, k)...) }
		for k := range 2 {
			_, err := c.Send(pattern(4096, k))
			require.NoError(t, err)
		}
		require.NoError(t, e.await("wrote 1"))
		require.NoError(t, e.await("writing 2"))
		// The second 8 KiB response cannot fit beside the first, unread:
		// the server's write is blocked, not done.
		free := c.r.OIEB().PayloadFreeBytes.Load()
		require.Less(t, free, layout.FrameSpan(8192), "room for a second response without a read")
		select {
		case ev := <-e.events:
			require.NotEqual(t, "wrote 2", ev, "the second response was written without room")
		case <-time.After(100 * time.Millisecond):
		}
		for k := range 2 {
			resp, err := c.Receive(ctxFor(t))
			require.NoError(t, err)
			assert.Equal(t, want(k), resp.Bytes(), "response %d", k)
			require.NoError(t, resp.Release())
		}
		require.NoError(t, e.await("wrote 2"))
	},
}

// 13.7: a request written in place, without allocating, comes back.
var scZeroCopy = &scenario{
	name:    "zero-copy",
	cfg:     defaultCfg,
	handler: echoHandler,
	client: func(t *testing.T, _ *env, c *Client) {
		buf, err := c.Reserve(4096)
		require.NoError(t, err)
		fillPattern(buf, 7)
		seq, err := c.Commit()
		require.NoError(t, err)
		require.Equal(t, uint64(1), seq)
		resp, err := c.Receive(ctxFor(t))
		require.NoError(t, err)
		assert.Equal(t, pattern(4096, 7), resp.Bytes())
		require.NoError(t, resp.Release())

		const runs = 50
		var sendErr error
		allocs := testing.AllocsPerRun(runs, func() {
			buf, err := c.Reserve(4096)
			if err == nil {
				buf[0] = 1
				_, err = c.Commit()
			}
			sendErr = errors.Join(sendErr, err)
		})
		require.NoError(t, sendErr)
		assert.Zero(t, allocs, "allocations per zero-copy send")
		for range runs + 1 { // AllocsPerRun runs once more to warm up
			resp, err := c.Receive(ctxFor(t))
			require.NoError(t, err)
			require.NoError(t, resp.Release())
		}
	},
}

// 13.8: a handler that answers with the request XOR 0xFF, written as new
// data, not the request frame handed back.
var scXOR = &scenario{
	name: "xor",
	cfg:  defaultCfg,
	handler: func(*env) Handler {
		return func(_ context.Context, req Request, resp *ResponseWriter) error {
			buf, err := resp.Reserve(req.Len())
			if err != nil {
				return err
			}
			for i, b := range req.Bytes() {
				buf[i] = b ^ 0xFF
			}
			return resp.Commit()
		}
	},
	client: func(t *testing.T, _ *env, c *Client) {
		req := pattern(10240, 3)
		resp, err := c.Call(ctxFor(t), req)
		require.NoError(t, err)
		require.Len(t, resp, len(req))
		for i := range req {
			if resp[i] != req[i]^0xFF {
				t.Fatalf("byte %d: got %#x, want %#x", i, resp[i], req[i]^0xFF)
			}
		}
	},
}

var genericScenarios = register(scEcho, scOrder, scConcurrent, scSlow, scServerDeath, scFull, scZeroCopy, scXOR)

// modeNotifiers are the notifiers every scenario runs with: the protocol's
// own, and the futex, the Go-only default. The echo runs with all.
var modeNotifiers = []string{"semaphore", "futex"}

func TestScenarios(t *testing.T) {
	forModes(t, modeNotifiers, genericScenarios)
}

func TestEchoEveryNotifier(t *testing.T) {
	var others []string
	for _, n := range ring.NotifierNames() {
		if n != "semaphore" && n != "futex" {
			others = append(others, n)
		}
	}
	forModes(t, others, []*scenario{scEcho})
}
