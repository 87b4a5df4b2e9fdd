package spin

import (
	"github.com/zerobuffer/zerobuffer-go/internal/registry"
	"github.com/zerobuffer/zerobuffer-go/layout"
)

// init offers the spin, yield and backoff kinds to a writer that adopts
// its reader's notifier (see ring.NotifierFromWord).
func init() {
	registry.RegisterFamily(func(w uint64) (any, bool) { return FromWord(w) }, map[layout.NotifierKind]func() any{
		layout.NotifierSpin:    func() any { return NewBusy() },
		layout.NotifierYield:   func() any { return NewYield(0) },
		layout.NotifierBackoff: func() any { return NewBackoff(0, 0, 0, 0) },
	})
}
