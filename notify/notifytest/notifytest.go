package notifytest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
)

// DefaultHangGuard bounds every wait that must end: a notifier that loses
// a wake-up fails the subtest after this long instead of hanging it.
const DefaultHangGuard = 60 * time.Second

// window is how many data events may be outstanding in a stream: the
// producer takes one unit of "free" per event and the consumer gives it
// back. slot is one event's payload: eight words the producer writes with
// plain stores before it posts and the consumer checks after its wait.
const (
	window = 64
	slot   = 64
)

// An Option tunes Run.
type Option func(*config)

type config struct {
	reportsWriterWaiting bool
	events               uint64
	guard                time.Duration
}

// ReportsWriterWaiting declares that the strategy can tell when the writer
// is asleep for space (the semaphore and futex notifiers can): the
// writer-waiting subtest then requires WriterWaiting to become true while
// the writer sleeps. Without it, the subtest only requires that it is
// false while nobody waits.
func ReportsWriterWaiting() Option { return func(c *config) { c.reportsWriterWaiting = true } }

// Events sets how many events the window-64 streams send (default
// 1,000,000, a tenth of it under the race detector); the ping-pong
// streams send a tenth of that.
func Events(n uint64) Option { return func(c *config) { c.events = n } }

// HangGuard sets how long a wait that must end may take before the
// subtest fails (default DefaultHangGuard). A lost wake-up costs a
// subtest this long.
func HangGuard(d time.Duration) Option { return func(c *config) { c.guard = d } }

// Run checks the strategy registered under name against the Notifier
// contract, as subtests of t (see the package documentation for the
// list). The test binary must link the strategy in and serve Run's child
// processes from its TestMain (Main, ServeChild).
func Run(t *testing.T, name string, opts ...Option) {
	t.Helper()
	cfg := config{events: 1_000_000, guard: DefaultHangGuard}
	if raceEnabled {
		cfg.events /= 10
	}
	for _, o := range opts {
		o(&cfg)
	}
	if _, ok := notify.LookupName(name); !ok {
		t.Fatalf("notifytest: no strategy %q is registered (registered: %v)", name, notify.Names())
	}
	s := &suite{name: name, cfg: cfg}
	t.Run("word", s.word)
	t.Run("post-before-wait", s.postBeforeWait)
	t.Run("wait-before-post", func(t *testing.T) { bothModes(t, s.waitBeforePost) })
	t.Run("deadline", s.deadline)
	t.Run("coalescing", s.coalescing)
	t.Run("writer-waiting", s.writerWaiting)
	t.Run("close-while-waiting", func(t *testing.T) { bothModes(t, s.closeWhileWaiting) })
	for _, w := range []uint64{window, 1} {
		t.Run(fmt.Sprintf("stream-window-%d", w), func(t *testing.T) {
			bothModes(t, func(t *testing.T, cross bool) { s.stream(t, w, cross) })
		})
	}
	t.Run("remove", s.remove)
}

type suite struct {
	name string
	cfg  config
}

func bothModes(t *testing.T, f func(t *testing.T, cross bool)) {
	t.Run("goroutines", func(t *testing.T) { f(t, false) })
	t.Run("processes", func(t *testing.T) { f(t, true) })
}

// prefix starts the name of every buffer the suite creates.
var (
	prefix  = fmt.Sprintf("zbnotifytest-%d-", os.Getpid())
	counter atomic.Uint64
)

// env is a segment holding an OIEB and a payload area of window slots,
// with the reader's notifier attached.
type env struct {
	strategy string
	name     string
	seg      *shm.Segment
	o        *layout.OIEB
	reader   notify.Notifier
	guard    time.Duration
	// stuck is set when a goroutine of the test is still inside a
	// notifier call long after the hang guard: the cleanups then remove
	// the buffer's names but leave alone the mapping and the notifiers
	// that the goroutine still uses.
	stuck atomic.Bool
}

