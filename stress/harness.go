package stress

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

const (
	childRoleEnv = "ZB_STRESS_CHILD" // set in a re-executed test binary: the role it plays
	childSpecEnv = "ZB_STRESS_SPEC"  // the role's streamSpec, as JSON
	durationEnv  = "ZB_STRESS_DURATION"
	seedEnv      = "ZB_STRESS_SEED"

	defaultDuration = 2 * time.Second

	// hangGuard bounds every wait of the tests. It only turns a hang into
	// a failure; no test passes or fails on how long something took.
	hangGuard = testsupport.HangGuard
	// deathBound is how long a survivor may take to report its peer dead.
	// It too only catches hangs: at the liveness interval below the
	// report comes within a few intervals.
	deathBound = 30 * time.Second
	// liveness is the liveness interval of every reader and writer here.
	liveness = 20 * time.Millisecond

	golden = 0x9E3779B97F4A7C15
)

// names are the buffers of this process's suites: zbtest-stress-PID-N, so
// that the leak checks can tell ours from anything else in /dev/shm.
var names = testsupport.NewNames("zbtest-stress-")

// newName returns a fresh buffer name.
func newName() string { return names.New() }

// config is what a suite runs with: Options resolved against the
// environment.
type config struct {
	notifiers []string
	budget    time.Duration
	seed      uint64 // the master seed; each test derives its own
}

// processSeed is the master seed when neither Options nor ZB_STRESS_SEED
// gives one: time-based, but one per process, so that every suite of a
// run logs the same seed.
var processSeed = sync.OnceValue(func() uint64 { return uint64(time.Now().UnixNano()) })

// envKnobs reads ZB_STRESS_DURATION and ZB_STRESS_SEED; a zero value is
// an unset knob.
func envKnobs() (budget time.Duration, seed uint64, seedSet bool, err error) {
	if s := os.Getenv(durationEnv); s != "" {
		d, perr := time.ParseDuration(s)
		if perr != nil || d <= 0 {
			return 0, 0, false, fmt.Errorf("stress: %s=%q: want a positive Go duration such as 2s or 1h", durationEnv, s)
		}
		budget = d
	}
	if s := os.Getenv(seedEnv); s != "" {
		v, perr := strconv.ParseUint(s, 0, 64)
		if perr != nil {
			return 0, 0, false, fmt.Errorf("stress: %s=%q: want an unsigned integer", seedEnv, s)
		}
		seed, seedSet = v, true
	}
	return budget, seed, seedSet, nil
}

// resolve fills in what opts leaves out: the knobs from the environment,
// then the defaults; every registered notifier. Every notifier named must
// be registered.
func (opts Options) resolve() (config, error) {
	budget, seed, seedSet, err := envKnobs()
	if err != nil {
		return config{}, err
	}
	c := config{notifiers: opts.Notifiers, budget: opts.Duration, seed: opts.Seed}
	switch {
	case c.budget < 0:
		return config{}, fmt.Errorf("stress: Options.Duration %v is negative", c.budget)
	case c.budget == 0 && budget > 0:
		c.budget = budget
	case c.budget == 0:
		c.budget = defaultDuration
	}
	if c.seed == 0 {
		if seedSet {
			c.seed = seed
		} else {
			c.seed = processSeed()
		}
	}
	registered := ring.NotifierNames()
	if len(c.notifiers) == 0 {
		c.notifiers = registered
	}
	if len(c.notifiers) == 0 {
		return config{}, errors.New("stress: no notifier is registered")
	}
	for _, name := range c.notifiers {
		if !slices.Contains(registered, name) {
			return config{}, fmt.Errorf("stress: notifier %q is not registered (registered: %v); import the package that registers it", name, registered)
		}
	}
	return c, nil
}

// seedFor logs the run's seed and returns the test's own, derived from it
// and the test's name, so that a test rerun alone makes the same choices.
func (c config) seedFor(t *testing.T) uint64 {
	t.Helper()
	h := fnv.New64a()
	h.Write([]byte(t.Name()))
	seed := mix64(c.seed ^ h.Sum64())
	t.Logf("%s=%d (this test's seed %#x); rerun with: %s=%d go test -run '^%s$'", seedEnv, c.seed, seed, seedEnv, c.seed, t.Name())
	return seed
}

// forEachNotifier runs f once per notifier, one after the other: spinning
// notifiers burn a core while they wait, and the machine may have two.
func (c config) forEachNotifier(t *testing.T, f func(t *testing.T, notifier string)) {
	for _, name := range c.notifiers {
		t.Run(name, func(t *testing.T) {
			_, err := ring.NewNotifier(name)
			require.NoError(t, err, "ring.NewNotifier(%q)", name)
			f(t, name)
		})
	}
}

