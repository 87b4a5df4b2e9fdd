package futex

import (
	"sync/atomic"
	"unsafe"
)

// seqAddr is the address the kernel keys the futex on.
func seqAddr(w *atomic.Uint32) *uint32 { return (*uint32)(unsafe.Pointer(w)) }
