//go:build linux

package semaphore_test

import (
	"encoding/binary"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// uniqueBuffer returns a fresh buffer name whose semaphores are removed when
// the test ends.
func uniqueBuffer(t testing.TB) string {
	t.Helper()
	name := names.New() + "-buf"
	t.Cleanup(func() { _ = semaphore.New().Remove(name) })
	return name
}

// never is a ready func for the counting waits, which must not call it.
func never() bool { panic("a counting notifier does not call ready") }

func TestNotifierNames(t *testing.T) {
	assert.Equal(t, "sem-w-buf", semaphore.DataName("buf"))
	assert.Equal(t, "sem-r-buf", semaphore.SpaceName("buf"))
	assert.Zero(t, semaphore.New().Word())
}

func TestNotifierRoundTrip(t *testing.T) {
	buf := uniqueBuffer(t)
	reader := semaphore.New()
	require.NoError(t, reader.Create(buf, nil, 0o600))
	defer reader.Close()
	writer := semaphore.New(semaphore.WithSpin(0))
	require.NoError(t, writer.Open(buf, nil))
	defer writer.Close()

	for _, n := range []string{semaphore.DataName(buf), semaphore.SpaceName(buf)} {
		s, err := semaphore.Open(n)
		require.NoError(t, err)
		assert.Zero(t, s.Value(), "%s starts at 0", n)
		require.NoError(t, s.Close())
	}

	// Nothing posted: both waits time out.
	ok, err := reader.WaitData(never, time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = writer.WaitSpace(never, time.Millisecond)
	require.NoError(t, err)
	assert.False(t, ok)

	// Three frames: each data post is consumed by exactly one wait (the
	// count is the protocol); the three space posts coalesce into one
	// token, all the writer needs to re-read the free bytes.
	for range 3 {
		require.NoError(t, writer.PostData())
	}
	for range 3 {
		ok, err := reader.WaitData(never, hang)
		require.NoError(t, err)
		assert.True(t, ok)
		require.NoError(t, reader.PostSpace())
	}
	ok, err = reader.WaitData(never, 0)
	require.NoError(t, err)
	assert.False(t, ok)
	ok, err = writer.WaitSpace(never, hang)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = writer.WaitSpace(never, 0)
	require.NoError(t, err)
	assert.False(t, ok, "space posts coalesce")

	// A writer blocked for space is woken by the reader's post.
	done := make(chan bool, 1)
	go func() {
		ok, err := writer.WaitSpace(never, hang)
		assert.NoError(t, err)
		done <- ok
	}()
	require.NoError(t, reader.PostSpace())
	assert.True(t, <-done)

	allocs := testing.AllocsPerRun(100, func() {
		_ = writer.PostData()
		_, _ = reader.WaitData(never, hang)
		_ = reader.PostSpace()
		_, _ = writer.WaitSpace(never, hang)
	})
	assert.Zero(t, allocs)

	require.NoError(t, writer.Close())
	require.NoError(t, writer.Close(), "Close is idempotent")
	assert.ErrorIs(t, writer.PostData(), semaphore.ErrClosed)
	_, err = writer.WaitSpace(never, hang)
	assert.ErrorIs(t, err, semaphore.ErrClosed)

	require.NoError(t, reader.Close())
	require.NoError(t, reader.Remove(buf))
	for _, n := range []string{semaphore.DataName(buf), semaphore.SpaceName(buf)} {
		_, err := os.Stat("/dev/shm/sem." + n)
		assert.ErrorIs(t, err, os.ErrNotExist)
	}
	require.NoError(t, reader.Remove(buf), "Remove of absent semaphores succeeds")
}

func TestNotifierCreateExisting(t *testing.T) {
	buf := uniqueBuffer(t)
	// A stale "space" semaphore: Create fails and removes the "data" one
	// it made, leaving the stale one for Remove.
	stale := mustCreate(t, semaphore.SpaceName(buf), 4)
	n := semaphore.New()
	err := n.Create(buf, nil, 0o600)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrExist)
	_, err = os.Stat("/dev/shm/sem." + semaphore.DataName(buf))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.EqualValues(t, 4, stale.Value())

	require.NoError(t, n.Remove(buf))
	require.NoError(t, n.Create(buf, nil, 0o600))
	require.NoError(t, n.Close())
}

func TestNotifierOpenMissing(t *testing.T) {
	buf := uniqueBuffer(t)
	n := semaphore.New()
	err := n.Open(buf, nil)
	assert.ErrorIs(t, err, os.ErrNotExist)

	// Only the data semaphore exists: Open fails and holds nothing.
	mustCreate(t, semaphore.DataName(buf), 0)
	err = n.Open(buf, nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = n.WaitData(never, 0)
	assert.ErrorIs(t, err, semaphore.ErrClosed)
	require.NoError(t, n.Close())
}

// TestNotifierGlibcPeer runs the protocol's two semaphores against glibc:
// a Go reader and a glibc "writer".
func TestNotifierGlibcPeer(t *testing.T) {
	c := glibc{t, buildTool(t, t.TempDir())}
	buf := uniqueBuffer(t)
	reader := semaphore.New()
	require.NoError(t, reader.Create(buf, nil, 0o600))
	defer reader.Close()

	c.must("post", semaphore.DataName(buf), "2")
	for range 2 {
		ok, err := reader.WaitData(never, hang)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, reader.PostSpace())
	}
	assert.Equal(t, "1", c.must("getvalue", semaphore.SpaceName(buf)), "space posts coalesce")
	assert.Equal(t, "WOKE", c.must("wait", semaphore.SpaceName(buf), "10000", "1"))
	assert.Equal(t, "0", c.must("getvalue", semaphore.DataName(buf)))
}

// TestSpaceCountStaysBounded starts the space semaphore next to
// SEM_VALUE_MAX, as years of releases nobody waited for would leave it with
// a reader that posts every time: the writer drains it, and the reader's
// posts never overflow.
func TestSpaceCountStaysBounded(t *testing.T) {
	buf := uniqueBuffer(t)
	reader := semaphore.New()
	require.NoError(t, reader.Create(buf, nil, 0o600))
	defer reader.Close()
	defer reader.Remove(buf)
	writer := semaphore.New()
	require.NoError(t, writer.Open(buf, nil))
	defer writer.Close()

	space, err := semaphore.Open(semaphore.SpaceName(buf))
	require.NoError(t, err)
	defer space.Close()
	setValue(t, semaphore.SpaceName(buf), semaphore.ValueMax-10)
	require.Equal(t, uint32(semaphore.ValueMax-10), space.Value())

	// A foreign reader posting on every release would overflow within
	// ten frames; the writer's drain, before each frame, keeps it low.
	for range 10000 {
		require.NoError(t, writer.PostData())
		ok, err := reader.WaitData(never, hang)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, space.Post(), "a foreign reader's unconditional post")
	}
	assert.LessOrEqual(t, space.Value(), uint32(2))

	// Our own reader never lifts it above 1.
	space.Drain(0)
	for range 1000 {
		require.NoError(t, reader.PostSpace())
	}
	assert.Equal(t, uint32(1), space.Value())
}

// setValue writes a semaphore's value in its file, as only a test may.
func setValue(t *testing.T, name string, v uint32) {
	t.Helper()
	f, err := os.OpenFile("/dev/shm/sem."+name, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	_, err = f.WriteAt(b[:], 0)
	require.NoError(t, err)
}
