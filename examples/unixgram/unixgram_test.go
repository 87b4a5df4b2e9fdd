package unixgram_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/examples/unixgram"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// guard bounds every wait that must end: a lost wake-up fails the test
// after this long instead of hanging it. Nothing is judged on time.
const guard = 30 * time.Second

var nameSeq atomic.Uint64

// uniqueName is a buffer name no other test (or test process) uses.
func uniqueName() string {
	return fmt.Sprintf("zbtest-unixgram-%d-%d", os.Getpid(), nameSeq.Add(1))
}

// newOIEB is a zeroed control block in an anonymous shared mapping: the
// notifier only needs its words, and both sides live in this process.
func newOIEB(t *testing.T) *layout.OIEB {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, layout.OIEBSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	require.NoError(t, err)
	o, err := layout.View(mem)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, unix.Munmap(mem)) })
	return o
}

// pair is one buffer's two notifiers, attached to one OIEB.
type pair struct {
	name           string
	o              *layout.OIEB
	reader, writer *unixgram.Notifier
}

func newPair(t *testing.T) *pair {
	t.Helper()
	p := &pair{name: uniqueName(), o: newOIEB(t), reader: unixgram.New(), writer: unixgram.New()}
	require.NoError(t, p.reader.Create(p.name, p.o, 0o600))
	require.NoError(t, p.writer.Open(p.name, p.o))
	t.Cleanup(func() {
		assert.NoError(t, p.writer.Close())
		assert.NoError(t, p.reader.Close())
		assert.NoError(t, p.reader.Remove(p.name))
	})
	return p
}

// dataReady is the reader's condition: more events written than consumed.
func (p *pair) dataReady(consumed *uint64) func() bool {
	return func() bool { return p.o.PayloadWrittenCount.Load() != *consumed }
}

func (p *pair) spaceReady() bool { return p.o.PayloadFreeBytes.Load() > 0 }

// waitUntil polls cond (never judging time) until it holds or the guard
// passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(200 * time.Microsecond) {
		if time.Since(start) > guard {
			t.Fatalf("%s: not within %v", what, guard)
		}
	}
}

