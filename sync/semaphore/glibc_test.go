//go:build linux

package semaphore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// Exit codes of testdata/semtool.c.
const (
	toolOK       = 0
	toolTimeout  = 2
	toolExist    = 3
	toolNotExist = 4
	toolOverflow = 5
)

// buildTool compiles testdata/semtool.c against glibc into dir.
func buildTool(tb testing.TB, dir string) string {
	tb.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		tb.Skip("gcc not found; the glibc interoperability tests need it")
	}
	bin := filepath.Join(dir, "semtool")
	out, err := exec.Command(gcc, "-O2", "-Wall", "-pthread", "-o", bin, "testdata/semtool.c").CombinedOutput()
	require.NoError(tb, err, "gcc: %s", out)
	return bin
}

// glibc runs semtool and returns its stdout (trimmed) and exit code.
type glibc struct {
	tb  testing.TB
	bin string
}

func (g glibc) run(args ...string) (string, int) {
	g.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run() // Run waits: no child outlives the call
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		require.NoError(g.tb, err)
	}
	if stderr.Len() > 0 {
		g.tb.Logf("semtool %v: %s", args, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), code
}

// must runs semtool and requires exit code 0.
func (g glibc) must(args ...string) string {
	g.tb.Helper()
	out, code := g.run(args...)
	require.Equal(g.tb, toolOK, code, "semtool %v: %s", args, out)
	return out
}

