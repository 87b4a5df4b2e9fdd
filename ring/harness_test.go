package ring

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
)

// hangGuard bounds every wait in the tests. It only turns a hang into a
// failure; no test passes or fails on how long something took.
const hangGuard = 60 * time.Second

// scenario is one ring behaviour, written so that its reader side and its
// writer side can run as goroutines of one process or in two processes.
// Both sides are plain functions of the Reader or Writer returning an
// error, so the child process can run its side from the scenario's name.
type scenario struct {
	name string
	cfg  Config
	// setup runs on the reader's side after the buffer exists and before
	// the writer starts (to corrupt it, say).
	setup func(r *Reader) error
	// connectErr, when set, is the error Connect must fail with; write is
	// then not run.
	connectErr error
	write      func(w *Writer) error
	read       func(r *Reader) error
}

var scenarioRegistry = testsupport.Scenarios[*scenario]{}

func register(scs ...*scenario) []*scenario {
	for _, sc := range scs {
		scenarioRegistry.Add(sc.name, sc)
	}
	return scs
}

// runWriterSide connects and runs the scenario's writer side.
func (sc *scenario) runWriterSide(name string) error {
	w, err := Connect(name)
	if sc.connectErr != nil {
		if err == nil {
			w.Close()
			return fmt.Errorf("connect succeeded, want %v", sc.connectErr)
		}
		if !errors.Is(err, sc.connectErr) {
			return fmt.Errorf("connect: got %v, want %v", err, sc.connectErr)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	werr := sc.write(w)
	return errors.Join(werr, w.Close())
}

// runScenario runs sc with the writer in a goroutine (inproc) or in a
// child process (xproc); the reader is always this process, and uses the
// named notifier, which the writer adopts.
func runScenario(t *testing.T, sc *scenario, crossProcess bool, notifier string) {
	name := uniqueName(t)
	n, err := NewNotifier(notifier)
	require.NoError(t, err)
	r, err := NewReader(name, sc.cfg, WithNotifier(n))
	require.NoError(t, err)
	defer func() { require.NoError(t, r.Close()) }()
	if sc.setup != nil {
		require.NoError(t, sc.setup(r))
	}

	var wait func() error
	if crossProcess {
		wait = startChild(t, "writer", sc.name, name).Wait
	} else {
		done := make(chan error, 1)
		go func() { done <- sc.runWriterSide(name) }()
		wait = func() error {
			select {
			case err := <-done:
				return err
			case <-time.After(hangGuard):
				return errors.New("writer goroutine hung")
			}
		}
	}
	var rerr error
	if sc.read != nil {
		rerr = sc.read(r)
	}
	werr := wait()
	require.NoError(t, werr, "writer side")
	require.NoError(t, rerr, "reader side")
}

// forBothModes runs each scenario with every notifier, as goroutines and
// as processes.
func forBothModes(t *testing.T, scs []*scenario) {
	for _, notifier := range NotifierNames() {
		t.Run(notifier, func(t *testing.T) {
			for _, sc := range scs {
				testsupport.BothModes(t, sc.name, func(t *testing.T, cross bool) { runScenario(t, sc, cross, notifier) })
			}
		})
	}
}

// forEachNotifier runs f once per notifier.
func forEachNotifier(t *testing.T, f func(t *testing.T, notifier string)) {
	for _, notifier := range NotifierNames() {
		t.Run(notifier, func(t *testing.T) { f(t, notifier) })
	}
}

// withNotifier is the reader option for a notifier by name.
func withNotifier(t testing.TB, name string) Option {
	t.Helper()
	n, err := NewNotifier(name)
	require.NoError(t, err)
	return WithNotifier(n)
}

// startChild re-executes the test binary in a role (see runChild), on a
// scenario (or, for the hold-reader role, a notifier) and a buffer.
func startChild(t testing.TB, role, scenarioName, buffer string) *testsupport.Child {
	t.Helper()
	return testsupport.Reexec(t, role, []string{childEnv + "=" + role + ":" + scenarioName + ":" + buffer})
}

// runChild is the child process's main: role:scenario:buffer.
func runChild(spec string) int {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) != 3 {
		fmt.Fprintf(os.Stderr, "bad child spec %q\n", spec)
		return 2
	}
	role, scName, buffer := parts[0], parts[1], parts[2]
	fail := func(err error) int {
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s %s: %v\n", role, scName, err)
			return 1
		}
		return 0
	}
	switch role {
	case "writer":
		sc := scenarioRegistry[scName]
		if sc == nil {
			return fail(fmt.Errorf("unknown scenario"))
		}
		return fail(sc.runWriterSide(buffer))
	case "hold-reader":
		// Create the buffer with the notifier named in place of the
		// scenario, say so, and hold it until killed or stdin closes.
		notifier := scName
		if notifier == "" {
			notifier = "semaphore"
		}
		n, err := NewNotifier(notifier)
		if err != nil {
			return fail(err)
		}
		r, err := NewReader(buffer, Config{MetadataSize: 64, PayloadSize: 4096}, WithNotifier(n))
		if err != nil {
			return fail(err)
		}
		fmt.Println("READY")
		io.Copy(io.Discard, os.Stdin)
		return fail(r.Close())
	case "hold-writer":
		// Connect, write three frames, say so, and hold on until killed.
		w, err := Connect(buffer)
		if err != nil {
			return fail(err)
		}
		for k := 0; k < 3; k++ {
			if err := writePatternFrame(w, k, 100, k%2 == 0); err != nil {
				return fail(err)
			}
		}
		fmt.Println("WROTE")
		io.Copy(io.Discard, os.Stdin)
		return fail(w.Close())
	case "stuck-writer":
		// Connect and write until the ring is full; the write that blocks
		// is where the parent kills us.
		w, err := Connect(buffer, WithWriteTimeout(time.Hour))
		if err != nil {
			return fail(err)
		}
		fmt.Println("CONNECTED")
		for k := 0; ; k++ {
			if err := writePatternFrame(w, k, 1000, true); err != nil {
				return fail(err)
			}
		}
	}
	if f := extraChildRoles[role]; f != nil {
		return fail(f(buffer))
	}
	return fail(fmt.Errorf("unknown role"))
}

