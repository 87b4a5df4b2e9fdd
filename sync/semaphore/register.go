package semaphore

import (
	"github.com/zerobuffer/zerobuffer-go/internal/registry"
	"github.com/zerobuffer/zerobuffer-go/layout"
)

func init() {
	registry.Register(registry.Entry{
		Kind: layout.NotifierSemaphore,
		New:  func() any { return New() },
		FromWord: func(w uint64) (any, bool) {
			if w != 0 {
				return nil, false
			}
			return New(), true
		},
	})
}
