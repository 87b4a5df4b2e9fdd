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
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// names are this package's buffers: zbfuzz-PID-N. The PID tells each
// process (a fuzz worker, say) its own files, and the coordinator the
// files of workers that are gone.
var names = testsupport.NewNames("zbfuzz-")

// newName returns a buffer name no other live process uses.
func newName() string { return names.New() }

// ourFiles lists the files of this package's buffers, of any process.
func ourFiles() []string { return testsupport.Files(names.Family()) }

// orphans lists our buffer files whose process is gone (or is us, at the
// end of a run).
func orphans(includeSelf bool) []string {
	var left []string
	for _, f := range ourFiles() {
		pid := names.OwnerPID(f)
		if (includeSelf && pid == os.Getpid()) || (pid != os.Getpid() && !testsupport.SameBinaryAlive(pid)) {
			left = append(left, f)
		}
	}
	return left
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
		if st, err := os.Stat(l); err == nil && st.Size() == 0 && !testsupport.SameBinaryAlive(pid) {
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
				if names.OwnerPID(f) == os.Getpid() {
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

// TestMain runs the tests (or, in a fuzz worker, the worker) inside
// testsupport.Main, which then checks for leaked goroutines, child
// processes and buffer files: a worker checks its own files; the
// coordinator (or a plain test run), which outlives its workers, also
// checks theirs.
func TestMain(m *testing.M) {
	worker := testsupport.IsFuzzWorker()
	testsupport.Main(m, testsupport.MainConfig{
		Setup: func() (func(), error) {
			if worker {
				if f, err := os.Create(workerLog(os.Getpid())); err == nil {
					_ = unix.Dup3(int(f.Fd()), 2, 0)
					f.Close()
				}
				return cleanupOnInterrupt(), nil
			}
			// What crashed processes (a crasher found by an earlier fuzz
			// run) left behind is not this run's leak: remove the files
			// of dead readers, including segments whose lock file is
			// already gone.
			_ = ring.CleanupStale()
			for _, f := range orphans(false) {
				os.Remove(f)
			}
			return nil, nil
		},
		Leftovers: func() []string {
			left := orphans(true)
			if worker {
				left = slices.DeleteFunc(left, func(f string) bool { return names.OwnerPID(f) != os.Getpid() })
			}
			return append(left, testsupport.HiddenSegments(os.Getpid())...)
		},
		Done: func(code int) int {
			if worker && code == 0 {
				os.Remove(workerLog(os.Getpid()))
			}
			if !worker {
				removeEmptyWorkerLogs()
			}
			return code
		},
	})
}
