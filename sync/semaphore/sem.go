//go:build linux

package semaphore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/futex"
	"github.com/zerobuffer/zerobuffer-go/notify"
)

const (
	// ValueMax is the largest value a semaphore can hold (glibc's
	// SEM_VALUE_MAX).
	ValueMax = 0x7fffffff

	// Size is the size of the semaphore file (sizeof(sem_t) on 64-bit
	// glibc).
	Size = 32

	// privateShared is what glibc stores in the private field of a
	// process-shared semaphore: FUTEX_SHARED, which is 128 because glibc
	// XORs it into FUTEX_PRIVATE_FLAG (128) to clear that flag.
	privateShared = 128
	offPrivate    = 8

	// waiterOne is one waiter in the high half of the data word
	// (glibc's SEM_NWAITERS_SHIFT is 32).
	waiterOne = 1 << 32
	// waiterDec added to the data word removes one waiter (two's
	// complement of waiterOne).
	waiterDec = ^uint64(waiterOne - 1)

	// tempRetries bounds the attempts at a fresh temporary name, like
	// glibc's NRETRIES.
	tempRetries = 50
)

// DefaultSpin is how long Wait polls in user space before it sleeps in the
// kernel, unless changed with SetSpin or WithSpin.
//
// Measured on a 2-CPU x86-64 VM (BenchmarkPingPong*, BenchmarkStream*): a
// round trip through two sleeping futex waits costs 8-10µs there, a spinning
// one 0.2-0.7µs; a Go writer that spends 2-8µs producing each frame makes a
// non-spinning reader sleep (and itself FUTEX_WAKE) for every frame, and a
// 20µs spin brings that to a few wakes per thousand frames. The price is at
// most 20µs of CPU per wait that ends up sleeping anyway. The spin is
// skipped on single-CPU machines, where the peer cannot run while we spin.
const DefaultSpin = 20 * time.Microsecond

// The 64-bit sem_t layout (one 64-bit word holding value and waiters) is the
// one glibc uses where it has 64-bit atomics, i.e. on 64-bit targets; 32-bit
// glibc uses another layout, which this package does not speak.
var _ [unsafe.Sizeof(uintptr(0)) - 8]struct{}

var (
	// ErrOverflow is returned by Post when the value is already ValueMax.
	ErrOverflow = fmt.Errorf("semaphore: post would exceed ValueMax: %w", unix.EOVERFLOW)
	// ErrClosed is returned when a closed Sem is used.
	ErrClosed = errors.New("semaphore: use of closed semaphore")
)

// valueOffset is where the value half of the data word lies: the low 32
// bits are at offset 0 on little-endian machines and at 4 on big-endian
// ones (glibc's SEM_VALUE_OFFSET). The futex is on that half.
var valueOffset = func() uintptr {
	x := uint64(1)
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return 0
	}
	return 4
}()

// multiCPU is false on a single-CPU machine, where spinning is pointless:
// the peer cannot post while we hold the only CPU.
var multiCPU = runtime.NumCPU() > 1

// Sem is a named semaphore mapped into this process.
//
// Post, Wait, TryWait, Value and Waiters may be called from any number of
// goroutines at once. Close must not run concurrently with them.
type Sem struct {
	mem   []byte         // the 32-byte mapping; nil once closed
	word  *atomic.Uint64 // data word at offset 0: value | waiters<<32
	value *uint32        // the value half of word: the futex
	path  string         // for error messages
	spin  time.Duration
}

