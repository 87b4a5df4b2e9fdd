package ring

import (
	"fmt"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/sync/futex"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
	"github.com/zerobuffer/zerobuffer-go/sync/spin"
)

// notifierKinds lists the wait strategies by the names the command line
// uses, with a constructor for each and for the word a reader records.
//
// The ring imports every notifier package so that a writer can adopt
// whatever its reader recorded without the caller importing anything; the
// notifier packages never import the ring.
var notifierKinds = []struct {
	name     string
	new      func() Notifier
	fromWord func(word uint64) (Notifier, bool)
}{
	{"semaphore", func() Notifier { return semaphore.New() },
		func(w uint64) (Notifier, bool) { return semaphore.New(), w == 0 }},
	{"futex", func() Notifier { return futex.New() }, futexFromWord(layout.NotifierFutex)},
	{"hybrid", func() Notifier { return futex.NewHybrid(0) }, futexFromWord(layout.NotifierHybrid)},
	{"spin", func() Notifier { return spin.NewBusy() }, spinFromWord(layout.NotifierSpin)},
	{"yield", func() Notifier { return spin.NewYield(0) }, spinFromWord(layout.NotifierYield)},
	{"backoff", func() Notifier { return spin.NewBackoff(0, 0, 0, 0) }, spinFromWord(layout.NotifierBackoff)},
}

func futexFromWord(kind layout.NotifierKind) func(uint64) (Notifier, bool) {
	return func(w uint64) (Notifier, bool) {
		n, ok := futex.FromWord(w)
		if !ok || layout.NotifierKind(w) != kind {
			return nil, false
		}
		return n, true
	}
}

func spinFromWord(kind layout.NotifierKind) func(uint64) (Notifier, bool) {
	return func(w uint64) (Notifier, bool) {
		n, ok := spin.FromWord(w)
		if !ok || layout.NotifierKind(w) != kind {
			return nil, false
		}
		return n, true
	}
}

// NotifierNames lists the notifiers this build offers, the default first.
func NotifierNames() []string {
	names := make([]string, len(notifierKinds))
	for i, k := range notifierKinds {
		names[i] = k.name
	}
	return names
}

// NewNotifier returns a fresh notifier of the named kind with its default
// parameters (see NotifierNames).
func NewNotifier(name string) (Notifier, error) {
	for _, k := range notifierKinds {
		if k.name == name {
			return k.new(), nil
		}
	}
	return nil, fmt.Errorf("%w: unknown notifier %q (have %s)", ErrNotifierMismatch, name, strings.Join(NotifierNames(), ", "))
}

// NotifierFromWord returns a notifier matching the word a reader recorded
// in OIEB Reserved[0], with the parameters it records: how a writer adopts
// its reader's wait strategy.
func NotifierFromWord(word uint64) (Notifier, error) {
	for _, k := range notifierKinds {
		if n, ok := k.fromWord(word); ok {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%w: the buffer records notifier word %#x, which this build does not know", ErrNotifierMismatch, word)
}

// NotifierName names the notifier a recorded word stands for, or
// "unknown(0x…)".
func NotifierName(word uint64) string {
	for _, k := range notifierKinds {
		if _, ok := k.fromWord(word); ok {
			return k.name
		}
	}
	return fmt.Sprintf("unknown(%#x)", word)
}
