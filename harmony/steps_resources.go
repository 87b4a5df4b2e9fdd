package harmony

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// registerResources: failures while a buffer is being created, cycles under
// load, and the steps that take a data table (which this project's runner
// passes in the parameter "table"; Harmony's runner passes none).
func registerResources(r *Registry) {
	pending := func(_ context.Context, w *world, a []string) error {
		w.pendingCreate = a[0]
		fds, err := openFiles()
		w.baselineFDs = fds
		return err
	}
	r.add(Given, `attempt to create buffer `+q+` with default config`, pending)
	r.add(Given, `the test creates shared memory successfully for `+q, pending)
	simulate := func(_ context.Context, w *world, _ []string) error {
		if w.pendingCreate == "" {
			return errors.New("no buffer creation is pending")
		}
		name := w.bufferName(w.pendingCreate)
		// A directory where the data semaphore's file must go: creating the
		// semaphore fails, as it would with a full /dev/shm or a name taken
		// by something that is not a semaphore.
		blocker := "/dev/shm/sem.sem-w-" + name
		if err := os.Mkdir(blocker, 0o700); err != nil {
			return fmt.Errorf("block the semaphore's name: %w", err)
		}
		defer os.Remove(blocker)
		rd, err := ring.NewReader(name, ring.Config{MetadataSize: defaultMetadataSize, PayloadSize: defaultPayloadSize})
		if err == nil {
			_ = rd.Close()
		}
		w.attempted, w.lastErr = true, err
		w.closedNames = []string{w.pendingCreate}
		w.current = w.pendingCreate
		w.logf(LevelInformation, "create with the semaphore blocked: %v", err)
		return nil
	}
	r.add(Given, `the test simulates semaphore creation failure`, simulate)
	r.add(When, `simulate failure creating sem-w semaphore`, simulate)
	failed := func(_ context.Context, w *world, _ []string) error { return w.expectFailure(nil) }
	r.add(Then, `the buffer creation should fail`, failed)
	r.add(Then, `the `+q+` process should throw appropriate exception`, failed)
	cleaned := func(_ context.Context, w *world, _ []string) error {
		return w.expectClosedFiles("/dev/shm/%s", "/dev/shm/sem.sem-r-%s", ring.LockDir+"/%s.lock")
	}
	r.add(Then, `the shared memory should be cleaned up`, cleaned)
	r.add(Then, `the `+q+` process should clean up shared memory`, cleaned)
	noLeak := func(ctx context.Context, w *world, a []string) error {
		if err := cleaned(ctx, w, a); err != nil {
			return err
		}
		n, err := openFiles()
		if err != nil {
			return err
		}
		if w.baselineFDs > 0 && n > w.baselineFDs {
			return fmt.Errorf("%d file descriptors open, %d before", n, w.baselineFDs)
		}
		return nil
	}
	r.add(Then, `no resources should be leaked`, noLeak)
	r.add(Then, `the test should verify no resources leaked`, noLeak)

	r.add(Given, `the test spawns writer attempting connections continuously`, func(_ context.Context, w *world, _ []string) error {
		fds, err := openFiles()
		if err != nil {
			return err
		}
		w.baselineFDs = fds
		w.churn = &connector{name: w.bufferName("churn"), quit: make(chan struct{}), done: make(chan struct{})}
		go w.churn.run()
		return nil
	})
	r.add(When, `the test creates and destroys buffer `+q+` times`, func(_ context.Context, w *world, a []string) error {
		n, err := atoi(a[0], "count")
		if err != nil {
			return err
		}
		if w.churn == nil {
			return errors.New("no connecting writer was spawned")
		}
		for i := range n {
			rd, err := ring.NewReader(w.churn.name, ring.Config{MetadataSize: 64, PayloadSize: 4096})
			if err != nil {
				return fmt.Errorf("cycle %d: %w", i+1, err)
			}
			if err := rd.Close(); err != nil {
				return fmt.Errorf("cycle %d: %w", i+1, err)
			}
		}
		w.churn.stop()
		w.closedNames = []string{"churn"}
		w.logf(LevelInformation, "%d cycles; the writer connected %d times, failed %d times", n, w.churn.connected, w.churn.failed)
		return nil
	})
	r.add(Then, `the test should verify no resource leaks`, func(_ context.Context, w *world, _ []string) error {
		if err := w.expectClosedFiles("/dev/shm/%s", "/dev/shm/sem.sem-w-%s", "/dev/shm/sem.sem-r-%s"); err != nil {
			return err
		}
		n, err := openFiles()
		if err != nil {
			return err
		}
		if w.baselineFDs > 0 && n > w.baselineFDs {
			return fmt.Errorf("%d file descriptors open, %d before", n, w.baselineFDs)
		}
		return nil
	})
	r.add(Then, `the test should verify lock files cleaned up`, func(_ context.Context, w *world, _ []string) error {
		return w.expectClosedFiles(ring.LockDir + "/%s.lock")
	})
	r.add(Then, `the system should handle writer connection attempts gracefully`, func(_ context.Context, w *world, _ []string) error {
		c := w.churn
		if c == nil {
			return errors.New("no connecting writer ran")
		}
		if c.unexpected != nil {
			return fmt.Errorf("a connection attempt failed unexpectedly: %w", c.unexpected)
		}
		if c.connected+c.failed == 0 {
			return errors.New("the writer made no attempts")
		}
		return nil
	})

	r.add(Given, `create buffers with various names:`, func(_ context.Context, w *world, _ []string) error {
		names, err := w.tableColumn(0)
		if err != nil {
			return err
		}
		w.createdNames = nil
		for _, n := range names {
			if err := w.createReader(n, 0, 4096); err != nil {
				return err
			}
			w.createdNames = append(w.createdNames, n)
		}
		return nil
	})
	r.add(Then, `verify semaphores created as 'sem-w-\{name\}' and 'sem-r-\{name\}'`, func(_ context.Context, w *world, _ []string) error {
		if len(w.createdNames) == 0 {
			return errors.New("no buffers were created")
		}
		for _, n := range w.createdNames {
			for _, kind := range []string{"w", "r"} {
				if _, err := os.Stat("/dev/shm/sem.sem-" + kind + "-" + w.bufferName(n)); err != nil {
					return fmt.Errorf("semaphore sem-%s-%s: %w", kind, w.bufferName(n), err)
				}
			}
		}
		return nil
	})
	r.add(Then, `verify both Linux and Windows naming rules respected`, func(_ context.Context, w *world, _ []string) error {
		for _, n := range w.createdNames {
			full := w.bufferName(n)
			if err := ring.ValidateName(full); err != nil {
				return err
			}
			if len("Global\\sem-w-"+full) > 260 { // Windows' MAX_PATH for kernel object names
				return fmt.Errorf("%q is too long for a Windows object name", full)
			}
		}
		return nil
	})
}

