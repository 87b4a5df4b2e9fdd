package model

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pairings are every protocol the models cover.
var pairings = []Config{
	{Peers: GoPeers, Notifier: Semaphore},
	{Peers: GoPeers, Notifier: Futex},
	{Peers: GoPeers, Notifier: Hybrid},
	{Peers: GoPeers, Notifier: Spin},
	{Peers: GoPeers, Notifier: Adaptive},
	{Peers: GoPeers, Notifier: Unixgram},
	{Peers: GoWriterCppReader, Notifier: Semaphore},
	{Peers: CppWriterGoReader, Notifier: Semaphore},
}

func boundsUnderTest() map[string]Bounds {
	b := map[string]Bounds{"CI": CI, "CILong": CILong}
	if raceEnabled {
		delete(b, "CILong")
	}
	if DeepFromEnv() {
		b["Deep"], b["DeepLong"], b["DeepFive"] = Deep, DeepLong, DeepFive
	}
	return b
}

func run(t *testing.T, c Config) Result {
	t.Helper()
	r, pruned, err := Run(c)
	require.NoError(t, err)
	require.False(t, r.Truncated)
	t.Logf("%s: %d states, %d transitions, depth %d, %v%s", c, r.States, r.Edges, r.Depth, r.Elapsed,
		map[bool]string{true: fmt.Sprintf("; C++ writer defects not explored: %d full-ring-as-empty, %d past-the-end transitions", pruned[0], pruned[1])}[pruned != [2]int{}])
	return r
}

// TestRealProtocolsPass checks every protocol as the code has it: every
// safety property, and with timeouts off, that every reachable state can
// still finish (no deadlock, no lost wake-up). A second run lets every
// bounded wait time out, for the safety properties.
func TestRealProtocolsPass(t *testing.T) {
	for name, b := range boundsUnderTest() {
		for _, p := range pairings {
			for _, timeouts := range []bool{false, true} {
				c := p
				c.Bounds = b
				c.Bounds.Timeouts = timeouts
				if timeouts && name != "CI" {
					continue
				}
				t.Run(name+"/"+strings.ReplaceAll(c.String(), " ", "_"), func(t *testing.T) {
					r := run(t, c)
					assert.Empty(t, r.Violation, r.Format())
				})
			}
		}
	}
	t.Run("SemBound/go-writer_cpp-reader", func(t *testing.T) {
		r := run(t, Config{Peers: GoWriterCppReader, Notifier: Semaphore, Bounds: SemBound})
		assert.Empty(t, r.Violation, r.Format())
	})
}