func TestRegistered(t *testing.T) {
	s, ok := notify.LookupName(unixgram.Name)
	require.True(t, ok, "importing the package registers it")
	assert.Equal(t, unixgram.Kind, s.Kind)
	assert.True(t, s.Kind.External(), "a kind of the range for notifiers defined elsewhere")

	n, err := notify.New("unixgram")
	require.NoError(t, err)
	require.IsType(t, &unixgram.Notifier{}, n)
	assert.Equal(t, "unixgram (kind 200, word 0x5a000000000000c8)", notify.Describe(n.Word()))

	adopted, err := notify.FromWord(n.Word())
	require.NoError(t, err)
	assert.Equal(t, n.Word(), adopted.Word())

	_, err = notify.FromWord(unixgram.Kind.Word(1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "parameter 1")
}

func TestAddrs(t *testing.T) {
	assert.Equal(t, "@zerobuffer-go/unixgram/cam0.data", unixgram.DataAddr("cam0"))
	assert.Equal(t, "@zerobuffer-go/unixgram/cam0.space.2a", unixgram.SpaceAddr("cam0", 42))

	long := strings.Repeat("x", ring.MaxNameLen)
	require.NoError(t, ring.ValidateName(long))
	other := strings.Repeat("x", ring.MaxNameLen-1) + "y"
	addrs := []string{
		unixgram.DataAddr(long), unixgram.SpaceAddr(long, 0xffffffff),
		unixgram.DataAddr(other), unixgram.SpaceAddr(other, 0xffffffff),
	}
	for _, a := range addrs {
		assert.LessOrEqual(t, len(a), 107, "fits sun_path: %s", a)
		assert.True(t, strings.HasPrefix(a, "@zerobuffer-go/unixgram/h/"), "hashed: %s", a)
	}
	assert.NotEqual(t, addrs[0], addrs[2], "long names stay apart")
	assert.NotEqual(t, addrs[1], addrs[3])

	// Every length of name binds: the boundary between the two forms
	// included.
	for _, l := range []int{1, 76, 77, 78, 79, 80, ring.MaxNameLen} {
		name := uniqueName()
		name += strings.Repeat("n", max(0, l-len(name)))
		o := newOIEB(t)
		r, w := unixgram.New(), unixgram.New()
		require.NoError(t, r.Create(name, o, 0o600), "name of %d bytes", len(name))
		require.NoError(t, w.Open(name, o), "name of %d bytes", len(name))
		require.NoError(t, errors.Join(w.Close(), r.Close()))
	}
}

// A post while the peer is awake sends nothing; a sleeping peer costs one
// datagram however many posts arrive before it runs.
func TestPostsToAnAwakePeerSendNothing(t *testing.T) {
	p := newPair(t)
	for range 1000 {
		p.o.PayloadWrittenCount.Add(1)
		require.NoError(t, p.writer.PostData())
		p.o.PayloadFreeBytes.Add(1)
		require.NoError(t, p.reader.PostSpace())
	}
	assert.Zero(t, p.writer.Wakes())
	assert.Zero(t, p.reader.Wakes())

	var consumed uint64 = 1000
	done := make(chan error, 1)
	go func() {
		ok, err := p.reader.WaitData(p.dataReady(&consumed), guard)
		if err == nil && !ok {
			err = errors.New("the wait ended without the event")
		}
		done <- err
	}()
	waitUntil(t, "the reader to sleep", func() bool { return p.o.NotifierWord32(0).Load() != 0 })
	for range 100 {
		p.o.PayloadWrittenCount.Add(1)
		require.NoError(t, p.writer.PostData())
	}
	require.NoError(t, <-done)
	// One datagram at most: the first post took the word (or the reader,
	// still between raising it and its second look, saw the frame and
	// lowered it itself); the others found it down.
	assert.LessOrEqual(t, p.writer.Wakes(), uint64(1), "100 posts to one sleep")
}

// A thousand sleeping waiters are a thousand goroutines parked in the
// netpoller, not a thousand threads blocked in system calls.
func TestWaitsParkGoroutinesNotThreads(t *testing.T) {
	const waiters = 1000
	pairs := make([]*pair, waiters)
	for i := range pairs {
		pairs[i] = newPair(t)
	}
	before := threads(t)
	var wg sync.WaitGroup
	errs := make(chan error, waiters)
	for _, p := range pairs {
		wg.Go(func() {
			var consumed uint64
			ok, err := p.reader.WaitData(p.dataReady(&consumed), guard)
			if err == nil && !ok {
				err = errors.New("the wait ended without the event")
			}
			errs <- err
		})
	}
	for _, p := range pairs {
		waitUntil(t, "every reader to sleep", func() bool { return p.o.NotifierWord32(0).Load() != 0 })
	}
	time.Sleep(10 * time.Millisecond) // from the raised word to the read
	during := threads(t)
	for _, p := range pairs {
		p.o.PayloadWrittenCount.Add(1)
		require.NoError(t, p.writer.PostData())
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	t.Logf("OS threads: %d before, %d with %d waiters asleep", before, during, waiters)
	assert.Less(t, during, before+waiters/10, "sleeping waiters must not hold a thread each")
}

// threads is this process's count of OS threads.
func threads(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	require.NoError(t, err)
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// Close from another goroutine ends a wait in progress on the same
// notifier with ErrClosed; the notifier then refuses everything.
func TestCloseEndsOwnWait(t *testing.T) {
	for _, side := range []string{"reader", "writer"} {
		t.Run(side, func(t *testing.T) {
			p := newPair(t)
			n, word, wait := p.reader, 0, p.reader.WaitData
			if side == "writer" {
				n, word, wait = p.writer, 1, p.writer.WaitSpace
			}
			done := make(chan error, 1)
			go func() {
				ok, err := wait(func() bool { return false }, guard)
				if ok {
					err = errors.New("a Close delivered an event")
				}
				done <- err
			}()
			waitUntil(t, "the "+side+" to sleep", func() bool { return p.o.NotifierWord32(word).Load() != 0 })
			require.NoError(t, n.Close())
			select {
			case err := <-done:
				require.ErrorIs(t, err, unixgram.ErrClosed)
			case <-time.After(guard):
				t.Fatal("Close did not end the wait")
			}
			assert.Zero(t, p.o.NotifierWord32(word).Load(), "Close lowered its sleeper word")
			_, err := wait(func() bool { return true }, 0)
			assert.ErrorIs(t, err, unixgram.ErrClosed)
			assert.ErrorIs(t, n.PostData(), unixgram.ErrClosed)
			assert.ErrorIs(t, n.PostSpace(), unixgram.ErrClosed)
			assert.NoError(t, n.Close(), "Close is idempotent")
		})
	}
}

// A peer's Close ends the other side's wait at once (long before its
// timeout, which the test sets beyond its guard), with no event.
func TestPeerCloseEndsWait(t *testing.T) {
	for _, closer := range []string{"writer", "reader"} {
		t.Run(closer, func(t *testing.T) {
			p := newPair(t)
			var consumed uint64
			waiter, word := func() (bool, error) { return p.reader.WaitData(p.dataReady(&consumed), 10*guard) }, 0
			peer := p.writer
			if closer == "reader" {
				waiter, word = func() (bool, error) { return p.writer.WaitSpace(p.spaceReady, 10*guard) }, 1
				peer = p.reader
			}
			done := make(chan error, 1)
			go func() {
				ok, err := waiter()
				if err == nil && ok {
					err = errors.New("a peer's close delivered an event")
				}
				done <- err
			}()
			waitUntil(t, "the waiter to sleep", func() bool { return p.o.NotifierWord32(word).Load() != 0 })
			require.NoError(t, peer.Close())
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(guard):
				t.Fatal("the waiter slept on after its peer closed")
			}
		})
	}
}

// Datagrams nobody posted (a stray sender: abstract addresses have no
// permissions) wake the reader, which checks the OIEB and sleeps again.
func TestStrayDatagramsAreNotEvents(t *testing.T) {
	p := newPair(t)
	stray, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: unixgram.DataAddr(p.name), Net: "unixgram"})
	require.NoError(t, err)
	defer stray.Close()
	for range 5 {
		_, err := stray.Write([]byte("not a post"))
		require.NoError(t, err)
	}
	var consumed uint64
	ok, err := p.reader.WaitData(p.dataReady(&consumed), 50*time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ok, "no frame was written")

	// And the real event still arrives after them.
	done := make(chan error, 1)
	go func() {
		ok, err := p.reader.WaitData(p.dataReady(&consumed), guard)
		if err == nil && !ok {
			err = errors.New("the post was lost")
		}
		done <- err
	}()
	_, err = stray.Write([]byte("noise"))
	require.NoError(t, err)
	waitUntil(t, "the reader to sleep", func() bool { return p.o.NotifierWord32(0).Load() != 0 })
	p.o.PayloadWrittenCount.Add(1)
	require.NoError(t, p.writer.PostData())
	require.NoError(t, <-done)
}

