//go:build linux

package semaphore_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/notify/notifytest"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// hang bounds waits that should end; it only guards against hangs. No test
// decides pass/fail on timing.
const hang = 60 * time.Second

// names are the semaphores and buffers this test process makes,
// zbtest-sem-PID-N, so that TestMain can prove that none is left behind in
// /dev/shm.
var names = testsupport.NewNames("zbtest-sem-")

// namePrefix starts every name of names.
var namePrefix = names.Prefix()

// TestMain serves notifytest's children and the benchmarks' Go peer
// (helperEnv), or runs the tests and then fails the run if they left
// files, child processes or goroutines behind.
func TestMain(m *testing.M) {
	notifytest.ServeChild()
	testsupport.Main(m, testsupport.MainConfig{ChildEnv: helperEnv, Child: helperMain, Prefix: namePrefix})
}

// uniqueName returns a fresh name and unlinks it when the test ends.
func uniqueName(t testing.TB) string {
	t.Helper()
	name := names.New()
	t.Cleanup(func() { _ = semaphore.Unlink(name) })
	return name
}

func mustCreate(t testing.TB, name string, value uint32) *semaphore.Sem {
	t.Helper()
	s, err := semaphore.Create(name, value, 0o600)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// eventually polls cond until it holds; the bound only catches hangs.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func TestLifecycle(t *testing.T) {
	name := uniqueName(t)
	s := mustCreate(t, name, 2)
	assert.Equal(t, "/dev/shm/sem."+name, s.Path())
	assert.EqualValues(t, 2, s.Value())
	assert.EqualValues(t, 0, s.Waiters())

	o, err := semaphore.Open(name)
	require.NoError(t, err)
	defer o.Close()

	// Both mappings are the same semaphore.
	assert.True(t, o.TryWait())
	assert.EqualValues(t, 1, s.Value())
	ok, err := s.Wait(0)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.False(t, o.TryWait())
	ok, err = o.Wait(0)
	require.NoError(t, err)
	assert.False(t, ok, "Wait(0) only tries")

	require.NoError(t, o.Post())
	require.NoError(t, o.Post())
	assert.EqualValues(t, 2, s.Value())
	ok, err = s.Wait(hang)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = s.Wait(-1)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.EqualValues(t, 0, o.Value())

	// Unlink removes the name; the mappings keep working.
	require.NoError(t, semaphore.Unlink(name))
	_, err = os.Stat(s.Path())
	assert.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, s.Post())
	assert.True(t, o.TryWait())
	require.NoError(t, semaphore.Unlink(name), "unlinking a missing name is fine")

	// Close is idempotent and a closed Sem says so.
	require.NoError(t, o.Close())
	require.NoError(t, o.Close())
	assert.ErrorIs(t, o.Post(), semaphore.ErrClosed)
	_, err = o.Wait(hang)
	assert.ErrorIs(t, err, semaphore.ErrClosed)
	assert.False(t, o.TryWait())
	assert.Zero(t, o.Value())
	assert.Zero(t, o.Waiters())
}

func TestFreshFileBytes(t *testing.T) {
	if !littleEndian() {
		t.Skip("the expected bytes below are little-endian")
	}
	name := uniqueName(t)
	mustCreate(t, name, 0x01020304)
	got, err := os.ReadFile("/dev/shm/sem." + name)
	require.NoError(t, err)
	want := []byte{
		0x04, 0x03, 0x02, 0x01, // value
		0, 0, 0, 0, // waiters
		128, 0, 0, 0, // private = FUTEX_SHARED
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	}
	assert.Equal(t, want, got)
}

func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

func TestFileMode(t *testing.T) {
	// The umask must not reduce the mode: set one that would.
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	for _, perm := range []os.FileMode{0o600, 0o640, 0o666} {
		s, err := semaphore.Create(uniqueName(t), 0, perm)
		require.NoError(t, err)
		fi, err := os.Stat(s.Path())
		require.NoError(t, err)
		assert.Equal(t, perm, fi.Mode().Perm(), "perm %v", perm)
		require.NoError(t, s.Close())
	}
}