// tableColumn is column i of the step's data table (header row excluded).
func (w *world) tableColumn(i int) ([]string, error) {
	raw := w.params["table"]
	if raw == "" {
		return nil, errors.New("the step needs its data table; this runner passed none (Harmony's runner never passes tables)")
	}
	var rows [][]string
	if err := json.Unmarshal([]byte(raw), &rows); err != nil {
		return nil, fmt.Errorf("the data table parameter: %w", err)
	}
	var col []string
	for _, row := range rows[min(1, len(rows)):] {
		if i >= len(row) {
			return nil, fmt.Errorf("a table row has %d cells, want more than %d", len(row), i)
		}
		col = append(col, row[i])
	}
	return col, nil
}

// connector keeps trying to connect a writer to a buffer that comes and goes.
type connector struct {
	name              string
	quit, done        chan struct{}
	once              sync.Once
	connected, failed int
	unexpected        error
}

func (c *connector) run() {
	defer close(c.done)
	for {
		select {
		case <-c.quit:
			return
		default:
		}
		wr, err := ring.Connect(c.name)
		switch {
		case err == nil:
			c.connected++
			_ = wr.Close()
		case errors.Is(err, ring.ErrBufferNotFound), errors.Is(err, ring.ErrReaderDead),
			errors.Is(err, ring.ErrWriterAlreadyConnected), errors.Is(err, syscall.ENOENT):
			c.failed++
		default:
			c.failed++
			if c.unexpected == nil {
				c.unexpected = err
			}
		}
		time.Sleep(time.Millisecond)
	}
}

func (c *connector) stop() {
	c.once.Do(func() { close(c.quit) })
	<-c.done
}
