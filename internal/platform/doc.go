// Package platform stops a build for an operating system the module does
// not support, with one message instead of a page of undefined symbols.
//
// ZeroBuffer's wire format is Linux's: POSIX shared memory in /dev/shm,
// semaphores in glibc's file format, futexes; liveness reads /proc. The
// packages that touch the kernel (internal/shm, internal/futex,
// internal/proc, sync/semaphore) import this one, and on any GOOS but
// linux it does not compile (unsupported.go), so the build stops here
// first, saying why. The pure packages (layout, notify, sync/spin) do not
// import it and build anywhere.
package platform
