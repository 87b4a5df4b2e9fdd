package duplex

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// withConnectHook has f called after each look the server takes for a
// client's response ring.
func withConnectHook(f func()) Option { return func(o *options) { o.connectHook = f } }

// failOrEcho fails the request "fail" (leaving it unanswered) and echoes
// the others.
func failOrEcho(ctx context.Context, req Request, resp *ResponseWriter) error {
	if string(req.Bytes()) == "fail" {
		return errors.New("cannot")
	}
	return echo(ctx, req, resp)
}

// handClient is a client made of the two rings, so that a test can close
// them one at a time.
func handClient(t *testing.T, name string) (resp *ring.Reader, req *ring.Writer) {
	t.Helper()
	resp, err := ring.NewReader(name+"_response", testResponseCfg)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Close() })
	req, err = ring.Connect(name + "_request")
	require.NoError(t, err)
	t.Cleanup(func() { req.Close() })
	return resp, req
}

// awaitServer waits until the server is connected to the response ring
// (connected) or not.
func awaitServer(t *testing.T, resp *ring.Reader, connected bool) {
	t.Helper()
	ctx := ctxFor(t)
	for (resp.OIEB().WriterPID.Load() != 0) != connected {
		select {
		case <-ctx.Done():
			t.Fatalf("the server's writer never became connected=%v", connected)
		case <-time.After(time.Millisecond):
		}
	}
}

// The server ends a session (an unanswered request) and looks for its next
// client while the last client has closed its request ring but not yet its
// response ring. That ring is not the next client's: the server passes
// over it, and the next client's first request is answered (it used to be
// dropped as "client gone", and that client waited forever).
func TestServerPassesOverTheLastClientsResponseRing(t *testing.T) {
	name := uniqueName(t)
	looks := make(chan struct{}, 1024)
	_, reports := serveLocal(t, name, "semaphore", failOrEcho, withConnectHook(func() {
		select {
		case looks <- struct{}{}:
		default:
		}
	}))
	resp, req := handClient(t, name)
	require.NoError(t, req.WriteFrame([]byte("fail")))
	awaitReport(t, reports, ErrNoResponse)
	awaitServer(t, resp, false) // it ended the session: it closed its end

	// The session runs: no look was taken since it began. Close the
	// request side and wait for the server's next look, taken while the
	// response ring is still there.
	for len(looks) > 0 {
		<-looks
	}
	require.NoError(t, req.Close())
	select {
	case <-looks:
	case <-ctxFor(t).Done():
		t.Fatal("the server did not look for a next client")
	}
	require.NoError(t, resp.Close())

	c, err := Dial(name, WithResponseConfig(testResponseCfg))
	require.NoError(t, err)
	defer c.Close()
	got, err := c.Call(ctxFor(t), []byte("next client"))
	require.NoError(t, err)
	assert.Equal(t, "next client", string(got))
}

// The server finds a client's response ring while that client is already
// leaving (its request ring closed), and the client's response ring is gone
// and a new client there before the server reads anything. The new
// client's first request, read in the old client's session, is not dropped
// but answered to the new client. (The server's long liveness interval
// keeps its read from ending the session first, so that the request comes
// in it; if the machine is slow enough to end it anyway, the test passes
// without having exercised the case.)
func TestFirstRequestOfANewerClientIsKept(t *testing.T) {
	name := uniqueName(t)
	serveLocal(t, name, "semaphore", failOrEcho, WithRingOptions(ring.WithLivenessInterval(3*time.Second)))
	resp, req := handClient(t, name)
	require.NoError(t, req.Close())
	awaitServer(t, resp, true)
	require.NoError(t, resp.Close())

	c, err := Dial(name, WithResponseConfig(testResponseCfg))
	require.NoError(t, err)
	defer c.Close()
	got, err := c.Call(ctxFor(t), []byte("next client"))
	require.NoError(t, err)
	assert.Equal(t, "next client", string(got))
}
