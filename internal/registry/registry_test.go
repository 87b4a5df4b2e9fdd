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

// A family's entries each take only the words of their own kind.
func TestRegisterFamilyFiltersByKind(t *testing.T) {
	fut, hyb := layout.NotifierWord(layout.NotifierFutex, 0), layout.NotifierWord(layout.NotifierHybrid, 7)
	// This package's tests link no notifier package: a stand-in family.
	decoded := func(w uint64) (any, bool) { return w, true }
	RegisterFamily(decoded, map[layout.NotifierKind]func() any{
		layout.NotifierFutex:  func() any { return "futex" },
		layout.NotifierHybrid: func() any { return "hybrid" },
	})
	t.Cleanup(func() {
		mu.Lock()
		delete(entries, layout.NotifierFutex)
		delete(entries, layout.NotifierHybrid)
		mu.Unlock()
	})
	futex, _ := Lookup(layout.NotifierFutex)
	hybrid, _ := Lookup(layout.NotifierHybrid)
	_, ok := futex.FromWord(hyb)
	assert.False(t, ok, "the futex entry refuses a hybrid word")
	_, ok = hybrid.FromWord(fut)
	assert.False(t, ok, "the hybrid entry refuses a futex word")
	_, ok = hybrid.FromWord(0xdead)
	assert.False(t, ok, "garbage is nobody's")
	got, ok := hybrid.FromWord(hyb)
	assert.True(t, ok)
	assert.Equal(t, hyb, got)
	assert.Equal(t, "futex", futex.New())
}
