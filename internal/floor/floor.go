// Package floor measures the raw mechanisms the notifiers are built on,
// without the ring: a cache line bounced between two processes by
// spinning, a futex ping-pong, a semaphore ping-pong. A notifier's
// figures mean something next to its mechanism's floor measured in the
// same run.
//
// Each ping-pong runs over a small shared segment: the pinging side writes
// round k into the ping word and waits for the pong word to become k; the
// ponging side waits for ping = k and answers. The two words sit on
// different cache lines, as the ring's writer- and reader-owned fields do.
package floor

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/futex"
	"github.com/zerobuffer/zerobuffer-go/internal/pause"
)

// SegmentSize is the size of the segment a ping-pong needs.
const SegmentSize = 256

// Words are the ping and pong words of a segment.
type Words struct {
	ping, pong *atomic.Uint32
}

// ErrAborted is returned by Ping and Pong when their abort function said
// so: a peer that died, or a run that was interrupted, must not leave the
// other side polling for ever.
var ErrAborted = errors.New("floor: ping-pong aborted")

// View returns the words of a segment of at least SegmentSize bytes.
func View(seg []byte) (Words, error) {
	if len(seg) < SegmentSize || uintptr(unsafe.Pointer(&seg[0]))%64 != 0 {
		return Words{}, fmt.Errorf("floor: need %d bytes aligned to 64", SegmentSize)
	}
	at := func(off int) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&seg[off])) }
	return Words{ping: at(0), pong: at(128)}, nil
}

// Mechanism names a floor.
type Mechanism string

// The mechanisms.
const (
	Spin  Mechanism = "spin"  // both sides poll their word
	Futex Mechanism = "futex" // both sides sleep on their word; each answer wakes
)

// Ping runs rounds round trips from the pinging side and calls record with
// each one's duration (record may be nil). It returns the total time.
// abort (may be nil) is consulted every few thousand polls and at each
// futex timeout.
func (w Words) Ping(m Mechanism, rounds int, record func(time.Duration), abort func() bool) (time.Duration, error) {
	start := time.Now()
	last := start
	for k := uint32(1); k <= uint32(rounds); k++ {
		w.ping.Store(k)
		if m == Futex {
			if _, err := futex.Wake(addr(w.ping), 1); err != nil {
				return 0, err
			}
		}
		if err := await(m, w.pong, k, abort); err != nil {
			return 0, err
		}
		if record != nil {
			now := time.Now()
			record(now.Sub(last))
			last = now
		}
	}
	return time.Since(start), nil
}

// Pong answers rounds round trips; abort as for Ping.
func (w Words) Pong(m Mechanism, rounds int, abort func() bool) error {
	for k := uint32(1); k <= uint32(rounds); k++ {
		if err := await(m, w.ping, k, abort); err != nil {
			return err
		}
		w.pong.Store(k)
		if m == Futex {
			if _, err := futex.Wake(addr(w.pong), 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// abortEvery is how many polls go between calls of abort.
const abortEvery = 4096

// await waits until *v == k.
func await(m Mechanism, v *atomic.Uint32, k uint32, abort func() bool) error {
	for polls := 1; ; polls++ {
		cur := v.Load()
		if cur == k {
			return nil
		}
		if m == Spin {
			pause.Pause(1)
			if polls%abortEvery == 0 && abort != nil && abort() {
				return ErrAborted
			}
			continue
		}
		switch err := futex.Wait(addr(v), cur, 100*time.Millisecond); err {
		case nil, unix.EAGAIN, unix.EINTR:
		case unix.ETIMEDOUT:
			if abort != nil && abort() {
				return ErrAborted
			}
		default:
			return err
		}
	}
}

func addr(v *atomic.Uint32) *uint32 { return (*uint32)(unsafe.Pointer(v)) }

// Memcpy copies size bytes count times at advancing offsets of dst (a
// warm mapping, as the ring is once pre-faulted) and returns ns per copy.
func Memcpy(dst []byte, size, count int) float64 {
	src := make([]byte, size)
	for i := range src {
		src[i] = byte(i)
	}
	off := 0
	start := time.Now()
	for i := 0; i < count; i++ {
		if off+size > len(dst) {
			off = 0
		}
		copy(dst[off:off+size], src)
		off += size
	}
	return float64(time.Since(start).Nanoseconds()) / float64(count)
}
