package notify

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

// fake is a notifier that records a word and does nothing else: the
// registry only builds notifiers and reads their words. (This package's
// tests link no notifier package, so no strategy is registered here but
// the tests' own.)
type fake struct{ word uint64 }

func (f fake) Word() uint64                                    { return f.word }
func (fake) Create(string, *layout.OIEB, os.FileMode) error    { return nil }
func (fake) Open(string, *layout.OIEB) error                   { return nil }
func (fake) Remove(string) error                               { return nil }
func (fake) WaitData(func() bool, time.Duration) (bool, error) { return false, nil }
func (fake) PostData() error                                   { return nil }
func (fake) WaitSpace(func() bool, time.Duration) (bool, error) {
	return false, nil
}
func (fake) PostSpace() error    { return nil }
func (fake) WriterWaiting() bool { return false }
func (fake) Close() error        { return nil }

// strategy is a test strategy of kind k whose notifiers record param.
func strategy(k Kind, name string) Strategy {
	return Strategy{
		Kind: k, Name: name,
		New: func() Notifier { return fake{k.Word(7)} },
		FromWord: func(w uint64) (Notifier, error) {
			if _, p, _ := ParseWord(w); p > 1000 {
				return nil, errors.New("parameter above 1000")
			}
			return fake{w}, nil
		},
	}
}

// registerForTest registers s until the test ends.
func registerForTest(t *testing.T, s Strategy) {
	t.Helper()
	Register(s)
	t.Cleanup(func() { mu.Lock(); delete(strategies, s.Kind); mu.Unlock() })
}

func TestRegisterLookupAndNames(t *testing.T) {
	// This test binary links no notifier package; the example registers
	// yielder (kind 201).
	assert.Equal(t, []string{"yielder"}, Names())
	registerForTest(t, strategy(200, "carrier-pigeon"))
	registerForTest(t, strategy(1, "futex")) // a stand-in under the module's own number and name
	registerForTest(t, strategy(MaxExternalKind, "smoke-signal"))

	assert.Equal(t, []string{"futex", "carrier-pigeon", "yielder", "smoke-signal"}, Names(), "in the order of the kind numbers")
	s, ok := Lookup(200)
	require.True(t, ok)
	assert.Equal(t, "carrier-pigeon", s.Name)
	s, ok = LookupName("smoke-signal")
	require.True(t, ok)
	assert.Equal(t, MaxExternalKind, s.Kind)
	_, ok = Lookup(202)
	assert.False(t, ok)
	_, ok = LookupName("semaphore")
	assert.False(t, ok)

	n, err := New("carrier-pigeon")
	require.NoError(t, err)
	assert.Equal(t, Kind(200).Word(7), n.Word())
	assert.Equal(t, "carrier-pigeon", Kind(200).String())
	assert.Equal(t, "carrier-pigeon", Name(n.Word()))
	assert.Equal(t, "carrier-pigeon (kind 200, word 0x5a000000000007c8)", Describe(n.Word()))
}

func TestRegisterRefusesCollisionsAndBadEntries(t *testing.T) {
	registerForTest(t, strategy(200, "carrier-pigeon"))
	for _, c := range []struct {
		what string
		s    Strategy
		says string
	}{
		{"a number taken", strategy(200, "semaphore-phone"), "kind 200 is already registered, by carrier-pigeon"},
		{"a name taken", strategy(202, "carrier-pigeon"), "the name carrier-pigeon is already registered, by kind 200"},
		{"a module name under another number", strategy(202, "futex"), "the name futex belongs to kind 1"},
		{"an unassigned number of the module's range", strategy(99, "mine"), "kind 99 is in the range of github.com/zerobuffer/zerobuffer-go"},
		{"a module number under another name", strategy(1, "my-futex"), "kind 1 is in the range"},
		{"the number kept free", strategy(255, "last"), "kind 255 is never assigned"},
		{"no name", strategy(203, ""), "invalid name"},
		{"a name with a comma", strategy(203, "a,b"), "invalid name"},
		{"no constructors", Strategy{Kind: 203, Name: "hollow"}, "without its constructors"},
	} {
		t.Run(c.what, func(t *testing.T) {
			assert.PanicsWithValue(t, panicText(t, c.s), func() { Register(c.s) })
			assert.Contains(t, panicText(t, c.s), c.says)
		})
	}
	assert.Equal(t, []string{"carrier-pigeon", "yielder"}, Names(), "a refused registration leaves nothing behind")
}

