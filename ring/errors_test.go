package ring

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorfKeepsOnePrefix(t *testing.T) {
	err := errorf("zerobuffer: buffer %s: %w", "cam0", ErrCorrupt)
	assert.EqualError(t, err, "zerobuffer: buffer cam0: corrupt buffer")
	assert.ErrorIs(t, err, ErrCorrupt)

	err = errorf("%w: %w", ErrNotifierMismatch, errorf("%w: word %d", ErrCorrupt, 7))
	assert.EqualError(t, err, "zerobuffer: notifier mismatch: corrupt buffer: word 7")
	assert.ErrorIs(t, err, ErrNotifierMismatch)
	assert.ErrorIs(t, err, ErrCorrupt)

	var fe *os.PathError
	err = errorf("zerobuffer: open: %w", &os.PathError{Op: "open", Path: "/x", Err: os.ErrNotExist})
	assert.EqualError(t, err, "zerobuffer: open: open /x: file does not exist", "foreign errors are left alone")
	assert.ErrorAs(t, err, &fe)
}

// Errors that wrap the layout's or the notify package's read with one
// prefix.
func TestErrorsCarryOnePrefix(t *testing.T) {
	buf := uniqueName(t)
	r, err := NewReader(buf, Config{PayloadSize: 4096})
	require.NoError(t, err)
	defer r.Close()
	r.OIEB().Reserved[0].Store(7)
	_, connectErr := Connect(buf)
	_, wordErr := NotifierFromWord(7)
	_, nameErr := NewNotifier("carrier-pigeon")
	for _, err := range []error{connectErr, wordErr, nameErr} {
		require.Error(t, err)
		assert.Equal(t, 1, strings.Count(err.Error(), "zerobuffer:"), "%v", err)
		assert.True(t, strings.HasPrefix(err.Error(), "zerobuffer: "), "%v", err)
	}
	assert.True(t, errors.Is(connectErr, ErrCorrupt) && errors.Is(wordErr, ErrCorrupt))
}
