package model

import (
	"fmt"
	"strings"
)

// Notifier is the wake-up protocol a model runs.
type Notifier uint8

// The notifiers of sync/... and the out-of-tree one of examples/unixgram,
// as modelled. The spin family (busy, yield, backoff) is one model: they
// differ only in how long a poll takes. Adaptive runs the hybrid's model:
// its budget, chosen from process-local clock readings, is one of the
// hybrid's abstract budgets (README, "Adaptive").
const (
	Semaphore Notifier = iota // sync/semaphore: counting, glibc-compatible
	Futex                     // sync/futex New: sleeper flags
	Hybrid                    // sync/futex NewHybrid: spin, then futex
	Spin                      // sync/spin: busy, yield, backoff
	Adaptive                  // sync/futex NewAdaptive: a chosen spin, then futex
	Unixgram                  // examples/unixgram: sleeper words, datagrams
)

func (n Notifier) String() string {
	return [...]string{"semaphore", "futex", "hybrid", "spin", "adaptive", "unixgram"}[n]
}

// Peers says which implementations sit at the two ends.
type Peers uint8

// The pairings modelled. The foreign peers use semaphores only.
const (
	GoPeers           Peers = iota // Go writer, Go reader
	GoWriterCppReader              // the C++ reader: racy `+=`, release after read
	CppWriterGoReader              // the C++ writer: decides from positions alone
)

func (p Peers) String() string {
	return [...]string{"go-go", "go-writer/cpp-reader", "cpp-writer/go-reader"}[p]
}

// Mutant is a set of mutation switches, each removing one subtlety the
// code relies on.
type Mutant uint16

// The mutants. Each must make the checker fail.
const (
	// SleeperAfterRecheck: the futex (hybrid, adaptive) or unixgram
	// waiter raises its sleeper flag (word) after re-checking its
	// condition instead of before.
	SleeperAfterRecheck Mutant = 1 << iota
	// NoSpaceDrain: the Go writer's PostData does not drain sem-r.
	NoSpaceDrain
	// NoFlushBeforeWait: the Go reader waits for data without returning
	// the space it released first.
	NoFlushBeforeWait
	// ReleasePointIgnoresHeld: the Go reader publishes its read position
	// as read_pos/read_count, not the oldest held frame.
	ReleasePointIgnoresHeld
	// TrustFreeBytes: the Go writer takes payload_free_bytes as the free
	// space, without the positions and without counting sem-r posts.
	TrustFreeBytes
	// PostBeforePublish: the Go writer posts before storing the written
	// count.
	PostBeforePublish
	// FlagBeforeSeqLoad: the futex waiter raises its sleeper flag before
	// it loads the sequence, as sync/futex did before this model found
	// the lost wake-up: a late post of an earlier frame takes the flag and
	// bumps the sequence in between, and the waiter sleeps unflagged.
	FlagBeforeSeqLoad
	// DrainStaleBeforeRead: the unixgram waiter, after raising its word
	// and re-checking, first empties its socket of queued datagrams as
	// stale wake-ups and then reads (parks) for a fresh one. A post that
	// took the word between the raise and the drain is discarded with the
	// stale ones: the code drains in the read it sleeps in, so a datagram
	// it drains ends the sleep.
	DrainStaleBeforeRead
)

var mutantNames = []string{"sleeper-after-recheck", "no-sem-r-drain", "no-flush-before-wait",
	"release-point-ignores-held", "trust-free-bytes", "post-before-publish", "flag-before-seq-load",
	"drain-stale-before-read"}

func (m Mutant) String() string {
	if m == 0 {
		return "real"
	}
	var names []string
	for i, n := range mutantNames {
		if m&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, "+")
}