// newEnv creates a buffer whose stream window is w units (1: ping-pong,
// in which each side sleeps for every event). The test's cleanup closes
// and removes everything, and fails if anything is left in /dev/shm. It
// is registered as soon as the segment exists, so that every way out of
// the test — a failed step here included — removes the buffer.
func (s *suite) newEnv(t *testing.T, w uint64) *env {
	t.Helper()
	n, err := notify.New(s.name)
	require.NoError(t, err)
	// The name ends in "-b", so that a glob for one buffer's files never
	// matches another's ("…-1-b" is not a prefix of "…-11-b").
	e := &env{strategy: s.name, name: fmt.Sprintf("%s%d-b", prefix, counter.Add(1)), reader: n, guard: s.cfg.guard}
	e.seg, err = shm.Create(e.name, layout.OIEBSize+window*slot, 0o600)
	require.NoError(t, err)
	attached := false
	t.Cleanup(func() {
		if e.stuck.Load() {
			e.removeNames(t)
			return
		}
		if attached {
			assert.NoError(t, e.reader.Close(), "the reader's Close")
		}
		// Remove also takes what a failed Create left behind.
		assert.NoError(t, e.reader.Remove(e.name), "the reader's Remove")
		assert.NoError(t, shm.Unlink(e.name))
		assert.NoError(t, e.seg.Close())
		e.checkNothingLeft(t)
	})
	e.o, err = layout.View(e.seg.Data)
	require.NoError(t, err)
	e.o.Init(0, window*slot, n.Word())
	e.o.PayloadFreeBytes.Store(w)
	require.NoError(t, n.Create(e.name, e.o, 0o600), "Create")
	attached = true
	return e
}

// removeNames removes what the buffer has in /dev/shm while a goroutine
// may still use its notifiers and mapping: the names go, the objects stay
// until the process ends. The reader's notifier is not touched; Remove
// works from any instance, as in a stale buffer's cleanup.
func (e *env) removeNames(t *testing.T) {
	t.Helper()
	if n, err := notify.New(e.strategy); assert.NoError(t, err) {
		assert.NoError(t, n.Remove(e.name), "Remove")
	}
	assert.NoError(t, shm.Unlink(e.name))
	e.checkNothingLeft(t)
}

func (e *env) checkNothingLeft(t *testing.T) {
	t.Helper()
	left, _ := filepath.Glob(shm.Dir + "/*" + e.name + "*")
	assert.Empty(t, left, "Remove left the buffer's files behind")
}

// side is the writer's side of a buffer: its own mapping and notifier.
type side struct {
	seg     *shm.Segment
	o       *layout.OIEB
	n       notify.Notifier
	payload []byte
}

// openWriter maps an existing buffer and attaches the writer's side,
// adopting the recorded notifier, as a ring writer does.
func openWriter(name string) (*side, error) {
	seg, err := shm.Open(name, false, layout.OIEBSize+window*slot)
	if err != nil {
		return nil, err
	}
	o, err := layout.View(seg.Data)
	if err == nil {
		var n notify.Notifier
		if n, err = notify.FromWord(o.Reserved[0].Load()); err == nil {
			if err = n.Open(name, o); err == nil {
				return &side{seg: seg, o: o, n: n, payload: seg.Data[layout.OIEBSize:]}, nil
			}
			err = fmt.Errorf("open: %w", err)
		}
	}
	_ = seg.Close()
	return nil, err
}

func (s *side) unmap() { _ = s.seg.Close() }

// writer opens the writer's side in this process, closed and unmapped by
// the test's cleanup.
func (e *env) writer(t *testing.T) *side {
	t.Helper()
	w, err := openWriter(e.name)
	require.NoError(t, err)
	t.Cleanup(func() {
		if e.stuck.Load() {
			return // a goroutine still uses both
		}
		assert.NoError(t, w.n.Close(), "the writer's Close")
		w.unmap()
	})
	return w
}

// dataReady is the reader's condition: more events written than consumed.
func dataReady(o *layout.OIEB, consumed *uint64) func() bool {
	return func() bool { return o.PayloadWrittenCount.Load() != *consumed }
}

// spaceReady is the writer's condition: at least one unit free.
func spaceReady(o *layout.OIEB) func() bool {
	return func() bool { return o.PayloadFreeBytes.Load() > 0 }
}

func putSlot(payload []byte, k uint64) {
	b := payload[(k%window)*slot:]
	for i := uint64(0); i < slot/8; i++ {
		binary.LittleEndian.PutUint64(b[i*8:], k*8+i)
	}
}

func checkSlot(payload []byte, k uint64) error {
	b := payload[(k%window)*slot:]
	for i := uint64(0); i < slot/8; i++ {
		if got := binary.LittleEndian.Uint64(b[i*8:]); got != k*8+i {
			return fmt.Errorf("event %d word %d: got %d, want %d (the payload is not visible after the wait)", k, i, got, k*8+i)
		}
	}
	return nil
}

// produce sends events events: wait for a free unit, fill the slot,
// publish, post.
func produce(w *side, events uint64, guard time.Duration) error {
	ready := spaceReady(w.o)
	for k := uint64(0); k < events; k++ {
		for !ready() {
			if ok, err := guarded(w.n.WaitSpace, ready, guard); err != nil || (!ok && !ready()) {
				return fmt.Errorf("event %d: the space wait gave %v, %v", k, ok, err)
			}
		}
		w.o.PayloadFreeBytes.Add(^uint64(0))
		putSlot(w.payload, k)
		w.o.PayloadWrittenCount.Add(1)
		if err := w.n.PostData(); err != nil {
			return fmt.Errorf("event %d: PostData: %w", k, err)
		}
	}
	return nil
}