// panicText is what Register(s) panics with.
func panicText(t *testing.T, s Strategy) (text string) {
	t.Helper()
	defer func() { text, _ = recover().(string) }()
	Register(s)
	t.Cleanup(func() { mu.Lock(); delete(strategies, s.Kind); mu.Unlock() })
	t.Errorf("Register(%d, %q) did not panic", s.Kind, s.Name)
	return ""
}

func TestNewByName(t *testing.T) {
	_, err := New("futex")
	require.ErrorIs(t, err, ErrUnavailable, "a module notifier whose package is not linked in")
	assert.Contains(t, err.Error(), `needs import _ "github.com/zerobuffer/zerobuffer-go/sync/futex"`)
	_, err = New("carrier-pigeon")
	require.ErrorIs(t, err, ErrUnknownName)
	assert.NotErrorIs(t, err, ErrUnavailable)
}

func TestFromWord(t *testing.T) {
	registerForTest(t, strategy(200, "carrier-pigeon"))

	n, err := FromWord(Kind(200).Word(999))
	require.NoError(t, err)
	assert.Equal(t, Kind(200).Word(999), n.Word(), "the parameters travel")

	_, err = FromWord(Kind(200).Word(1001))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "carrier-pigeon notifier (kind 200) does not accept")
	assert.Contains(t, err.Error(), "parameter above 1000")

	_, err = FromWord(7)
	require.ErrorIs(t, err, layout.ErrCorrupt, "not a notifier word")

	for _, c := range []struct {
		word uint64
		says string
	}{
		{0, `the semaphore notifier (kind 0) needs import _ "github.com/zerobuffer/zerobuffer-go/sync/semaphore"`},
		{Kind(2).Word(50), `the hybrid notifier (kind 2) needs import _ "github.com/zerobuffer/zerobuffer-go/sync/futex"`},
		{Kind(5).Word(1000), `the backoff notifier (kind 5) needs import _ "github.com/zerobuffer/zerobuffer-go/sync/spin"`},
		{Kind(6).Word(50), `the adaptive notifier (kind 6) needs import _ "github.com/zerobuffer/zerobuffer-go/sync/futex"`},
		{Kind(202).Word(0), "notifier kind 202, defined outside this module, is not registered"},
		{Kind(99).Word(0), "notifier kind 99 is not one this version of github.com/zerobuffer/zerobuffer-go knows"},
	} {
		_, err := FromWord(c.word)
		require.ErrorIs(t, err, ErrUnavailable, "%#x", c.word)
		assert.Contains(t, err.Error(), c.says)
	}
}

// A strategy that builds a notifier of another kind, or nil, is caught.
func TestBuiltNotifiersAreChecked(t *testing.T) {
	s := strategy(200, "carrier-pigeon")
	s.New = func() Notifier { return fake{Kind(202).Word(0)} }
	s.FromWord = func(uint64) (Notifier, error) { return nil, nil }
	registerForTest(t, s)
	_, err := New("carrier-pigeon")
	assert.ErrorContains(t, err, "is not of its kind")
	_, err = FromWord(Kind(200).Word(0))
	assert.ErrorContains(t, err, "built nil")
}

func TestKindNames(t *testing.T) {
	for word, want := range map[uint64]string{
		0:                     "semaphore",
		Kind(1).Word(0):       "futex",
		Kind(3).Word(0):       "spin",
		Kind(4).Word(100):     "yield",
		Kind(130).Word(0):     "kind(130)",
		Kind(64).Word(0):      "kind(64)",
		0x5a00_0000_0000_0000: "unknown(0x5a00000000000000)",
	} {
		assert.Equal(t, want, Name(word), "%#x", word)
	}
	assert.False(t, Kind(127).External())
	assert.True(t, Kind(128).External())
	assert.True(t, Kind(254).External())
	assert.False(t, Kind(255).External())
	assert.Zero(t, Kind(0).Word(99), "kind 0 is always the word 0")
}
