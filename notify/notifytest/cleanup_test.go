package notifytest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/notify/notifytest"
	"github.com/zerobuffer/zerobuffer-go/sync/futex"
)

// Breakages that end a subtest the hard way, each of which once left the
// buffer behind in /dev/shm: the suite must still remove everything.
var breakages = []struct{ name, how string }{
	{"panic", "PostData panics, in the producer goroutine or child"},
	{"hang", "WaitSpace ignores its timeout and never returns"},
	{"create-fails", "Create makes a file, then fails"},
}

const brokenEnv = "ZB_NOTIFYTEST_BROKEN"

func init() {
	for i, b := range breakages {
		kind := notify.Kind(245 + i)
		newBroken := func() notify.Notifier { return &broken{Notifier: futex.New(), kind: kind, breakage: b.name} }
		notify.Register(notify.Strategy{
			Kind: kind, Name: "broken-" + b.name,
			New:      newBroken,
			FromWord: func(uint64) (notify.Notifier, error) { return newBroken(), nil },
		})
	}
}

// TestFailuresCleanUp runs the stream subtests on each broken notifier in
// a child process, which must fail them, and then finds nothing of the
// child's buffers in /dev/shm.
func TestFailuresCleanUp(t *testing.T) {
	for _, b := range breakages {
		t.Run(b.name, func(t *testing.T) {
			// The minute only turns a hang of the child into a failure.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBroken$/^"+b.name+"$/^stream-window-1$", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"=1")
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			require.NoError(t, ctx.Err(), "the child hung:\n%s", out)
			require.True(t, errors.As(err, &exit), "the suite passed a notifier whose %s (err %v):\n%s", b.how, err, out)
			for _, mode := range []string{"goroutines", "processes"} {
				assert.Contains(t, string(out), "--- FAIL: TestBroken/"+b.name+"/stream-window-1/"+mode+" ", "%s", out)
			}
			left, _ := filepath.Glob(fmt.Sprintf("%s/zbnotifytest-%d-*", shm.Dir, cmd.Process.Pid))
			for _, f := range left {
				_ = os.Remove(f)
			}
			assert.Empty(t, left, "the failing suite left files in %s:\n%s", shm.Dir, out)
		})
	}
}

// TestBroken runs the suite on the broken notifiers; only
// TestFailuresCleanUp's children run it.
func TestBroken(t *testing.T) {
	if os.Getenv(brokenEnv) == "" {
		t.Skip("run by TestFailuresCleanUp in a child process")
	}
	for _, b := range breakages {
		t.Run(b.name, func(t *testing.T) {
			notifytest.Run(t, "broken-"+b.name, notifytest.HangGuard(time.Second), notifytest.Events(20_000))
		})
	}
}

// broken is the futex notifier with one breakage.
type broken struct {
	*futex.Notifier
	kind     notify.Kind
	breakage string
	posts    int
}

func (b *broken) Word() uint64 { return b.kind.Word(0) }

// partial is the file that the create-fails breakage leaves for Remove.
func partial(name string) string { return shm.Path(name) + "-partial" }

func (b *broken) Create(name string, o *layout.OIEB, perm os.FileMode) error {
	if b.breakage == "create-fails" {
		if err := os.WriteFile(partial(name), nil, perm); err != nil {
			return err
		}
		return errors.New("create failed half-way")
	}
	return b.Notifier.Create(name, o, perm)
}

func (b *broken) Remove(name string) error {
	if err := os.Remove(partial(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return b.Notifier.Remove(name)
}

func (b *broken) PostData() error {
	if b.posts++; b.breakage == "panic" && b.posts > 100 {
		panic("broken notifier: PostData")
	}
	return b.Notifier.PostData()
}

func (b *broken) WaitSpace(ready func() bool, timeout time.Duration) (bool, error) {
	if b.breakage == "hang" && timeout > 0 && !ready() {
		select {} // a wait that ignores its timeout
	}
	return b.Notifier.WaitSpace(ready, timeout)
}
