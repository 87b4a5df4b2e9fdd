package registry

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

func TestKindsAndPackages(t *testing.T) {
	kinds := Kinds()
	require.Len(t, kinds, 6)
	assert.Equal(t, layout.NotifierSemaphore, kinds[0], "the default comes first")
	for _, k := range kinds {
		assert.True(t, strings.HasPrefix(Package(k), "github.com/zerobuffer/zerobuffer-go/sync/"), k.String())
	}
	assert.Empty(t, Package(layout.NotifierKind(200)))
}

func TestRegisterLookup(t *testing.T) {
	const kind = layout.NotifierKind(250) // not a real kind: this test's own
	_, ok := Lookup(kind)
	require.False(t, ok)
	e := Entry{Kind: kind, New: func() any { return 1 }, FromWord: func(uint64) (any, bool) { return 2, true }}
	Register(e)
	t.Cleanup(func() { mu.Lock(); delete(entries, kind); mu.Unlock() })
	got, ok := Lookup(kind)
	require.True(t, ok)
	assert.Equal(t, 1, got.New())
	assert.Panics(t, func() { Register(e) }, "a kind registered twice is a programming error")
	assert.Panics(t, func() { Register(Entry{Kind: kind + 1}) }, "an entry needs its constructors")
}