func TestCreateExisting(t *testing.T) {
	name := uniqueName(t)
	mustCreate(t, name, 7)
	_, err := semaphore.Create(name, 0, 0o600)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrExist)
	assert.ErrorIs(t, err, unix.EEXIST)
	assert.Contains(t, err.Error(), "sem_open /dev/shm/sem."+name)

	// The existing semaphore is untouched and no temporary file remains.
	s, err := semaphore.Open(name)
	require.NoError(t, err)
	defer s.Close()
	assert.EqualValues(t, 7, s.Value())
}

func TestOpenMissing(t *testing.T) {
	name := uniqueName(t)
	_, err := semaphore.Open(name)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestOpenShortFile(t *testing.T) {
	name := uniqueName(t)
	require.NoError(t, os.WriteFile("/dev/shm/sem."+name, make([]byte, 16), 0o600))
	_, err := semaphore.Open(name)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "16 bytes")
}

func TestBadNames(t *testing.T) {
	bad := []string{"", ".", "..", "/lead", "a/b", "nul\x00", strings.Repeat("x", 252)}
	for _, name := range bad {
		_, err := semaphore.Create(name, 0, 0o600)
		assert.ErrorIs(t, err, semaphore.ErrBadName, "Create(%q)", name)
		_, err = semaphore.Open(name)
		assert.ErrorIs(t, err, semaphore.ErrBadName, "Open(%q)", name)
		assert.ErrorIs(t, semaphore.Unlink(name), semaphore.ErrBadName, "Unlink(%q)", name)
	}
	// The longest legal name: "sem." + 251 bytes = NAME_MAX.
	long := namePrefix + strings.Repeat("y", 251-len(namePrefix))
	t.Cleanup(func() { _ = semaphore.Unlink(long) })
	s, err := semaphore.Create(long, 0, 0o600)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, semaphore.Unlink(long))

	_, err = semaphore.Create(uniqueName(t), semaphore.ValueMax+1, 0o600)
	assert.ErrorIs(t, err, unix.EINVAL)
}

func TestTimeout(t *testing.T) {
	for _, spin := range []time.Duration{0, semaphore.DefaultSpin, time.Second} {
		t.Run(fmt.Sprint("spin=", spin), func(t *testing.T) {
			s := mustCreate(t, uniqueName(t), 0)
			s.SetSpin(spin) // a spin longer than the timeout is cut short
			ok, err := s.Wait(20 * time.Millisecond)
			require.NoError(t, err)
			assert.False(t, ok)
			assert.EqualValues(t, 0, s.Waiters(), "the waiter deregistered")
			assert.EqualValues(t, 0, s.Value())
		})
	}
}

// TestPostThenWait: the token is there before the wait (fast path).
func TestPostThenWait(t *testing.T) {
	s := mustCreate(t, uniqueName(t), 0)
	done := make(chan bool)
	require.NoError(t, s.Post())
	go func() {
		ok, err := s.Wait(hang)
		assert.NoError(t, err)
		done <- ok
	}()
	assert.True(t, <-done)
	assert.EqualValues(t, 0, s.Value())
	assert.EqualValues(t, 0, s.Waiters())
}

// TestWaitThenPost: the waiters are registered (and asleep, or about to be)
// before each post; every post releases exactly one of them.
func TestWaitThenPost(t *testing.T) {
	s := mustCreate(t, uniqueName(t), 0)
	s.SetSpin(0)
	done := make(chan bool, 2)
	for range 2 {
		go func() {
			ok, err := s.Wait(hang)
			assert.NoError(t, err)
			done <- ok
		}()
	}
	eventually(t, "two registered waiters", func() bool { return s.Waiters() == 2 })

	require.NoError(t, s.Post())
	assert.True(t, <-done)
	// The winner took the token and deregistered in one CAS; the other is
	// still registered and the value is back at 0.
	assert.EqualValues(t, 1, s.Waiters())
	assert.EqualValues(t, 0, s.Value())

	require.NoError(t, s.Post())
	assert.True(t, <-done)
	assert.EqualValues(t, 0, s.Waiters())
	assert.EqualValues(t, 0, s.Value())
}

