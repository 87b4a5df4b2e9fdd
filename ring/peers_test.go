package ring

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

func TestWriterBeforeReaderIsBufferNotFound(t *testing.T) {
	testsupport.BothModes(t, "", func(t *testing.T, cross bool) {
		name := uniqueName(t)
		if cross {
			require.NoError(t, startChild(t, "connect-missing", "", name).Wait())
			return
		}
		_, err := Connect(name)
		require.ErrorIs(t, err, ErrBufferNotFound)
	})
}

func TestSecondReaderIsAlreadyConnected(t *testing.T) {
	forEachNotifier(t, func(t *testing.T, notifier string) {
		testsupport.BothModes(t, "", func(t *testing.T, cross bool) { secondReader(t, notifier, cross) })
	})
}

func secondReader(t *testing.T, notifier string, cross bool) {
	name := uniqueName(t)
	if cross {
		c := startChild(t, "hold-reader", notifier, name)
		c.Expect("READY")
		_, err := NewReader(name, Config{PayloadSize: 4096})
		require.ErrorIs(t, err, ErrReaderAlreadyConnected)
		c.Kill()
		// The killed reader left its files; a new reader cleans them.
		r, err := NewReader(name, Config{PayloadSize: 4096})
		require.NoError(t, err)
		require.NoError(t, r.Close())
		return
	}
	r, err := NewReader(name, Config{PayloadSize: 4096}, withNotifier(t, notifier))
	require.NoError(t, err)
	defer r.Close()
	_, err = NewReader(name, Config{PayloadSize: 4096}, withNotifier(t, notifier))
	require.ErrorIs(t, err, ErrReaderAlreadyConnected)
	// The failed attempt must not have damaged the first reader.
	w, err := Connect(name)
	require.NoError(t, err)
	require.NoError(t, writeFrames(w, 3, constSize(10)))
	require.NoError(t, w.Close())
	require.NoError(t, readAll(3, constSize(10))(r))
}

func TestSecondWriterIsAlreadyConnected(t *testing.T) {
	// The same-process case is the scenario second-writer-refused.
	name := uniqueName(t)
	r, err := NewReader(name, Config{PayloadSize: 4096})
	require.NoError(t, err)
	defer r.Close()
	c := startChild(t, "hold-writer", "", name)
	c.Expect("WROTE")
	_, err = Connect(name)
	require.ErrorIs(t, err, ErrWriterAlreadyConnected)
	c.Kill()
	// Its PID is dead now: a new writer may take over, and its frames,
	// restarting at sequence 1, follow the dead writer's three.
	require.NoError(t, readFrames(r, 3, constSize(100), nil))
	w, err := Connect(name)
	require.NoError(t, err)
	require.NoError(t, writeFrames(w, 2, constSize(10)))
	require.NoError(t, w.Close())
	require.NoError(t, readAll(2, constSize(10))(r))
}

func TestWriterKilledIsWriterDead(t *testing.T) {
	forEachNotifier(t, func(t *testing.T, notifier string) {
		testsupport.BothModes(t, "", func(t *testing.T, cross bool) { writerKilled(t, notifier, cross) })
	})
}

func writerKilled(t *testing.T, notifier string, cross bool) {
	name := uniqueName(t)
	r, err := NewReader(name, Config{PayloadSize: 4096}, WithLivenessInterval(20*time.Millisecond), withNotifier(t, notifier))
	require.NoError(t, err)
	defer r.Close()
	if cross {
		c := startChild(t, "hold-writer", "", name)
		c.Expect("WROTE")
		c.Kill() // SIGKILL, reaped
	} else {
		w, err := Connect(name)
		require.NoError(t, err)
		require.NoError(t, writeFrames(w, 3, constSize(100)))
		// A goroutine cannot be killed: record a dead PID instead, as
		// a killed writer leaves it.
		require.True(t, r.OIEB().WriterPID.CompareAndSwap(uint64(os.Getpid()), testsupport.DeadPID(t)))
		w.closed = true
		w.teardown()
	}
	// Frames written before the death are still delivered, then the
	// death is reported.
	require.NoError(t, readFrames(r, 3, constSize(100), nil))
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	_, err = r.ReadFrame(ctx)
	require.ErrorIs(t, err, ErrWriterDead)
}