// Bounds are the sizes a check explores. Sizes are in cells: a frame
// header is Header cells, and a cell stands for 8 bytes of the real ring
// (so Header 2 is the 16-byte header, and a 1-cell tail is the 1-15 byte
// tail no wrap marker fits in).
type Bounds struct {
	Ring   uint8   // payload_size
	Header uint8   // frame header
	Spans  []uint8 // frame spans (header + payload) the writer chooses from, each step
	Frames uint8   // frames written and read in a run
	Held   uint8   // frames the reader's caller may hold at once
	// FlushAt is ring.Reader.flushAt, CheckEvery writerCheckEvery, both
	// scaled down so that batches form within a few frames.
	FlushAt    uint8
	CheckEvery uint8
	// Timeouts lets every bounded wait time out (safety runs only): a
	// timeout is never needed for progress, so liveness is checked with
	// them off. The reader's unflushed-wait slice is part of the protocol
	// and may always end.
	Timeouts bool
}

// The bounds `go test` checks (CI, CILong, and SemBound for the sem-r
// bound), and the deeper ones ZB_MODEL_DEEP=1 adds (Deep, DeepLong,
// DeepFive; each takes up to a few million states and a GB or two).
var (
	// CI: three frames of two sizes in a 10-cell ring: a wrap with a
	// marker, the early wrap that avoids a 1-cell tail, a frame ending at
	// the ring's end, frames reusing the space of released ones, two
	// frames held and released in either order.
	CI = Bounds{Ring: 10, Header: 2, Spans: []uint8{3, 4}, Frames: 3, Held: 2, FlushAt: 5, CheckEvery: 2}
	// CILong: a fourth frame (a second lap), one frame held at a time.
	CILong = Bounds{Ring: 10, Header: 2, Spans: []uint8{3, 4}, Frames: 4, Held: 1, FlushAt: 5, CheckEvery: 2}
	// SemBound: more frames than 1 + the frames the ring holds, so that
	// an undrained sem-r would exceed the bound.
	SemBound = Bounds{Ring: 6, Header: 2, Spans: []uint8{3}, Frames: 5, Held: 1, FlushAt: 3, CheckEvery: 2}
	// Deep: four frames, two held.
	Deep = Bounds{Ring: 10, Header: 2, Spans: []uint8{3, 4}, Frames: 4, Held: 2, FlushAt: 5, CheckEvery: 2}
	// DeepLong: a 12-cell ring, three frame sizes, four frames.
	DeepLong = Bounds{Ring: 12, Header: 2, Spans: []uint8{3, 4, 5}, Frames: 4, Held: 1, FlushAt: 6, CheckEvery: 2}
	// DeepFive: five frames, a third lap.
	DeepFive = Bounds{Ring: 10, Header: 2, Spans: []uint8{3, 4}, Frames: 5, Held: 1, FlushAt: 5, CheckEvery: 2}
)

// Config is one model to check.
type Config struct {
	Notifier Notifier
	Peers    Peers
	Mutants  Mutant
	Bounds   Bounds
}

func (c Config) String() string {
	t := ""
	if c.Bounds.Timeouts {
		t = " timeouts"
	}
	return fmt.Sprintf("%s %s %s%s", c.Peers, c.Notifier, c.Mutants, t)
}

func (c Config) validate() error {
	b := c.Bounds
	switch {
	case b.Ring == 0 || b.Ring > maxRing:
		return fmt.Errorf("ring of %d cells: 1..%d", b.Ring, maxRing)
	case b.Header == 0 || b.Frames == 0 || b.Frames > maxFrames || len(b.Spans) == 0 || b.Held == 0:
		return fmt.Errorf("bounds %+v", b)
	case 2*b.Held+2 > maxQueue:
		return fmt.Errorf("%d held frames need more than %d pending spans", b.Held, maxQueue)
	case c.Peers != GoPeers && c.Notifier != Semaphore:
		return fmt.Errorf("the foreign peers speak semaphores only")
	}
	for _, s := range b.Spans {
		if s <= b.Header || 2*s > b.Ring || s > 15 {
			return fmt.Errorf("span %d in a ring of %d: a header and a payload, at most half the ring", s, b.Ring)
		}
		if rest := b.Ring - s; rest > 0 && rest < b.Header {
			return fmt.Errorf("span %d leaves a short tail even at 0", s)
		}
	}
	return nil
}
