package ring

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/layout"
)

// The Notifier contract (see notifier.go), checked for every notifier in
// one place, on a bare OIEB in a shared segment (no ring), with the two
// sides as goroutines and as processes.
//
// Events mirror the ring's use: a data event is "written count + 1, then
// PostData", consumed by exactly one WaitData; a space event is "free
// bytes + 1, then PostSpace", and the space consumer waits while its
// condition (free ≥ what it needs) is false.

// confWindow is how many data events may be outstanding in the flow-
// controlled stream: the producer takes one unit of "free" per event and
// the consumer gives it back.
const confWindow = 64

// confSlot is one event's payload: eight words the producer writes in
// order with plain stores before it posts, and the consumer checks after
// its wait.
const confSlot = 64

// confEnv is a segment with an OIEB, a payload area of confWindow slots,
// and the reader side's notifier attached.
type confEnv struct {
	name    string
	seg     *shm.Segment
	o       *layout.OIEB
	reader  Notifier
	payload []byte
}

func newConfEnv(t *testing.T, notifier string) *confEnv {
	return newConfEnvWindow(t, notifier, confWindow)
}

// newConfEnvWindow sets the stream's window: 1 makes it a ping-pong, in
// which each side sleeps for every event.
func newConfEnvWindow(t *testing.T, notifier string, window uint64) *confEnv {
	t.Helper()
	n, err := NewNotifier(notifier)
	require.NoError(t, err)
	e := &confEnv{name: uniqueName(t), reader: n}
	e.seg, err = shm.Create(e.name, layout.OIEBSize+confWindow*confSlot, 0o600)
	require.NoError(t, err)
	e.o, _ = layout.View(e.seg.Data)
	e.o.Init(0, confWindow*confSlot, n.Word())
	e.o.PayloadFreeBytes.Store(window)
	e.payload = e.seg.Data[layout.OIEBSize:]
	require.NoError(t, n.Create(e.name, e.o, 0o600))
	t.Cleanup(func() {
		assert.NoError(t, e.reader.Close())
		assert.NoError(t, e.reader.Remove(e.name))
		assert.NoError(t, removeBufferFiles(e.name, nil))
		assert.NoError(t, e.seg.Close())
	})
	return e
}

// openConfSide maps an existing conformance segment and attaches the
// writer side, adopting the recorded notifier (used in goroutines and in
// the child process).
func openConfSide(name string) (*shm.Segment, *layout.OIEB, Notifier, error) {
	seg, err := shm.Open(name, false, layout.OIEBSize)
	if err != nil {
		return nil, nil, nil, err
	}
	o, _ := layout.View(seg.Data)
	n, err := NotifierFromWord(o.Reserved[0].Load())
	if err == nil {
		err = n.Open(name, o)
	}
	if err != nil {
		seg.Close()
		return nil, nil, nil, err
	}
	return seg, o, n, nil
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
	slot := payload[(k%confWindow)*confSlot:]
	for i := uint64(0); i < confSlot/8; i++ {
		binary.LittleEndian.PutUint64(slot[i*8:], k*8+i)
	}
}

func checkSlot(payload []byte, k uint64) error {
	slot := payload[(k%confWindow)*confSlot:]
	for i := uint64(0); i < confSlot/8; i++ {
		if got := binary.LittleEndian.Uint64(slot[i*8:]); got != k*8+i {
			return fmt.Errorf("event %d word %d: got %d, want %d (data not visible after the wait)", k, i, got, k*8+i)
		}
	}
	return nil
}

// produce sends events events of the flow-controlled stream: wait for a
// free unit, fill the slot, publish, post.
func produce(o *layout.OIEB, n Notifier, payload []byte, events uint64) error {
	ready := spaceReady(o)
	for k := uint64(0); k < events; k++ {
		for !ready() {
			if ok, err := n.WaitSpace(ready, hangGuard); err != nil || (!ok && !ready()) {
				return fmt.Errorf("event %d: space wait gave %v, %v (lost wake-up?)", k, ok, err)
			}
		}
		o.PayloadFreeBytes.Add(^uint64(0))
		putSlot(payload, k)
		o.PayloadWrittenCount.Add(1)
		if err := n.PostData(); err != nil {
			return err
		}
	}
	return nil
}

// consume receives events events: one WaitData each, check the slot,
// give the unit back, post.
func consume(o *layout.OIEB, n Notifier, payload []byte, events uint64) error {
	var consumed uint64
	ready := dataReady(o, &consumed)
	for consumed < events {
		ok, err := n.WaitData(ready, hangGuard)
		if err != nil || !ok {
			if err == nil && ready() {
				continue // an early return (a peer's close-wake) with data there
			}
			return fmt.Errorf("event %d: data wait gave %v, %v (lost wake-up?)", consumed, ok, err)
		}
		if err := checkSlot(payload, consumed); err != nil {
			return err
		}
		consumed++
		o.PayloadFreeBytes.Add(1)
		if err := n.PostSpace(); err != nil {
			return err
		}
	}
	return nil
}

// streamEvents is how many events the lost-wake-up race streams.
func streamEvents(notifier string) uint64 {
	n := uint64(1_000_000)
	if raceEnabled {
		n /= 10
	}
	return n
}