func TestReaderKilledIsReaderDead(t *testing.T) {
	forEachNotifier(t, func(t *testing.T, notifier string) {
		testsupport.BothModes(t, "", func(t *testing.T, cross bool) { readerKilled(t, notifier, cross) })
	})
}

func readerKilled(t *testing.T, notifier string, cross bool) {
	name := uniqueName(t)
	var c *testsupport.Child
	var r *Reader
	if cross {
		c = startChild(t, "hold-reader", notifier, name)
		c.Expect("READY")
	} else {
		var err error
		r, err = NewReader(name, Config{PayloadSize: 4096}, withNotifier(t, notifier))
		require.NoError(t, err)
		defer r.Close()
	}
	w, err := Connect(name, WithLivenessInterval(20*time.Millisecond), WithWriteTimeout(hangGuard))
	require.NoError(t, err)
	defer w.Close()

	// Fill the ring, then block on the next write.
	done := make(chan error, 1)
	go func() {
		for k := 0; ; k++ {
			if err := writePatternFrame(w, k, 1000, true); err != nil {
				done <- err
				return
			}
		}
	}()
	o := w.OIEB()
	require.NoError(t, waitBlocked(o, name, func() bool { return o.PayloadFreeBytes.Load() < 1016 }))
	if cross {
		c.Kill()
	} else {
		r.OIEB().ReaderPID.Store(testsupport.DeadPID(t))
	}
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrReaderDead)
	case <-time.After(hangGuard):
		t.Fatal("blocked writer never noticed the dead reader")
	}
	// A later write on the dead buffer fails at once too.
	require.ErrorIs(t, writePatternFrame(w, 99, 1000, false), ErrReaderDead)

	if cross {
		// A new reader replaces the dead one: it cleans the stale
		// lock and segment and creates a fresh buffer.
		r2, err := NewReader(name, Config{PayloadSize: 8192}, withNotifier(t, notifier))
		require.NoError(t, err)
		// The old writer is left on the unlinked segment, and still
		// reports its reader dead; a new writer finds the new buffer.
		require.ErrorIs(t, writePatternFrame(w, 100, 1000, false), ErrReaderDead)
		w2, err := Connect(name)
		require.NoError(t, err)
		require.NoError(t, writeFrames(w2, 3, constSize(2000)))
		require.NoError(t, w2.Close())
		require.NoError(t, readAll(3, constSize(2000))(r2))
		require.NoError(t, r2.Close())
	}
}

func TestStaleLockAndOrphanedSegmentAreCleanedUp(t *testing.T) {
	// A reader killed with SIGKILL leaves its lock file, segment and
	// semaphores behind.
	stale := uniqueName(t)
	c := startChild(t, "hold-reader", "", stale)
	c.Expect("READY")
	c.Kill()
	for _, p := range BufferFiles(stale).All() {
		require.FileExists(t, p)
	}
	// Creating any other buffer sweeps them away.
	r, err := NewReader(uniqueName(t), Config{PayloadSize: 4096})
	require.NoError(t, err)
	require.NoError(t, r.Close())
	for _, p := range BufferFiles(stale).All() {
		assert.NoFileExists(t, p)
	}

	// An orphaned segment without a lock file, whose reader is dead, is
	// replaced by a reader of the same name.
	orphan := uniqueName(t)
	seg, err := shm.Create(orphan, layout.SegmentSize(0, 64), 0o600)
	require.NoError(t, err)
	o, _ := layout.View(seg.Data)
	o.Init(0, 64, 0)
	o.ReaderPID.Store(testsupport.DeadPID(t))
	require.NoError(t, seg.Close())
	r, err = NewReader(orphan, Config{PayloadSize: 4096})
	require.NoError(t, err)
	assert.Equal(t, uint64(4096), r.OIEB().PayloadSize.Load())
	require.NoError(t, r.Close())
}

// The files are the protocol's, by the names every implementation uses.
func TestBufferFilesAreTheProtocolsNames(t *testing.T) {
	assert.Equal(t, Files{
		Segment:        "/dev/shm/cam0",
		Lock:           "/tmp/zerobuffer/cam0.lock",
		DataSemaphore:  "/dev/shm/sem.sem-w-cam0",
		SpaceSemaphore: "/dev/shm/sem.sem-r-cam0",
	}, BufferFiles("cam0"))
}