// The reader wakes the writer that sleeps, not a writer of an earlier
// generation still holding its socket.
func TestSpaceWakesTheSleepingWriter(t *testing.T) {
	p := newPair(t)
	second := unixgram.New()
	require.NoError(t, second.Open(p.name, p.o), "another token, another address")
	defer second.Close()
	done := make(chan error, 1)
	go func() {
		ok, err := second.WaitSpace(p.spaceReady, guard)
		if err == nil && !ok {
			err = errors.New("the space post was lost")
		}
		done <- err
	}()
	waitUntil(t, "WriterWaiting", p.reader.WriterWaiting)
	p.o.PayloadFreeBytes.Add(1)
	require.NoError(t, p.reader.PostSpace())
	require.NoError(t, <-done)
	assert.False(t, p.reader.WriterWaiting())
}

// A writer that finds no socket at the reader's address says why: the
// reader is gone (the buffer is as good as not found), or it runs where
// this writer cannot reach its socket.
func TestOpenWithoutReaderSocket(t *testing.T) {
	o := newOIEB(t)
	w := unixgram.New()
	err := w.Open(uniqueName(), o)
	require.ErrorIs(t, err, unix.ECONNREFUSED)
	require.ErrorIs(t, err, os.ErrNotExist, "no reader PID recorded")
	assert.Contains(t, err.Error(), "the reader is gone")
	assert.NoError(t, w.Close())
	assert.ErrorIs(t, w.PostData(), unixgram.ErrClosed)

	o.ReaderPID.Store(uint64(os.Getpid())) // a live reader, but no socket in reach
	w = unixgram.New()
	err = w.Open(uniqueName(), o)
	require.ErrorIs(t, err, unix.ECONNREFUSED)
	assert.NotErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "another network namespace")
	assert.Equal(t, 1, strings.Count(err.Error(), "unixgram notifier:"), "one prefix: %v", err)
	assert.NoError(t, w.Close())
}

func TestCreateOnATakenAddress(t *testing.T) {
	name := uniqueName()
	squatter, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: unixgram.DataAddr(name), Net: "unixgram"})
	require.NoError(t, err)
	defer squatter.Close()
	r := unixgram.New()
	err = r.Create(name, newOIEB(t), 0o600)
	require.ErrorIs(t, err, unix.EADDRINUSE)
	assert.Contains(t, err.Error(), "held by a live process")
	assert.Equal(t, 1, strings.Count(err.Error(), "unixgram notifier:"), "one prefix: %v", err)
	assert.NoError(t, r.Close())
}

