package duplex

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// hangGuard bounds every wait in the tests. It only turns a hang into a
// failure; no test passes or fails on how long something took.
const hangGuard = 60 * time.Second

// testResponseCfg keeps the tests' response rings small (the default is
// 256 MiB, as in the other implementations).
var testResponseCfg = ring.Config{MetadataSize: 4096, PayloadSize: 1 << 20}

// env is what a scenario's two sides share: the channel, and a line of
// events from the server side to the client side, which crosses the
// process boundary as lines on the child's stdout.
type env struct {
	name     string
	notifier string
	events   chan string
	signal   func(string) // server side: tell the client side
	crash    func()       // server side: die (a child exits; a goroutine server is closed)
}

// await waits for the server side to signal want.
func (e *env) await(want string) error {
	timer := time.NewTimer(hangGuard)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-e.events:
			if !ok {
				return fmt.Errorf("server side ended before signalling %q", want)
			}
			if ev == want {
				return nil
			}
		case <-timer.C:
			return fmt.Errorf("no %q from the server side", want)
		}
	}
}

// scenario is one duplex behaviour whose server side runs as a goroutine
// of the test process or in a child process, with the client in the test.
type scenario struct {
	name    string
	cfg     ring.Config // the request ring (the server's)
	handler func(e *env) Handler
	// serverOpts are the server's options beyond the notifier.
	serverOpts []Option
	clientOpts []Option
	client     func(t *testing.T, e *env, c *Client)
	// serverDies: the server side ends by crashing.
	serverDies bool
}

var scenarioRegistry = testsupport.Scenarios[*scenario]{}

func register(scs ...*scenario) []*scenario {
	for _, sc := range scs {
		scenarioRegistry.Add(sc.name, sc)
	}
	return scs
}

// serverSide is a running server, in this process or another.
type serverSide interface {
	stop() error // close the server and wait for it
}

type localServer struct {
	srv  *Server
	done chan error
}

func (l *localServer) stop() error {
	cerr := l.srv.Close()
	select {
	case err := <-l.done:
		if errors.Is(err, ErrServerClosed) {
			err = nil
		}
		return errors.Join(err, cerr)
	case <-time.After(hangGuard):
		return errors.New("Serve did not return after Close")
	}
}

// startLocalServer listens on e.name and serves the scenario's handler in
// a goroutine.
func startLocalServer(t *testing.T, sc *scenario, e *env, opts ...Option) *localServer {
	t.Helper()
	opts = append([]Option{WithNotifier(e.notifier), WithErrorLog(func(err error) { t.Log("server:", err) })},
		append(sc.serverOpts, opts...)...)
	srv, err := Listen(e.name, sc.cfg, opts...)
	require.NoError(t, err)
	l := &localServer{srv: srv, done: make(chan error, 1)}
	events := e.events
	e.signal = func(s string) { events <- s }
	e.crash = func() { go srv.Close() } // a goroutine cannot die; its server stops instead
	go func() { l.done <- srv.Serve(context.Background(), sc.handler(e)) }()
	return l
}

// startChild re-executes the test binary in a role (see runChild). The
// child's "EV x" lines go to events as x, and events is closed when the
// child's output ends.
func startChild(t testing.TB, role, scName, notifier, channel string, events chan string) *testsupport.Child {
	t.Helper()
	c := testsupport.Reexec(t, role, []string{childEnv + "=" + strings.Join([]string{role, scName, notifier, channel}, ":")})
	if events != nil {
		c.Follow("EV ", func(ev string) { events <- ev }, func() { close(events) })
	}
	return c
}

type remoteServer struct {
	c    *testsupport.Child
	dies bool
}

func (r *remoteServer) stop() error {
	err := r.c.Wait()
	if r.dies {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != crashCode {
			return fmt.Errorf("the server child should have crashed with code %d: %v", crashCode, err)
		}
		return nil
	}
	return err
}

// crashCode is the exit code of a server child that "crashes".
const crashCode = 3

