package ring

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A writer's BufferID names the segment it mapped, not the name: a buffer
// created again under the name is another buffer, and the first one's
// writer sees it is no longer current.
func TestWriterBufferID(t *testing.T) {
	name := uniqueName(t)
	cfg := Config{MetadataSize: 64, PayloadSize: 4096}
	r1, err := NewReader(name, cfg)
	require.NoError(t, err)
	w1, err := Connect(name)
	require.NoError(t, err)
	defer w1.Close()
	id1 := w1.BufferID()
	assert.False(t, id1.IsZero())
	assert.True(t, w1.IsCurrent())

	require.NoError(t, r1.Close())
	assert.False(t, w1.IsCurrent(), "the reader removed the buffer")
	r2, err := NewReader(name, cfg)
	require.NoError(t, err)
	defer r2.Close()
	assert.False(t, w1.IsCurrent(), "another buffer has the name")
	assert.Equal(t, id1, w1.BufferID(), "the mapping is the same")

	require.NoError(t, w1.Close())
	assert.True(t, w1.BufferID().IsZero())
	assert.False(t, w1.IsCurrent())
	w2, err := Connect(name)
	require.NoError(t, err)
	defer w2.Close()
	assert.NotEqual(t, id1, w2.BufferID())
	assert.True(t, w2.IsCurrent())
}
