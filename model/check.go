package model

import (
	"fmt"
	"hash/maphash"
	"runtime/debug"
	"strings"
	"time"
)

// Step names one atomic action of a model: what a side does, and the
// function of the repository (or of a foreign peer) it mirrors. Func is a
// name from the table in mirrors.go.
type Step struct {
	What string
	Func string
}

// System is a transition system for Check: an initial state, the
// successors of a state, and the properties.
type System[S comparable] struct {
	Init S
	// Next calls emit once per transition enabled in s: who took it (an
	// index into Sides), the step, the state after, and a violated
	// property ("" when none). A transition that violates a property is
	// recorded as a counterexample.
	Next func(s S, emit func(who int, st *Step, next S, bad string))
	// Invariant returns the property s violates, or "".
	Invariant func(s S) string
	// Final reports whether s is a proper end: everything done. Liveness
	// asks that every reachable state can still reach a final one.
	Final func(s S) bool
	// Liveness enables that check.
	Liveness bool
	// Show is a one-line view of the shared state, for traces.
	Show func(s S) string
	// Stuck describes, for a trace, why the sides of a state cannot go on.
	Stuck func(s S) string
	// Sides names the actors, indexed by who.
	Sides []string
	// MaxStates aborts the search beyond this many states (0: no limit).
	MaxStates int
}

// TraceStep is one line of a counterexample: who did what, and the
// shared state after it.
type TraceStep struct {
	Who   string
	Step  *Step
	State string
}

// Result is what Check found.
type Result struct {
	States    int
	Edges     int
	Depth     int
	Elapsed   time.Duration
	Violation string      // "" when every property holds
	Trace     []TraceStep // from the initial state to the violation
	Initial   string
	Truncated bool // MaxStates was reached
}

// Check explores every state reachable from sys.Init breadth first, so the
// first violation found has a shortest trace. States are hashed whole (S
// is a compact, comparable encoding); each keeps its parent and the step
// that reached it, and a trace is rebuilt from those parent pointers.
//
// Safety properties are checked on every state and transition. With
// sys.Liveness, the successor graph is kept and searched backwards from
// the final states: a state from which no final state is reachable (a
// deadlock, a lost wake-up, or a cycle that never finishes) is a
// violation, and its trace is extended to the stuck state it leads to.
func Check[S comparable](sys System[S]) Result {
	start := time.Now()
	// The search allocates a few large slices and nothing else; collect
	// garbage less often while it runs.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	states := []S{sys.Init}
	index := newStateSet[S]()
	index.add(states, 0)
	parent := []int32{-1}
	via := []uint16{0}
	steps := []*Step{nil}
	stepID := map[*Step]uint16{}
	who := []uint8{0}
	depth := []int32{0}
	var succStart []int32 // CSR of successors, kept for liveness
	var succ []int32
	res := Result{Initial: sys.Show(sys.Init)}

	fail := func(at int32, extra []TraceStep, why string) Result {
		res.Violation = why
		res.Trace = append(trace(sys, states, parent, via, steps, who, at), extra...)
		res.States, res.Elapsed = len(states), time.Since(start)
		return res
	}
	if bad := sys.Invariant(sys.Init); bad != "" {
		return fail(0, nil, bad)
	}
	for i := 0; i < len(states); i++ {
		cur := states[i]
		if sys.Liveness {
			succStart = append(succStart, int32(len(succ)))
		}
		var badWho int
		var badStep *Step
		var badNext S
		var badWhy string
		sys.Next(cur, func(w int, st *Step, next S, bad string) {
			if badWhy != "" {
				return
			}
			res.Edges++
			if bad != "" {
				badWho, badStep, badNext, badWhy = w, st, next, bad
				return
			}
			j, seen := index.find(states, next)
			if !seen {
				j = int32(len(states))
				states = append(states, next)
				index.add(states, j)
				parent = append(parent, int32(i))
				id, ok := stepID[st]
				if !ok {
					id = uint16(len(steps))
					stepID[st] = id
					steps = append(steps, st)
				}
				via = append(via, id)
				who = append(who, uint8(w))
				depth = append(depth, depth[i]+1)
				res.Depth = max(res.Depth, int(depth[i]+1))
				if inv := sys.Invariant(next); inv != "" {
					badWhy = inv
					badWho, badStep, badNext = -1, nil, next
					return
				}
			}
			if sys.Liveness {
				succ = append(succ, j)
			}
		})
		if badWhy != "" {
			if badWho < 0 {
				return fail(int32(len(states)-1), nil, badWhy)
			}
			return fail(int32(i), []TraceStep{{Who: sys.Sides[badWho], Step: badStep, State: sys.Show(badNext)}}, badWhy)
		}
		if sys.MaxStates > 0 && len(states) > sys.MaxStates {
			res.Truncated = true
			break
		}
	}
	res.States = len(states)
	if sys.Liveness && !res.Truncated {
		succStart = append(succStart, int32(len(succ)))
		if at, path := stuck(sys, states, succStart, succ); at >= 0 {
			extra := make([]TraceStep, 0, len(path))
			prev := at
			for _, j := range path {
				extra = append(extra, edgeStep(sys, states[prev], states[j]))
				prev = j
			}
			last := at
			if len(path) > 0 {
				last = path[len(path)-1]
			}
			why := "no progress without a timeout: " + sys.Stuck(states[last])
			return fail(at, extra, why)
		}
	}
	res.Elapsed = time.Since(start)
	return res
}

