package spin

import (
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/notify"
)

// The kind numbers of the spin notifiers (see notify.Kind).
const (
	BusyKind    notify.Kind = 3 // "spin": NewBusy
	YieldKind   notify.Kind = 4 // "yield": NewYield, its spins as the parameter
	BackoffKind notify.Kind = 5 // "backoff": NewBackoff, its MaxPark in µs as the parameter
)

var (
	_ notify.Notifier      = (*Notifier)(nil)
	_ notify.StatsReporter = (*Notifier)(nil)
)

// init registers the strategies "spin", "yield" and "backoff", so that a
// writer can adopt them from its reader's record (see notify.Register).
func init() {
	notify.Register(notify.Strategy{Kind: BusyKind, Name: "spin", New: func() notify.Notifier { return NewBusy() }, FromWord: fromWord})
	notify.Register(notify.Strategy{Kind: YieldKind, Name: "yield", New: func() notify.Notifier { return NewYield(0) }, FromWord: fromWord})
	notify.Register(notify.Strategy{Kind: BackoffKind, Name: "backoff", New: func() notify.Notifier { return NewBackoff(0, 0, 0, 0) }, FromWord: fromWord})
}

func fromWord(w uint64) (notify.Notifier, error) {
	n, ok := FromWord(w)
	if !ok {
		return nil, fmt.Errorf("spin: %#x is not a word NewBusy, NewYield or NewBackoff records", w)
	}
	return n, nil
}
