package harmony

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// contextBuffer is the scenario-context key under which a serve publishes
// the base name of the buffer it created, so that a serve started later in
// the scenario (after a kill) finds it.
const contextBuffer = "zerobuffer.buffer"

// registerPlatform: features 7, 8, 11 and 12 — files and names on Linux,
// create/destroy cycles, the control block's bookkeeping, the lock file.
func registerPlatform(r *Registry) {
	r.add(When, `the `+q+` process writes frame with size `+q+` using incrementing pattern`, func(ctx context.Context, w *world, a []string) error {
		n, err := atoi(a[1], "size")
		if err != nil {
			return err
		}
		return w.write(ctx, n)
	})
	r.add(Then, `the `+q+` process should validate each byte matches expected pattern`, func(ctx context.Context, w *world, _ []string) error {
		w.sequences, w.corruptFrames = nil, 0
		for {
			f, err := w.readAndRelease(ctx, 500*time.Millisecond)
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				break
			}
			if err != nil {
				return err
			}
			if !bytes.Equal(w.lastData, framePattern(f.Len(), f.Seq())) {
				w.corruptFrames++
			}
		}
		if len(w.sequences) == 0 {
			return errors.New("no frames to validate")
		}
		return nil
	})
	r.add(Then, `no data corruption should be detected`, func(_ context.Context, w *world, _ []string) error {
		if w.corruptFrames > 0 {
			return fmt.Errorf("%d frames did not hold their pattern", w.corruptFrames)
		}
		return nil
	})
	r.add(Given, `the platform is 'Linux'`, func(_ context.Context, w *world, _ []string) error {
		w.logf(LevelInformation, "running on Linux")
		return nil
	})
	r.add(Then, `verify shared memory entry exists in '/dev/shm/'`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFiles(true, "/dev/shm/%s")
	})
	r.add(Then, `verify proper named semaphores created`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFiles(true, "/dev/shm/sem.sem-w-%s", "/dev/shm/sem.sem-r-%s")
	})
	r.add(Then, `test with buffer names containing special characters`, func(_ context.Context, w *world, _ []string) error {
		good := w.bufferName("special.chars_and-dashes+plus")
		rd, err := ring.NewReader(good, ring.Config{PayloadSize: 4096})
		if err != nil {
			return fmt.Errorf("a name with dots, dashes, underscores and plus: %w", err)
		}
		if err := rd.Close(); err != nil {
			return err
		}
		if _, err := ring.NewReader(w.bufferName("with/slash"), ring.Config{PayloadSize: 4096}); !errors.Is(err, ring.ErrInvalidName) {
			return fmt.Errorf("a name with '/' must be refused with %v, got: %v", ring.ErrInvalidName, err)
		}
		return nil
	})
	shutdown := func(_ context.Context, w *world, _ []string) error {
		names := w.currentNames()
		w.reset()
		w.closedNames = names
		w.logf(LevelInformation, "closed everything: %v", names)
		return nil
	}
	r.add(When, `gracefully shutdown`, shutdown)
	r.add(When, `graceful shutdown`, shutdown)
	r.add(Then, `verify proper cleanup in '/dev/shm/'`, func(_ context.Context, w *world, _ []string) error {
		return w.expectClosedFiles("/dev/shm/%s", "/dev/shm/sem.sem-w-%s", "/dev/shm/sem.sem-r-%s")
	})
	r.add(Then, `verify lock file is removed`, func(_ context.Context, w *world, _ []string) error {
		return w.expectClosedFiles(ring.LockDir + "/%s.lock")
	})
	r.add(Then, `verify name contains only alphanumeric and dash`, func(_ context.Context, w *world, _ []string) error {
		if !regexp.MustCompile(`^[A-Za-z0-9-]+$`).MatchString(w.current) {
			return fmt.Errorf("buffer name %q has other characters", w.current)
		}
		return nil
	})
	r.add(Then, `same name rules work on both platforms`, func(_ context.Context, w *world, _ []string) error {
		// Windows object names refuse '\'; POSIX names refuse '/'. A name of
		// letters, digits and dashes (with Harmony's suffix) passes both.
		name := w.bufferName(w.current)
		if strings.ContainsAny(name, `\/`) {
			return fmt.Errorf("%q holds a path separator", name)
		}
		return ring.ValidateName(name)
	})
	r.add(When, `test maximum name length`, func(_ context.Context, w *world, _ []string) error {
		longest := strings.Repeat("n", ring.MaxNameLen)
		rd, err := ring.NewReader(longest, ring.Config{PayloadSize: 4096})
		if err == nil {
			err = rd.Close()
		}
		w.maxNameErr = err
		_, w.tooLongErr = ring.NewReader(longest+"n", ring.Config{PayloadSize: 4096})
		return nil
	})
	r.add(Then, `both platforms should handle it correctly`, func(_ context.Context, w *world, _ []string) error {
		if w.maxNameErr != nil {
			return fmt.Errorf("a name of %d bytes (the limit): %w", ring.MaxNameLen, w.maxNameErr)
		}
		if !errors.Is(w.tooLongErr, ring.ErrInvalidName) {
			return fmt.Errorf("a name over the limit must be refused with %v, got: %v", ring.ErrInvalidName, w.tooLongErr)
		}
		return nil
	})
	r.add(Given, `manually create stale lock file for `+q, func(_ context.Context, w *world, a []string) error {
		if err := os.MkdirAll(ring.LockDir, 0o777); err != nil {
			return err
		}
		return os.WriteFile(ring.LockDir+"/"+w.bufferName(a[0])+".lock", nil, 0o600)
	})
	r.add(Given, `create orphaned shared memory for `+q, func(_ context.Context, w *world, a []string) error {
		// A segment whose OIEB names no live process.
		return os.WriteFile("/dev/shm/"+w.bufferName(a[0]), make([]byte, 4096), 0o600)
	})
	r.add(Given, `create orphaned semaphores for `+q, func(_ context.Context, w *world, a []string) error {
		sem := make([]byte, 32)
		sem[8] = 128 // glibc's "shared" marker
		for _, kind := range []string{"w", "r"} {
			if err := os.WriteFile("/dev/shm/sem.sem-"+kind+"-"+w.bufferName(a[0]), sem, 0o600); err != nil {
				return err
			}
		}
		return nil
	})
	r.add(When, `the `+q+` process attempts to create buffer `+q, func(_ context.Context, w *world, a []string) error {
		_, statErr := os.Stat(ring.LockDir + "/" + w.bufferName(a[1]) + ".lock")
		w.stale = statErr == nil
		w.attempted = true
		w.lastErr = w.createReader(a[1], defaultMetadataSize, defaultPayloadSize)
		return nil
	})
	r.add(Then, `the stale resources should be detected`, func(_ context.Context, w *world, _ []string) error {
		if !w.stale {
			return errors.New("no stale lock file was there")
		}
		return nil
	})
	r.add(Then, `the old resources should be cleaned up`, func(_ context.Context, w *world, _ []string) error {
		if w.lastErr != nil {
			return w.lastErr
		}
		rd, err := w.reader()
		if err != nil {
			return err
		}
		if o := rd.OIEB(); o.OIEBSizeField.Load() != 128 || o.ReaderPID.Load() != uint64(os.Getpid()) {
			return errors.New("the segment is not a fresh one of this reader")
		}
		return nil
	})
	r.add(Then, `the new buffer should be created successfully`, func(_ context.Context, w *world, _ []string) error {
		if w.lastErr != nil {
			return w.lastErr
		}
		return w.expectFiles(true, "/dev/shm/%s", "/dev/shm/sem.sem-w-%s", "/dev/shm/sem.sem-r-%s", ring.LockDir+"/%s.lock")
	})
	r.add(Given, `stress test environment is prepared`, func(_ context.Context, w *world, _ []string) error {
		n, err := openFiles()
		w.baselineFDs = n
		return err
	})
	r.add(Given, `perform `+q+` iterations of:`, func(_ context.Context, w *world, a []string) error {
		n, err := atoi(a[0], "iterations")
		if err != nil {
			return err
		}
		w.iterations = n
		return nil
	})
	r.add(When, `the `+q+` process destroys buffer`, func(_ context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		name, o := w.current, rd.OIEB()
		meta, payload := o.MetadataSize.Load(), o.PayloadSize.Load()
		if err := rd.Close(); err != nil {
			return err
		}
		delete(w.readers, name)
		for i := 1; i < w.iterations; i++ { // the scenario's remaining cycles
			if err := w.createReader(name, meta, payload); err != nil {
				return fmt.Errorf("cycle %d: %w", i+1, err)
			}
			if err := w.readers[name].Close(); err != nil {
				return fmt.Errorf("cycle %d: %w", i+1, err)
			}
			delete(w.readers, name)
		}
		w.closedNames = []string{name}
		w.logf(LevelInformation, "%d create/destroy cycles", max(w.iterations, 1))
		return nil
	})
	r.add(Then, `no resource leaks should occur`, func(_ context.Context, w *world, _ []string) error {
		if err := w.expectClosedFiles("/dev/shm/%s", "/dev/shm/sem.sem-w-%s", "/dev/shm/sem.sem-r-%s"); err != nil {
			return err
		}
		n, err := openFiles()
		if err != nil {
			return err
		}
		if w.baselineFDs > 0 && n > w.baselineFDs {
			return fmt.Errorf("%d file descriptors open, %d before the cycles", n, w.baselineFDs)
		}
		return nil
	})
	r.add(Then, `lock files should be properly cleaned`, func(_ context.Context, w *world, _ []string) error {
		return w.expectClosedFiles(ring.LockDir + "/%s.lock")
	})
	r.add(Then, `system should remain stable`, func(_ context.Context, w *world, _ []string) error {
		if len(w.closedNames) == 0 {
			return errors.New("no buffer was cycled")
		}
		name := w.closedNames[0]
		if err := w.createReader(name, defaultMetadataSize, defaultPayloadSize); err != nil {
			return fmt.Errorf("create after the cycles: %w", err)
		}
		return nil
	})
	r.add(Given, `we are in DEBUG mode for protocol compliance tests`, func(_ context.Context, w *world, _ []string) error {
		w.logf(LevelInformation, "protocol compliance: steps read the control block directly")
		return nil
	})
	r.add(When, `performs multiple write operations`, func(ctx context.Context, w *world, _ []string) error {
		wr, err := w.writer(ctx)
		if err != nil {
			return err
		}
		o := wr.OIEB()
		w.writeChecks = nil
		for _, size := range []int{48, 112, 240, 1008} { // 16 + size: multiples of 64
			before := [3]uint64{o.PayloadWrittenCount.Load(), o.PayloadFreeBytes.Load(), o.PayloadWritePos.Load()}
			if err := w.write(ctx, size); err != nil {
				return err
			}
			after := [3]uint64{o.PayloadWrittenCount.Load(), o.PayloadFreeBytes.Load(), o.PayloadWritePos.Load()}
			w.writeChecks = append(w.writeChecks, oiebStep{size: uint64(size), before: before, after: after})
		}
		return nil
	})
	r.add(Then, `the `+q+` process should verify after each write:`, func(_ context.Context, w *world, _ []string) error {
		if len(w.writeChecks) == 0 {
			return errors.New("no writes were recorded")
		}
		for i, c := range w.writeChecks {
			t := c.size + 16
			if c.after[0] != c.before[0]+1 || c.before[1]-c.after[1] != t || c.after[2] != c.before[2]+t || c.after[2]%64 != 0 {
				return fmt.Errorf("write %d of %d bytes: count %d→%d, free %d→%d, write_pos %d→%d", i+1, c.size, c.before[0], c.after[0], c.before[1], c.after[1], c.before[2], c.after[2])
			}
		}
		return nil
	})
	r.add(When, `the `+q+` process performs multiple read operations`, func(ctx context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		o := rd.OIEB()
		w.readChecks = nil
		for o.PayloadWrittenCount.Load() > o.PayloadReadCount.Load() {
			before := [3]uint64{o.PayloadReadCount.Load(), o.PayloadFreeBytes.Load(), o.PayloadReadPos.Load()}
			f, err := w.readAndRelease(ctx, readTimeout)
			if err != nil {
				return err
			}
			after := [3]uint64{o.PayloadReadCount.Load(), o.PayloadFreeBytes.Load(), o.PayloadReadPos.Load()}
			w.readChecks = append(w.readChecks, oiebStep{size: uint64(f.Len()), before: before, after: after})
		}
		return nil
	})
	r.add(Then, `the `+q+` process should verify after each read:`, func(_ context.Context, w *world, _ []string) error {
		if len(w.readChecks) == 0 {
			return errors.New("no reads were recorded")
		}
		for i, c := range w.readChecks {
			t := c.size + 16
			if c.after[0] != c.before[0]+1 || c.after[1]-c.before[1] != t || c.after[2] != c.before[2]+t {
				return fmt.Errorf("read %d of %d bytes: count %d→%d, free %d→%d, read_pos %d→%d", i+1, c.size, c.before[0], c.after[0], c.before[1], c.after[1], c.before[2], c.after[2])
			}
		}
		return nil
	})
	r.add(Then, `the `+q+` process should verify OIEB starts at 64-byte aligned address`, func(_ context.Context, w *world, _ []string) error {
		rd, err := w.reader()
		if err != nil {
			return err
		}
		if p := reflect.ValueOf(rd.OIEB()).Pointer(); p%64 != 0 {
			return fmt.Errorf("the OIEB is mapped at %#x", p)
		}
		return nil
	})
	r.add(Then, `should verify metadata block starts at 64-byte aligned offset`, func(_ context.Context, w *world, _ []string) error {
		o, err := w.oieb()
		if err != nil {
			return err
		}
		if size := uint64(o.OIEBSizeField.Load()); size%64 != 0 {
			return fmt.Errorf("the metadata block starts at %d", size)
		}
		return nil
	})
	r.add(Then, `should verify payload block starts at 64-byte aligned offset`, func(_ context.Context, w *world, _ []string) error {
		o, err := w.oieb()
		if err != nil {
			return err
		}
		if off := uint64(o.OIEBSizeField.Load()) + o.MetadataSize.Load(); off%64 != 0 {
			return fmt.Errorf("the payload block starts at %d", off)
		}
		return nil
	})
	r.add(Then, `verify lock file exists at correct location`, func(_ context.Context, w *world, _ []string) error {
		return w.expectFiles(true, ring.LockDir+"/%s.lock")
	})
	r.add(Then, `verify lock file is actually locked`, func(_ context.Context, w *world, _ []string) error {
		path := ring.LockDir + "/" + w.bufferName(w.current) + ".lock"
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
		defer unix.Close(fd)
		err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			_ = unix.Flock(fd, unix.LOCK_UN)
			return fmt.Errorf("%s could be locked: nobody holds it", path)
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return fmt.Errorf("flock %s: %w", path, err)
		}
		return nil
	})
	r.add(Then, `new reader can acquire lock after detecting stale`, func(_ context.Context, w *world, _ []string) error {
		base := w.current
		if base == "" {
			base = w.ctxIn[contextBuffer]
		}
		if base == "" {
			return errors.New("no buffer name: neither this process nor the scenario context knows it")
		}
		// Any reader's stale cleanup (another program's too) may have removed
		// the dead reader's files already; what must hold is that a new
		// reader gets the name and its lock.
		_, statErr := os.Stat(ring.LockDir + "/" + w.bufferName(base) + ".lock")
		w.logf(LevelInformation, "the dead reader's lock file is still there: %v", statErr == nil)
		if err := w.createReader(base, defaultMetadataSize, defaultPayloadSize); err != nil {
			return err
		}
		return w.expectFiles(true, ring.LockDir+"/%s.lock")
	})
}

