package layout

import (
	"fmt"
	"sync/atomic"
	"unsafe"
)

// notifierMagic marks a non-zero notifier word as ours: a word that lacks
// it is garbage (or another implementation's use of reserved_1).
const notifierMagic = 0x5A

// NotifierWord encodes a notifier's kind number and its one parameter (its
// meaning is the kind's: a duration in microseconds, a count) as the word
// a reader records in OIEB Reserved[0] (offset 0x60, "reserved_1"):
//
//	bits 0-7    kind
//	bits 8-39   parameter
//	bits 40-55  0
//	bits 56-63  0x5A
//
// Kind 0 is the v1 protocol's notifier (POSIX semaphores) and is always
// the word 0, whatever the parameter, so a buffer in the default mode is a
// plain v1 buffer. Which strategy a kind number stands for is not the
// layout's business: see package notify.
func NotifierWord(kind uint8, param uint32) uint64 {
	if kind == 0 {
		return 0
	}
	return uint64(notifierMagic)<<56 | uint64(param)<<8 | uint64(kind)
}

// ParseNotifierWord decodes a word written by NotifierWord into its kind
// and parameter. A word that NotifierWord cannot have written is an error
// matching ErrCorrupt.
func ParseNotifierWord(w uint64) (kind uint8, param uint32, err error) {
	if w == 0 {
		return 0, 0, nil
	}
	kind = uint8(w)
	if w>>56 != notifierMagic || w>>40&0xffff != 0 || kind == 0 {
		return 0, 0, corrupt("reserved_1", w, 0, "not a notifier word (kind in bits 0-7, parameter in 8-39, 0x5A in 56-63)")
	}
	return kind, uint32(w >> 8), nil
}

// NotifierWords is the number of 32-bit words at 0x68-0x7f (reserved_2
// to reserved_4) that belong to the notifier recorded in Reserved[0].
const NotifierWords = 6

// NotifierWord32 returns the i-th 32-bit word of the notifier's area,
// 0 ≤ i < NotifierWords, for futexes and the like. The reader zeroes the
// area when it creates the buffer.
func (o *OIEB) NotifierWord32(i int) *atomic.Uint32 {
	if i < 0 || i >= NotifierWords {
		panic(fmt.Sprintf("layout: notifier word %d out of range", i))
	}
	words := (*[NotifierWords]atomic.Uint32)(unsafe.Pointer(&o.Reserved[1]))
	return &words[i]
}

// BatchedReleaseMark is what a Go reader in the semaphore mode records in
// Reserved[3] (0x78, reserved_4): "this reader returns space in batches,
// with atomic adds to payload_free_bytes, and posts sem-r as a wake-up,
// not once per released frame". The other implementations leave the word
// 0 (and ignore it). A writer uses it to choose how far to trust
// payload_free_bytes and the count of sem-r posts (see ring.Writer). In
// the other notifiers' modes the word belongs to the notifier.
const BatchedReleaseMark uint64 = 0x5A42_5245_4C45_4153 // "ZBRELEAS"

// BatchedReleases reports whether the reader recorded BatchedReleaseMark
// in the semaphore mode.
func (s *Snapshot) BatchedReleases() bool {
	return s.Reserved[0] == 0 && s.Reserved[3] == BatchedReleaseMark
}
