package harmony

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// exhaustHeadroom is how many descriptors above those already open the serve
// allows itself while it fills the system's limit: the limit is the serve's
// own (RLIMIT_NOFILE), lowered for the scenario, so that "the maximum the
// system allows" is reached without exhausting the machine for every other
// process.
const exhaustHeadroom = 48

// exhaustion is the state of a resource-exhaustion scenario.
type exhaustion struct {
	saved   unix.Rlimit
	readers []*ring.Reader
	names   []string
	err     error // the creation that hit the limit
	fds     int   // descriptors open before
}

func isLimitError(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.ENOMEM)
}

// fillToLimit lowers the serve's descriptor limit and creates buffers until
// creation fails.
func (w *world) fillToLimit() error {
	if w.exhaust != nil {
		return errors.New("the limit is already reached")
	}
	fds, err := openFiles()
	if err != nil {
		return err
	}
	e := &exhaustion{fds: fds}
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &e.saved); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	lowered := e.saved
	lowered.Cur = min(uint64(fds+exhaustHeadroom), e.saved.Max)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lowered); err != nil {
		return fmt.Errorf("setrlimit: %w", err)
	}
	w.exhaust = e
	w.logf(LevelInformation, "filling this serve's descriptor limit, lowered from %d to %d: on Linux, segments and named semaphores are files in /dev/shm, bounded host-wide by its size and inodes (filling those would starve every process on the machine) and per process by the descriptors open while they are created", e.saved.Cur, lowered.Cur)
	for i := 0; i < 10*exhaustHeadroom; i++ {
		base := fmt.Sprintf("exhaust-%d", i)
		rd, err := ring.NewReader(w.bufferName(base), ring.Config{PayloadSize: 4096})
		if err != nil {
			e.err = err
			w.logf(LevelInformation, "buffer %d failed: %v", i+1, err)
			return nil
		}
		e.readers, e.names = append(e.readers, rd), append(e.names, base)
	}
	return fmt.Errorf("%d buffers created without reaching the limit", len(e.readers))
}

// releaseLimit closes the buffers and restores the descriptor limit.
func (w *world) releaseLimit() error {
	e := w.exhaust
	if e == nil {
		return nil
	}
	var errs []error
	for _, rd := range e.readers {
		errs = append(errs, rd.Close())
	}
	e.readers = nil
	errs = append(errs, unix.Setrlimit(unix.RLIMIT_NOFILE, &e.saved))
	return errors.Join(errs...)
}

func registerLimits(r *Registry) {
	fill := func(_ context.Context, w *world, _ []string) error { return w.fillToLimit() }
	r.add(Given, `create maximum allowed shared memory segments`, fill)
	r.add(Given, `create maximum number of buffers system allows`, fill)
	r.add(Given, `create maximum allowed semaphores`, fill) // two per buffer
	r.add(When, `attempt to create (?:one more )?buffer `+q, func(_ context.Context, w *world, a []string) error {
		if w.exhaust == nil {
			return errors.New("the limit was not reached first")
		}
		rd, err := ring.NewReader(w.bufferName(a[0]), ring.Config{PayloadSize: 4096})
		if err == nil {
			_ = rd.Close()
		}
		w.attempted, w.lastErr, w.current = true, err, a[0]
		return nil
	})
	r.add(Then, `the creation should fail with system error`, func(_ context.Context, w *world, _ []string) error {
		if err := w.expectFailure(nil); err != nil {
			return err
		}
		if !isLimitError(w.lastErr) {
			return fmt.Errorf("want a system limit error (EMFILE, ENFILE, ENOSPC, ENOMEM), got: %w", w.lastErr)
		}
		return nil
	})
	message := func(_ context.Context, w *world, _ []string) error {
		if err := w.expectFailure(nil); err != nil {
			return err
		}
		if !isLimitError(w.lastErr) {
			return fmt.Errorf("want a system limit error, got: %w", w.lastErr)
		}
		msg := w.lastErr.Error()
		if !strings.Contains(msg, w.bufferName(w.current)) {
			return fmt.Errorf("the error %q does not name the buffer", msg)
		}
		return nil
	}
	r.add(Then, `an appropriate error message should be returned`, message)
	r.add(Then, `appropriate error handling should occur`, message)
	r.add(Then, `partial resources should be cleaned up`, func(_ context.Context, w *world, _ []string) error {
		name := w.bufferName(w.current)
		for _, f := range []string{"/dev/shm/" + name, "/dev/shm/sem.sem-w-" + name, "/dev/shm/sem.sem-r-" + name, ring.LockDir + "/" + name + ".lock"} {
			if _, err := os.Stat(f); err == nil {
				return fmt.Errorf("the failed creation left %s", f)
			}
		}
		return nil
	})
	r.add(When, `reach system limit`, func(_ context.Context, w *world, _ []string) error {
		if w.exhaust == nil || w.exhaust.err == nil {
			return errors.New("the limit was not reached")
		}
		if !isLimitError(w.exhaust.err) {
			return fmt.Errorf("creation stopped on something else than a system limit: %w", w.exhaust.err)
		}
		return nil
	})
	r.add(Then, `the test should verify graceful failure when limit reached`, func(_ context.Context, w *world, _ []string) error {
		e := w.exhaust
		if e == nil || e.err == nil {
			return errors.New("the limit was not reached")
		}
		// The failed creation left nothing behind.
		failed := w.bufferName(fmt.Sprintf("exhaust-%d", len(e.readers)))
		for _, f := range []string{"/dev/shm/" + failed, "/dev/shm/sem.sem-w-" + failed, "/dev/shm/sem.sem-r-" + failed, ring.LockDir + "/" + failed + ".lock"} {
			if _, err := os.Stat(f); err == nil {
				return fmt.Errorf("the failed creation left %s", f)
			}
		}
		w.logf(LevelInformation, "%d buffers, then: %v", len(e.readers), e.err)
		return nil
	})
	r.add(When, `cleanup all buffers`, func(_ context.Context, w *world, _ []string) error {
		if w.exhaust == nil {
			return errors.New("no buffers to clean up")
		}
		w.closedNames = w.exhaust.names
		return w.releaseLimit()
	})
	r.add(Then, `the test should verify resources properly released`, func(_ context.Context, w *world, _ []string) error {
		if err := w.expectClosedFiles("/dev/shm/%s", "/dev/shm/sem.sem-w-%s", "/dev/shm/sem.sem-r-%s", ring.LockDir+"/%s.lock"); err != nil {
			return err
		}
		n, err := openFiles()
		if err != nil {
			return err
		}
		if n > w.exhaust.fds {
			return fmt.Errorf("%d descriptors open, %d before", n, w.exhaust.fds)
		}
		return nil
	})
	r.add(Then, `the system should return to normal state`, func(_ context.Context, w *world, _ []string) error {
		rd, err := ring.NewReader(w.bufferName("after-exhaustion"), ring.Config{PayloadSize: 4096})
		if err != nil {
			return fmt.Errorf("create a buffer after the cleanup: %w", err)
		}
		return rd.Close()
	})
}
