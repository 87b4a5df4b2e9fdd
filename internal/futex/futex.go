//go:build linux

// Package futex wraps the Linux futex(2) system call for words that live in
// memory shared between processes.
//
// The futexes are *shared* ones: FUTEX_PRIVATE_FLAG is never set, because
// the waiter and the waker are usually different processes mapping the same
// file (a private futex is keyed by the virtual address in one process and
// would never see a wake from another). This matches glibc's process-shared
// semaphores, whose futex calls this package must be able to meet.
//
// Both functions are allocation-free so that they can sit on hot paths.
package futex

import (
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations (linux/futex.h). x/sys/unix does not export them.
const (
	opWait = 0 // FUTEX_WAIT
	opWake = 1 // FUTEX_WAKE
)

// Wait blocks while *addr == val, until a Wake on addr, a signal or the
// relative timeout (timeout < 0: no timeout).
//
// It returns nil when woken (which may be spurious: callers re-check their
// condition), and otherwise the raw errno so that callers can tell the cases
// apart with ==:
//
//   - unix.EAGAIN: *addr != val when the kernel looked (nothing to wait for);
//   - unix.ETIMEDOUT: the timeout elapsed;
//   - unix.EINTR: a signal arrived (Go's runtime sends SIGURG for goroutine
//     preemption, so this is common); callers retry with the time left.
//
// Any other error means a broken call (bad address, ...) and is wrapped with
// context.
func Wait(addr *uint32, val uint32, timeout time.Duration) error {
	// The timespec lives on this goroutine's stack. Converting its address
	// to uintptr inside the argument list of the assembly Syscall6 keeps it
	// alive for the call and does not make it escape (checked with
	// -gcflags=-m and testing.AllocsPerRun).
	var ts unix.Timespec
	var tsp uintptr
	if timeout >= 0 {
		ts = unix.NsecToTimespec(int64(timeout))
		tsp = uintptr(unsafe.Pointer(&ts))
	}
	// Syscall6 (not RawSyscall6): the call may block, and the runtime must
	// know so that it can hand this P to another goroutine.
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX,
		uintptr(unsafe.Pointer(addr)), opWait, uintptr(val), tsp, 0, 0)
	switch errno {
	case 0:
		return nil
	case unix.EAGAIN, unix.ETIMEDOUT, unix.EINTR:
		return errno
	default:
		return fmt.Errorf("futex wait at %#x: %w", uintptr(unsafe.Pointer(addr)), errno)
	}
}

// Wake wakes at most n waiters blocked in Wait (or in any process's
// FUTEX_WAIT, e.g. glibc's sem_wait) on addr and returns how many it woke.
func Wake(addr *uint32, n int) (int, error) {
	// FUTEX_WAKE never blocks, so RawSyscall6 is safe and spares the
	// entersyscall/exitsyscall bookkeeping on the post path.
	r, _, errno := unix.RawSyscall6(unix.SYS_FUTEX,
		uintptr(unsafe.Pointer(addr)), opWake, uintptr(n), 0, 0, 0)
	if errno != 0 {
		return 0, fmt.Errorf("futex wake at %#x: %w", uintptr(unsafe.Pointer(addr)), errno)
	}
	return int(r), nil
}
