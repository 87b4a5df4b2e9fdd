package shm

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func name(t *testing.T) string { return fmt.Sprintf("zbtest-shm-%d-%s", os.Getpid(), t.Name()) }

func TestCreateOpenPublish(t *testing.T) {
	n := name(t)
	s, err := CreateHidden(1000, 0o640)
	require.NoError(t, err)
	_, err = Open(n, false, 1)
	require.ErrorIs(t, err, os.ErrNotExist, "a hidden segment cannot be opened by name")
	s.Data[999] = 42
	require.NoError(t, s.Publish(n))
	defer Unlink(n)
	st, err := os.Stat(Path(n))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())
	assert.Equal(t, int64(1000), st.Size())

	o, err := Open(n, true, 128)
	require.NoError(t, err)
	assert.Equal(t, byte(42), o.Data[999])
	o.Prefault(false)
	require.NoError(t, o.Close())
	require.NoError(t, o.Close(), "idempotent")

	_, err = Open(n, false, 1001)
	require.ErrorIs(t, err, ErrTooSmall)
	s2, err := CreateHidden(64, 0o600)
	require.NoError(t, err)
	require.ErrorIs(t, s2.Publish(n), os.ErrExist)
	require.NoError(t, s2.Close())
	require.NoError(t, s.Close())
	require.NoError(t, Unlink(n))
	require.NoError(t, Unlink(n), "unlinking a missing segment is fine")
}

// TestGuardPage reads one byte past the page holding the segment's end in
// a child process, which must die of the fault.
func TestGuardPage(t *testing.T) {
	if n := os.Getenv("ZB_SHM_GUARD_CHILD"); n != "" {
		s, err := Open(n, true, 1)
		if err != nil {
			os.Exit(3)
		}
		p := &s.Data[len(s.Data)-1]
		sink = *(*byte)(addPtr(p, 1)) // the guard page
		os.Exit(0)
	}
	n := name(t)
	s, err := CreateHidden(uint64(os.Getpagesize()), 0o600)
	require.NoError(t, err)
	require.NoError(t, s.Publish(n))
	defer Unlink(n)
	defer s.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestGuardPage$")
	cmd.Env = append(os.Environ(), "ZB_SHM_GUARD_CHILD="+n)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "reading the guard page must fault; output: %s", out)
	assert.Contains(t, string(out), "unexpected fault address")
}

var sink byte

func TestRemoveAbandonedHidden(t *testing.T) {
	s, err := CreateHidden(64, 0o600)
	require.NoError(t, err)
	path := s.hidden
	require.NoError(t, RemoveAbandonedHidden(func(uint64) bool { return true }))
	require.FileExists(t, path, "a live creator's segment stays")
	require.NoError(t, RemoveAbandonedHidden(func(uint64) bool { return false }))
	assert.NoFileExists(t, path, "a dead creator's segment goes")
	s.hidden = ""
	require.NoError(t, s.Close())
}
