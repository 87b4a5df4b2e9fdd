//go:build linux

package semaphore

import (
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/notify"
)

// Kind is the semaphore notifier's kind number: 0, the v1 protocol's own,
// recorded as the word 0.
const Kind notify.Kind = 0

var (
	_ notify.Notifier      = (*Notifier)(nil)
	_ notify.StatsReporter = (*Notifier)(nil)
)

// init registers the strategy "semaphore" (see notify.Register).
func init() {
	notify.Register(notify.Strategy{
		Kind: Kind,
		Name: "semaphore",
		New:  func() notify.Notifier { return New() },
		FromWord: func(w uint64) (notify.Notifier, error) {
			if w != 0 {
				return nil, fmt.Errorf("semaphore: the word of kind 0 is 0, not %#x", w)
			}
			return New(), nil
		},
	})
}