func TestNotifierConformance(t *testing.T) {
	forEachNotifier(t, func(t *testing.T, notifier string) {
		t.Run("post-before-wait", func(t *testing.T) {
			e := newConfEnv(t, notifier)
			seg, o, w, err := openConfSide(e.name)
			require.NoError(t, err)
			defer seg.Close()
			defer w.Close()
			o.PayloadWrittenCount.Add(1)
			require.NoError(t, w.PostData())
			var consumed uint64
			ok, err := e.reader.WaitData(dataReady(e.o, &consumed), hangGuard)
			require.NoError(t, err)
			assert.True(t, ok)

			e.o.PayloadFreeBytes.Store(0)
			e.o.PayloadFreeBytes.Add(1)
			require.NoError(t, e.reader.PostSpace())
			ok, err = w.WaitSpace(spaceReady(o), hangGuard)
			require.NoError(t, err)
			assert.True(t, ok)
		})

		t.Run("wait-before-post", func(t *testing.T) {
			bothModes(t, func(t *testing.T, cross bool) {
				e := newConfEnv(t, notifier)
				var consumed uint64
				done := make(chan error, 1)
				go func() {
					ok, err := e.reader.WaitData(dataReady(e.o, &consumed), hangGuard)
					if err == nil && !ok {
						err = errors.New("wait returned false: the post was lost")
					}
					done <- err
				}()
				require.NoError(t, waitForWaiter(e.o, notifier, 1))
				if cross {
					require.NoError(t, startChild(t, "conform-post", notifier, e.name).wait())
				} else {
					seg, o, w, err := openConfSide(e.name)
					require.NoError(t, err)
					o.PayloadWrittenCount.Add(1)
					require.NoError(t, w.PostData())
					w.Close()
					seg.Close()
				}
				require.NoError(t, <-done)
			})
		})

		t.Run("writer-waiting", func(t *testing.T) {
			e := newConfEnv(t, notifier)
			seg, o, w, err := openConfSide(e.name)
			require.NoError(t, err)
			defer seg.Close()
			defer w.Close()
			assert.False(t, e.reader.WriterWaiting(), "nobody waits yet")
			o.PayloadFreeBytes.Store(0)
			done := make(chan error, 1)
			go func() {
				ok, err := w.WaitSpace(spaceReady(o), hangGuard)
				if err == nil && !ok {
					err = errors.New("the space post was lost")
				}
				done <- err
			}()
			if notifier == "semaphore" || notifier == "futex" || notifier == "hybrid" || notifier == "adaptive" {
				// These can tell that the writer sleeps, and must.
				require.NoError(t, waitUntil("WriterWaiting", e.reader.WriterWaiting))
			} else {
				time.Sleep(20 * time.Millisecond)
				assert.False(t, e.reader.WriterWaiting(), "a polling writer never sleeps")
			}
			e.o.PayloadFreeBytes.Add(1)
			require.NoError(t, e.reader.PostSpace())
			require.NoError(t, <-done)
		})

		t.Run("deadline-expiry", func(t *testing.T) {
			e := newConfEnv(t, notifier)
			seg, o, w, err := openConfSide(e.name)
			require.NoError(t, err)
			defer seg.Close()
			defer w.Close()
			var consumed uint64
			ok, err := e.reader.WaitData(dataReady(e.o, &consumed), 20*time.Millisecond)
			require.NoError(t, err)
			assert.False(t, ok, "no post: the wait ends at its timeout")
			ok, err = e.reader.WaitData(dataReady(e.o, &consumed), 0)
			require.NoError(t, err)
			assert.False(t, ok, "a zero timeout only polls")
			o.PayloadFreeBytes.Store(0)
			ok, err = w.WaitSpace(spaceReady(o), 20*time.Millisecond)
			require.NoError(t, err)
			assert.False(t, ok)
		})

		t.Run("many-posts-coalesced", func(t *testing.T) {
			e := newConfEnv(t, notifier)
			seg, o, w, err := openConfSide(e.name)
			require.NoError(t, err)
			defer seg.Close()
			defer w.Close()
			const k = 1000
			for range k {
				o.PayloadWrittenCount.Add(1)
				require.NoError(t, w.PostData())
			}
			// Every data event is delivered exactly once, without
			// sleeping...
			var consumed uint64
			for range k {
				ok, err := e.reader.WaitData(dataReady(e.o, &consumed), 0)
				require.NoError(t, err)
				require.True(t, ok)
				consumed++
			}
			// ...and no more.
			ok, err := e.reader.WaitData(dataReady(e.o, &consumed), 10*time.Millisecond)
			require.NoError(t, err)
			assert.False(t, ok)

			// Space posts may coalesce: after k of them the writer's
			// condition holds and at most one wait is consumed.
			e.o.PayloadFreeBytes.Store(0)
			for range k {
				e.o.PayloadFreeBytes.Add(1)
				require.NoError(t, e.reader.PostSpace())
			}
			need := func() bool { return o.PayloadFreeBytes.Load() >= k }
			assert.True(t, need())
			w.WaitSpace(need, 0)
			ok, err = w.WaitSpace(func() bool { return o.PayloadFreeBytes.Load() > k }, 10*time.Millisecond)
			require.NoError(t, err)
			assert.False(t, ok, "no event is left over for a condition that does not hold")
		})

		t.Run("close-while-peer-waits", func(t *testing.T) {
			bothModes(t, func(t *testing.T, cross bool) {
				e := newConfEnv(t, notifier)
				var consumed uint64
				done := make(chan error, 1)
				go func() {
					// The wait must end — at its timeout at the
					// latest — with no event and no error.
					ok, err := e.reader.WaitData(dataReady(e.o, &consumed), 500*time.Millisecond)
					if err == nil && ok {
						err = errors.New("a peer's close delivered an event")
					}
					done <- err
				}()
				require.NoError(t, waitForWaiter(e.o, notifier, 1))
				if cross {
					require.NoError(t, startChild(t, "conform-close", notifier, e.name).wait())
				} else {
					seg, _, w, err := openConfSide(e.name)
					require.NoError(t, err)
					require.NoError(t, w.Close())
					require.NoError(t, w.Close(), "Close is idempotent")
					assert.Error(t, w.PostData(), "a closed notifier refuses to post")
					seg.Close()
				}
				select {
				case err := <-done:
					require.NoError(t, err)
				case <-time.After(hangGuard):
					t.Fatal("the waiter never returned after its peer closed")
				}
			})
		})

		for _, window := range []uint64{confWindow, 1} {
			t.Run(fmt.Sprintf("stream-window-%d", window), func(t *testing.T) {
				bothModes(t, func(t *testing.T, cross bool) {
					streamConformance(t, notifier, window, cross)
				})
			})
		}
	})
}

