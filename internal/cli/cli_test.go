package cli

import (
	"bytes"
	"errors"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "4096": 4096, "0x100": 256, "1K": 1024, "1k": 1024, "2KiB": 2048,
		"1M": 1 << 20, "1MiB": 1 << 20, "3G": 3 << 30, "256MiB": 268435456} {
		got, err := ParseSize(in)
		assert.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "x", "-1", "1T", "99999999999999999999G", "18014398509481984G"} {
		_, err := ParseSize(bad)
		assert.Error(t, err, bad)
	}
}

func TestFlagsBetweenPositionals(t *testing.T) {
	fs := NewFlagSet("t")
	n := fs.Int("n", 0, "")
	var size uint64
	var list []string
	fs.Var(Size{P: &size}, "size", "")
	fs.Var(List{P: &list}, "list", "")
	pos, err := ParseInterleaved(fs, []string{"a", "-n", "3", "b", "--size=2KiB", "--list", " x, ,y ", "--", "-c"})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "-c"}, pos)
	assert.Equal(t, 3, *n)
	assert.EqualValues(t, 2048, size)
	assert.Equal(t, []string{"x", "y"}, list)
	assert.True(t, WasSet(fs, "size"))
	assert.False(t, WasSet(fs, "bogus"))

	_, err = ParseInterleaved(NewFlagSet("t"), []string{"--list", ","})
	assert.Error(t, err)
	fs = NewFlagSet("t")
	fs.Var(List{P: &list}, "list", "")
	_, err = ParseInterleaved(fs, []string{"--list", " , "})
	assert.ErrorContains(t, err, "empty list")
}

func TestHandleParseError(t *testing.T) {
	var out, errOut bytes.Buffer
	assert.Equal(t, ExitOK, HandleParseError("zerobuffer bench", flag.ErrHelp, "USAGE", &out, &errOut))
	assert.Equal(t, "USAGE", out.String())
	assert.Empty(t, errOut.String())

	out.Reset()
	assert.Equal(t, ExitError, HandleParseError("zerobuffer bench", errors.New("bad"), "USAGE", &out, &errOut))
	assert.Empty(t, out.String())
	assert.Equal(t, "zerobuffer bench: bad\nRun 'zerobuffer help bench' for usage.\n", errOut.String())

	errOut.Reset()
	HandleParseError("mybench", errors.New("bad"), "USAGE", &out, &errOut)
	assert.Equal(t, "mybench: bad\nRun 'mybench --help' for usage.\n", errOut.String())
}

func TestIsTerminal(t *testing.T) {
	assert.False(t, IsTerminal(&bytes.Buffer{}), "not a file")
}
