package futex

import (
	"github.com/zerobuffer/zerobuffer-go/internal/registry"
	"github.com/zerobuffer/zerobuffer-go/layout"
)

// init offers the futex and hybrid kinds to a writer that adopts its
// reader's notifier (see ring.NotifierFromWord).
func init() {
	registry.RegisterFamily(func(w uint64) (any, bool) { return FromWord(w) }, map[layout.NotifierKind]func() any{
		layout.NotifierFutex:  func() any { return New() },
		layout.NotifierHybrid: func() any { return NewHybrid(0) },
	})
}