// consume receives events events: one WaitData each, check the slot, give
// the unit back, post.
func (e *env) consume(events uint64, guard time.Duration) error {
	var consumed uint64
	ready := dataReady(e.o, &consumed)
	payload := e.seg.Data[layout.OIEBSize:]
	for consumed < events {
		ok, err := guarded(e.reader.WaitData, ready, guard)
		if err != nil || !ok {
			if err == nil && ready() {
				continue // an early return (a peer's close-wake) with data there
			}
			return fmt.Errorf("event %d: the data wait gave %v, %v", consumed, ok, err)
		}
		if err := checkSlot(payload, consumed); err != nil {
			return err
		}
		consumed++
		e.o.PayloadFreeBytes.Add(1)
		if err := e.reader.PostSpace(); err != nil {
			return fmt.Errorf("event %d: PostSpace: %w", consumed, err)
		}
	}
	return nil
}

// guarded waits with the hang guard as the timeout. A wait that lasts the
// whole guard lost its wake-up, whatever it returns: a conditional
// notifier checks its condition once more at the timeout, and finds the
// event that never woke it.
func guarded(wait func(func() bool, time.Duration) (bool, error), ready func() bool, guard time.Duration) (bool, error) {
	start := time.Now()
	ok, err := wait(ready, guard)
	if err == nil && time.Since(start) >= guard {
		return false, fmt.Errorf("the wait lasted its whole timeout (%v): the wake-up was lost", guard)
	}
	return ok, err
}

// background runs f in a goroutine and delivers its result on the
// channel; join takes it. A panic in f is f's error, so that a notifier
// that panics fails the subtest rather than end the test binary before
// any cleanup ran. The test's cleanup waits for f, so that a failing
// test never closes a notifier that f still uses — for joinBound at most:
// an f still running then is in a notifier call that ignores its timeout,
// and the buffer is left to removeNames.
func (e *env) background(t *testing.T, f func() error) <-chan error {
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- catchPanic(f)
	}()
	t.Cleanup(func() {
		if e.stuck.Load() {
			return
		}
		select {
		case <-finished:
		case <-time.After(e.joinBound()):
			e.stuck.Store(true)
			t.Errorf("a goroutine of the test is still in a notifier call %v after the test: a wait ignores its timeout", e.joinBound())
		}
	})
	return done
}

// joinBound is how long a goroutine or child may still run after the
// test stops waiting for its events: its own waits end within the hang
// guard of their start, so twice the guard only ever catches a hang.
func (e *env) joinBound() time.Duration { return 2 * e.guard }

// join takes background's result, waiting joinBound at most.
func (e *env) join(done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-time.After(e.joinBound()):
		e.stuck.Store(true)
		return fmt.Errorf("a goroutine of the test is still in a notifier call after %v: a wait ignores its timeout", e.joinBound())
	}
}

// catchPanic runs f and turns a panic in it into an error.
func catchPanic(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return f()
}

// settle gives a goroutine that is about to wait a moment to get into its
// wait, so that a post comes after it more often than not. Nothing is
// judged on it: either order must work.
func settle() { time.Sleep(20 * time.Millisecond) }

func (s *suite) word(t *testing.T) {
	n, err := notify.New(s.name)
	require.NoError(t, err)
	k, _, err := notify.ParseWord(n.Word())
	require.NoError(t, err, "Word must be a notifier word (notify.Kind.Word)")
	st, ok := notify.Lookup(k)
	require.True(t, ok, "the word's kind %d is registered", k)
	assert.Equal(t, s.name, st.Name, "the word's kind is the strategy's")
	back, err := notify.FromWord(n.Word())
	require.NoError(t, err)
	assert.Equal(t, n.Word(), back.Word(), "FromWord rebuilds the default parameters")
}

func (s *suite) postBeforeWait(t *testing.T) {
	e := s.newEnv(t, window)
	w := e.writer(t)
	w.o.PayloadWrittenCount.Add(1)
	require.NoError(t, w.n.PostData())
	var consumed uint64
	ok, err := guarded(e.reader.WaitData, dataReady(e.o, &consumed), s.cfg.guard)
	require.NoError(t, err)
	assert.True(t, ok, "a data post before the wait is not lost")

	e.o.PayloadFreeBytes.Store(0)
	e.o.PayloadFreeBytes.Add(1)
	require.NoError(t, e.reader.PostSpace())
	ok, err = guarded(w.n.WaitSpace, spaceReady(w.o), s.cfg.guard)
	require.NoError(t, err)
	assert.True(t, ok, "a space post before the wait is not lost")
}

