//go:build linux

package futex_test

import "unsafe"

// unsafeAdd returns a pointer off bytes past the start of *p.
func unsafeAdd(p *[8]uint32, off uintptr) unsafe.Pointer {
	return unsafe.Add(unsafe.Pointer(p), off)
}
