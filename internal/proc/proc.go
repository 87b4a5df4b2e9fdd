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
	alive, _ := alive(pid)
	return alive
}

// alive is Alive, with the process's start time when /proc gives it.
func alive(pid uint64) (bool, uint64) {
	if pid == 0 || pid > 1<<22 { // PID_MAX_LIMIT on 64-bit Linux
		return false, 0
	}
	if err := unix.Kill(int(pid), 0); err != nil && err != unix.EPERM {
		return false, 0
	}
	st, ok := readStat(int(pid))
	if !ok {
		return true, 0 // no /proc: trust kill
	}
	return st.state != 'Z' && st.state != 'X', st.start
}

// Peer follows one peer process through its PID and the start time the
// process had when the Peer first saw that PID, so that a PID the kernel
// hands to another process after the peer died reads as dead. (PIDs are
// reused: the kernel counts up to pid_max and wraps; pid_max is 4 M on
// most distributions, 32768 on some machines.) Start times count clock
// ticks (1/100 s), so a PID reused within the same tick goes unnoticed.
// The zero Peer is ready; a Peer is for one goroutine.
type Peer struct {
	pid   uint64
	start uint64 // 0: unknown (no /proc, or not alive when first seen)
}

// Alive reports whether pid is alive and, if the Peer saw this PID
// before, still the process it saw. A different PID starts over.
func (p *Peer) Alive(pid uint64) bool {
	ok, start := alive(pid)
	if pid != p.pid {
		p.pid, p.start = pid, 0
		if ok {
			p.start = start
		}
		return ok
	}
	if !ok {
		return false
	}
	if p.start == 0 {
		p.start = start
		return true
	}
	return start == 0 || start == p.start
}

type stat struct {
	state byte
	start uint64 // field 22, starttime: clock ticks after boot
}

// readStat reads /proc/PID/stat.
func readStat(pid int) (stat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	return parseStat(b)
}

// parseStat takes the state (field 3) and starttime (field 22) from a
// /proc/PID/stat line. The command name, field 2, is in parentheses and
// may itself hold parentheses and spaces, so fields are counted from the
// last ')'.
func parseStat(b []byte) (stat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return stat{}, false
	}
	fields := bytes.Fields(b[i+1:]) // fields 3 onwards
	if len(fields) < 20 || len(fields[0]) != 1 {
		return stat{}, false
	}
	start, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return stat{}, false
	}
	return stat{state: fields[0][0], start: start}, true
}