func (s *suite) waitBeforePost(t *testing.T, cross bool) {
	e := s.newEnv(t, window)
	var consumed uint64
	done := e.background(t, func() error {
		ok, err := guarded(e.reader.WaitData, dataReady(e.o, &consumed), s.cfg.guard)
		if err == nil && !ok {
			err = errors.New("the wait returned false: the post was lost")
		}
		return err
	})
	settle()
	// The post alone must wake the waiter: the writer's side stays open
	// until the waiter is done (its Close might wake the waiter too).
	if cross {
		c := startChild(t, "post", e.name, 0, s.cfg.guard)
		err := e.join(done)
		e.o.PayloadReadCount.Store(1) // tells the child it may close
		require.NoError(t, err)
		require.NoError(t, c.wait(e.joinBound()))
	} else {
		w, err := openWriter(e.name)
		require.NoError(t, err)
		w.o.PayloadWrittenCount.Add(1)
		require.NoError(t, w.n.PostData())
		if err = e.join(done); e.stuck.Load() {
			t.Fatal(err) // the waiter still uses the notifiers and mapping
		}
		require.NoError(t, w.n.Close())
		w.unmap()
		require.NoError(t, err)
	}

	// And the other direction, in this process.
	w := e.writer(t)
	w.o.PayloadFreeBytes.Store(0)
	done = e.background(t, func() error {
		ok, err := guarded(w.n.WaitSpace, spaceReady(w.o), s.cfg.guard)
		if err == nil && !ok {
			err = errors.New("the space wait returned false: the post was lost")
		}
		return err
	})
	settle()
	e.o.PayloadFreeBytes.Add(1)
	require.NoError(t, e.reader.PostSpace())
	require.NoError(t, e.join(done))
}

func (s *suite) deadline(t *testing.T) {
	e := s.newEnv(t, window)
	w := e.writer(t)
	var consumed uint64
	ok, err := e.reader.WaitData(dataReady(e.o, &consumed), 20*time.Millisecond)
	require.NoError(t, err, "a timeout is not an error")
	assert.False(t, ok, "nothing posted: the data wait ends at its timeout")
	ok, err = e.reader.WaitData(dataReady(e.o, &consumed), 0)
	require.NoError(t, err)
	assert.False(t, ok, "a zero timeout polls")
	w.o.PayloadFreeBytes.Store(0)
	ok, err = w.n.WaitSpace(spaceReady(w.o), 20*time.Millisecond)
	require.NoError(t, err, "a timeout is not an error")
	assert.False(t, ok, "nothing posted: the space wait ends at its timeout")
	ok, err = w.n.WaitSpace(spaceReady(w.o), 0)
	require.NoError(t, err)
	assert.False(t, ok, "a zero timeout polls")

	// A zero timeout still takes what is there.
	w.o.PayloadWrittenCount.Add(1)
	require.NoError(t, w.n.PostData())
	ok, err = e.reader.WaitData(dataReady(e.o, &consumed), 0)
	require.NoError(t, err)
	assert.True(t, ok, "a zero timeout takes a posted event")
}

func (s *suite) coalescing(t *testing.T) {
	e := s.newEnv(t, window)
	w := e.writer(t)
	const k = 1000
	for range k {
		w.o.PayloadWrittenCount.Add(1)
		require.NoError(t, w.n.PostData())
	}
	// Every data event is delivered exactly once, without sleeping...
	var consumed uint64
	for i := range k {
		ok, err := e.reader.WaitData(dataReady(e.o, &consumed), 0)
		require.NoError(t, err)
		require.True(t, ok, "data event %d of %d posted was not delivered", i, k)
		consumed++
	}
	// ...and no more.
	ok, err := e.reader.WaitData(dataReady(e.o, &consumed), 10*time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ok, "more data events delivered than posted")

	// Space posts may coalesce: after k of them the writer's condition
	// holds, and at most one wait is consumed.
	e.o.PayloadFreeBytes.Store(0)
	for range k {
		e.o.PayloadFreeBytes.Add(1)
		require.NoError(t, e.reader.PostSpace())
	}
	_, err = w.n.WaitSpace(func() bool { return w.o.PayloadFreeBytes.Load() >= k }, 0)
	require.NoError(t, err)
	ok, err = w.n.WaitSpace(func() bool { return w.o.PayloadFreeBytes.Load() > k }, 10*time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ok, "no space event is left over for a condition that does not hold")
}

