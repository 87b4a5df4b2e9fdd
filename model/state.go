package model

import (
	"fmt"
	"strings"
)

// Sizes of the state's arrays: the largest bounds a Config may ask for.
const (
	maxRing   = 16 // ring cells
	maxFrames = 15 // frames per run (a cell stores the frame number in 4 bits)
	maxQueue  = 8  // the reader's pending spans
)

// semState is a glibc semaphore's 64-bit word (value, waiter count) and
// the kernel's view of its futex: whether the one waiter a direction has
// is asleep in FUTEX_WAIT on it.
type semState struct {
	val, waiters uint8
	asleep       bool
}

// futState is one direction of the futex notifier: the sequence word,
// the sleeper flag, and whether the waiter is asleep in FUTEX_WAIT.
type futState struct {
	seq, sleeper uint8
	asleep       bool
}

// ugState is one direction of the unixgram notifier: the datagrams
// queued on the waiter's socket, and the sleeper word (the writer's token
// for space, 1 for data; any non-zero value is one value here: one writer
// sleeps at a time).
type ugState struct {
	queue, sleeper uint8
}

// ugQueueCap is the model's socket queue: a send to a full queue gets
// EAGAIN and drops its datagram (sendErr0 counts it as a wake-up, since
// the queue is not empty). The kernel's is net.unix.max_dgram_qlen
// datagrams; two suffice for a stale wake-up and a fresh one.
const ugQueueCap = 2

// pendingSpan is ring.pendingSpan: a held frame's span, or a wasted tail
// behind held frames (seq 0). The C++ reader keeps its held frames here
// too, in ring order.
type pendingSpan struct {
	size, end, items, seq uint8
	released              bool
}

// sideRegs are the registers of a side's program and of the notifier
// call it is in: program counter, return addresses, the call's timeout
// kind and results.
type sideRegs struct {
	pc, nret, fret, rret uint8
	tmo                  uint8
	ok, rdy, err         bool
	deadline             bool  // the caller's deadline (ReadFrame's ctx) may end the wait
	seen                 uint8 // futex: the sequence value read before sleeping; unixgram: 1 once recv read a datagram
}

// writerState is the writer's cache and locals: ring.Writer's fields for
// the Go writer, write_frame's locals for the C++ writer.
type writerState struct {
	sideRegs
	seq, pos, count uint8 // next sequence; writePos; writtenCount (markers included)
	freeBytes       int8  // ring.Writer.freeBytes, the cached lower bound
	need, span      uint8
	resPos, wasted  uint8
	marker          uint8
	fb              int8 // free(): the loads, and the result
	rc, rp          uint8
	free            int8
	taken           uint8 // semaphore Notifier.spaceTaken
	trCounted       uint8 // releaseTrack
	trPos, trFrames uint8
}

// readerState is ring.Reader's state for the Go reader, run_reader's for
// the C++ reader.
type readerState struct {
	sideRegs
	readPos, readCount uint8
	relPos, relCount   uint8
	expSeq, known      uint8
	unpub, releases    uint8
	semHeld            uint8 // semaphore Notifier.held
	flushed            bool
	n, held            uint8 // pending spans; frames among them not released
	pending            [maxQueue]pendingSpan
	fb                 int8 // C++ reader: the loaded payload_free_bytes
	cur, span          uint8
}

// State is one global state: the OIEB fields the protocol uses, the
// ring's bytes, the notifiers' words and kernel state, both sides, and
// ghost variables for the properties. It is compact and comparable: the
// checker hashes it whole.
type State struct {
	free                     int8 // payload_free_bytes (signed, to see an underflow)
	readPos, readCount, wcnt uint8
	cells                    [maxRing]uint8 // frame<<4 | byte index; 0 = zero bytes
	semW, semR               semState
	futD, futS               futState
	ugD, ugS                 ugState
	// Ghosts: each frame's span as its header says, frames committed
	// (the written count stored), frames the reader's caller released.
	spans     [maxFrames + 1]uint8
	committed uint8
	released  uint16
	W         writerState
	R         readerState
}

// ringString draws the ring's cells: a frame's number on each of its
// bytes, '.' for zero bytes (fresh memory or a wrap marker).
func ringString(c []uint8) string {
	var b strings.Builder
	for _, v := range c {
		if v == 0 {
			b.WriteByte('.')
		} else {
			fmt.Fprintf(&b, "%x", v>>4)
		}
	}
	return b.String()
}