// TestRace posts and waits many times from many goroutines at once: every
// post must be consumed exactly once. A lost wake-up would hang a waiter
// (caught by hang); a token consumed twice would leave the value non-zero.
func TestRace(t *testing.T) {
	total := 200_000
	if testing.Short() {
		total = 20_000
	}
	if runtime.GOMAXPROCS(0) == 1 {
		// A goroutine blocked in FUTEX_WAIT keeps the only P until
		// sysmon takes it back (tens of microseconds), so every
		// blocking wait stalls the posters: 200k rounds take minutes.
		total = 10_000
	}
	for _, spin := range []time.Duration{0, semaphore.DefaultSpin} {
		t.Run(fmt.Sprint("spin=", spin), func(t *testing.T) {
			name := uniqueName(t)
			s := mustCreate(t, name, 0)
			s.SetSpin(spin)
			o, err := semaphore.Open(name) // posters use a second mapping
			require.NoError(t, err)
			defer o.Close()

			const posters, waiters = 4, 4
			var wg sync.WaitGroup
			var consumed, failures, contended atomic.Int64
			for p := range posters {
				wg.Go(func() {
					for i := range total / posters {
						// Keep the value low most of the time so that
						// waiters often find it empty and block.
						if (i+p)%16 != 0 {
							for o.Value() > 1 {
								runtime.Gosched()
							}
						}
						if o.Waiters() > 0 {
							contended.Add(1)
						}
						if err := o.Post(); err != nil {
							failures.Add(1)
							return
						}
					}
				})
			}
			for w := range waiters {
				wg.Go(func() {
					for i := range total / waiters {
						if (i+w)%8 == 0 && s.TryWait() {
							consumed.Add(1)
							continue
						}
						ok, err := s.Wait(hang)
						if err != nil || !ok {
							failures.Add(1)
							return
						}
						consumed.Add(1)
					}
				})
			}
			wg.Wait()
			t.Logf("%d of %d posts saw a registered waiter", contended.Load(), total)
			require.Zero(t, failures.Load())
			assert.EqualValues(t, total, consumed.Load())
			assert.EqualValues(t, 0, s.Value(), "no post left over")
			assert.EqualValues(t, 0, s.Waiters())
			assert.False(t, s.TryWait())
		})
	}
}

func TestOverflow(t *testing.T) {
	s := mustCreate(t, uniqueName(t), semaphore.ValueMax-1)
	require.NoError(t, s.Post())
	assert.EqualValues(t, semaphore.ValueMax, s.Value())
	err := s.Post()
	require.Error(t, err)
	assert.True(t, errors.Is(err, semaphore.ErrOverflow))
	assert.ErrorIs(t, err, unix.EOVERFLOW)
	assert.EqualValues(t, semaphore.ValueMax, s.Value(), "a failed post changes nothing")
	assert.True(t, s.TryWait())
	require.NoError(t, s.Post())
}

func TestNoAllocs(t *testing.T) {
	s := mustCreate(t, uniqueName(t), 0)
	s.SetSpin(0)

	t.Run("post+fast wait+trywait", func(t *testing.T) {
		allocs := testing.AllocsPerRun(1000, func() {
			_ = s.Post()
			_, _ = s.Wait(hang)
			_ = s.Post()
			_ = s.TryWait()
			_ = s.TryWait()
		})
		assert.Zero(t, allocs)
	})
	t.Run("slow wait timing out", func(t *testing.T) {
		allocs := testing.AllocsPerRun(50, func() {
			_, _ = s.Wait(time.Microsecond)
		})
		assert.Zero(t, allocs)
	})
	t.Run("slow wait woken", func(t *testing.T) {
		// A helper posts whenever someone is registered, so every Wait
		// below goes through the futex path and is woken by a post.
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Go(func() {
			for !stop.Load() {
				if s.Waiters() > 0 {
					_ = s.Post()
				}
				runtime.Gosched()
			}
		})
		var woken int
		allocs := testing.AllocsPerRun(200, func() {
			if ok, _ := s.Wait(hang); ok {
				woken++
			}
		})
		stop.Store(true)
		wg.Wait()
		assert.Zero(t, allocs)
		assert.Equal(t, 201, woken) // AllocsPerRun adds a warm-up run
	})
	t.Run("spin", func(t *testing.T) {
		s.SetSpin(time.Microsecond)
		defer s.SetSpin(0)
		allocs := testing.AllocsPerRun(50, func() {
			_, _ = s.Wait(time.Millisecond)
		})
		assert.Zero(t, allocs)
	})
}
