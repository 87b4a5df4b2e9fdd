package futex

import (
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/notify"
)

// The kind numbers of the futex notifiers (see notify.Kind).
const (
	Kind       notify.Kind = 1 // "futex": New
	HybridKind notify.Kind = 2 // "hybrid": NewHybrid, its budget in µs as the parameter
	// AdaptiveKind is "adaptive": NewAdaptive, its largest budget in µs
	// as the parameter.
	AdaptiveKind notify.Kind = 6
)

var (
	_ notify.Notifier      = (*Notifier)(nil)
	_ notify.StatsReporter = (*Notifier)(nil)
)

// init registers the strategies "futex", "hybrid" and "adaptive", so that a writer can
// adopt them from its reader's record (see notify.Register).
func init() {
	notify.Register(notify.Strategy{Kind: Kind, Name: "futex", New: func() notify.Notifier { return New() }, FromWord: fromWord})
	notify.Register(notify.Strategy{Kind: HybridKind, Name: "hybrid", New: func() notify.Notifier { return NewHybrid(0) }, FromWord: fromWord})
	notify.Register(notify.Strategy{Kind: AdaptiveKind, Name: "adaptive", New: func() notify.Notifier { return NewAdaptive(0) }, FromWord: fromWord})
}

func fromWord(w uint64) (notify.Notifier, error) {
	n, ok := FromWord(w)
	if !ok {
		return nil, fmt.Errorf("futex: %#x is not a word New, NewHybrid or NewAdaptive records", w)
	}
	return n, nil
}
