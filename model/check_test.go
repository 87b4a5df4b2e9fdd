package model

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// toy is two processes adding 1 to a shared counter, either with an
// atomic add or with a separate load and store, and two locks taken in
// either the same or opposite orders.
type toy struct {
	counter int8
	pc      [2]int8
	local   [2]int8
	lock    [2]int8 // holder+1
}

var (
	toyLoad  = &Step{"load counter", "toy.load"}
	toyStore = &Step{"store counter+1", "toy.store"}
	toyAdd   = &Step{"atomic add 1", "toy.add"}
	toyTake  = &Step{"take a lock", "toy.lock"}
	toyDrop  = &Step{"drop both locks", "toy.unlock"}
)

func toySystem(racy, opposite bool) System[toy] {
	return System[toy]{
		Sides: []string{"p0", "p1"},
		Next: func(s toy, emit func(int, *Step, toy, string)) {
			for p := range 2 {
				n := s
				switch s.pc[p] {
				case 0:
					if racy {
						n.local[p], n.pc[p] = s.counter, 1
						emit(p, toyLoad, n, "")
					} else {
						n.counter++
						n.pc[p] = 2
						emit(p, toyAdd, n, "")
					}
				case 1:
					n.counter = s.local[p] + 1
					n.local[p], n.pc[p] = 0, 2
					emit(p, toyStore, n, "")
				case 2, 3:
					l := int(s.pc[p] - 2)
					if opposite && p == 1 {
						l = 1 - l
					}
					if s.lock[l] == 0 {
						n.lock[l] = int8(p + 1)
						n.pc[p]++
						emit(p, toyTake, n, "")
					}
				case 4:
					n.lock = [2]int8{}
					n.pc[p] = 5
					emit(p, toyDrop, n, "")
				}
			}
		},
		Invariant: func(s toy) string {
			if s.pc == [2]int8{5, 5} && s.counter != 2 {
				return fmt.Sprintf("lost update: counter %d", s.counter)
			}
			return ""
		},
		Final:    func(s toy) bool { return s.pc == [2]int8{5, 5} },
		Liveness: true,
		Show:     func(s toy) string { return fmt.Sprintf("counter=%d locks=%v", s.counter, s.lock) },
		Stuck:    func(s toy) string { return fmt.Sprintf("pcs %v", s.pc) },
	}
}

func TestCheckerPassesACorrectSystem(t *testing.T) {
	r := Check(toySystem(false, false))
	require.Empty(t, r.Violation, r.Format())
	assert.Greater(t, r.States, 5)
}

func TestCheckerFindsTheShortestLostUpdate(t *testing.T) {
	r := Check(toySystem(true, false))
	require.Contains(t, r.Violation, "lost update", r.Format())
	// load, load, store, store, then both processes take two locks and drop them.
	assert.Equal(t, toyLoad, r.Trace[0].Step)
	assert.Len(t, r.Trace, 10, r.Format())
	assert.Contains(t, r.Format(), "[toy.store]")
}

func TestCheckerFindsADeadlockAndItsStuckState(t *testing.T) {
	r := Check(toySystem(false, true))
	require.Contains(t, r.Violation, "no progress", r.Format())
	last := r.Trace[len(r.Trace)-1]
	assert.Equal(t, "counter=2 locks=[1 2]", last.State, r.Format())
}