// streamConformance races posts against waits: the producer sends events
// through a window (1: ping-pong, where both sides sleep for every event),
// each carrying a payload written before the post; any lost wake-up stalls
// a wait until the hang guard and fails, any visibility gap fails the
// payload check.
func streamConformance(t *testing.T, notifier string, window uint64, cross bool) {
	e := newConfEnvWindow(t, notifier, window)
	events := streamEvents(notifier)
	if window == 1 {
		events /= 10
	}
	if cross {
		c := startChild(t, "conform-produce", notifier+","+strconv.FormatUint(events, 10), e.name)
		require.NoError(t, consume(e.o, e.reader, e.payload, events))
		require.NoError(t, c.wait())
		t.Logf("%d events, window %d, %s", events, window, wakeCount(e.reader))
		return
	}
	seg, o, w, err := openConfSide(e.name)
	require.NoError(t, err)
	defer seg.Close()
	defer w.Close()
	done := make(chan error, 1)
	go func() { done <- produce(o, w, seg.Data[layout.OIEBSize:], events) }()
	cerr := consume(e.o, e.reader, e.payload, events)
	if cerr != nil {
		// Unblock the producer before tearing down.
		e.o.PayloadFreeBytes.Add(1 << 40)
		e.reader.PostSpace()
	}
	require.NoError(t, cerr)
	require.NoError(t, <-done)
	t.Logf("%d events, window %d; reader %s; writer %s", events, window, wakeCount(e.reader), wakeCount(w))
}

// wakeCount reports a futex notifier's FUTEX_WAKE calls: evidence that the
// race ran with the waiters really asleep.
func wakeCount(n Notifier) string {
	if c, ok := n.(interface{ Wakes() uint64 }); ok {
		return fmt.Sprintf("%d FUTEX_WAKEs", c.Wakes())
	}
	return "(no wake count)"
}

// waitForWaiter sequences a test until the reader's data wait is in
// progress: observable for the semaphore and futex notifiers (a waiter
// registered), not for the spin family, which is given a moment. Nothing
// is judged on it.
func waitForWaiter(o *layout.OIEB, notifier string, _ int) error {
	switch notifier {
	case "futex", "hybrid", "adaptive":
		return waitUntil("the waiter to register", func() bool { return o.NotifierWord32(1).Load() > 0 })
	}
	time.Sleep(20 * time.Millisecond)
	return nil
}

func init() {
	extraChildRoles["conform-post"] = func(name string) error {
		seg, o, w, err := openConfSide(name)
		if err != nil {
			return err
		}
		defer seg.Close()
		o.PayloadWrittenCount.Add(1)
		return errors.Join(w.PostData(), w.Close())
	}
	extraChildRoles["conform-close"] = func(name string) error {
		seg, _, w, err := openConfSide(name)
		if err != nil {
			return err
		}
		defer seg.Close()
		return w.Close()
	}
}

// runConformProducer is the child side of the cross-process stream; params
// is "notifier,events".
func runConformProducer(params, name string) error {
	_, count, _ := strings.Cut(params, ",")
	events, err := strconv.ParseUint(count, 10, 64)
	if err != nil {
		return err
	}
	seg, o, w, err := openConfSide(name)
	if err != nil {
		return err
	}
	defer seg.Close()
	defer w.Close()
	return produce(o, w, seg.Data[layout.OIEBSize:], events)
}
