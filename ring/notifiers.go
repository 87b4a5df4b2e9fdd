package ring

import (
	"github.com/zerobuffer/zerobuffer-go/notify"
	_ "github.com/zerobuffer/zerobuffer-go/sync/semaphore" // the default notifier is always there
)

// Notifier is the seam between the ring and a wait strategy; it is
// notify.Notifier, whose documentation states the contract.
type Notifier = notify.Notifier

// The notifier packages register their strategies with package notify
// when they are linked in: the ring imports only its default,
// sync/semaphore, and the notifier packages never import the ring. A
// program whose writer must adopt a futex or spin reader's notifier (or
// one defined outside this module) links those packages in, by using them
// or with a blank import:
//
//	import (
//		_ "github.com/zerobuffer/zerobuffer-go/sync/futex"
//		_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
//	)
//
// Without them, Connect to such a buffer fails with ErrNotifierUnavailable,
// naming the package to import (or, for a notifier defined elsewhere, its
// kind number).

// ErrNotifierUnavailable is returned (wrapping ErrNotifierMismatch) when a
// buffer's notifier, or a named one, is known but its package is not
// linked into the program. It is notify.ErrUnavailable.
var ErrNotifierUnavailable = notify.ErrUnavailable

// NotifierNames lists the notifiers linked into this program, the default
// first, by the names the command line uses (notify.Names).
func NotifierNames() []string { return notify.Names() }

// NewNotifier returns a fresh notifier of the named strategy with its
// default parameters (notify.New); errors wrap ErrNotifierMismatch.
func NewNotifier(name string) (Notifier, error) {
	n, err := notify.New(name)
	if err != nil {
		return nil, errorf("%w: %w", ErrNotifierMismatch, err)
	}
	return n, nil
}

// NotifierFromWord returns a notifier matching the word a reader recorded
// in OIEB Reserved[0], with the parameters it records: how a writer adopts
// its reader's wait strategy (notify.FromWord). Errors wrap
// ErrNotifierMismatch.
func NotifierFromWord(word uint64) (Notifier, error) {
	n, err := notify.FromWord(word)
	if err != nil {
		return nil, errorf("%w: %w", ErrNotifierMismatch, err)
	}
	return n, nil
}

// NotifierName names the notifier a recorded word stands for, or
// "unknown(0x…)" (notify.Name). It needs no notifier package.
func NotifierName(word uint64) string { return notify.Name(word) }

// notifierKind is the kind n records, or -1 (no kind) when its word is
// not a notifier word.
func notifierKind(n Notifier) int {
	k, _, err := notify.ParseWord(n.Word())
	if err != nil {
		return -1
	}
	return int(k)
}
