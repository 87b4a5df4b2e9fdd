//go:build linux

package futex_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/futex"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hang bounds waits that should end quickly; it only guards against hangs,
// no test decides pass/fail on timing.
const hang = 30 * time.Second

// TestWakeWaiter proves that Wake reaches a goroutine blocked in the kernel:
// the waker repeats Wake until the kernel reports that it woke someone, which
// can only happen once the waiter is really asleep on the word.
func TestWakeWaiter(t *testing.T) {
	word := new(uint32)
	done := make(chan error, 1)
	go func() {
		for {
			// No timeout: the path with a nil timespec.
			err := futex.Wait(word, 0, -1)
			if err == unix.EINTR || err == unix.EAGAIN {
				continue
			}
			done <- err
			return
		}
	}()

	deadline := time.Now().Add(hang)
	woken := 0
	for woken == 0 {
		select {
		case err := <-done:
			// A spurious wake-up before ours: still a nil return.
			require.NoError(t, err)
			return
		default:
		}
		require.True(t, time.Now().Before(deadline), "waiter never blocked")
		n, err := futex.Wake(word, 1)
		require.NoError(t, err)
		woken = n
		if woken == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	assert.Equal(t, 1, woken)
	require.NoError(t, <-done)
}

// TestWakeChangedWord is the usual pattern: change the word, then wake.
func TestWakeChangedWord(t *testing.T) {
	word := new(uint32)
	done := make(chan error, 1)
	go func() {
		for atomic.LoadUint32(word) == 0 {
			err := futex.Wait(word, 0, hang)
			if err != nil && err != unix.EINTR && err != unix.EAGAIN {
				done <- err
				return
			}
		}
		done <- nil
	}()
	time.Sleep(10 * time.Millisecond) // likely, not necessarily, asleep by now
	atomic.StoreUint32(word, 1)
	_, err := futex.Wake(word, 1)
	require.NoError(t, err)
	require.NoError(t, <-done)
}

func TestTimeout(t *testing.T) {
	word := new(uint32)
	var err error
	for {
		err = futex.Wait(word, 0, 20*time.Millisecond)
		if err != unix.EINTR {
			break
		}
	}
	assert.Equal(t, unix.ETIMEDOUT, err, "raw errno, comparable with ==")
	assert.True(t, errors.Is(err, unix.ETIMEDOUT))

	// A zero timeout returns at once.
	err = futex.Wait(word, 0, 0)
	if err != unix.EINTR {
		assert.Equal(t, unix.ETIMEDOUT, err)
	}
}

func TestValueDiffers(t *testing.T) {
	word := new(uint32)
	atomic.StoreUint32(word, 7)
	err := futex.Wait(word, 0, hang)
	assert.Equal(t, unix.EAGAIN, err)
	err = futex.Wait(word, 6, -1)
	assert.Equal(t, unix.EAGAIN, err)
}

func TestWakeNobody(t *testing.T) {
	word := new(uint32)
	n, err := futex.Wake(word, 1)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
}

func TestBadAddress(t *testing.T) {
	// An unaligned address is EINVAL: the error is wrapped with context.
	buf := new([8]uint32)
	bad := (*uint32)(unsafeAdd(buf, 1))
	err := futex.Wait(bad, 0, 0)
	require.Error(t, err)
	assert.ErrorIs(t, err, unix.EINVAL)
	assert.Contains(t, err.Error(), "futex wait")
	_, err = futex.Wake(bad, 1)
	assert.ErrorIs(t, err, unix.EINVAL)
	assert.Contains(t, err.Error(), "futex wake")
}

func TestNoAllocs(t *testing.T) {
	word := new(uint32)
	allocs := testing.AllocsPerRun(1000, func() {
		_ = futex.Wait(word, 1, hang) // EAGAIN: value differs
		_ = futex.Wait(word, 0, 0)    // ETIMEDOUT at once, timespec used
		_, _ = futex.Wake(word, 1)
	})
	assert.Zero(t, allocs)
}

func BenchmarkWakeNobody(b *testing.B) {
	word := new(uint32)
	for b.Loop() {
		_, _ = futex.Wake(word, 1)
	}
}
