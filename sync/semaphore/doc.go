//go:build linux

// Package semaphore implements POSIX named semaphores in pure Go, byte- and
// protocol-compatible with glibc's sem_open/sem_post/sem_wait (the 64-bit
// sem_t of glibc 2.21 and later, checked against glibc 2.36), so that a Go
// process and a C, C++, C# or Python process can share one semaphore.
//
// A semaphore named NAME is the 32-byte file /dev/shm/sem.NAME:
//
//	offset 0   u64  data: low 32 bits = value (the count), high 32 bits =
//	                number of waiters blocked (or about to block) in the
//	                kernel
//	offset 8   u32  "private": 128 (glibc's FUTEX_SHARED) for a named semaphore
//	offset 12  20 bytes of zero
//
// Post and Wait follow glibc's nptl/sem_post.c and sem_waitcommon.c step by
// step: one 64-bit word updated with compare-and-swap and atomic add, and a
// shared futex on the value half of that word. A peer that posts wakes a
// blocked waiter with FUTEX_WAKE only when the waiter count says someone may
// be asleep, so an uncontended post costs no system call.
//
// # Memory ordering
//
// A Post happens before the Wait (or TryWait) that consumes its token:
// everything the poster wrote before calling Post — in this process or in
// another one, into shared memory or elsewhere — is visible to the waiter
// once Wait has returned true. The word is only touched with sync/atomic
// read-modify-write operations, which are sequentially consistent in Go and
// so at least as strong as glibc's release (post) and acquire (wait).
//
// Go's race detector cannot see this edge: it ignores atomics on memory it
// did not allocate, such as this mmap'd word. Goroutines in one process that
// hand each other Go heap memory through a semaphore are correctly ordered
// but will be reported by -race; give them a channel or a sync primitive
// too.
//
// # Spinning
//
// Wait may spin in user space for a short, bounded time (see Sem.SetSpin and
// WithSpin) before it registers as a waiter and sleeps. When the peer posts
// within that window, neither side makes a system call: the waiter sees the
// token, and the poster sees no registered waiter and skips FUTEX_WAKE.
// Spinning changes nothing in the shared bytes' protocol.
//
// # Blocking and the Go scheduler
//
// A Wait that sleeps is a blocking futex system call. Like any blocking
// system call in Go it holds its P until the runtime's sysmon hands the P
// to another thread, which takes tens of microseconds: with GOMAXPROCS=1,
// other goroutines of the process stall that long each time a Wait goes to
// sleep, and two goroutines ping-ponging through semaphores in one process
// are slow (about 0.2ms per round trip instead of a few microseconds). With
// more Ps, or with the peer in another process, this does not arise.
//
// # Names and permissions
//
// Names are given without glibc's leading slash ("sem-w-buf", not
// "/sem-w-buf") and may not contain '/' at all. Create sets the file mode
// to exactly the requested permission bits (glibc applies the umask; this
// package does not, so that the owner gets the mode they asked for).
package semaphore
