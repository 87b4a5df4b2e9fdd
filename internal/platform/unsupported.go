//go:build !linux

package platform

// This declaration fails to compile on purpose, and the compiler's message
// quotes the constant: ZeroBuffer needs /dev/shm, glibc-format semaphores
// and futexes, which is to say Linux.
var _ int = message

const message = "zerobuffer-go builds only for GOOS=linux"
