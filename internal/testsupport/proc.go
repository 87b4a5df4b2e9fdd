package testsupport

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// ChildPIDs lists the live (or not yet reaped) children of this process.
func ChildPIDs() []int {
	me := strconv.Itoa(os.Getpid())
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may hold spaces and parentheses: fields start
		// after the last ')'; the state, then the parent's PID.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		if fields := strings.Fields(string(b[i+1:])); len(fields) > 1 && fields[1] == me {
			kids = append(kids, pid)
		}
	}
	return kids
}

// FDCount counts this process's open file descriptors.
func FDCount() (int, error) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, fmt.Errorf("count descriptors: %w", err)
	}
	return len(entries), nil
}

// AllThreadsStopped reports whether every thread of process pid is stopped
// (state T or t), as after SIGSTOP.
func AllThreadsStopped(pid int) bool {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			return false
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// SameBinaryAlive reports whether pid is a live process running the same
// executable as this one. PIDs are reused (quickly, on a busy machine), so
// a live PID alone says nothing about whose files are whose.
func SameBinaryAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	self, err1 := os.Readlink("/proc/self/exe")
	exe, err2 := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return err1 == nil && err2 == nil && filepath.Base(exe) == filepath.Base(self)
}

// IsFuzzWorker reports whether this test binary runs as a worker of the go
// command's fuzzing coordinator.
func IsFuzzWorker() bool {
	return slices.ContainsFunc(os.Args[1:], func(a string) bool {
		return a == "-test.fuzzworker" || a == "-test.fuzzworker=true" || a == "--test.fuzzworker"
	})
}

// DeadPID returns the PID of a process that has exited and been reaped,
// and that no process has taken again yet: a peer that "died". (It may be
// reused at any time after; tests use it for a moment.)
func DeadPID(t testing.TB) uint64 {
	t.Helper()
	for range 10 {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Fatalf("run true: %v", err)
		}
		if pid := cmd.Process.Pid; syscall.Kill(pid, 0) == syscall.ESRCH {
			return uint64(pid)
		}
	}
	t.Fatal("no dead PID found: every one was reused at once")
	return 0
}
