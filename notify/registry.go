package notify

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Strategy is a wait strategy as the registry knows it: a kind number, a
// name, and how to build its notifiers.
type Strategy struct {
	// Kind is the strategy's number (see Kind for the ranges).
	Kind Kind
	// Name is how people and command lines choose it ("futex",
	// "unix-dgram"): unique in a program, lower case, no spaces or commas.
	Name string
	// New returns a notifier of the kind with its default parameters.
	New func() Notifier
	// FromWord returns the notifier a recorded word describes, with the
	// parameters it carries (clamped to the strategy's bounds: the word
	// comes from shared memory): how a writer adopts its reader's
	// strategy. It is called only with well-formed words of this Kind,
	// and returns an error for a parameter it does not accept.
	FromWord func(word uint64) (Notifier, error)
}

// Errors a caller can test with errors.Is.
var (
	// ErrUnavailable: a buffer's notifier, or a named one, is not linked
	// into this program. The message names the package to import for the
	// module's notifiers, and the kind number for any other.
	ErrUnavailable = errors.New("notifier package not linked in")
	// ErrUnknownName: no strategy of that name exists, linked or not.
	ErrUnknownName = errors.New("unknown notifier")
)

var (
	mu         sync.RWMutex
	strategies = map[Kind]Strategy{}
)

// Register adds a strategy to the registry. A notifier package calls it
// from init, as database/sql drivers and image formats do, so that a
// program links a strategy in by importing its package (by use, or with a
// blank import) and a writer can then adopt it from a reader's record.
// The module's own notifiers register exactly like this.
//
// Register panics — a programming error, found at start-up — when the
// kind number or the name is taken, when the number is 255, when a number
// of the module's range (0–127) comes with another name than the one the
// module assigned it, when the name is empty or holds a space or comma,
// or when a constructor is missing.
func Register(s Strategy) {
	mu.Lock()
	defer mu.Unlock()
	switch {
	case s.Name == "" || strings.ContainsAny(s.Name, " ,\t\n"):
		panic(fmt.Sprintf("notify: Register of kind %d: invalid name %q", s.Kind, s.Name))
	case s.New == nil || s.FromWord == nil:
		panic(fmt.Sprintf("notify: Register of %s (kind %d) without its constructors", s.Name, s.Kind))
	case s.Kind > MaxExternalKind:
		panic(fmt.Sprintf("notify: Register of %s: kind %d is never assigned (use %d–%d)", s.Name, s.Kind, MinExternalKind, MaxExternalKind))
	}
	if s.Kind <= MaxModuleKind {
		if b, ok := moduleKind(s.Kind); !ok || b.name != s.Name {
			panic(fmt.Sprintf("notify: Register of %s: kind %d is in the range of github.com/zerobuffer/zerobuffer-go (0–%d); "+
				"notifiers defined elsewhere take a number in %d–%d", s.Name, s.Kind, MaxModuleKind, MinExternalKind, MaxExternalKind))
		}
	} else if b, ok := moduleName(s.Name); ok {
		panic(fmt.Sprintf("notify: Register of kind %d: the name %s belongs to kind %d (%s)", s.Kind, s.Name, b.kind, b.pkg))
	}
	if old, dup := strategies[s.Kind]; dup {
		panic(fmt.Sprintf("notify: Register of %s: kind %d is already registered, by %s", s.Name, s.Kind, old.Name))
	}
	for _, old := range strategies {
		if old.Name == s.Name {
			panic(fmt.Sprintf("notify: Register of kind %d: the name %s is already registered, by kind %d", s.Kind, s.Name, old.Kind))
		}
	}
	strategies[s.Kind] = s
}

// Lookup returns the strategy registered for a kind, if its package is
// linked in.
func Lookup(k Kind) (Strategy, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := strategies[k]
	return s, ok
}

// LookupName returns the registered strategy of that name.
func LookupName(name string) (Strategy, bool) {
	mu.RLock()
	defer mu.RUnlock()
	for _, s := range strategies {
		if s.Name == name {
			return s, true
		}
	}
	return Strategy{}, false
}

// Strategies lists the registered strategies in the order of their kind
// numbers: the default, semaphore, first when it is linked in.
func Strategies() []Strategy {
	mu.RLock()
	defer mu.RUnlock()
	list := make([]Strategy, 0, len(strategies))
	for _, s := range strategies {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b Strategy) int { return int(a.Kind) - int(b.Kind) })
	return list
}

// Names lists the registered strategies' names, in the order of
// Strategies.
func Names() []string {
	var names []string
	for _, s := range Strategies() {
		names = append(names, s.Name)
	}
	return names
}

// New returns a fresh notifier of the named strategy with its default
// parameters. A name the module assigned whose package is not linked in
// gives an error wrapping ErrUnavailable that names the package; any other
// unregistered name one wrapping ErrUnknownName.
func New(name string) (Notifier, error) {
	s, ok := LookupName(name)
	if !ok {
		if b, ok := moduleName(name); ok {
			return nil, unavailable(b.kind)
		}
		return nil, fmt.Errorf("%w %q (registered: %s)", ErrUnknownName, name, strings.Join(Names(), ", "))
	}
	return build(s, s.New())
}

// FromWord returns a notifier matching the word a reader recorded in OIEB
// Reserved[0], with the parameters it carries: how a writer adopts its
// reader's wait strategy. A malformed word gives an error matching
// layout.ErrCorrupt; a kind not linked in, one wrapping ErrUnavailable.
func FromWord(word uint64) (Notifier, error) {
	k, _, err := ParseWord(word)
	if err != nil {
		return nil, err
	}
	s, ok := Lookup(k)
	if !ok {
		return nil, unavailable(k)
	}
	n, err := s.FromWord(word)
	if err != nil {
		return nil, fmt.Errorf("the %s notifier (kind %d) does not accept the recorded word %#x: %w", s.Name, k, word, err)
	}
	return build(s, n)
}

// Name names the strategy a recorded word stands for (see Kind.String),
// or "unknown(0x…)" for a word that is not a notifier word. It needs no
// notifier package.
func Name(word uint64) string {
	k, _, err := ParseWord(word)
	if err != nil {
		return fmt.Sprintf("unknown(%#x)", word)
	}
	return k.String()
}

// Describe is Name with the kind number and the word, as errors that
// compare two sides' notifiers print them: "hybrid (kind 2, word 0x…)".
func Describe(word uint64) string {
	k, _, err := ParseWord(word)
	if err != nil {
		return fmt.Sprintf("unknown (word %#x)", word)
	}
	return fmt.Sprintf("%s (kind %d, word %#x)", k, uint8(k), word)
}

func build(s Strategy, n Notifier) (Notifier, error) {
	if n == nil {
		return nil, fmt.Errorf("the %s notifier (kind %d) built nil", s.Name, s.Kind)
	}
	if k, _, err := ParseWord(n.Word()); err != nil || k != s.Kind {
		return nil, fmt.Errorf("the %s notifier (kind %d) built one whose word %#x is not of its kind", s.Name, s.Kind, n.Word())
	}
	return n, nil
}

func unavailable(k Kind) error {
	if b, ok := moduleKind(k); ok {
		return fmt.Errorf("%w: the %s notifier (kind %d) needs import _ %q", ErrUnavailable, b.name, k, b.pkg)
	}
	if k.External() {
		return fmt.Errorf("%w: notifier kind %d, defined outside this module, is not registered in this program: "+
			"link in the package that registers it", ErrUnavailable, k)
	}
	return fmt.Errorf("%w: notifier kind %d is not one this version of github.com/zerobuffer/zerobuffer-go knows", ErrUnavailable, k)
}
