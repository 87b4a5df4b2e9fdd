// Package registry is where the notifier packages (sync/semaphore,
// sync/futex, sync/spin) announce the wait strategies they offer, so that
// the ring can build the one a reader recorded in the OIEB without
// importing them: the notifier packages import the layout, never the ring,
// and the ring imports only its default, sync/semaphore (DESIGN.md). It is
// the pattern of database/sql drivers and image formats: a program whose
// writer must adopt a futex or spin reader links those packages in, by use
// or with a blank import.
//
// Constructors return any: the Notifier interface lives in ring, which
// checks what it gets.
package registry

import (
	"fmt"
	"sync"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

// Entry is one wait strategy.
type Entry struct {
	// Kind is the strategy's kind; its name is Kind.String().
	Kind layout.NotifierKind
	// New returns a notifier of the kind with its default parameters.
	New func() any
	// FromWord returns the notifier a recorded word describes, with its
	// parameters, or false when the word is not this kind's.
	FromWord func(word uint64) (any, bool)
}

var (
	mu      sync.RWMutex
	entries = map[layout.NotifierKind]Entry{}
)

// Register adds an entry; the notifier packages call it from init. A kind
// registered twice is a programming error and panics.
func Register(e Entry) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := entries[e.Kind]; dup {
		panic(fmt.Sprintf("registry: notifier %s registered twice", e.Kind))
	}
	if e.New == nil || e.FromWord == nil {
		panic(fmt.Sprintf("registry: notifier %s registered without constructors", e.Kind))
	}
	entries[e.Kind] = e
}

// RegisterFamily registers kinds that one package offers and one decoder
// reads: news gives each kind's default constructor, and fromWord the
// notifier a recorded word describes (false when the word is not one of
// the family's). Each kind's entry takes only words of its kind.
func RegisterFamily(fromWord func(word uint64) (any, bool), news map[layout.NotifierKind]func() any) {
	for kind, newDefault := range news {
		Register(Entry{
			Kind: kind,
			New:  newDefault,
			FromWord: func(w uint64) (any, bool) {
				if k, _, err := layout.ParseNotifierWord(w); err != nil || k != kind {
					return nil, false
				}
				return fromWord(w)
			},
		})
	}
}

// Lookup returns the entry of a kind, if its package is linked in.
func Lookup(kind layout.NotifierKind) (Entry, bool) {
	mu.RLock()
	defer mu.RUnlock()
	e, ok := entries[kind]
	return e, ok
}

// Kinds lists every kind the layout knows, registered or not, in the
// order of their numbers (the default, semaphore, first).
func Kinds() []layout.NotifierKind {
	var kinds []layout.NotifierKind
	for k := layout.NotifierKind(0); k.Known(); k++ {
		kinds = append(kinds, k)
	}
	return kinds
}

// Package is the import path of the package that offers a kind, for the
// error that tells a caller what to import.
func Package(kind layout.NotifierKind) string {
	const base = "github.com/zerobuffer/zerobuffer-go/sync/"
	switch kind {
	case layout.NotifierSemaphore:
		return base + "semaphore"
	case layout.NotifierFutex, layout.NotifierHybrid:
		return base + "futex"
	case layout.NotifierSpin, layout.NotifierYield, layout.NotifierBackoff:
		return base + "spin"
	}
	return ""
}
