package main

// The bench's raw ping-pong floors. They follow internal/floor exactly —
// a ping word and a pong word on different cache lines of a small shared
// segment; the pinging side writes round k into the ping word and waits
// for the pong word to become k, polling with the CPU's pause hint (spin)
// or sleeping on the futex after each answer wakes it (futex) — with one
// addition internal/floor's Ping and Pong lack: a way to give up. A floor
// whose peer died, or a bench interrupted with ^C, would otherwise poll
// for ever.

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

// floorSegment is the size of a floor's shared segment: the ping word at
// 0, the pong word at 128, as in internal/floor.
const floorSegment = 256

// errFloorAborted is returned when the abort function said so.
var errFloorAborted = errors.New("floor ping-pong aborted")

type floorWords struct {
	ping, pong *atomic.Uint32
}

func viewFloor(seg []byte) (floorWords, error) {
	if len(seg) < floorSegment || uintptr(unsafe.Pointer(&seg[0]))%64 != 0 {
		return floorWords{}, fmt.Errorf("floor: need %d bytes aligned to 64", floorSegment)
	}
	at := func(off int) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&seg[off])) }
	return floorWords{ping: at(0), pong: at(128)}, nil
}

// pingRounds runs rounds round trips from the pinging side, recording
// each (chained: from the end of the previous one), and returns the total
// time. abort (may be nil) is consulted every few thousand polls and at
// each futex timeout.
func (w floorWords) pingRounds(mech string, rounds int, record func(time.Duration), abort func() bool) (time.Duration, error) {
	start := time.Now()
	last := start
	for k := uint32(1); k <= uint32(rounds); k++ {
		w.ping.Store(k)
		if mech == "futex" {
			if _, err := futex.Wake(wordAddr(w.ping), 1); err != nil {
				return 0, err
			}
		}
		if err := awaitWord(mech, w.pong, k, abort); err != nil {
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

// pongRounds answers rounds round trips.
func (w floorWords) pongRounds(mech string, rounds int, abort func() bool) error {
	for k := uint32(1); k <= uint32(rounds); k++ {
		if err := awaitWord(mech, w.ping, k, abort); err != nil {
			return err
		}
		w.pong.Store(k)
		if mech == "futex" {
			if _, err := futex.Wake(wordAddr(w.pong), 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// abortEvery is how many polls go between calls of abort.
const abortEvery = 4096

// awaitWord waits until *v == k.
func awaitWord(mech string, v *atomic.Uint32, k uint32, abort func() bool) error {
	for polls := 1; ; polls++ {
		cur := v.Load()
		if cur == k {
			return nil
		}
		if mech == "spin" {
			pause.Pause(1)
			if polls%abortEvery == 0 && abort != nil && abort() {
				return errFloorAborted
			}
			continue
		}
		switch err := futex.Wait(wordAddr(v), cur, 100*time.Millisecond); err {
		case nil, unix.EAGAIN, unix.EINTR:
		case unix.ETIMEDOUT:
			if abort != nil && abort() {
				return errFloorAborted
			}
		default:
			return err
		}
	}
}

func wordAddr(v *atomic.Uint32) *uint32 { return (*uint32)(unsafe.Pointer(v)) }
