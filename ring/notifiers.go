package ring

import (
	"errors"
	"fmt"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/internal/registry"
	"github.com/zerobuffer/zerobuffer-go/layout"
	_ "github.com/zerobuffer/zerobuffer-go/sync/semaphore" // the default notifier is always there
)

// The notifier packages register their kinds (internal/registry) when they
// are linked in: the ring imports only its default, sync/semaphore, and
// the notifier packages never import the ring. A program whose writer
// must adopt a futex or spin reader's notifier links those packages in, by
// using them or with a blank import:
//
//	import (
//		_ "github.com/zerobuffer/zerobuffer-go/sync/futex"
//		_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
//	)
//
// Without them, Connect to such a buffer fails with ErrNotifierUnavailable,
// naming the package to import.

// ErrNotifierUnavailable is returned (wrapping ErrNotifierMismatch) when a
// buffer's notifier, or a named one, is known but its package is not
// linked into the program.
var ErrNotifierUnavailable = errors.New("notifier package not linked in")

// NotifierNames lists the notifiers linked into this program, the default
// first, by the names the command line uses.
func NotifierNames() []string {
	var names []string
	for _, k := range registry.Kinds() {
		if _, ok := lookupKind(k); ok {
			names = append(names, k.String())
		}
	}
	return names
}

// NewNotifier returns a fresh notifier of the named kind with its default
// parameters (see NotifierNames).
func NewNotifier(name string) (Notifier, error) {
	for _, k := range registry.Kinds() {
		if k.String() == name {
			e, err := lookup(k)
			if err != nil {
				return nil, err
			}
			return asNotifier(k, e.New())
		}
	}
	return nil, fmt.Errorf("%w: unknown notifier %q (have %s)", ErrNotifierMismatch, name, strings.Join(NotifierNames(), ", "))
}

// NotifierFromWord returns a notifier matching the word a reader recorded
// in OIEB Reserved[0], with the parameters it records: how a writer adopts
// its reader's wait strategy.
func NotifierFromWord(word uint64) (Notifier, error) {
	kind, _, err := layout.ParseNotifierWord(word)
	if err != nil {
		return nil, fmt.Errorf("%w: the buffer records notifier word %#x, which this build does not know", ErrNotifierMismatch, word)
	}
	e, err := lookup(kind)
	if err != nil {
		return nil, err
	}
	n, ok := e.FromWord(word)
	if !ok {
		return nil, fmt.Errorf("%w: the buffer records notifier word %#x, whose %s parameter this build does not accept",
			ErrNotifierMismatch, word, kind)
	}
	return asNotifier(kind, n)
}

// NotifierName names the notifier a recorded word stands for, or
// "unknown(0x…)". It needs no notifier package.
func NotifierName(word uint64) string {
	kind, _, err := layout.ParseNotifierWord(word)
	if err != nil {
		return fmt.Sprintf("unknown(%#x)", word)
	}
	return kind.String()
}

// lookupKind is registry.Lookup; a test makes a kind unavailable.
var lookupKind = registry.Lookup

func lookup(kind layout.NotifierKind) (registry.Entry, error) {
	e, ok := lookupKind(kind)
	if !ok {
		return e, fmt.Errorf("%w: %w: the %s notifier needs import _ %q", ErrNotifierMismatch, ErrNotifierUnavailable,
			kind, registry.Package(kind))
	}
	return e, nil
}

func asNotifier(kind layout.NotifierKind, v any) (Notifier, error) {
	n, ok := v.(Notifier)
	if !ok {
		return nil, fmt.Errorf("ring: the %s package registered a %T, which is not a ring.Notifier", kind, v)
	}
	return n, nil
}