// mutants: each switch, where it bites, and the property it must break.
var mutants = []struct {
	name   string
	config Config
	want   *regexp.Regexp
	// how: the mechanism, as an ordered pattern of steps in the trace
	// (each after the one before; other steps may come between).
	how []*Step
}{
	{"sleeper flag after the re-check (futex)",
		Config{Peers: GoPeers, Notifier: Futex, Mutants: SleeperAfterRecheck, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: .*ASLEEP in futex FUTEX_WAIT`),
		[]*Step{stFutSeqLoad, stFutLateSl, stFutWait}},
	{"sleeper flag after the re-check (hybrid)",
		Config{Peers: GoPeers, Notifier: Hybrid, Mutants: SleeperAfterRecheck, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: .*ASLEEP in futex FUTEX_WAIT`),
		[]*Step{stFutSeqLoad, stFutLateSl, stFutWait}},
	{"sleeper flag before the sequence load (futex before the fix)",
		Config{Peers: GoPeers, Notifier: Futex, Mutants: FlagBeforeSeqLoad, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: .*ASLEEP in futex FUTEX_WAIT`),
		// raised, then a late post takes it and bumps, then the load
		[]*Step{stFutSleeper1, stFutPSwap, stFutPSeq, stFutSeqLoad, stFutWait}},
	{"sleeper flag after the re-check (adaptive)",
		Config{Peers: GoPeers, Notifier: Adaptive, Mutants: SleeperAfterRecheck, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: .*ASLEEP in futex FUTEX_WAIT`),
		[]*Step{stFutSeqLoad, stFutLateSl, stFutWait}},
	{"sleeper word after the re-check (unixgram)",
		Config{Peers: GoPeers, Notifier: Unixgram, Mutants: SleeperAfterRecheck, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: .*ASLEEP in unixgram read`),
		// the post finds the word down, the waiter raises it too late
		[]*Step{stDataReady, stCommitCount, stUgPLoad[writer], stUgMRaise, stUgRecvPark}},
	{"post before publishing the written count (unixgram)",
		Config{Peers: GoPeers, Notifier: Unixgram, Mutants: PostBeforePublish, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: .*reader ASLEEP in unixgram read`),
		// the post finds the word down; the reader raises it and
		// re-checks before the store, which posts nothing
		[]*Step{stCommitAdd, stUgPLoad[writer], stUgRaise, stDataReady, stCommitCount, stUgRecvPark}},
	{"stale datagrams drained before the sleeping read (unixgram)",
		Config{Peers: GoPeers, Notifier: Unixgram, Mutants: DrainStaleBeforeRead, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: .*ASLEEP in unixgram read`),
		// the re-check misses the frame; its post takes the raised word
		// and sends; the drain discards that datagram as stale
		[]*Step{stUgRaise, stDataReady, stCommitCount, stUgPSwap[writer], stUgSend, stUgMDrain, stUgMDrained, stUgRecvPark}},
	{"no drain of sem-r",
		Config{Peers: GoWriterCppReader, Notifier: Semaphore, Mutants: NoSpaceDrain, Bounds: SemBound},
		regexp.MustCompile(`^semaphore bound: sem-r holds`),
		[]*Step{stGlibcPost, stGlibcPost, stGlibcPost, stGlibcPost}},
	{"no flush before the reader waits (semaphore)",
		Config{Peers: GoPeers, Notifier: Semaphore, Mutants: NoFlushBeforeWait, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: writer ASLEEP in sem FUTEX_WAIT .*reader ASLEEP in sem FUTEX_WAIT \(.* [1-9]\d* released cells not returned`),
		[]*Step{stRelease, stSemSleep}},
	{"no flush before the reader waits (futex)",
		Config{Peers: GoPeers, Notifier: Futex, Mutants: NoFlushBeforeWait, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: writer ASLEEP in futex FUTEX_WAIT .*reader ASLEEP in futex FUTEX_WAIT \(.* [1-9]\d* released cells not returned`),
		[]*Step{stRelease, stFutWait}},
	{"release point ignores held frames",
		Config{Peers: CppWriterGoReader, Notifier: Semaphore, Mutants: ReleasePointIgnoresHeld, Bounds: CI},
		regexp.MustCompile(`^overwrite: frame \d+ \(held by the reader\)`),
		// the read position published while a frame is held
		[]*Step{stTake, stFlushPos, stXFree, stXHeader}},
	{"trusting payload_free_bytes with the C++ reader's racy add",
		Config{Peers: GoWriterCppReader, Notifier: Semaphore, Mutants: TrustFreeBytes, Bounds: CI},
		regexp.MustCompile(`^overwrite: frame \d+ \((unread|held by the reader)\)`),
		// the lost update: load, the writer's subtract, store
		[]*Step{stCRelLoad, stCommitAdd, stCRelStore, stFreeFB, stWrite}},
	{"post before publishing the written count (semaphore)",
		Config{Peers: GoPeers, Notifier: Semaphore, Mutants: PostBeforePublish, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: .*reader ASLEEP in sem FUTEX_WAIT`),
		// a post whose frame is not counted yet, taken and dropped as stray
		[]*Step{stCommitAdd, stSemPost, stSemDrain0, stDataReady, stCommitCount, stSemSleep}},
	{"post before publishing the written count (futex)",
		Config{Peers: GoPeers, Notifier: Futex, Mutants: PostBeforePublish, Bounds: CI},
		regexp.MustCompile(`^no progress without a timeout: .*reader ASLEEP in futex FUTEX_WAIT`),
		// the post finds no sleeper; the reader's re-check precedes the store
		[]*Step{stCommitAdd, stFutPLoad, stFutFlagThen, stDataReady, stCommitCount, stFutWait}},
}

// TestMutantsFail asserts that the checker catches every mutant, for the
// property the mutant was meant to break, and prints the counterexample
// as a readable interleaving.
func TestMutantsFail(t *testing.T) {
	for _, mu := range mutants {
		t.Run(mu.name, func(t *testing.T) {
			r := run(t, mu.config)
			require.NotEmpty(t, r.Violation, "the checker missed the mutant")
			assert.Regexp(t, mu.want, r.Violation)
			out := r.Format()
			t.Logf("counterexample of %d steps:\n%s", len(r.Trace), out)
			require.NotEmpty(t, r.Trace)
			assert.True(t, follows(r.Trace, mu.how), "the trace does not show the mechanism %v", whats(mu.how))
			// Step by step: who, what, the function mirrored, the state after.
			assert.Contains(t, out, "VIOLATION: "+r.Violation)
			for i, st := range r.Trace {
				assert.Contains(t, []string{"writer", "reader"}, st.Who)
				assert.Contains(t, out, fmt.Sprintf("%3d %-6s %s  [%s]", i+1, st.Who, st.Step.What, st.Step.Func))
				assert.Contains(t, st.State, "ring=[")
			}
		})
	}
}

// TestMutantsAreMinimalChanges runs each mutant's configuration without
// the mutation: it must pass, so the mutation alone makes the difference.
func TestMutantsAreMinimalChanges(t *testing.T) {
	seen := map[string]bool{}
	for _, mu := range mutants {
		c := mu.config
		c.Mutants = 0
		if seen[c.String()+fmt.Sprint(c.Bounds)] {
			continue
		}
		seen[c.String()+fmt.Sprint(c.Bounds)] = true
		t.Run(mu.name, func(t *testing.T) {
			r := run(t, c)
			assert.Empty(t, r.Violation, r.Format())
		})
	}
}

// follows reports whether the trace's steps contain pattern in order.
func follows(trace []TraceStep, pattern []*Step) bool {
	i := 0
	for _, t := range trace {
		if i < len(pattern) && t.Step == pattern[i] {
			i++
		}
	}
	return i == len(pattern)
}

func whats(steps []*Step) []string {
	var w []string
	for _, s := range steps {
		w = append(w, s.What)
	}
	return w
}

// TestAdaptiveRunsTheHybridsModel: the adaptive notifier's budget is
// chosen from the process's own clock and counters, which no other
// process sees, and its every choice (0 included) is a spin the hybrid's
// model allows; the rest is the same code (block, post, WriterWaiting).
// The model is therefore the hybrid's, step for step, with the spin's
// steps named for the adaptive's functions.
func TestAdaptiveRunsTheHybridsModel(t *testing.T) {
	c := Config{Peers: GoPeers, Notifier: Hybrid, Bounds: CI}
	h := run(t, c)
	c.Notifier = Adaptive
	a := run(t, c)
	assert.Equal(t, [3]int{h.States, h.Edges, h.Depth}, [3]int{a.States, a.Edges, a.Depth})

	c.Mutants = SleeperAfterRecheck
	r := run(t, c)
	require.NotEmpty(t, r.Trace)
	var spins int
	for _, st := range r.Trace {
		assert.NotContains(t, []*Step{stFutSpinPoll, stFutSpinOut}, st.Step, "the adaptive model names the hybrid's spin")
		if st.Step == stAdSpinPoll || st.Step == stAdSpinOut {
			spins++
		}
	}
	assert.Positive(t, spins, "the trace never passes the adaptive's spin:\n%s", r.Format())
}