func TestMisuse(t *testing.T) {
	n := unixgram.New()
	_, err := n.WaitData(func() bool { return true }, 0)
	assert.ErrorIs(t, err, unixgram.ErrClosed, "not attached")
	assert.ErrorIs(t, n.PostData(), unixgram.ErrClosed)
	assert.False(t, n.WriterWaiting())
	assert.NoError(t, n.Close(), "closing an unattached notifier")
	assert.Error(t, n.Create("x", nil, 0o600), "no OIEB")

	p := newPair(t)
	assert.ErrorContains(t, p.reader.Create(p.name, p.o, 0o600), "already attached")
	assert.ErrorContains(t, p.writer.Open(p.name, p.o), "already attached")
}

// The strategy on a real ring: the writer adopts it from the reader's
// record, frames flow both ways of the ring's flow control, and closing
// leaves no file behind.
func TestRingRoundTrip(t *testing.T) {
	name := uniqueName()
	r, err := ring.NewReader(name, ring.Config{PayloadSize: 4096}, ring.WithNotifier(unixgram.New()))
	require.NoError(t, err)
	w, err := ring.Connect(name)
	require.NoError(t, err)
	assert.Equal(t, "unixgram", w.NotifierName(), "the writer adopted the reader's strategy")

	const frames = 20000
	werr := make(chan error, 1)
	go func() {
		buf := make([]byte, 300)
		for i := range frames {
			buf[0] = byte(i)
			if err := w.WriteFrame(buf[:1+i%len(buf)]); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	for i := range frames {
		f, err := r.ReadFrame(ctx)
		require.NoError(t, err)
		require.Equal(t, 1+i%300, f.Len())
		require.Equal(t, byte(i), f.Bytes()[0])
		require.NoError(t, f.Release())
	}
	require.NoError(t, <-werr)
	require.NoError(t, w.Close())
	_, err = r.ReadFrame(ctx)
	require.ErrorIs(t, err, ring.ErrWriterClosed)
	require.NoError(t, r.Close())
	for _, path := range []string{"/dev/shm/" + name, ring.LockDir + "/" + name + ".lock"} {
		assert.NoFileExists(t, path)
	}
}

// The hot path allocates nothing: posts to an awake peer, waits that find
// their condition, and a post that sends plus the wait that sleeps for it
// (SetReadDeadline, the netpoller's RawConn read, the drain).
func TestHotPathDoesNotAllocate(t *testing.T) {
	p := newPair(t)
	var consumed uint64
	ready := p.dataReady(&consumed)
	allocs := testing.AllocsPerRun(1000, func() {
		p.o.PayloadWrittenCount.Add(1)
		if err := p.writer.PostData(); err != nil {
			t.Fatal(err)
		}
		if ok, err := p.reader.WaitData(ready, guard); !ok || err != nil {
			t.Fatalf("wait: %v, %v", ok, err)
		}
		consumed++
		p.o.PayloadFreeBytes.Add(1)
		if err := p.reader.PostSpace(); err != nil {
			t.Fatal(err)
		}
		if ok, err := p.writer.WaitSpace(p.spaceReady, guard); !ok || err != nil {
			t.Fatalf("wait: %v, %v", ok, err)
		}
		p.o.PayloadFreeBytes.Add(^uint64(0))
	})
	assert.Zero(t, allocs, "awake peers")

	// The condition turns true only on the third look: after the first
	// check, after raising the word, then after the read, which finds the
	// datagram the post sent (the word was raised by hand, as a sleeping
	// reader would).
	var looks int
	thirdLook := func() bool { looks++; return looks >= 3 }
	sends := p.writer.Wakes()
	allocs = testing.AllocsPerRun(1000, func() {
		looks = 0
		p.o.NotifierWord32(0).Store(1)
		if err := p.writer.PostData(); err != nil {
			t.Fatal(err)
		}
		if ok, err := p.reader.WaitData(thirdLook, guard); !ok || err != nil {
			t.Fatalf("wait: %v, %v", ok, err)
		}
	})
	assert.Zero(t, allocs, "a post that sends, a wait that reads")
	assert.Equal(t, sends+1001, p.writer.Wakes(), "every post sent (AllocsPerRun runs once more to warm up)")
}
