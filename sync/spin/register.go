package spin

import (
	"github.com/zerobuffer/zerobuffer-go/internal/registry"
	"github.com/zerobuffer/zerobuffer-go/layout"
)

// init offers the spin, yield and backoff kinds to a writer that adopts
// its reader's notifier (see ring.NotifierFromWord).
func init() {
	for kind, newDefault := range map[layout.NotifierKind]func() *Notifier{
		layout.NotifierSpin:    NewBusy,
		layout.NotifierYield:   func() *Notifier { return NewYield(0) },
		layout.NotifierBackoff: func() *Notifier { return NewBackoff(0, 0, 0, 0) },
	} {
		registry.Register(registry.Entry{
			Kind: kind,
			New:  func() any { return newDefault() },
			FromWord: func(w uint64) (any, bool) {
				n, ok := FromWord(w)
				if !ok || n.kind != kind {
					return nil, false
				}
				return n, true
			},
		})
	}
}