// newReader creates buffer sp.Buffer with sp's notifier and sizes.
func newReader(sp *streamSpec) (*ring.Reader, error) {
	n, err := ring.NewNotifier(sp.Notifier)
	if err != nil {
		return nil, err
	}
	return ring.NewReader(sp.Buffer, ring.Config{MetadataSize: sp.Metadata, PayloadSize: sp.Ring},
		ring.WithNotifier(n), ring.WithLivenessInterval(liveness))
}

// openReader is newReader for a test, closed at its end.
func openReader(t *testing.T, sp *streamSpec) *ring.Reader {
	t.Helper()
	r, err := newReader(sp)
	require.NoError(t, err, "NewReader %s (%s)", sp.Buffer, sp.Notifier)
	require.Equal(t, sp.Ring, r.PayloadSize(), "ring sizes are chosen as multiples of 64")
	t.Cleanup(func() { r.Close() })
	return r
}

// connect connects a writer to sp.Buffer, adopting the reader's notifier.
func connect(sp *streamSpec, opts ...ring.Option) (*ring.Writer, error) {
	return ring.Connect(sp.Buffer, append([]ring.Option{ring.WithLivenessInterval(liveness)}, opts...)...)
}

// ---- Deterministic randomness ----

func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xBF58476D1CE4E5B9
	z ^= z >> 27
	z *= 0x94D049BB133111EB
	return z ^ z>>31
}

// rng is splitmix64: small, fast and the same in every process.
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: mix64(seed)} }

func (r *rng) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

// intn returns a number in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// chance is true one time in k.
func (r *rng) chance(k int) bool { return k > 0 && r.next()%uint64(k) == 0 }

// logDuration is log-uniform in [lo, hi]: as many pauses of microseconds
// as of hundreds of microseconds.
func (r *rng) logDuration(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	steps := 0
	for d := lo; d < hi; d *= 2 {
		steps++
	}
	d := lo << r.intn(steps+1)
	d += time.Duration(r.next() % uint64(d))
	return min(d, hi)
}

// pause is an occasional random delay.
type pause struct {
	Every int           // one frame in Every pauses; 0 never
	Max   time.Duration // pauses last 1 µs to Max, log-uniform
}

func (p pause) maybe(r *rng) bool {
	if !r.chance(p.Every) {
		return false
	}
	delay(r.logDuration(time.Microsecond, p.Max))
	return true
}

// delay waits d: spinning below 50 µs, where a sleep would oversleep by
// far, sleeping above.
func delay(d time.Duration) {
	if d >= 50*time.Microsecond {
		time.Sleep(d)
		return
	}
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}

// ---- Frame sizes and contents ----

// frameSize is the size of frame seq, known to both sides from the seed:
// a quarter tiny frames, half uniform up to maxFrame, a quarter near
// maxFrame. With fields it is a multiple of 8 (whole u64 fields).
func frameSize(seed, seq uint64, maxFrame int, fields bool) int {
	h := mix64(seed ^ mix64(seq+0x5bd1e995))
	var n int
	switch h & 3 {
	case 0:
		n = 1 + int((h>>8)%32)
	case 3:
		n = maxFrame - int((h>>8)%64)
	default:
		n = 1 + int((h>>8)%uint64(maxFrame))
	}
	n = max(1, min(n, maxFrame))
	if fields {
		n = max(8, min((n+7)&^7, maxFrame&^7))
	}
	return n
}

// The payload of frame seq is a splitmix64 stream started from (seed, seq,
// n), eight bytes at a time.
func payloadState(seed, seq uint64, n int) uint64 {
	return mix64(seed ^ mix64(seq*golden^uint64(n)<<40))
}

func fillPayload(b []byte, seed, seq uint64) {
	s := payloadState(seed, seq, len(b))
	i := 0
	for ; i+8 <= len(b); i += 8 {
		s += golden
		binary.LittleEndian.PutUint64(b[i:], mix64(s))
	}
	if i < len(b) {
		s += golden
		var last [8]byte
		binary.LittleEndian.PutUint64(last[:], mix64(s))
		copy(b[i:], last[:])
	}
}

func checkPayload(b []byte, seed, seq uint64) error {
	s := payloadState(seed, seq, len(b))
	var want [8]byte
	for i := 0; i < len(b); i += 8 {
		s += golden
		binary.LittleEndian.PutUint64(want[:], mix64(s))
		chunk := b[i:min(i+8, len(b))]
		if !bytes.Equal(chunk, want[:len(chunk)]) {
			for j := range chunk {
				if chunk[j] != want[j] {
					return fmt.Errorf("frame %d (%d bytes): byte %d is %#02x, want %#02x (torn or overwritten frame)",
						seq, len(b), i+j, chunk[j], want[j])
				}
			}
		}
	}
	return nil
}

