package futex

import (
	"github.com/zerobuffer/zerobuffer-go/internal/registry"
	"github.com/zerobuffer/zerobuffer-go/layout"
)

// init offers the futex and hybrid kinds to a writer that adopts its
// reader's notifier (see ring.NotifierFromWord).
func init() {
	for kind, newDefault := range map[layout.NotifierKind]func() *Notifier{
		layout.NotifierFutex:  New,
		layout.NotifierHybrid: func() *Notifier { return NewHybrid(0) },
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
