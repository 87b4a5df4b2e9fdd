package bench

// The floors: the raw mechanisms the notifiers are built on, measured
// between two processes without a ring, and which floor each notifier is
// compared with. Each mechanism is a pair of pieces, the pinging side
// (this process) and the ponging side (a child in the floor-pong role);
// the engine drives either pair the same way.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/floor"
	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// Floor names a raw mechanism measured in the floors stage, which a
// notifier's ping-pong is compared with.
type Floor string

// The floors the bench measures.
const (
	// FloorSpin is a cache line bounced between two processes by
	// polling: the floor of notifiers that poll before they sleep.
	FloorSpin Floor = "spin"
	// FloorFutex is a futex ping-pong, each side asleep on its word until
	// woken: the floor of notifiers that sleep in the kernel.
	FloorFutex Floor = "futex"
	// FloorSemaphore is a ping-pong of two glibc-compatible semaphores
	// without spinning.
	FloorSemaphore Floor = "semaphore"
)

// pingFunc runs rounds round trips from the pinging side and calls record
// (may be nil) with each one's duration; it gives up with
// floor.ErrAborted when abort says so.
type pingFunc func(rounds int, record func(time.Duration), abort func() bool) error

// pongFunc answers rounds round trips on the ponging side.
type pongFunc func(rounds int) error

// floorSpec is what the bench knows of a floor.
type floorSpec struct {
	floor Floor
	label string  // the floors table's row
	goal  float64 // the goal's bound on ring p50 ÷ this floor's p50
	// ping creates what the floor needs under name and returns the
	// pinging side and how to remove what it created; pong opens it in
	// the child.
	ping func(name string) (pingFunc, func(), error)
	pong func(name string) (pongFunc, func(), error)
}

// floorSpecs are the floors in the order they are measured and shown.
var floorSpecs = []floorSpec{
	{FloorSpin, "spin (cache line, polled)", goalSpinOverFloor, wordPing(floor.Spin), wordPong(floor.Spin)},
	{FloorFutex, "futex (wait/wake)", goalFutexOverFloor, wordPing(floor.Futex), wordPong(floor.Futex)},
	{FloorSemaphore, "semaphore (glibc-compatible, spin 0)", goalFutexOverFloor, semaphorePing, semaphorePong},
}

func floorSpecOf(f Floor) (floorSpec, bool) {
	i := slices.IndexFunc(floorSpecs, func(s floorSpec) bool { return s.floor == f })
	if i < 0 {
		return floorSpec{}, false
	}
	return floorSpecs[i], true
}

// notifierFloors maps a notifier's name to its floor.
var notifierFloors = struct {
	sync.Mutex
	m map[string]Floor
}{m: map[string]Floor{
	// The notifiers that sleep in the kernel.
	"semaphore": FloorFutex,
	"futex":     FloorFutex,
	// Those that poll first.
	"spin":    FloorSpin,
	"yield":   FloorSpin,
	"backoff": FloorSpin,
	"hybrid":  FloorSpin,
	// It spins while events come close together, as in a ping-pong at
	// full speed, and sleeps on the futex only when they are far apart.
	"adaptive": FloorSpin,
}}

// SetFloor says which floor the notifier registered as name is compared
// with: FloorFutex for a notifier that sleeps in the kernel, FloorSpin
// for one that polls first. Call it from an init function or before Run,
// next to the notifier's registration. A notifier without a floor is
// still measured, but its ratios and goal are left blank. SetFloor panics
// when f is not one of the floors above.
func SetFloor(name string, f Floor) {
	if _, ok := floorSpecOf(f); !ok {
		panic(fmt.Sprintf("bench: SetFloor(%q, %q): no such floor (have %s)", name, f, floorNames()))
	}
	notifierFloors.Lock()
	defer notifierFloors.Unlock()
	notifierFloors.m[name] = f
}

// FloorOf returns the floor the notifier name is compared with, and
// false when it has none (see SetFloor).
func FloorOf(name string) (Floor, bool) {
	notifierFloors.Lock()
	defer notifierFloors.Unlock()
	f, ok := notifierFloors.m[name]
	return f, ok
}

// ---- the pieces of each mechanism ----