// stuck finds the shallowest state from which no final state is reachable,
// and a path from it to a state with no successors (or into a cycle).
func stuck[S comparable](sys System[S], states []S, succStart, succ []int32) (int32, []int32) {
	n := len(states)
	// Reverse edges, counting sort.
	predStart := make([]int32, n+1)
	for _, j := range succ {
		predStart[j+1]++
	}
	for i := 0; i < n; i++ {
		predStart[i+1] += predStart[i]
	}
	pred := make([]int32, len(succ))
	fill := append([]int32(nil), predStart[:n]...)
	for i := 0; i < n; i++ {
		for _, j := range succ[succStart[i]:succStart[i+1]] {
			pred[fill[j]] = int32(i)
			fill[j]++
		}
	}
	ok := make([]bool, n)
	queue := []int32{}
	for i, s := range states {
		if sys.Final(s) {
			ok[i] = true
			queue = append(queue, int32(i))
		}
	}
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		for _, i := range pred[predStart[j]:predStart[j+1]] {
			if !ok[i] {
				ok[i] = true
				queue = append(queue, i)
			}
		}
	}
	at := int32(-1)
	for i := range ok {
		if !ok[i] {
			at = int32(i)
			break
		}
	}
	if at < 0 {
		return -1, nil
	}
	// From the bad state, a shortest path to a dead end (BFS), or, in a
	// livelock, into a state seen before.
	from := map[int32]int32{at: -1}
	q := []int32{at}
	end := at
	for len(q) > 0 {
		i := q[0]
		q = q[1:]
		end = i
		if succStart[i] == succStart[i+1] {
			break
		}
		for _, j := range succ[succStart[i]:succStart[i+1]] {
			if _, seen := from[j]; !seen {
				from[j] = i
				q = append(q, j)
			}
		}
	}
	var path []int32
	for i := end; i != at; i = from[i] {
		path = append(path, i)
	}
	for l, r := 0, len(path)-1; l < r; l, r = l+1, r-1 {
		path[l], path[r] = path[r], path[l]
	}
	return at, path
}

// edgeStep recovers the step from a to b by running Next again.
func edgeStep[S comparable](sys System[S], a, b S) TraceStep {
	var ts TraceStep
	sys.Next(a, func(w int, st *Step, next S, bad string) {
		if ts.Step == nil && next == b && bad == "" {
			ts = TraceStep{Who: sys.Sides[w], Step: st, State: sys.Show(next)}
		}
	})
	return ts
}

func trace[S comparable](sys System[S], states []S, parent []int32, via []uint16, steps []*Step, who []uint8, at int32) []TraceStep {
	var t []TraceStep
	for i := at; i > 0; i = parent[i] {
		t = append(t, TraceStep{Who: sys.Sides[who[i]], Step: steps[via[i]], State: sys.Show(states[i])})
	}
	for l, r := 0, len(t)-1; l < r; l, r = l+1, r-1 {
		t[l], t[r] = t[r], t[l]
	}
	return t
}

// Format prints a counterexample as a numbered interleaving: who did
// what (and which function that mirrors), then the shared state after.
func (r Result) Format() string {
	var b strings.Builder
	if r.Violation == "" {
		fmt.Fprintf(&b, "all properties hold: %d states, %d transitions, depth %d, %v\n", r.States, r.Edges, r.Depth, r.Elapsed.Round(time.Millisecond))
		return b.String()
	}
	fmt.Fprintf(&b, "VIOLATION: %s\n", r.Violation)
	fmt.Fprintf(&b, "counterexample, %d steps (after %d states):\n", len(r.Trace), r.States)
	fmt.Fprintf(&b, "    init                 %s\n", r.Initial)
	for i, t := range r.Trace {
		fmt.Fprintf(&b, "%3d %-6s %s  [%s]\n", i+1, t.Who, t.Step.What, t.Step.Func)
		fmt.Fprintf(&b, "                         %s\n", t.State)
	}
	return b.String()
}

// stateSet is an open-addressing hash set of indices into the states
// slice: the states are stored once, in the slice, not again as map keys.
type stateSet[S comparable] struct {
	seed  maphash.Seed
	slots []int32 // index+1; 0 is empty
	n     int
}

func newStateSet[S comparable]() *stateSet[S] {
	return &stateSet[S]{seed: maphash.MakeSeed(), slots: make([]int32, 1<<16)}
}

func (t *stateSet[S]) find(states []S, s S) (int32, bool) {
	mask := uint64(len(t.slots) - 1)
	for h := maphash.Comparable(t.seed, s) & mask; ; h = (h + 1) & mask {
		j := t.slots[h]
		if j == 0 {
			return 0, false
		}
		if states[j-1] == s {
			return j - 1, true
		}
	}
}

// add inserts states[j], known to be absent.
func (t *stateSet[S]) add(states []S, j int32) {
	if 2*(t.n+1) > len(t.slots) {
		old := t.slots
		t.slots = make([]int32, 2*len(old))
		t.n = 0
		for _, k := range old {
			if k != 0 {
				t.add(states, k-1)
			}
		}
	}
	mask := uint64(len(t.slots) - 1)
	h := maphash.Comparable(t.seed, states[j]) & mask
	for t.slots[h] != 0 {
		h = (h + 1) & mask
	}
	t.slots[h] = j + 1
	t.n++
}
