package stress

import (
	"os"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
)

// Options choose what a suite runs. The zero value runs it over every
// registered notifier with the knobs from the environment.
type Options struct {
	// Notifiers are the names of the notifiers to run the suite over, as
	// registered (ring.NotifierNames); empty means every registered one.
	// Naming one that is not registered fails the test.
	Notifiers []string
	// Duration is the time budget of each streaming suite for each
	// notifier, split evenly between its legs and profiles. Zero means
	// ZB_STRESS_DURATION, or 2s when that is unset too.
	Duration time.Duration
	// Seed seeds every random choice. Zero means ZB_STRESS_SEED, or one
	// time-based seed per process when that is unset too.
	Seed uint64
}

// run resolves opts, failing the test on a bad option or knob, and runs
// the suite with what came out.
func run(t *testing.T, opts Options, suite func(cfg config)) {
	t.Helper()
	cfg, err := opts.resolve()
	if err != nil {
		t.Fatal(err)
	}
	suite(cfg)
}

// Suites are the suites All runs, by the names of its subtests.
var suites = []struct {
	name string
	run  func(*testing.T, Options)
}{
	{"RandomSizes", RandomSizes},
	{"Pauses", Pauses},
	{"ReserveHold", ReserveHold},
	{"MemoryOrdering", MemoryOrdering},
	{"Faults", Faults},
	{"Churn", Churn},
}

// All runs every suite, each as a subtest of t named after it
// (RandomSizes, Pauses, ReserveHold, MemoryOrdering, Faults, Churn), each
// over every notifier opts selects.
func All(t *testing.T, opts Options) {
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) { s.run(t, opts) })
	}
}

// Main is a TestMain for a package that runs the suites:
//
//	func TestMain(m *testing.M) { stress.Main(m) }
//
// In a child process the suites started (the test binary re-executed,
// with ZB_STRESS_CHILD naming its role), it plays that role and exits.
// Otherwise it checks the knobs (a bad ZB_STRESS_DURATION or
// ZB_STRESS_SEED exits with status 2), runs the tests, and then fails the
// run if anything outlived them: a file of the suites' buffers in /dev/shm
// or /tmp/zerobuffer, a child process, a goroutine (goleak). Main never
// returns.
func Main(m *testing.M) {
	testsupport.Main(m, testsupport.MainConfig{
		ChildEnv: childRoleEnv,
		Child:    childMain,
		Setup: func() (func(), error) {
			_, _, _, err := envKnobs()
			return nil, err
		},
		Prefix: names.Prefix(),
	})
}

// RunChild is for a TestMain of one's own, in place of Main: when this
// process is a child the suites started, RunChild plays its role and
// exits; otherwise it returns at once. Call it before m.Run:
//
//	func TestMain(m *testing.M) {
//		stress.RunChild()
//		// ... your own set-up ...
//		os.Exit(m.Run())
//	}
func RunChild() {
	if role := os.Getenv(childRoleEnv); role != "" {
		os.Exit(childMain(role))
	}
}
