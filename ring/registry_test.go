package ring

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/registry"
	"github.com/zerobuffer/zerobuffer-go/layout"
)

// withoutKinds makes kinds look unlinked for the rest of the test.
func withoutKinds(t *testing.T, kinds ...layout.NotifierKind) {
	prev := lookupKind
	lookupKind = func(k layout.NotifierKind) (registry.Entry, bool) {
		for _, gone := range kinds {
			if k == gone {
				return registry.Entry{}, false
			}
		}
		return prev(k)
	}
	t.Cleanup(func() { lookupKind = prev })
}

func TestEveryKindIsRegisteredInThisTestBinary(t *testing.T) {
	assert.Equal(t, []string{"semaphore", "futex", "hybrid", "spin", "yield", "backoff"}, NotifierNames())
	for _, name := range NotifierNames() {
		n, err := NewNotifier(name)
		require.NoError(t, err)
		assert.Equal(t, name, NotifierName(n.Kind()))
		back, err := NotifierFromWord(n.Kind())
		require.NoError(t, err, name)
		assert.Equal(t, n.Kind(), back.Kind())
	}
}

// A writer whose program does not link the reader's notifier package
// fails to connect, names the package, and leaves the buffer to the next
// writer.
func TestConnectWithoutTheReadersNotifierPackage(t *testing.T) {
	n, err := NewNotifier("hybrid")
	require.NoError(t, err)
	buf := uniqueName(t)
	r, err := NewReader(buf, Config{PayloadSize: 4096}, WithNotifier(n))
	require.NoError(t, err)
	defer r.Close()

	withoutKinds(t, layout.NotifierFutex, layout.NotifierHybrid)
	assert.Equal(t, []string{"semaphore", "spin", "yield", "backoff"}, NotifierNames())
	_, err = Connect(buf)
	require.ErrorIs(t, err, ErrNotifierUnavailable)
	require.ErrorIs(t, err, ErrNotifierMismatch)
	assert.Contains(t, err.Error(), `"github.com/zerobuffer/zerobuffer-go/sync/futex"`)
	assert.Zero(t, r.OIEB().WriterPID.Load(), "a refused writer records no PID")
	_, err = NewNotifier("futex")
	require.ErrorIs(t, err, ErrNotifierUnavailable)

	lookupKind = registry.Lookup // linked again: the next writer connects
	w, err := Connect(buf)
	require.NoError(t, err)
	require.NoError(t, w.WriteFrame([]byte("after")))
	require.NoError(t, w.Close())
}

// TestImportArrows checks DESIGN.md's import rules on the library's
// packages (test files aside): layout imports nothing of ours; sync/*
// import layout and internal/, never ring; ring imports layout,
// internal/ and only sync/semaphore among the notifiers.
func TestImportArrows(t *testing.T) {
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "go test runs with the go command on PATH")
	const mod = "github.com/zerobuffer/zerobuffer-go/"
	out, err := exec.Command(gobin, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	allowed := func(pkg, imp string) bool {
		switch {
		case pkg == "layout":
			return false
		case strings.HasPrefix(pkg, "internal/"):
			return imp == "layout" || strings.HasPrefix(imp, "internal/")
		case strings.HasPrefix(pkg, "sync/"):
			return imp == "layout" || strings.HasPrefix(imp, "internal/")
		case pkg == "ring":
			return imp == "layout" || strings.HasPrefix(imp, "internal/") || imp == "sync/semaphore"
		case pkg == "harmony": // the suite drives the public packages only
			return imp == "ring" || imp == "layout" || imp == "duplex" || imp == "notify"
		}
		return true // stress, fuzz and cmd import everything else
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