// Create creates the semaphore name with the given initial value and file
// permissions, failing with an error that wraps os.ErrExist if it exists.
//
// Like glibc, it writes the complete 32 bytes into a temporary file and
// link()s that to the final name, so no process can ever open a
// half-initialised semaphore, and link's EEXIST gives O_EXCL semantics.
// Unlike glibc, the mode is set with fchmod and so is exactly perm.Perm(),
// whatever the umask.
func Create(name string, value uint32, perm os.FileMode) (*Sem, error) {
	path, err := validateName(name)
	if err != nil {
		return nil, err
	}
	if value > ValueMax {
		return nil, fmt.Errorf("sem_open %s: initial value %d exceeds ValueMax: %w", path, value, unix.EINVAL)
	}

	fd, tmp, err := createTemp()
	if err != nil {
		return nil, fmt.Errorf("sem_open %s: %w", path, err)
	}
	// The temporary name goes in every case: on success the final name
	// holds the inode, on failure nothing should remain.
	defer func() {
		_ = unix.Unlink(tmp)
		_ = unix.Close(fd)
	}()

	if err := unix.Fchmod(fd, uint32(perm.Perm())); err != nil {
		return nil, fmt.Errorf("sem_open %s: fchmod %s: %w", path, tmp, err)
	}
	var init [Size]byte
	// Native byte order, as glibc's sem->data = value; private = FUTEX_SHARED.
	binary.NativeEndian.PutUint64(init[0:], uint64(value))
	binary.NativeEndian.PutUint32(init[offPrivate:], privateShared)
	if err := writeAll(fd, init[:]); err != nil {
		return nil, fmt.Errorf("sem_open %s: write %s: %w", path, tmp, err)
	}
	// Map before linking, as glibc does: once the name is visible we must
	// not fail for a reason that would leave it behind.
	s, err := mapSem(fd, path)
	if err != nil {
		return nil, err
	}
	if err := unix.Link(tmp, path); err != nil {
		_ = s.Close()
		// EEXIST satisfies errors.Is(err, os.ErrExist).
		return nil, fmt.Errorf("sem_open %s: %w", path, err)
	}
	return s, nil
}