// wordPing is the pinging side of the spin and futex floors: two words
// of a small shared segment (internal/floor).
func wordPing(m floor.Mechanism) func(name string) (pingFunc, func(), error) {
	return func(name string) (pingFunc, func(), error) {
		seg, err := shm.Create(name, floor.SegmentSize, 0o600)
		if err != nil {
			return nil, nil, err
		}
		undo := func() { seg.Close(); _ = shm.Unlink(name) }
		w, err := floor.View(seg.Data)
		if err != nil {
			undo()
			return nil, nil, err
		}
		return func(rounds int, record func(time.Duration), abort func() bool) error {
			_, err := w.Ping(m, rounds, record, abort)
			return err
		}, undo, nil
	}
}

// wordPong is the ponging side of wordPing. It has no abort: a child
// whose parent dies is killed with it.
func wordPong(m floor.Mechanism) func(name string) (pongFunc, func(), error) {
	return func(name string) (pongFunc, func(), error) {
		seg, err := shm.Open(name, false, floor.SegmentSize)
		if err != nil {
			return nil, nil, err
		}
		w, err := floor.View(seg.Data)
		if err != nil {
			seg.Close()
			return nil, nil, err
		}
		return func(rounds int) error { return w.Pong(m, rounds, nil) }, func() { seg.Close() }, nil
	}
}

// semaphorePing is the pinging side of the semaphore floor: it posts the
// data semaphore and waits on the space semaphore, both without spinning.
func semaphorePing(name string) (pingFunc, func(), error) {
	a, err := semaphore.Create(semaphore.DataName(name), 0, 0o600)
	if err != nil {
		return nil, nil, err
	}
	b, err := semaphore.Create(semaphore.SpaceName(name), 0, 0o600)
	if err != nil {
		a.Close()
		_ = semaphore.Unlink(semaphore.DataName(name))
		return nil, nil, err
	}
	undo := func() {
		b.Close()
		_ = semaphore.Unlink(semaphore.SpaceName(name))
		a.Close()
		_ = semaphore.Unlink(semaphore.DataName(name))
	}
	a.SetSpin(0)
	b.SetSpin(0)
	return func(rounds int, record func(time.Duration), abort func() bool) error {
		last := time.Now()
		for range rounds {
			if err := a.Post(); err != nil {
				return err
			}
			for {
				ok, err := b.Wait(100 * time.Millisecond)
				if err != nil {
					return err
				}
				if ok {
					break
				}
				if abort != nil && abort() {
					return floor.ErrAborted
				}
			}
			if record != nil {
				now := time.Now()
				record(now.Sub(last))
				last = now
			}
		}
		return nil
	}, undo, nil
}

// semaphorePong is the ponging side of semaphorePing.
func semaphorePong(name string) (pongFunc, func(), error) {
	ping, err := semaphore.Open(semaphore.DataName(name))
	if err != nil {
		return nil, nil, err
	}
	back, err := semaphore.Open(semaphore.SpaceName(name))
	if err != nil {
		ping.Close()
		return nil, nil, err
	}
	ping.SetSpin(0)
	back.SetSpin(0)
	return func(rounds int) error {
		for range rounds {
			if ok, err := ping.Wait(childWait); !ok || err != nil {
				return fmt.Errorf("semaphore floor stalled: %v", err)
			}
			if err := back.Post(); err != nil {
				return err
			}
		}
		return nil
	}, func() { back.Close(); ping.Close() }, nil
}

// ---- the engine's side ----

// floorPingPong measures round trips of floor f between this process and
// a child, and where the two ran. It warms up with warmRounds, then
// records round trips for about d (at most maxRounds).
func (e *Engine) floorPingPong(f Floor, warmRounds int, d time.Duration, maxRounds int) (Latency, Placement, error) {
	s, err := e.openFloor(f)
	if err != nil {
		return Latency{}, Placement{}, err
	}
	defer s.close()
	lat, placed, err := s.measure(warmRounds, d, maxRounds)
	if err != nil {
		return Latency{}, Placement{}, err
	}
	if err := s.c.wait(); err != nil {
		return Latency{}, Placement{}, err
	}
	return lat, placed, nil
}

// floorSession is an open floor: what it needs under its name and the
// child that answers, measured in one or more rounds. Between rounds the
// child waits on stdin, using no CPU.
type floorSession struct {
	floorChunks
	undo func()
}

