package unixgram

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
)

// ErrClosed is returned by a Notifier used after Close (a wait that Close
// interrupted included) or before it was attached to a buffer.
var ErrClosed = errors.New("unixgram notifier: closed or not attached")

// The OIEB notifier words (see the package documentation).
const (
	wordDataSleeper = iota
	wordSpaceSleeper
	wordWriterCloses
	wordReaderCloses
)

// tokenTries bounds how many tokens a writer draws before giving up on
// binding its socket: a taken token is a one-in-four-billion accident,
// several in a row a fault.
const tokenTries = 8

// drainMax bounds how many queued datagrams one read takes, so that a
// process flooding an address cannot keep a waiter in its read.
const drainMax = 64

// direction is one of the two event channels, as one side sees it.
type direction struct {
	sleeper *atomic.Uint32 // raised by the waiting side, taken by the posting side
	closes  *atomic.Uint32 // the posting side's Close count
}

// Notifier waits on a Unix datagram socket, parked in Go's netpoller. It
// is a notify.Notifier, registered as "unixgram" (kind 200). A Notifier
// serves one side of one buffer and is used by one goroutine at a time,
// except that Close may come from another goroutine while that one waits
// (the wait then returns ErrClosed; the OIEB must stay mapped until it
// has).
type Notifier struct {
	data, space direction
	writer      bool   // attached with Open
	name        string // the buffer's
	token       uint32 // the writer's, in its socket address
	conn        *net.UnixConn
	raw         syscall.RawConn
	closed      atomic.Bool

	// The peer this side posts to: the reader's fixed address, or the
	// writer whose token the reader last took (rebuilt when it changes).
	peer      unix.SockaddrUnix
	peerToken uint32

	// The RawConn callbacks, bound once so that the hot path does not
	// allocate, and what they report.
	recvFn, sendFn   func(fd uintptr) bool
	recvErr, sendErr error
	buf              [8]byte

	wakes atomic.Uint64
}

var _ notify.Notifier = (*Notifier)(nil)

// wakeMsg is every datagram's content: a wake-up carries no data, and
// which kind it is (a post, a close, Open's probe) does not matter to the
// waiter, which looks at the OIEB.
var wakeMsg = [1]byte{'!'}

// New returns a Unix datagram notifier.
func New() *Notifier { return &Notifier{} }

// Word is what the reader records: the kind, with no parameter.
func (n *Notifier) Word() uint64 { return Kind.Word(0) }

// Wakes counts the datagrams this notifier's posts sent: posts that found
// the peer asleep (or about to sleep).
func (n *Notifier) Wakes() uint64 { return n.wakes.Load() }

// Create binds the reader's socket at DataAddr(name). perm is not used:
// abstract sockets have no file and no permissions (see the package
// documentation).
func (n *Notifier) Create(name string, o *layout.OIEB, _ os.FileMode) error {
	if err := n.attach(name, o); err != nil {
		return err
	}
	conn, err := listen(DataAddr(name))
	if errors.Is(err, unix.EADDRINUSE) {
		return fmt.Errorf("unixgram notifier: the socket address of buffer %s is held by a live process "+
			"(a reader of the same name in another mount namespace sharing this network namespace, "+
			"or an unrelated program): %w", name, err)
	}
	if err != nil {
		return fmt.Errorf("unixgram notifier: %w", err)
	}
	return n.bind(conn)
}

// Open binds the writer's socket at SpaceAddr(name, token) with a random
// token, and sends a first wake-up to the reader's socket: an error if
// nobody is bound there (the reader is gone, or runs in another network
// namespace, where its abstract address cannot be reached).
func (n *Notifier) Open(name string, o *layout.OIEB) error {
	if err := n.attach(name, o); err != nil {
		return err
	}
	n.writer = true
	var conn *net.UnixConn
	var err error = unix.EADDRINUSE
	for try := 0; try < tokenTries && errors.Is(err, unix.EADDRINUSE); try++ {
		n.token = rand.Uint32() | 1 // never 0, which means "nobody sleeps"
		conn, err = listen(SpaceAddr(name, n.token))
	}
	if err != nil {
		return fmt.Errorf("unixgram notifier: %w", err)
	}
	if err := n.bind(conn); err != nil {
		return err
	}
	n.setPeer(DataAddr(name), 0)
	// EAGAIN: the reader's queue is full, so its socket is there.
	if err := n.sendErrno(); err != nil && err != unix.EAGAIN {
		n.conn.Close()
		n.closed.Store(true)
		return n.probeError(o, err)
	}
	return nil
}