// start runs semtool in the background; wait collects its result.
func (g glibc) start(args ...string) func() (string, int) {
	g.tb.Helper()
	var stdout bytes.Buffer
	cmd := exec.Command(g.bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	require.NoError(g.tb, cmd.Start())
	waited := false
	g.tb.Cleanup(func() {
		if !waited { // a failed test: do not leave the child behind
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return func() (string, int) {
		waited = true
		err := cmd.Wait()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(g.tb, err)
		}
		return strings.TrimSpace(stdout.String()), code
	}
}

func TestGlibcInterop(t *testing.T) {
	c := glibc{t, buildTool(t, t.TempDir())}

	t.Run("same bytes", func(t *testing.T) {
		c := glibc{t, c.bin}
		for _, value := range []uint32{0, 1, 3, 0x01020304, semaphore.ValueMax} {
			fromC, fromGo := uniqueName(t), uniqueName(t)
			c.must("create", fromC, strconv.FormatUint(uint64(value), 10))
			mustCreate(t, fromGo, value)
			cb, err := os.ReadFile("/dev/shm/sem." + fromC)
			require.NoError(t, err)
			gb, err := os.ReadFile("/dev/shm/sem." + fromGo)
			require.NoError(t, err)
			require.Len(t, cb, semaphore.Size)
			assert.Equal(t, cb, gb, "value %d", value)
		}
	})

	t.Run("glibc creates, Go uses", func(t *testing.T) {
		c := glibc{t, c.bin}
		name := uniqueName(t)
		c.must("create", name, "3", "640")
		_, err := semaphore.Create(name, 0, 0o600)
		assert.ErrorIs(t, err, os.ErrExist)

		s, err := semaphore.Open(name)
		require.NoError(t, err)
		defer s.Close()
		assert.EqualValues(t, 3, s.Value())
		for range 3 {
			assert.True(t, s.TryWait())
		}
		assert.False(t, s.TryWait())
		require.NoError(t, s.Post())
		assert.Equal(t, "1", c.must("getvalue", name))
		assert.Equal(t, "TAKEN", c.must("trywait", name))
		assert.EqualValues(t, 0, s.Value())
		c.must("post", name, "5")
		assert.EqualValues(t, 5, s.Value())

		require.NoError(t, semaphore.Unlink(name))
		_, code := c.run("getvalue", name)
		assert.Equal(t, toolNotExist, code)
	})

	t.Run("Go creates, glibc uses", func(t *testing.T) {
		c := glibc{t, c.bin}
		name := uniqueName(t)
		s := mustCreate(t, name, 2)
		_, code := c.run("create", name, "0")
		assert.Equal(t, toolExist, code, "glibc sees the name as taken")

		assert.Equal(t, "2", c.must("getvalue", name))
		assert.Equal(t, "WOKE", c.must("wait", name, "10000", "2"))
		assert.EqualValues(t, 0, s.Value())
		out, code := c.run("trywait", name)
		assert.Equal(t, toolTimeout, code)
		assert.Equal(t, "EMPTY", out)
		c.must("post", name, "3")
		assert.EqualValues(t, 3, s.Value())

		c.must("unlink", name)
		_, err := semaphore.Open(name)
		assert.ErrorIs(t, err, os.ErrNotExist)
	})

	t.Run("glibc timeout deregisters", func(t *testing.T) {
		c := glibc{t, c.bin}
		name := uniqueName(t)
		s := mustCreate(t, name, 0)
		out, code := c.run("wait", name, "20")
		assert.Equal(t, toolTimeout, code)
		assert.Equal(t, "TIMEOUT", out)
		assert.EqualValues(t, 0, s.Waiters())
		assert.EqualValues(t, 0, s.Value())
	})

	t.Run("overflow both ways", func(t *testing.T) {
		c := glibc{t, c.bin}
		name := uniqueName(t)
		s := mustCreate(t, name, semaphore.ValueMax)
		_, code := c.run("post", name)
		assert.Equal(t, toolOverflow, code)

		other := uniqueName(t)
		c.must("create", other, strconv.Itoa(semaphore.ValueMax))
		o, err := semaphore.Open(other)
		require.NoError(t, err)
		defer o.Close()
		assert.ErrorIs(t, o.Post(), semaphore.ErrOverflow)
		assert.EqualValues(t, semaphore.ValueMax, s.Value())
	})

	t.Run("Go post wakes glibc sem_wait", func(t *testing.T) {
		c := glibc{t, c.bin}
		name := uniqueName(t)
		s := mustCreate(t, name, 0)
		wait := c.start("wait", name, "-1")
		// glibc registers itself in the high half before it sleeps.
		eventually(t, "glibc waiter registered", func() bool { return s.Waiters() == 1 })
		require.NoError(t, s.Post())
		out, code := wait()
		assert.Equal(t, toolOK, code)
		assert.Equal(t, "WOKE", out)
		assert.EqualValues(t, 0, s.Waiters())
		assert.EqualValues(t, 0, s.Value())
	})

	t.Run("glibc sem_post wakes Go Wait", func(t *testing.T) {
		c := glibc{t, c.bin}
		name := uniqueName(t)
		s := mustCreate(t, name, 0)
		s.SetSpin(0)
		done := make(chan bool, 1)
		go func() {
			ok, err := s.Wait(hang)
			assert.NoError(t, err)
			done <- ok
		}()
		eventually(t, "Go waiter registered", func() bool { return s.Waiters() == 1 })
		c.must("post", name)
		assert.True(t, <-done)
		assert.EqualValues(t, 0, s.Waiters())
		assert.EqualValues(t, 0, s.Value())
	})

	t.Run("ping-pong", func(t *testing.T) {
		const rounds = 5000
		for _, spin := range []time.Duration{0, semaphore.DefaultSpin} {
			t.Run(fmt.Sprint("spin=", spin), func(t *testing.T) {
				c := glibc{t, c.bin}
				pingName, pongName := uniqueName(t), uniqueName(t)
				ping := mustCreate(t, pingName, 0)
				pong := mustCreate(t, pongName, 0)
				pong.SetSpin(spin)
				wait := c.start("pingpong", pingName, pongName, strconv.Itoa(rounds), strconv.Itoa(int(hang/time.Millisecond)))
				for i := range rounds {
					require.NoError(t, ping.Post())
					ok, err := pong.Wait(hang)
					require.NoError(t, err)
					require.True(t, ok, "round %d", i)
				}
				out, code := wait()
				assert.Equal(t, toolOK, code)
				assert.Equal(t, "DONE", out)
				for _, s := range []*semaphore.Sem{ping, pong} {
					assert.EqualValues(t, 0, s.Value())
					assert.EqualValues(t, 0, s.Waiters())
				}
			})
		}
	})
}