func (e *Engine) openFloor(f Floor) (*floorSession, error) {
	spec, ok := floorSpecOf(f)
	if !ok {
		return nil, fmt.Errorf("unknown floor %q", f)
	}
	name := e.name("floor-" + string(f))
	ping, undo, err := spec.ping(name)
	if err != nil {
		return nil, err
	}
	c, err := e.start("floor-pong", nil, string(f), name)
	if err != nil {
		undo()
		return nil, err
	}
	if _, err := c.expect("READY"); err != nil {
		c.kill()
		undo()
		return nil, err
	}
	return &floorSession{floorChunks{e: e, c: c, ping: ping}, undo}, nil
}

// close kills the child if it was not waited for, and removes what the
// floor created.
func (s *floorSession) close() {
	s.c.kill()
	s.undo()
}

// measure runs one round: warmRounds unrecorded round trips, whose
// median sizes the measured chunks (about a tenth of d each), then
// chunks until d has passed (at most maxRounds recorded).
func (s *floorSession) measure(warmRounds int, d time.Duration, maxRounds int) (Latency, Placement, error) {
	warm := newLatencyHist()
	if err := s.run(max(warmRounds, 10), warm.Record); err != nil {
		return Latency{}, Placement{}, err
	}
	s.c.resample() // where it ran while measured, not before
	perRound := time.Duration(max(warm.Summary().P50Ns, 1))
	size := min(max(int(d/10/perRound), 100), maxRounds)
	h := newLatencyHist()
	for start := time.Now(); h.Count() < int64(maxRounds) && (h.Count() == 0 || time.Since(start) < d); {
		// The first round of a chunk waits for the child to read its
		// command, so it is not recorded.
		first := true
		record := func(rt time.Duration) {
			if !first {
				h.Record(rt)
			}
			first = false
		}
		if err := s.run(min(size, maxRounds-int(h.Count()))+1, record); err != nil {
			return Latency{}, Placement{}, err
		}
	}
	return h.Summary(), s.c.resample(), nil
}

// floorChunks drives a floor's child: it answers one chunk of rounds per
// command.
type floorChunks struct {
	e    *Engine
	c    *benchChild
	ping pingFunc
}

// abort tells the ping side to give up: the child died or the bench was
// interrupted.
func (fc floorChunks) abort() bool {
	select {
	case <-fc.c.eof:
		return true
	case <-fc.e.ctx.Done():
		return true
	default:
		return false
	}
}

// run pings rounds round trips against the child's answers.
func (fc floorChunks) run(rounds int, record func(time.Duration)) error {
	c := fc.c
	if err := c.send(strconv.Itoa(rounds)); err != nil {
		return err
	}
	if err := fc.ping(rounds, record, fc.abort); err != nil {
		if fc.e.ctx.Err() != nil {
			return fc.e.ctx.Err()
		}
		select {
		case <-c.eof:
			c.finish()
			return c.failure(fmt.Sprintf("exited (%v) during the ping-pong", c.err))
		default:
			return err
		}
	}
	_, err := c.expect("DONE")
	return err
}

// ---- the child's side ----

// floorPong answers the floors' ping-pongs: args FLOOR NAME. For each
// line "N" it answers N rounds and prints DONE; stdin's end ends it.
func (c *childIO) floorPong(args []string) error {
	if err := wantArgs(args, 2, "FLOOR NAME"); err != nil {
		return err
	}
	spec, ok := floorSpecOf(Floor(args[0]))
	if !ok {
		return fmt.Errorf("unknown floor %q", args[0])
	}
	pong, undo, err := spec.pong(args[1])
	if err != nil {
		return err
	}
	defer undo()
	c.say("READY")
	for {
		line, err := c.readLine()
		if err != nil {
			return ignoreEOF(err)
		}
		rounds, err := strconv.Atoi(line)
		if err != nil || rounds <= 0 {
			return fmt.Errorf("bad round count %q", line)
		}
		if err := pong(rounds); err != nil {
			return err
		}
		c.say("DONE")
	}
}

// floorNames lists the floors, for messages.
func floorNames() string {
	var s []string
	for _, f := range floorSpecs {
		s = append(s, string(f.floor))
	}
	return strings.Join(s, ", ")
}