func TestLockFileAndSemaphoresLiveWithTheReader(t *testing.T) {
	name := uniqueName(t)
	r, err := NewReader(name, Config{PayloadSize: 4096})
	require.NoError(t, err)
	files := BufferFiles(name).All()
	for _, p := range files {
		st, err := os.Stat(p)
		require.NoError(t, err, p)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "%s mode", p)
	}
	// The lock is held: another open file description cannot take it.
	fd, err := unix.Open(lockPath(name), unix.O_RDWR, 0)
	require.NoError(t, err)
	assert.Equal(t, unix.EWOULDBLOCK, unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB))
	unix.Close(fd)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "Close is idempotent")
	for _, p := range files {
		assert.NoFileExists(t, p)
	}
	_, err = r.ReadFrame(context.Background())
	assert.ErrorIs(t, err, ErrClosed)
}

func TestPermissionsCanBeWidened(t *testing.T) {
	name := uniqueName(t)
	old := unix.Umask(0o022)
	defer unix.Umask(old)
	r, err := NewReader(name, Config{PayloadSize: 4096}, WithPermissions(0o666))
	require.NoError(t, err)
	defer r.Close()
	f := BufferFiles(name)
	for _, p := range []string{f.Segment, f.DataSemaphore, f.SpaceSemaphore} {
		st, err := os.Stat(p)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o666), st.Mode().Perm(), p)
	}
}

