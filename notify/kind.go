package notify

import (
	"fmt"

	"github.com/zerobuffer/zerobuffer-go/layout"
)

// Kind is a wait strategy's number: the low byte of the word a reader
// records in OIEB Reserved[0] (see layout.NotifierWord), which tells a
// writer which strategy to adopt. Kinds are assigned, not counted:
//
//	0          POSIX semaphores, the v1 protocol's own (the word 0)
//	1–127      this module's notifiers (1–6 assigned, the rest kept for it)
//	128–254    notifiers defined outside this module
//	255        never assigned (kept for a future word format)
//
// A strategy defined outside this module picks a number in 128–254 and
// documents it; two strategies linked into one program must not share a
// number (Register panics). Half of the byte for others leaves room on
// both sides, the high bit tells at a glance (in a hex dump of the OIEB)
// whether a buffer's notifier is ours, and the module range being closed
// to others means that a number this module assigns later can never
// collide with one already in use elsewhere.
type Kind uint8

// The ranges of kind numbers.
const (
	// MaxModuleKind is the last number of this module's range (0 to it).
	MaxModuleKind Kind = 127
	// MinExternalKind and MaxExternalKind bound the numbers for
	// notifiers defined outside this module.
	MinExternalKind Kind = 128
	MaxExternalKind Kind = 254
)

// External reports whether k is in the range for notifiers defined outside
// this module.
func (k Kind) External() bool { return k >= MinExternalKind && k <= MaxExternalKind }

// Word encodes k and its one parameter as the word a reader records
// (layout.NotifierWord). Kind 0 has no parameter: its word is always 0.
func (k Kind) Word(param uint32) uint64 { return layout.NotifierWord(uint8(k), param) }

// String is the kind's name — that of the strategy registered for it, or
// of the module's notifier with that number when its package is not
// linked in — or "kind(N)".
func (k Kind) String() string {
	if s, ok := Lookup(k); ok {
		return s.Name
	}
	if b, ok := moduleKind(k); ok {
		return b.name
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseWord decodes a recorded word into its kind and parameter; a word
// that is not one (garbage in reserved_1) is an error matching
// layout.ErrCorrupt. Whether a strategy of that kind is linked in is
// Lookup's question.
func ParseWord(word uint64) (Kind, uint32, error) {
	k, param, err := layout.ParseNotifierWord(word)
	return Kind(k), param, err
}

// moduleKinds are the numbers this module has assigned, each with its
// name and the package that registers it. Nothing else about these
// notifiers lives here: the table names the package a program must import
// when a buffer uses one that is not linked in (see ErrUnavailable), and
// reserves their numbers and names, so that Register refuses a number of
// the module's range under any other name.
var moduleKinds = [...]struct {
	kind      Kind
	name, pkg string
}{
	{0, "semaphore", modulePath + "sync/semaphore"},
	{1, "futex", modulePath + "sync/futex"},
	{2, "hybrid", modulePath + "sync/futex"},
	{3, "spin", modulePath + "sync/spin"},
	{4, "yield", modulePath + "sync/spin"},
	{5, "backoff", modulePath + "sync/spin"},
	{6, "adaptive", modulePath + "sync/futex"},
}

const modulePath = "github.com/zerobuffer/zerobuffer-go/"

type moduleEntry = struct {
	kind      Kind
	name, pkg string
}

func moduleKind(k Kind) (moduleEntry, bool) {
	for _, b := range moduleKinds {
		if b.kind == k {
			return b, true
		}
	}
	return moduleEntry{}, false
}

func moduleName(name string) (moduleEntry, bool) {
	for _, b := range moduleKinds {
		if b.name == name {
			return b, true
		}
	}
	return moduleEntry{}, false
}