// u64s views a slot as u64 fields; the ring hands out 8-byte aligned
// slots when every frame is a multiple of 8 bytes.
func u64s(b []byte) ([]uint64, error) {
	p := unsafe.Pointer(unsafe.SliceData(b))
	if uintptr(p)%8 != 0 || len(b)%8 != 0 {
		return nil, fmt.Errorf("slot %p of %d bytes is not a whole number of aligned u64 fields", p, len(b))
	}
	return unsafe.Slice((*uint64)(p), len(b)/8), nil
}

func fieldValue(base uint64, i int) uint64 { return mix64(base + uint64(i+1)*golden) }

func fieldBase(seed, seq uint64) uint64 { return mix64(seed ^ seq*0xD6E8FEB86659FD93) }

// fillFields stores field i = f(seq, i) in order, with plain stores,
// straight into the slot.
func fillFields(b []byte, seed, seq uint64) error {
	f, err := u64s(b)
	if err != nil {
		return err
	}
	base := fieldBase(seed, seq)
	for i := range f {
		f[i] = fieldValue(base, i)
	}
	return nil
}

// checkFields loads the fields last first: a reader that saw a later field
// without the earlier ones fails here.
func checkFields(b []byte, seed, seq uint64) error {
	f, err := u64s(b)
	if err != nil {
		return err
	}
	base := fieldBase(seed, seq)
	for i := len(f) - 1; i >= 0; i-- {
		if got, want := f[i], fieldValue(base, i); got != want {
			if i == len(f)-1 {
				return fmt.Errorf("frame %d: last field (%d of %d) is %#x, want %#x", seq, i, len(f), got, want)
			}
			return fmt.Errorf("frame %d: field %d of %d is %#x, want %#x, while fields %d..%d were already right (a later store seen before an earlier one)",
				seq, i, len(f), got, want, i+1, len(f)-1)
		}
	}
	return nil
}

// metadataFor is the metadata a stream's writer stores: seeded bytes.
func metadataFor(sp *streamSpec) []byte {
	if sp.Metadata < 8 {
		return nil
	}
	n := int(mix64(sp.Seed^0x3e7a) % (sp.Metadata - 7))
	b := make([]byte, n)
	fillPayload(b, sp.Seed, 0)
	return b
}

// ---- Probes ----

// fdCount counts this process's open file descriptors.
func fdCount(t *testing.T) int {
	t.Helper()
	n, err := testsupport.FDCount()
	require.NoError(t, err)
	return n
}

// ---- Child processes ----

// startChild starts the test binary in role with spec (see childMain).
// The child is killed and reaped when the test ends, whatever happened.
func startChild(t *testing.T, role string, sp *streamSpec) *testsupport.Child {
	t.Helper()
	spec, err := json.Marshal(sp)
	require.NoError(t, err)
	c := testsupport.Reexec(t, role, []string{childRoleEnv + "=" + role, childSpecEnv + "=" + string(spec)})
	c.Hint = "a test binary running the stress suites plays child roles only when its TestMain calls stress.Main or stress.RunChild"
	// A test binary whose TestMain ignores the role exits at once: say so
	// now rather than when a peer waits for it in vain.
	c.Expect("ROLE ")
	return c
}

// childMain is the child process's main: run role with the spec from the
// environment and exit 0, or print the error to stderr and exit 1.
func childMain(role string) int {
	var sp streamSpec
	if err := json.Unmarshal([]byte(os.Getenv(childSpecEnv)), &sp); err != nil {
		fmt.Fprintf(os.Stderr, "child %s: bad spec: %v\n", role, err)
		return 2
	}
	f := childRoles[role]
	if f == nil {
		fmt.Fprintf(os.Stderr, "child: unknown role %q\n", role)
		return 2
	}
	say("ROLE %s", role) // startChild waits for it: the role was taken
	// Should the parent vanish without killing us, we leave anyway.
	time.AfterFunc(10*time.Minute+2*sp.Duration, func() {
		fmt.Fprintf(os.Stderr, "child %s: still running after its lifetime, exiting\n", role)
		os.Exit(3)
	})
	if err := f(&sp); err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
		return 1
	}
	return 0
}

// childRoles are the roles a child can play, registered by the suites.
var childRoles = map[string]func(sp *streamSpec) error{}

// say prints one line to the parent.
func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

// holdUntilStdinCloses blocks until the parent closes our stdin (or dies).
func holdUntilStdinCloses() { io.Copy(io.Discard, os.Stdin) }

// readCtx is a context bounded by d (the hang guard, or deathBound).
func readCtx(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// isOneOf reports whether err matches one of targets.
func isOneOf(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