// Frame contents: byte i of frame k (0-based) is (k+i) % 256, the
// "sequential" pattern of the CLIs.

func fillPattern(b []byte, k int) {
	for i := range b {
		b[i] = byte(k + i)
	}
}

func checkPattern(b []byte, k int) error {
	for i := range b {
		if b[i] != byte(k+i) {
			return fmt.Errorf("frame %d byte %d: got %#x, want %#x", k, i, b[i], byte(k+i))
		}
	}
	return nil
}

// writePatternFrame writes frame k of n bytes, in place (Reserve/Commit)
// or by copy (WriteFrame).
func writePatternFrame(w *Writer, k, n int, zeroCopy bool) error {
	if zeroCopy {
		buf, err := w.Reserve(n)
		if err != nil {
			return fmt.Errorf("reserve frame %d (%d bytes): %w", k, n, err)
		}
		fillPattern(buf, k)
		return w.Commit()
	}
	buf := make([]byte, n)
	fillPattern(buf, k)
	if err := w.WriteFrame(buf); err != nil {
		return fmt.Errorf("write frame %d (%d bytes): %w", k, n, err)
	}
	return nil
}

// writeFrames writes count frames whose sizes size(k) gives, alternating
// zero-copy and copying writes.
func writeFrames(w *Writer, count int, size func(k int) int) error {
	for k := 0; k < count; k++ {
		if err := writePatternFrame(w, k, size(k), k%2 == 0); err != nil {
			return err
		}
	}
	return nil
}

// readFrames reads count frames and checks size, sequence and every byte.
// When after is set it runs after each frame is released.
func readFrames(r *Reader, count int, size func(k int) int, after func(k int) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	for k := 0; k < count; k++ {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			return fmt.Errorf("read frame %d: %w", k, err)
		}
		if f.Seq() != uint64(k+1) {
			return fmt.Errorf("frame %d: sequence %d", k, f.Seq())
		}
		if f.Len() != size(k) {
			return fmt.Errorf("frame %d: %d bytes, want %d", k, f.Len(), size(k))
		}
		if err := checkPattern(f.Bytes(), k); err != nil {
			return err
		}
		if err := f.Release(); err != nil {
			return err
		}
		if after != nil {
			if err := after(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// expectEnd reads once more and expects the writer to have closed.
func expectEnd(r *Reader) error {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	f, err := r.ReadFrame(ctx)
	if err == nil {
		f.Release()
		return fmt.Errorf("unexpected frame %d after the last", f.Seq())
	}
	if !errors.Is(err, ErrWriterClosed) {
		return fmt.Errorf("after the last frame: %w, want ErrWriterClosed", err)
	}
	return nil
}

// waitUntil polls cond (every millisecond) until it holds; it is for
// sequencing the two sides, never for judging them.
func waitUntil(what string, cond func() bool) error {
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

func constSize(n int) func(int) int { return func(int) int { return n } }

// cycleSizes cycles through sizes.
func cycleSizes(sizes ...int) func(int) int {
	return func(k int) int { return sizes[k%len(sizes)] }
}

func init() {
	extraChildRoles["connect-missing"] = func(buffer string) error {
		_, err := Connect(buffer)
		if !errors.Is(err, ErrBufferNotFound) {
			return fmt.Errorf("connect to a missing buffer: %v, want ErrBufferNotFound", err)
		}
		return nil
	}
}

// extraChildRoles are roles defined next to the tests that use them.
var extraChildRoles = map[string]func(buffer string) error{}