// oiebStep is the control block's counters before and after one operation.
type oiebStep struct {
	size          uint64
	before, after [3]uint64
}

func (w *world) currentNames() []string {
	var names []string
	for n := range w.readers {
		names = append(names, n)
	}
	for n := range w.writers {
		if _, ok := w.readers[n]; !ok {
			names = append(names, n)
		}
	}
	return names
}

// expectFiles checks that the current buffer's files (formats with %s for
// its full name) exist.
func (w *world) expectFiles(exist bool, formats ...string) error {
	if w.current == "" {
		return errors.New("no buffer was created")
	}
	for _, f := range formats {
		p := fmt.Sprintf(f, w.bufferName(w.current))
		if _, err := os.Stat(p); (err == nil) != exist {
			return fmt.Errorf("%s: exists %v, want %v", p, err == nil, exist)
		}
	}
	return nil
}

// expectClosedFiles checks the files of the buffers closed by the last
// shutdown or destroy step are gone.
func (w *world) expectClosedFiles(formats ...string) error {
	if len(w.closedNames) == 0 {
		return errors.New("no buffer was closed")
	}
	for _, n := range w.closedNames {
		for _, f := range formats {
			p := fmt.Sprintf(f, w.bufferName(n))
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s is still there", p)
			}
		}
	}
	return nil
}

func openFiles() (int, error) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, fmt.Errorf("count open files: %w", err)
	}
	return len(entries), nil
}