// runScenario runs sc with the given notifier, the server in a goroutine
// or in a child process, the client in the test.
func runScenario(t *testing.T, sc *scenario, crossProcess bool, notifier string) {
	e := &env{name: uniqueName(t), notifier: notifier, events: make(chan string, 64)}
	var srv serverSide
	if crossProcess {
		c := startChild(t, "server", sc.name, notifier, e.name, e.events)
		c.Expect("READY")
		srv = &remoteServer{c: c, dies: sc.serverDies}
	} else {
		srv = startLocalServer(t, sc, e)
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop()
		}
	}()
	opts := append([]Option{WithNotifier(notifier), WithResponseConfig(testResponseCfg)}, sc.clientOpts...)
	c, err := Dial(e.name, opts...)
	require.NoError(t, err)
	func() {
		defer func() { require.NoError(t, c.Close()) }()
		sc.client(t, e, c)
	}()
	stopped = true
	require.NoError(t, srv.stop(), "server side")
	if sc.serverDies && crossProcess {
		// A killed server leaves its request ring behind; the next reader
		// of any name removes it, as CleanupStale does here.
		require.NoError(t, ring.CleanupStale())
	}
	require.Empty(t, leftovers(e.name), "files left behind")
}

// forModes runs each scenario with each notifier, the server as a goroutine
// and as a process.
func forModes(t *testing.T, notifiers []string, scs []*scenario) {
	for _, notifier := range notifiers {
		t.Run(notifier, func(t *testing.T) {
			for _, sc := range scs {
				testsupport.BothModes(t, sc.name, func(t *testing.T, cross bool) { runScenario(t, sc, cross, notifier) })
			}
		})
	}
}

// childRoles are the roles a child can play besides "server", by name.
var childRoles = map[string]func(scName, notifier, channel string) error{}

// runChild is the child process's main: role:scenario:notifier:channel.
func runChild(spec string) int {
	parts := strings.SplitN(spec, ":", 4)
	if len(parts) != 4 {
		fmt.Fprintf(os.Stderr, "bad child spec %q\n", spec)
		return 2
	}
	role, scName, notifier, channel := parts[0], parts[1], parts[2], parts[3]
	var err error
	switch role {
	case "server":
		err = runServerChild(scName, notifier, channel)
	default:
		f := childRoles[role]
		if f == nil {
			err = fmt.Errorf("unknown role")
		} else {
			err = f(scName, notifier, channel)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s %s: %v\n", role, scName, err)
		return 1
	}
	return 0
}

// runServerChild serves the scenario's handler until stdin closes.
func runServerChild(scName, notifier, channel string) error {
	sc := scenarioRegistry[scName]
	if sc == nil {
		return fmt.Errorf("unknown scenario")
	}
	opts := append([]Option{WithNotifier(notifier), WithErrorLog(func(err error) {
		fmt.Fprintln(os.Stderr, "server:", err)
	})}, sc.serverOpts...)
	srv, err := Listen(channel, sc.cfg, opts...)
	if err != nil {
		return err
	}
	var outMu sync.Mutex
	e := &env{name: channel, notifier: notifier,
		signal: func(s string) {
			outMu.Lock()
			defer outMu.Unlock()
			fmt.Println("EV " + s)
		},
		crash: func() { os.Exit(crashCode) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), sc.handler(e)) }()
	fmt.Println("READY")
	stdinClosed := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(stdinClosed) }()
	select {
	case <-stdinClosed:
		cerr := srv.Close()
		serr := <-done
		if errors.Is(serr, ErrServerClosed) {
			serr = nil
		}
		return errors.Join(serr, cerr)
	case serr := <-done:
		return errors.Join(serr, srv.Close())
	}
}

// Request contents: byte i of request k is (k+i) % 256, the "sequential"
// pattern of the CLIs.
func fillPattern(b []byte, k int) {
	for i := range b {
		b[i] = byte(k + i)
	}
}

func pattern(n, k int) []byte {
	b := make([]byte, n)
	fillPattern(b, k)
	return b
}

// echo answers with the request, written in place.
func echo(_ context.Context, req Request, resp *ResponseWriter) error {
	buf, err := resp.Reserve(req.Len())
	if err != nil {
		return err
	}
	copy(buf, req.Bytes())
	return resp.Commit()
}

func echoHandler(*env) Handler { return echo }

// ctxFor is a context bounded by the hang guard.
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}
