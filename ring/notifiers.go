package ring

import (
	"fmt"
	"strings"

	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// notifierKinds lists the wait strategies by the names the command line
// uses, with a constructor for each and for the word a reader records.
var notifierKinds = []struct {
	name     string
	new      func() Notifier
	fromWord func(word uint64) (Notifier, bool)
}{
	{"semaphore", func() Notifier { return semaphore.New() },
		func(w uint64) (Notifier, bool) { return semaphore.New(), w == 0 }},
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
