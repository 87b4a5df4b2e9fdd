package notifytest_test

import (
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/notify/notifytest"
	"github.com/zerobuffer/zerobuffer-go/sync/futex"
)

func TestMain(m *testing.M) {
	notifytest.ServeChild()
	goleak.VerifyTestMain(m)
}

// The suite is checked by mutation: each mutant is the futex notifier
// with one defect, and the subtest named for it must fail on it (run in a
// child process, whose failure is the expected outcome); the mutant
// without a defect must pass the whole suite.
var mutations = []struct{ name, catches string }{
	{"none", ""},
	{"word", "word"},                               // FromWord rebuilds other parameters
	{"early-false", "post-before-wait"},            // a wait ignores an event already there
	{"no-wake", "wait-before-post"},                // PostData never wakes a sleeper
	{"timeout-error", "deadline"},                  // a timeout is reported as an error
	{"zero-never-takes", "coalescing"},             // a zero timeout never takes an event
	{"never-says-waiting", "writer-waiting"},       // WriterWaiting is always false
	{"close-keeps-posting", "close-while-waiting"}, // a closed notifier still posts
	{"phantom", "stream-window-64"},                // a wait returns true now and then without an event
	{"lossy-space", "stream-window-1"},             // PostSpace drops a post now and then
	{"remove-twice-fails", "remove"},               // Remove of removed resources fails
}

const mutantEnv = "ZB_NOTIFYTEST_MUTANTS"

func init() {
	for i, m := range mutations {
		kind := notify.Kind(230 + i)
		notify.Register(notify.Strategy{
			Kind: kind, Name: "mutant-" + m.name,
			New: func() notify.Notifier { return &mutant{Notifier: futex.New(), kind: kind, mutation: m.name} },
			FromWord: func(w uint64) (notify.Notifier, error) {
				n := &mutant{Notifier: futex.New(), kind: kind, mutation: m.name}
				if m.name == "word" {
					n.param = 1
				}
				return n, nil
			},
		})
	}
}

// TestEverySubtestCanFail runs each mutant's subtest in a child process
// and expects it to fail there.
func TestEverySubtestCanFail(t *testing.T) {
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			run := "^TestMutant$/^" + m.name + "$"
			if m.catches != "" {
				run += "/^" + m.catches + "$"
			}
			cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"=1")
			out, err := cmd.CombinedOutput()
			if m.catches == "" {
				assert.NoError(t, err, "the mutant without a defect passes:\n%s", out)
				assert.Contains(t, string(out), "--- PASS: TestMutant/none ")
				return
			}
			var exit *exec.ExitError
			assert.True(t, errors.As(err, &exit), "the %s subtest caught no defect (err %v):\n%s", m.catches, err, out)
			assert.Contains(t, string(out), "--- FAIL: TestMutant/"+m.name+"/"+m.catches+" ", "%s", out)
		})
	}
}

// TestMutant runs the suite on the mutants; only TestEverySubtestCanFail's
// children run it.
func TestMutant(t *testing.T) {
	if os.Getenv(mutantEnv) == "" {
		t.Skip("run by TestEverySubtestCanFail in a child process")
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			notifytest.Run(t, "mutant-"+m.name, notifytest.ReportsWriterWaiting(),
				notifytest.HangGuard(5*time.Second), notifytest.Events(20_000))
		})
	}
}

// mutant is the futex notifier with one defect.
type mutant struct {
	*futex.Notifier
	kind     notify.Kind
	param    uint32
	mutation string
	calls    int
	misses   int
}

func (m *mutant) Word() uint64 { return m.kind.Word(m.param) }

func (m *mutant) WaitData(ready func() bool, timeout time.Duration) (bool, error) {
	m.calls++
	switch m.mutation {
	case "early-false":
		if ready() {
			return false, nil
		}
	case "zero-never-takes":
		if timeout == 0 {
			return false, nil
		}
	case "phantom":
		// The first wait that finds nothing returns true anyway: a
		// stream's consumer meets one as it starts, before the producer
		// (a child process, in one variant) has published anything.
		if !ready() && timeout > 0 {
			if m.misses++; m.misses == 1 {
				return true, nil
			}
		}
	}
	ok, err := m.Notifier.WaitData(ready, timeout)
	if m.mutation == "timeout-error" && !ok && err == nil {
		return false, errors.New("timed out")
	}
	return ok, err
}

func (m *mutant) PostData() error {
	switch m.mutation {
	case "no-wake":
		return nil
	case "close-keeps-posting":
		_ = m.Notifier.PostData()
		return nil
	}
	return m.Notifier.PostData()
}

func (m *mutant) PostSpace() error {
	m.calls++
	if m.mutation == "lossy-space" && m.calls > 100 {
		return nil // a post lost now wedges the next sleeping writer
	}
	return m.Notifier.PostSpace()
}

func (m *mutant) WriterWaiting() bool {
	if m.mutation == "never-says-waiting" {
		return false
	}
	return m.Notifier.WriterWaiting()
}

var (
	removedMu sync.Mutex
	removed   = map[string]bool{}
)

func (m *mutant) Remove(name string) error {
	if m.mutation == "remove-twice-fails" {
		removedMu.Lock()
		defer removedMu.Unlock()
		if removed[name] {
			return errors.New("already removed")
		}
		removed[name] = true
	}
	return m.Notifier.Remove(name)
}