func TestBadNames(t *testing.T) {
	long := make([]byte, MaxNameLen+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, name := range []string{"", "a/b", "/abs", "..", ".", "nul\x00byte", string(long)} {
		_, err := NewReader(name, Config{PayloadSize: 4096})
		assert.ErrorIs(t, err, ErrInvalidName, "NewReader(%q)", name)
		_, err = Connect(name)
		assert.ErrorIs(t, err, ErrInvalidName, "Connect(%q)", name)
	}
	// The longest valid name works end to end.
	name := testPrefix + string(long[:MaxNameLen-len(testPrefix)])
	r, err := NewReader(name, Config{PayloadSize: 4096})
	require.NoError(t, err)
	w, err := Connect(name)
	require.NoError(t, err)
	require.NoError(t, writeFrames(w, 1, constSize(5)))
	require.NoError(t, w.Close())
	require.NoError(t, readAll(1, constSize(5))(r))
	require.NoError(t, r.Close())
}

func TestBadConfig(t *testing.T) {
	_, err := NewReader(uniqueName(t), Config{PayloadSize: 0})
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = NewReader(uniqueName(t), Config{PayloadSize: 1 << 62, MetadataSize: 1 << 62})
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestReadFrameHonoursContext(t *testing.T) {
	r, err := NewReader(uniqueName(t), Config{PayloadSize: 4096}, WithLivenessInterval(10*time.Millisecond))
	require.NoError(t, err)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = r.ReadFrame(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "no writer yet: just no frame")

	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err = r.ReadFrame(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestBufferFullAfterWriteTimeout(t *testing.T) {
	name := uniqueName(t)
	r, err := NewReader(name, Config{PayloadSize: 4096})
	require.NoError(t, err)
	defer r.Close()
	w, err := Connect(name, WithWriteTimeout(50*time.Millisecond), WithLivenessInterval(10*time.Millisecond))
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, writeFrames(w, 4, constSize(1000)))
	err = writePatternFrame(w, 4, 1000, true)
	require.ErrorIs(t, err, ErrBufferFull)
	// Nothing was lost: the four frames are intact, and the writer can go
	// on once there is room.
	require.NoError(t, readFrames(r, 4, constSize(1000), nil))
	require.NoError(t, writePatternFrame(w, 4, 1000, true))
	require.NoError(t, readFramesFrom(r, 4, 1, constSize(1000)))
}

func TestFrameTooLargeForItsPosition(t *testing.T) {
	name := uniqueName(t)
	r, err := NewReader(name, Config{PayloadSize: 1024})
	require.NoError(t, err)
	defer r.Close()
	w, err := Connect(name)
	require.NoError(t, err)
	defer w.Close()
	require.NoError(t, writeFrames(w, 1, constSize(200)))
	// 808 bytes left before the end; a 900-byte frame must wrap, and the
	// 808 skipped bytes plus 916 exceed the ring: refused at once rather
	// than blocking until ErrBufferFull.
	_, err = w.Reserve(900)
	require.ErrorIs(t, err, ErrFrameTooLarge)
	require.NoError(t, readFrames(r, 1, constSize(200), nil))
}

func TestMetadataSizeIsRoundedUp(t *testing.T) {
	r, err := NewReader(uniqueName(t), Config{PayloadSize: 4096, MetadataSize: 60})
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, uint64(64), r.MetadataSize())
	assert.Equal(t, uint64(64), r.Snapshot().MetadataSize)
}

func TestMetadataAfterClose(t *testing.T) {
	name := uniqueName(t)
	r, err := NewReader(name, Config{PayloadSize: 4096, MetadataSize: 64})
	require.NoError(t, err)
	w, err := Connect(name)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.ErrorIs(t, w.SetMetadata([]byte("x")), ErrClosed)
	assert.ErrorIs(t, w.WriteFrame([]byte("x")), ErrClosed)
	require.NoError(t, r.Close())
	_, err = r.Metadata()
	assert.ErrorIs(t, err, ErrClosed)
}

func TestWriterConnectFailureLeavesNoPID(t *testing.T) {
	name := uniqueName(t)
	r, err := NewReader(name, Config{PayloadSize: 4096})
	require.NoError(t, err)
	defer r.Close()
	// Break the notifier: the writer must fail to connect, and must not
	// leave its PID to lock the next writer out.
	require.NoError(t, semaphore.Unlink(semaphore.SpaceName(name)))
	_, err = Connect(name)
	require.Error(t, err)
	assert.Zero(t, r.OIEB().WriterPID.Load())
}

// A post on the data semaphore with no frame behind it (a buggy peer, or a
// writer that opened the semaphore of another generation of the buffer) is
// dropped, not parsed as a frame.
func TestStrayDataPostIsIgnored(t *testing.T) {
	name := uniqueName(t)
	r, err := NewReader(name, Config{PayloadSize: 4096})
	require.NoError(t, err)
	defer r.Close()
	s, err := semaphore.Open(semaphore.DataName(name))
	require.NoError(t, err)
	require.NoError(t, s.Post())
	require.NoError(t, s.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = r.ReadFrame(ctx)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	w, err := Connect(name)
	require.NoError(t, err)
	require.NoError(t, writeFrames(w, 2, constSize(100)))
	require.NoError(t, w.Close())
	require.NoError(t, readAll(2, constSize(100))(r))
}

// A writer whose buffer is replaced between mapping it and opening its
// notifier must not pair the old ring with the new semaphores.
func TestConnectNoticesAReplacedBuffer(t *testing.T) {
	name := uniqueName(t)
	r, err := NewReader(name, Config{PayloadSize: 4096})
	require.NoError(t, err)
	seg, err := shm.Open(name, false, layout.OIEBSize)
	require.NoError(t, err)
	defer seg.Close()
	require.True(t, seg.IsCurrent(name))
	require.NoError(t, r.Close())
	r2, err := NewReader(name, Config{PayloadSize: 4096})
	require.NoError(t, err)
	defer r2.Close()
	assert.False(t, seg.IsCurrent(name), "the old mapping is not the buffer any more")
}

// Another process's stale-lock scan holds a fresh reader's lock file for
// an instant; the reader must not take that for a live reader. Found by
// the fuzz harness (20 spurious ErrReaderAlreadyConnected in 3000).
func TestStaleScanDoesNotBlockANewReader(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				CleanupStale()
			}
		}
	}()
	defer func() { close(stop); <-done }()
	n := 1000
	if testsupport.RaceEnabled {
		n = 300
	}
	for i := 0; i < n; i++ {
		r, err := NewReader(uniqueName(t), Config{PayloadSize: 4096})
		require.NoError(t, err, "attempt %d", i)
		require.NoError(t, r.Close())
	}
}
