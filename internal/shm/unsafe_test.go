package shm

import "unsafe"

func addPtr(p *byte, n uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(p), n) }