func (s *suite) writerWaiting(t *testing.T) {
	e := s.newEnv(t, window)
	w := e.writer(t)
	assert.False(t, e.reader.WriterWaiting(), "nobody waits yet")
	w.o.PayloadFreeBytes.Store(0)
	done := e.background(t, func() error {
		ok, err := guarded(w.n.WaitSpace, spaceReady(w.o), s.cfg.guard)
		if err == nil && !ok {
			err = errors.New("the space post was lost")
		}
		return err
	})
	if s.cfg.reportsWriterWaiting {
		require.NoError(t, s.waitUntil("WriterWaiting while the writer sleeps", e.reader.WriterWaiting))
	} else {
		settle()
	}
	e.o.PayloadFreeBytes.Add(1)
	require.NoError(t, e.reader.PostSpace())
	require.NoError(t, e.join(done))
	require.NoError(t, s.waitUntil("WriterWaiting false after the wait", func() bool { return !e.reader.WriterWaiting() }))
}

func (s *suite) closeWhileWaiting(t *testing.T, cross bool) {
	e := s.newEnv(t, window)
	var consumed uint64
	done := e.background(t, func() error {
		// The wait must end — at its timeout at the latest — with no
		// event and no error.
		ok, err := e.reader.WaitData(dataReady(e.o, &consumed), 500*time.Millisecond)
		if err == nil && ok {
			err = errors.New("a peer's Close delivered an event")
		}
		return err
	})
	settle()
	if cross {
		require.NoError(t, startChild(t, "close", e.name, 0, s.cfg.guard).wait(e.joinBound()))
	} else {
		w, err := openWriter(e.name)
		require.NoError(t, err)
		require.NoError(t, w.n.Close())
		require.NoError(t, w.n.Close(), "Close is idempotent")
		assert.Error(t, w.n.PostData(), "a closed notifier refuses to post")
		w.unmap()
	}
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(s.cfg.guard):
		t.Fatal("the waiter never returned after its peer closed")
	}
}

// stream races posts against waits: the producer sends events through a
// window w (1: ping-pong, where both sides sleep for every event), each
// carrying a payload written before the post.
func (s *suite) stream(t *testing.T, w uint64, cross bool) {
	e := s.newEnv(t, w)
	events := s.cfg.events
	if w == 1 {
		events /= 10
	}
	if cross {
		c := startChild(t, "produce", e.name, events, s.cfg.guard)
		require.NoError(t, e.consume(events, s.cfg.guard))
		require.NoError(t, c.wait(e.joinBound()))
		t.Logf("%d events, window %d; reader %s", events, w, wakes(e.reader))
		return
	}
	ws := e.writer(t)
	done := e.background(t, func() error { return produce(ws, events, s.cfg.guard) })
	cerr := e.consume(events, s.cfg.guard)
	if cerr != nil {
		// Unblock the producer: it must be done with its notifier before
		// the cleanup closes it.
		e.o.PayloadFreeBytes.Add(1 << 40)
		_ = e.reader.PostSpace()
	}
	perr := e.join(done)
	require.NoError(t, cerr)
	require.NoError(t, perr)
	t.Logf("%d events, window %d; reader %s; writer %s", events, w, wakes(e.reader), wakes(ws.n))
}

func (s *suite) remove(t *testing.T) {
	e := s.newEnv(t, window)
	w := e.writer(t)
	require.NoError(t, w.n.Close())
	require.NoError(t, w.n.Close(), "Close is idempotent")
	require.NoError(t, e.reader.Close())
	require.NoError(t, e.reader.Close(), "Close is idempotent")
	require.NoError(t, e.reader.Remove(e.name))
	left, _ := filepath.Glob(shm.Dir + "/*" + e.name + "*")
	require.NoError(t, shm.Unlink(e.name))
	assert.Equal(t, []string{shm.Path(e.name)}, left, "Remove leaves only the segment, which is not the notifier's")
	assert.NoError(t, e.reader.Remove(e.name), "Remove of removed resources succeeds")
}

// wakes reports a notifier's wake-up system calls when it counts them
// (the futex notifiers' Wakes): evidence that a stream ran with the
// waiters really asleep.
func wakes(n notify.Notifier) string {
	if c, ok := n.(interface{ Wakes() uint64 }); ok {
		return fmt.Sprintf("%d wake-ups", c.Wakes())
	}
	return "(no wake-up count)"
}

// waitUntil polls cond until it holds, for at most the hang guard.
func (s *suite) waitUntil(what string, cond func() bool) error {
	deadline := time.Now().Add(s.cfg.guard)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}