// probeError explains why Open's first wake-up failed. A reader that
// closed (its Close lowers the recorded PID before it closes its socket)
// or died makes the buffer as good as gone: the error then matches
// os.ErrNotExist, as a semaphore notifier's would, so the ring reports
// ring.ErrBufferNotFound.
func (n *Notifier) probeError(o *layout.OIEB, err error) error {
	addr := DataAddr(n.name)
	if !errors.Is(err, unix.ECONNREFUSED) {
		return fmt.Errorf("unixgram notifier: first wake-up to %s: %w", addr, err)
	}
	if pid := o.ReaderPID.Load(); pid == 0 || pid > 1<<31 || unix.Kill(int(pid), 0) == unix.ESRCH {
		return fmt.Errorf("unixgram notifier: no reader socket at %s: the reader is gone: %w (%w)", addr, os.ErrNotExist, err)
	}
	return fmt.Errorf("unixgram notifier: no reader socket at %s, though its reader (PID %d) runs: it runs in "+
		"another network namespace, where abstract socket addresses are not visible: %w", addr, o.ReaderPID.Load(), err)
}

// attach takes the OIEB's words; the reader zeroed them with the OIEB.
func (n *Notifier) attach(name string, o *layout.OIEB) error {
	switch {
	case o == nil:
		return errors.New("unixgram notifier: no OIEB")
	case n.conn != nil || n.closed.Load():
		return errors.New("unixgram notifier: already attached (a Notifier serves one side of one buffer, once)")
	}
	n.name = name
	n.data = direction{o.NotifierWord32(wordDataSleeper), o.NotifierWord32(wordWriterCloses)}
	n.space = direction{o.NotifierWord32(wordSpaceSleeper), o.NotifierWord32(wordReaderCloses)}
	return nil
}

// listen binds a datagram socket at addr; its error names the address.
func listen(addr string) (*net.UnixConn, error) {
	return net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
}

func (n *Notifier) bind(conn *net.UnixConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		conn.Close()
		return fmt.Errorf("unixgram notifier: %w", err)
	}
	n.conn, n.raw = conn, raw
	n.recvFn, n.sendFn = n.recv, n.send
	return nil
}

// Remove has nothing to remove: abstract addresses vanish with their
// sockets.
func (n *Notifier) Remove(string) error { return nil }

// WaitData waits until ready holds (a frame is there), up to timeout.
func (n *Notifier) WaitData(ready func() bool, timeout time.Duration) (bool, error) {
	return n.wait(&n.data, 1, ready, timeout)
}

// WaitSpace waits until ready holds (the ring has room), up to timeout.
func (n *Notifier) WaitSpace(ready func() bool, timeout time.Duration) (bool, error) {
	return n.wait(&n.space, n.token, ready, timeout)
}

// PostData wakes a reader sleeping for data, if there is one.
func (n *Notifier) PostData() error {
	if n.closed.Load() || n.conn == nil {
		return ErrClosed
	}
	if n.data.sleeper.Load() == 0 || n.data.sleeper.Swap(0) == 0 {
		return nil
	}
	n.wakes.Add(1)
	return n.sendErr0()
}

// PostSpace wakes a writer sleeping for space, if there is one.
func (n *Notifier) PostSpace() error {
	if n.closed.Load() || n.conn == nil {
		return ErrClosed
	}
	if n.space.sleeper.Load() == 0 {
		return nil
	}
	token := n.space.sleeper.Swap(0)
	if token == 0 {
		return nil
	}
	n.wakes.Add(1)
	n.setPeer("", token)
	return n.sendErr0()
}

// setPeer points the sends at addr, or, for addr "", at the writer with
// token (the address is rebuilt only when the token changes).
func (n *Notifier) setPeer(addr string, token uint32) {
	if addr == "" {
		if token == n.peerToken {
			return
		}
		addr = SpaceAddr(n.name, token)
	}
	n.peer = unix.SockaddrUnix{Name: addr}
	n.peerToken = token
}

// sendErr0 sends one datagram to the peer; a peer that is gone or already
// has wake-ups queued counts as woken.
func (n *Notifier) sendErr0() error {
	err := n.sendErrno()
	if err == unix.EAGAIN || err == unix.ECONNREFUSED {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unixgram notifier: send to %s: %w", n.peer.Name, err)
	}
	return nil
}

// sendErrno sends one datagram to the peer without blocking and returns
// the system call's error, or the connection's.
func (n *Notifier) sendErrno() error {
	n.sendErr = nil
	if err := n.raw.Write(n.sendFn); err != nil {
		return err
	}
	return n.sendErr
}

