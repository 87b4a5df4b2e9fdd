package unixgram

import (
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/notify"
)

// Kind is the strategy's number, in the range notify keeps for notifiers
// defined outside its module (notify.MinExternalKind–MaxExternalKind).
// Another strategy linked into the same program must not take it.
const Kind notify.Kind = 200

// Name is the strategy's name, as command lines and stress.Options name it.
const Name = "unixgram"

// init registers the strategy, so that a program that imports this
// package can choose it by name (notify.New, ring.NewNotifier) and a writer
// adopts it from its reader's record (notify.FromWord).
func init() {
	notify.Register(notify.Strategy{
		Kind:     Kind,
		Name:     Name,
		New:      func() notify.Notifier { return New() },
		FromWord: fromWord,
	})
}

// fromWord accepts the one word New records: the kind with parameter 0,
// which leaves the parameter free for a later version to give a meaning.
func fromWord(w uint64) (notify.Notifier, error) {
	k, param, err := notify.ParseWord(w)
	switch {
	case err != nil:
		return nil, err
	case k != Kind:
		return nil, fmt.Errorf("unixgram: word %#x is of kind %d, not %d", w, k, Kind)
	case param != 0:
		return nil, fmt.Errorf("unixgram: parameter %d in word %#x is not one this version knows (it records 0)", param, w)
	}
	return New(), nil
}
