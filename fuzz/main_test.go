package fuzz

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// namePrefix starts the name of every buffer this package creates, with the
// PID, so that each process (a fuzz worker, say) can tell its files.
const namePrefix = "zbfuzz-"

var (
	procPrefix  = fmt.Sprintf("%s%d-", namePrefix, os.Getpid())
	nameCounter atomic.Uint64
)

// newName returns a buffer name no other live process uses.
func newName() string { return fmt.Sprintf("%s%d", procPrefix, nameCounter.Add(1)) }

// bufferFiles lists the files a buffer of that name may have.
func bufferFiles(name string) []string {
	return []string{
		"/dev/shm/" + name,
		"/dev/shm/sem.sem-w-" + name,
		"/dev/shm/sem.sem-r-" + name,
		ring.LockDir + "/" + name + ".lock",
	}
}

// ourFiles lists the files of this package's buffers, of any process.
func ourFiles() []string {
	var files []string
	for _, pattern := range []string{
		"/dev/shm/" + namePrefix + "*",
		"/dev/shm/sem.sem-?-" + namePrefix + "*",
		ring.LockDir + "/" + namePrefix + "*",
	} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	return files
}

// ownerPID is the PID in the name of one of our buffer files.
func ownerPID(path string) int {
	base := filepath.Base(path)
	_, rest, _ := strings.Cut(base, namePrefix)
	pid, _ := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
	return pid
}

// testBinaryAlive reports whether pid is a live process running this test
// binary. PIDs are reused (fast, on a busy machine), so a live PID alone
// says nothing.
func testBinaryAlive(pid int) bool {
	self, err1 := os.Readlink("/proc/self/exe")
	exe, err2 := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return pid > 0 && err1 == nil && err2 == nil && filepath.Base(exe) == filepath.Base(self)
}

// orphans lists our buffer files whose process is gone (or is us, at the
// end of a run).
func orphans(includeSelf bool) []string {
	var left []string
	for _, f := range ourFiles() {
		pid := ownerPID(f)
		if (includeSelf && pid == os.Getpid()) || (pid != os.Getpid() && !testBinaryAlive(pid)) {
			left = append(left, f)
		}
	}
	return left
}

func isFuzzWorker() bool {
	return slices.ContainsFunc(os.Args[1:], func(a string) bool {
		return a == "-test.fuzzworker" || a == "-test.fuzzworker=true" || a == "--test.fuzzworker"
	})
}

// workerLog is where a fuzz worker's standard error goes. The go command
// discards a worker's output, so a crash that kills the worker (a fault, a
// fatal error, the hang watchdog) would leave no trace but "exit status 2";
// scripts/fuzz prints these files when a run fails.
func workerLog(pid int) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("zbfuzz-worker-%d.log", pid))
}

// removeEmptyWorkerLogs removes the logs of workers that are gone and
// wrote nothing (a worker stopped by the go command at the end of a run
// does not get to remove its own).
func removeEmptyWorkerLogs() {
	logs, _ := filepath.Glob(filepath.Join(os.TempDir(), "zbfuzz-worker-*.log"))
	for _, l := range logs {
		pid, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(l), "zbfuzz-worker-"), ".log"))
		if st, err := os.Stat(l); err == nil && st.Size() == 0 && !testBinaryAlive(pid) {
			os.Remove(l)
		}
	}
}

// creating is held (shared) while a buffer is being created; the interrupt
// handler takes it exclusively, so no buffer is half made, or made after
// its files were removed, when the process ends.
var creating sync.RWMutex

// cleanupOnInterrupt makes a fuzz worker remove its own buffer files when
// the go command interrupts it. At the end of -fuzztime the coordinator
// closes a worker's input and waits a second for it; a worker still inside
// an iteration then gets SIGINT, and would die with the iteration's buffer
// still in /dev/shm. The handler waits for any buffer being created,
// removes this process's files and dies. stop ends the handler before
// goleak looks.
func cleanupOnInterrupt() (stop func()) {
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	finished := make(chan struct{})
	signal.Notify(sig, os.Interrupt)
	go func() {
		defer close(finished)
		select {
		case <-sig:
			creating.Lock() // never unlocked: nothing more is created
			for _, f := range ourFiles() {
				if ownerPID(f) == os.Getpid() {
					os.Remove(f)
				}
			}
			os.Remove(workerLog(os.Getpid())) // an interrupt is not a crash
			// Die of SIGINT, as without the handler: the coordinator
			// tells an interrupt from a crash by it. A process that
			// started with SIGINT ignored (a background job) does not
			// die of it; exit then (not with 0, which -test.paniconexit0
			// turns into a panic). The coordinator accepts any exit
			// from a worker it interrupted.
			signal.Reset(os.Interrupt)
			_ = unix.Kill(os.Getpid(), unix.SIGINT)
			time.Sleep(100 * time.Millisecond)
			os.Exit(1)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sig)
		close(done)
		<-finished
	}
}

// runWith runs m with a handler around it.
type runWith struct {
	m      *testing.M
	before func() (after func())
}

func (r runWith) Run() int {
	after := r.before()
	defer after()
	return r.m.Run()
}

func TestMain(m *testing.M) {
	worker := isFuzzWorker()
	if worker {
		if f, err := os.Create(workerLog(os.Getpid())); err == nil {
			_ = unix.Dup3(int(f.Fd()), 2, 0)
			f.Close()
		}
	} else {
		// What crashed processes (a crasher found by an earlier fuzz run)
		// left behind is not this run's leak: remove the files of dead
		// readers, including segments whose lock file is already gone.
		_ = ring.CleanupStale()
		for _, f := range orphans(false) {
			os.Remove(f)
		}
	}
	var tm goleak.TestingM = m
	if worker {
		tm = runWith{m: m, before: cleanupOnInterrupt}
	}
	goleak.VerifyTestMain(tm, goleak.Cleanup(func(code int) {
		// A worker checks its own files; the coordinator (or a plain test
		// run), which outlives its workers, also checks theirs.
		left := orphans(true)
		if worker {
			left = slices.DeleteFunc(left, func(f string) bool { return ownerPID(f) != os.Getpid() })
		}
		if len(left) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: buffer files left behind: %s\n", strings.Join(left, ", "))
			if code == 0 {
				code = 1
			}
		}
		if worker && code == 0 {
			os.Remove(workerLog(os.Getpid()))
		}
		if !worker {
			removeEmptyWorkerLogs()
		}
		os.Exit(code)
	}))
}
