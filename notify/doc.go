// Package notify is the seam between the ZeroBuffer ring and its wait
// strategies: the Notifier interface, with its contract, and the registry
// of strategies by kind number and name. It imports only package layout,
// so a wait strategy — this module's or anyone's — is written against it
// without depending on the ring.
//
// # Writing a strategy
//
// A strategy is a type implementing Notifier (see its documentation for the
// contract: how a wait ends, what a post guarantees, who calls what), and
// a kind number. It registers from its package's init:
//
//	const Kind notify.Kind = 200 // in MinExternalKind–MaxExternalKind
//
//	var _ notify.Notifier = (*Notifier)(nil)
//
//	func init() {
//		notify.Register(notify.Strategy{
//			Kind:     Kind,
//			Name:     "unix-dgram",
//			New:      func() notify.Notifier { return New() },
//			FromWord: func(w uint64) (notify.Notifier, error) { return fromWord(w) },
//		})
//	}
//
// A reader given such a notifier (ring.WithNotifier) records its Word in
// the buffer's control block; a writer that does not choose one adopts the
// reader's through FromWord, provided the strategy's package is linked
// into the writer's program. Otherwise Connect fails with an error wrapping
// ErrUnavailable, which names the package to import for this module's
// strategies and the kind number for any other.
//
// This module's own strategies register exactly so: sync/semaphore
// ("semaphore", kind 0, the v1 protocol's and the default), sync/futex
// ("futex" 1, "hybrid" 2, "adaptive" 6) and sync/spin ("spin" 3, "yield"
// 4, "backoff" 5). See Kind for the ranges of numbers.
//
// # Counting
//
// A strategy may also implement StatsReporter: its waits and posts then
// show in the ring's Stats (ring.Reader.Stats, ring.Writer.Stats) beside
// the ring's own counts — how many waits slept, how many posts made a
// system call — which is what explains a latency or CPU figure. All of
// this module's strategies do.
//
// # Checking a strategy
//
// Package notifytest runs the whole contract against a registered
// strategy, in one process and across two, from the strategy's own tests.
package notify
