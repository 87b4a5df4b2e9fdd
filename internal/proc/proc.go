// Package proc answers whether a peer process is alive.
package proc

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Alive reports whether pid names a live process. kill(pid, 0) decides, as
// in the other ZeroBuffer implementations (EPERM means it exists but is
// not ours); a zombie — killed but not yet reaped by its parent — counts
// as dead, since it will never touch the buffer again. Zero and values
// that are not PIDs are dead.
func Alive(pid uint64) bool {
	if pid == 0 || pid > 1<<22 { // PID_MAX_LIMIT on 64-bit Linux
		return false
	}
	if err := unix.Kill(int(pid), 0); err != nil && err != unix.EPERM {
		return false
	}
	return !zombie(int(pid))
}

// zombie reads the state letter from /proc/PID/stat; the letter follows the
// last ')' (the command name may itself contain parentheses).
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false // no /proc: trust kill
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	switch b[i+2] {
	case 'Z', 'X':
		return true
	}
	return false
}