// createTemp creates /dev/shm/sem.XXXXXX exclusively, as glibc's mktemp
// loop does, and returns its descriptor and name. The file starts owner-only
// and empty; Create sets its final mode and contents.
func createTemp() (int, string, error) {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var err error
	for range tempRetries {
		var suffix [6]byte
		for i := range suffix {
			suffix[i] = letters[rand.IntN(len(letters))]
		}
		tmp := shmDir + filePrefix + string(suffix[:])
		var fd int
		fd, err = unix.Open(tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
		if err == nil {
			return fd, tmp, nil
		}
		if err != unix.EEXIST {
			return -1, "", fmt.Errorf("create %s: %w", tmp, err)
		}
	}
	return -1, "", fmt.Errorf("no free temporary name after %d tries: %w", tempRetries, err)
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// Open opens the existing semaphore name, failing with an error that wraps
// os.ErrNotExist if there is none.
func Open(name string) (*Sem, error) {
	path, err := validateName(name)
	if err != nil {
		return nil, err
	}
	// O_NOFOLLOW: like glibc, never follow a symlink planted in /dev/shm.
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		// ENOENT satisfies errors.Is(err, os.ErrNotExist).
		return nil, fmt.Errorf("sem_open %s: %w", path, err)
	}
	defer unix.Close(fd) // the mapping outlives the descriptor

	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("sem_open %s: fstat: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("sem_open %s: not a regular file (mode %#o)", path, st.Mode)
	}
	if st.Size < Size {
		// Touching a mapping past the end of the file would be SIGBUS.
		return nil, fmt.Errorf("sem_open %s: file is %d bytes, a semaphore needs %d", path, st.Size, Size)
	}
	return mapSem(fd, path)
}

func mapSem(fd int, path string) (*Sem, error) {
	mem, err := unix.Mmap(fd, 0, Size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("sem_open %s: mmap: %w", path, err)
	}
	base := unsafe.Pointer(unsafe.SliceData(mem)) // page-aligned
	s := &Sem{
		mem:   mem,
		word:  (*atomic.Uint64)(base),
		value: (*uint32)(unsafe.Add(base, valueOffset)),
		path:  path,
	}
	if multiCPU {
		s.spin = DefaultSpin
	}
	return s, nil
}

// Unlink removes the semaphore name. Processes that have it open keep using
// it; the name can be created afresh at once. A missing name is not an
// error.
func Unlink(name string) error {
	path, err := validateName(name)
	if err != nil {
		return err
	}
	if err := unix.Unlink(path); err != nil && err != unix.ENOENT {
		return fmt.Errorf("sem_unlink %s: %w", path, err)
	}
	return nil
}

// SetSpin sets how long Wait polls in user space before it sleeps (0: never
// spin). It is ignored on single-CPU machines. Not safe to call while Wait
// runs.
func (s *Sem) SetSpin(d time.Duration) {
	if d < 0 || !multiCPU {
		d = 0
	}
	s.spin = d
}

// Post adds one to the value and wakes one sleeping waiter if there may be
// one (glibc's __new_sem_post).
func (s *Sem) Post() error {
	var st notify.Stats
	return s.post(&st)
}

// post is Post, counting in st a FUTEX_WAKE made or skipped.
func (s *Sem) post(st *notify.Stats) error {
	w := s.word
	if w == nil {
		return ErrClosed
	}
	for {
		d := w.Load()
		// glibc tests for == SEM_VALUE_MAX; >= also refuses to make a
		// corrupt value worse.
		if uint32(d) >= ValueMax {
			return ErrOverflow
		}
		// The CAS publishes everything this goroutine wrote before Post
		// (release; Go's atomics are sequentially consistent).
		if w.CompareAndSwap(d, d+1) {
			if d>>32 == 0 {
				// Nobody registered: a waiter that registers later
				// sees the new value before it sleeps.
				st.WakesSkipped++
				return nil
			}
			st.Wakes++
			if _, err := futex.Wake(s.value, 1); err != nil {
				return fmt.Errorf("sem_post %s: %w", s.path, err)
			}
			return nil
		}
	}
}

// TryWait takes one from the value if it is positive and reports whether it
// did. It never blocks (glibc's sem_trywait).
func (s *Sem) TryWait() bool {
	w := s.word
	if w == nil {
		return false
	}
	return tryTake(w)
}

// tryTake is glibc's __new_sem_wait_fast as sem_trywait uses it
// (definitive_result): decrement a positive value, retrying while the CAS
// loses to other changes. sem_wait tries the CAS only once before its slow
// path; retrying here just spares a waiter registration.
func tryTake(w *atomic.Uint64) bool {
	for {
		d := w.Load()
		if uint32(d) == 0 {
			return false
		}
		// Acquire: what the poster wrote before its Post is visible
		// after this succeeds.
		if w.CompareAndSwap(d, d-1) {
			return true
		}
	}
}

// Wait takes one from the value, blocking while it is zero. It returns true
// when it consumed a token and false when timeout elapsed first; timeout < 0
// waits forever, timeout == 0 only tries. Errors mean a broken futex call,
// never a timeout. Signals (EINTR) and spurious wake-ups are absorbed.
func (s *Sem) Wait(timeout time.Duration) (bool, error) {
	var st notify.Stats
	return s.wait(timeout, &st)
}

// wait is Wait, counting in st (see notify.Stats): the wait, how it ended,
// the polls spun, the FUTEX_WAITs made and the wake-ups that found no
// token.
func (s *Sem) wait(timeout time.Duration, st *notify.Stats) (bool, error) {
	w := s.word
	if w == nil {
		return false, ErrClosed
	}
	st.Waits++
	if tryTake(w) {
		st.WaitsAtOnce++
		return true, nil
	}
	if timeout == 0 {
		st.Polls++
		return false, nil
	}
	ok, slept, err := s.block(w, timeout, st)
	if slept {
		st.WaitsSlept++
	} else {
		st.WaitsSpun++
	}
	if !ok && err == nil && timeout > 0 {
		st.Timeouts++
	}
	return ok, err
}

// block spins, then sleeps, for a token; it reports whether it slept.
func (s *Sem) block(w *atomic.Uint64, timeout time.Duration, st *notify.Stats) (ok, slept bool, err error) {
	var start time.Time // zero unless needed: time.Now costs a vDSO call
	if s.spin > 0 {
		start = time.Now()
		if s.spinTake(w, start, s.spin, timeout, st) {
			return true, false, nil
		}
	}
	if timeout > 0 {
		if start.IsZero() {
			start = time.Now()
		} else if time.Since(start) >= timeout {
			// The spin used up the whole timeout: do not register
			// only to deregister (and cost a poster a FUTEX_WAKE).
			return tryTake(w), false, nil
		}
	}
	return s.waitSlow(w, start, timeout, st)
}

// spinCheck is how many polls of the word go between clock readings.
const spinCheck = 32

// spinTake polls the word until it can take a token or the spin (bounded by
// the caller's timeout) runs out. While the value is zero it only loads the
// word, never writes it, so the spinner does not keep taking the cache line
// away from the poster.
func (s *Sem) spinTake(w *atomic.Uint64, start time.Time, spin, timeout time.Duration, st *notify.Stats) bool {
	if timeout > 0 && timeout < spin {
		spin = timeout
	}
	for {
		for i := range spinCheck {
			if uint32(w.Load()) != 0 && tryTake(w) {
				st.SpinIterations += uint64(i + 1)
				return true
			}
		}
		st.SpinIterations += spinCheck
		if time.Since(start) >= spin {
			return false
		}
	}
}

// waitSlow is glibc's __new_sem_wait_slow64: register as a waiter, then
// alternate between sleeping on the value while it is zero and trying to
// take a token and deregister in one CAS.
func (s *Sem) waitSlow(w *atomic.Uint64, start time.Time, timeout time.Duration, st *notify.Stats) (ok, slept bool, err error) {
	// Register. From here on, a poster that increments the value sees a
	// non-zero waiter count and issues FUTEX_WAKE; so if the value is
	// still 0 when the kernel checks it in FUTEX_WAIT, the wake cannot be
	// lost.
	d := w.Add(waiterOne)
	woken := false // back from a sleep: finding no token there is spurious
	for {
		if uint32(d) != 0 {
			// Take a token and stop being a waiter at once.
			if w.CompareAndSwap(d, d-1-waiterOne) {
				return true, slept, nil
			}
			d = w.Load()
			continue
		}
		if woken {
			st.Spurious++
			woken = false
		}
		rem := time.Duration(-1)
		if timeout > 0 {
			rem = timeout - time.Since(start)
			if rem <= 0 {
				w.Add(waiterDec) // deregister
				return false, slept, nil
			}
		}
		slept = true
		st.Sleeps++
		switch err := futex.Wait(s.value, 0, rem); err {
		case nil, unix.EAGAIN, unix.EINTR:
			// Woken, the value changed before we slept, or a signal
			// (Go's preemption SIGURG): look again, with the time left.
			woken = true
		case unix.ETIMEDOUT:
			w.Add(waiterDec)
			return false, true, nil
		default:
			w.Add(waiterDec)
			return false, true, fmt.Errorf("sem_wait %s: %w", s.path, err)
		}
		d = w.Load()
	}
}

// Drain lowers the value to keep if it is above, in one compare-and-swap
// that leaves the waiter count alone, and reports how many tokens it took.
// Only a semaphore's sole consumer may drain it (the tokens it removes are
// ones it would otherwise consume one by one).
func (s *Sem) Drain(keep uint32) uint32 {
	w := s.word
	if w == nil {
		return 0
	}
	for {
		d := w.Load()
		v := uint32(d)
		if v <= keep {
			return 0
		}
		if w.CompareAndSwap(d, d-uint64(v-keep)) {
			return v - keep
		}
	}
}

// Value returns the current value (glibc's sem_getvalue). It may be stale
// as soon as it returns.
func (s *Sem) Value() uint32 {
	if s.word == nil {
		return 0
	}
	return uint32(s.word.Load())
}

// Waiters returns how many waiters are registered in the slow path (asleep
// in the kernel, or about to be). It may be stale as soon as it returns.
func (s *Sem) Waiters() uint32 {
	if s.word == nil {
		return 0
	}
	return uint32(s.word.Load() >> 32)
}

// Path returns the semaphore's file, /dev/shm/sem.NAME.
func (s *Sem) Path() string { return s.path }

// Close unmaps the semaphore (glibc's sem_close). The name stays; see
// Unlink. Closing twice is a no-op.
func (s *Sem) Close() error {
	if s.mem == nil {
		return nil
	}
	mem := s.mem
	s.mem, s.word, s.value = nil, nil, nil
	if err := unix.Munmap(mem); err != nil {
		return fmt.Errorf("sem_close %s: munmap: %w", s.path, err)
	}
	return nil
}