// send is sendErrno's RawConn callback; it never asks to wait for the
// socket to become writable.
func (n *Notifier) send(fd uintptr) bool {
	for {
		err := unix.Sendto(int(fd), wakeMsg[:], unix.MSG_DONTWAIT, &n.peer)
		if err != unix.EINTR {
			n.sendErr = err
			return true
		}
	}
}

// recv is the sleeping read's RawConn callback: it drains what is queued
// (up to drainMax datagrams) and reports whether there was anything;
// false parks the goroutine in the netpoller until the socket is readable
// or the read deadline passes.
func (n *Notifier) recv(fd uintptr) bool {
	got := 0
	for got < drainMax {
		_, err := unix.Read(int(fd), n.buf[:])
		switch err {
		case nil:
			got++
		case unix.EINTR:
		case unix.EAGAIN:
			return got > 0
		default:
			n.recvErr = err
			return true
		}
	}
	return true
}

// wait returns true once ready holds. It returns false when timeout
// passed, and early when the poster closed meanwhile. mark is what this
// side raises its sleeper word to.
func (n *Notifier) wait(d *direction, mark uint32, ready func() bool, timeout time.Duration) (bool, error) {
	if n.closed.Load() || n.conn == nil {
		return false, ErrClosed
	}
	if ready() {
		return true, nil
	}
	if timeout <= 0 {
		return false, nil
	}
	closes := d.closes.Load()
	deadline := time.Now().Add(timeout)
	for {
		// A swap, not a store: the re-check below must not be performed
		// before the flag is visible (see sync/futex's wait).
		d.sleeper.Swap(mark)
		if ready() {
			d.sleeper.Store(0)
			return true, nil
		}
		if d.closes.Load() != closes {
			d.sleeper.Store(0)
			return false, nil
		}
		err := n.sleep(deadline)
		if errors.Is(err, net.ErrClosed) {
			// Closed under us: Close lowered the word, and the OIEB
			// may be going away.
			return false, ErrClosed
		}
		d.sleeper.Store(0) // a poster that took it sent, and the read drained it
		if ready() {
			return true, nil
		}
		switch {
		case err == nil:
			// Woken without the condition: a stale wake-up, or the
			// poster's close (checked above, after raising the word).
		case errors.Is(err, os.ErrDeadlineExceeded):
			return false, nil
		default:
			return false, fmt.Errorf("unixgram notifier: read %s: %w", n.conn.LocalAddr(), err)
		}
	}
}

// sleep reads the socket until deadline, parked in the netpoller; nil
// means datagrams came (and were drained).
func (n *Notifier) sleep(deadline time.Time) error {
	if err := n.conn.SetReadDeadline(deadline); err != nil {
		return err
	}
	n.recvErr = nil
	if err := n.raw.Read(n.recvFn); err != nil {
		return err
	}
	return n.recvErr
}

// WriterWaiting reports whether the writer raised its sleeper word for
// space.
func (n *Notifier) WriterWaiting() bool {
	return n.conn != nil && !n.closed.Load() && n.space.sleeper.Load() != 0
}

// Close bumps this side's close count, wakes the peer if it sleeps (so
// that it looks at this side's liveness at once), lowers this side's own
// sleeper word, and closes the socket, which ends a wait in progress in
// another goroutine.
func (n *Notifier) Close() error {
	if n.conn == nil || !n.closed.CompareAndSwap(false, true) {
		return nil
	}
	own, peer, peerAddr := &n.data, &n.space, ""
	if n.writer {
		own, peer, peerAddr = &n.space, &n.data, DataAddr(n.name)
	}
	own.sleeper.Store(0)
	// The peer waits on the other direction, whose closes count is ours.
	peer.closes.Add(1)
	var errs []error
	if mark := peer.sleeper.Swap(0); mark != 0 {
		if !n.writer {
			peerAddr = SpaceAddr(n.name, mark)
		}
		to := &unix.SockaddrUnix{Name: peerAddr}
		err := n.raw.Write(func(fd uintptr) bool {
			for {
				if e := unix.Sendto(int(fd), wakeMsg[:], unix.MSG_DONTWAIT, to); e != unix.EINTR {
					if e != nil && e != unix.EAGAIN && e != unix.ECONNREFUSED {
						errs = append(errs, fmt.Errorf("unixgram notifier: close wake-up to %s: %w", peerAddr, e))
					}
					return true
				}
			}
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, n.conn.Close())
	return errors.Join(errs...)
}
