package ring

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/sync/spin"
)

func TestEveryKindIsRegisteredInThisTestBinary(t *testing.T) {
	assert.Equal(t, []string{"semaphore", "futex", "hybrid", "spin", "yield", "backoff", "adaptive"}, NotifierNames())
	for _, name := range NotifierNames() {
		n, err := NewNotifier(name)
		require.NoError(t, err)
		assert.Equal(t, name, NotifierName(n.Word()))
		back, err := NotifierFromWord(n.Word())
		require.NoError(t, err, name)
		assert.Equal(t, n.Word(), back.Word())
	}
}

// outsider is a strategy nobody registered in this program: the busy
// spinner under an out-of-tree kind number. A reader needs no
// registration to use it; a writer that would adopt it does.
type outsider struct{ *spin.Notifier }

func (outsider) Word() uint64 { return notify.Kind(200).Word(0) }

// A writer whose program does not link the reader's notifier package
// fails to connect, says which kind it lacks, and leaves the buffer to
// the next writer. (That the message names the package to import for
// the module's own notifiers is notify's test.)
func TestConnectWithoutTheReadersNotifierPackage(t *testing.T) {
	buf := uniqueName(t)
	r, err := NewReader(buf, Config{PayloadSize: 4096}, WithNotifier(outsider{spin.NewBusy()}))
	require.NoError(t, err)
	defer r.Close()

	_, err = Connect(buf)
	require.ErrorIs(t, err, ErrNotifierUnavailable)
	require.ErrorIs(t, err, ErrNotifierMismatch)
	assert.Contains(t, err.Error(), "notifier kind 200, defined outside this module, is not registered")
	assert.Equal(t, 1, strings.Count(err.Error(), "zerobuffer:"), "one prefix: %s", err)
	assert.Zero(t, r.OIEB().WriterPID.Load(), "a refused writer records no PID")
	_, err = NewNotifier("outsider")
	require.ErrorIs(t, err, ErrNotifierMismatch)

	// A writer that brings the strategy along connects.
	w, err := Connect(buf, WithNotifier(outsider{spin.NewBusy()}))
	require.NoError(t, err)
	require.NoError(t, w.WriteFrame([]byte("after")))
	require.NoError(t, w.Close())
	f, err := r.ReadFrame(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "after", string(f.Bytes()))
	f.Release()
}

// A notifier whose word is not a notifier word cannot create a buffer.
func TestReaderRefusesAMalformedNotifierWord(t *testing.T) {
	_, err := NewReader(uniqueName(t), Config{PayloadSize: 4096}, WithNotifier(badWord{spin.NewBusy()}))
	require.ErrorIs(t, err, ErrInvalidConfig)
}

type badWord struct{ *spin.Notifier }

func (badWord) Word() uint64 { return 7 }

// TestImportArrows checks DESIGN.md's import rules on the library's
// packages (test files aside): layout imports nothing of ours; notify
// (the seam) only layout, and its conformance suite notify/notifytest
// only notify, layout and internal/; sync/* import notify, layout and internal/,
// never ring; ring imports notify, layout, internal/ and only
// sync/semaphore among the notifiers; duplex imports ring and what ring
// may; model and internal/testsupport import nothing of ours; only
// commands import bench.
func TestImportArrows(t *testing.T) {
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "go test runs with the go command on PATH")
	const mod = "github.com/zerobuffer/zerobuffer-go/"
	out, err := exec.Command(gobin, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	allowed := func(pkg, imp string) bool {
		switch {
		case imp == "bench":
			return strings.HasPrefix(pkg, "cmd/") // the bench sits on top: commands call it
		case pkg == "layout", pkg == "model":
			return false // model parses ring and sync/... in its tests, never imports them
		case pkg == "notify":
			return imp == "layout"
		case pkg == "internal/testsupport":
			return false // shared by every test package, so it may import none of them
		case pkg == "notify/notifytest":
			return imp == "notify" || imp == "layout" || strings.HasPrefix(imp, "internal/")
		case strings.HasPrefix(pkg, "internal/"):
			return imp == "layout" || strings.HasPrefix(imp, "internal/")
		case strings.HasPrefix(pkg, "sync/"):
			return imp == "notify" || imp == "layout" || strings.HasPrefix(imp, "internal/")
		case pkg == "ring":
			return imp == "notify" || imp == "layout" || strings.HasPrefix(imp, "internal/") || imp == "sync/semaphore"
		case pkg == "duplex":
			return imp == "ring" || imp == "notify" || imp == "layout" || strings.HasPrefix(imp, "internal/")
		case pkg == "harmony": // the suite drives the public packages only (sync/semaphore: the semaphore benchmark, 14.5)
			return imp == "ring" || imp == "layout" || imp == "duplex" || imp == "notify" || imp == "sync/semaphore"
		}
		return true // stress, bench, fuzz, harmony and cmd sit on top
	}
	seen := 0
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], mod)
		if !ok {
			continue
		}
		seen++
		for _, imp := range fields[1:] {
			if imp, ours := strings.CutPrefix(imp, mod); ours && !allowed(pkg, imp) {
				t.Errorf("%s imports %s, against DESIGN.md's arrows", pkg, imp)
			}
		}
	}
	assert.Greater(t, seen, 8, "go list saw too few packages:\n%s", out)
}
