package bench

// The measuring engine: each function measures one figure, with this
// process on one side and a child process (the same program,
// re-executed in a role of child.go) on the other: the floors of
// floors.go, two rings for a ping-pong, a writer streaming into a reader
// that releases without touching the bytes, the relay, the idle reader.
// ring/bench_test.go reports the same measurements as Go benchmarks.
// Every buffer the engine or its children create is removed before a
// function returns, even when it fails.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/floor"
	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/ring"
	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// relayFrameBytes is the relay's frame: 1080p YUV420 (1920×1080×1.5 =
// 3,110,400 bytes) plus the 16-byte timestamp header.
const relayFrameBytes = 3110416

// pingPongRing sizes each ring of a ping-pong: 1 MiB, or room for four
// frames of a larger size.
func pingPongRing(size int) uint64 {
	return uint64(max(1<<20, 4*(size+16)))
}

// maxFrameBytes bounds the frame sizes the bench takes: a streaming ring
// holds 8 frames, and /dev/shm is RAM.
const maxFrameBytes = 64 << 20

// defaultWarmup is the unrecorded warm-up of each ping-pong and stream.
const defaultWarmup = 200 * time.Millisecond

// childTimeout bounds every wait for a child: it turns a hang into an
// error, never a figure.
const childTimeout = 60 * time.Second

// streamRing sizes a streaming ring for a frame size, as
// ring/bench_test.go uses: room for many small frames and for at least 8
// large ones. The memcpy floor copies into a mapping of the same size.
func streamRing(size int) uint64 {
	return uint64(max(64<<20, 8*(size+16)))
}

// Engine runs single measurements, each with this process on one side
// and a child process on the other: the program run again in a role (see
// RunChild). Run uses one for a whole bench; a Go benchmark can use one
// for the figures it reports. Its methods are called from one goroutine;
// every buffer it or its children create is removed before a method
// returns, even when it fails.
type Engine struct {
	ctx       context.Context
	prefix    string       // buffer names: prefix-seq-what
	childMask *unix.CPUSet // the mask children start with when pinned; nil if not
	pinChild  bool         // children pin themselves to childCPU
	childCPU  int

	mu       sync.Mutex
	live     map[*benchChild]bool // children to kill if the bench is interrupted
	stopKill func() bool          // undoes the kill-on-cancel of ctx
}

// NewEngine returns an engine whose measurements stop, and whose children
// are killed, when ctx is done. Close it when done.
func NewEngine(ctx context.Context) *Engine {
	e := &Engine{
		ctx:    ctx,
		prefix: bufferPrefix(),
		live:   map[*benchChild]bool{},
	}
	e.stopKill = context.AfterFunc(ctx, e.killAll)
	return e
}

// Close kills any child still running (there is none between
// measurements) and stops watching the context.
func (e *Engine) Close() {
	e.stopKill()
	e.killAll()
}

// bufferPrefix starts the names of the buffers this process's engines
// create: prefix-seq-what.
func bufferPrefix() string { return fmt.Sprintf("zb-bench-%d", os.Getpid()) }

// bufferSeq numbers the buffers of every engine of this process.
var bufferSeq atomic.Int64

// name returns a buffer name used by nothing else.
func (e *Engine) name(what string) string {
	return fmt.Sprintf("%s-%d-%s", e.prefix, bufferSeq.Add(1), what)
}

// killAll kills every live child (on SIGINT/SIGTERM): what the parent is
// blocked on then fails, and each measurement cleans up as on any error.
func (e *Engine) killAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for c := range e.live {
		_ = c.cmd.Process.Kill()
	}
}

// removeBuffer removes the files of a buffer whose reader (a child of
// ours) died without closing it. Only names this engine made go here.
func removeBuffer(name string) {
	_ = shm.Unlink(name)
	_ = semaphore.Unlink(semaphore.DataName(name))
	_ = semaphore.Unlink(semaphore.SpaceName(name))
	_ = os.Remove(ring.LockDir + "/" + name + ".lock")
}

// benchChild is a child process in a role.
type benchChild struct {
	e      *Engine
	role   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string   // stdout, line by line; closed at EOF
	eof    chan struct{} // closed at EOF of stdout: the child is ending
	stderr lockedBuffer
	owns   []string // buffers the child creates, removed if it dies
	done   bool
	err    error

	sampler *placementSampler // where the child and this process run
	placed  *Placement        // what the sampler saw, once stopped
}

// resample returns where the child and this process ran since the
// child started or the last resample, and starts sampling afresh.
func (c *benchChild) resample() Placement {
	if c.placed != nil {
		return *c.placed // the child has ended
	}
	p := c.sampler.finish()
	c.sampler = startPlacementSampler(c.cmd.Process.Pid)
	return p
}

// placement stops sampling where the child and this process run, and
// returns what was seen.
func (c *benchChild) placement() Placement {
	if c.placed == nil {
		p := c.sampler.finish()
		c.placed = &p
	}
	return *c.placed
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(l.b.String())
}

// start runs the binary again as a child in role. owns names the buffers
// the child will create (as their reader).
func (e *Engine) start(role string, owns []string, args ...string) (*benchChild, error) {
	if err := e.ctx.Err(); err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	c := &benchChild{e: e, role: role, lines: make(chan string, 16), eof: make(chan struct{}), owns: owns}
	c.cmd = exec.Command(exe, args...)
	c.cmd.Env = append(os.Environ(), benchChildEnv+"="+role)
	if e.pinChild {
		c.cmd.Env = append(c.cmd.Env, benchCoreEnv+"="+strconv.Itoa(e.childCPU))
	}
	// A race-enabled child (the tests) would sleep a second at exit.
	if v := os.Getenv("GORACE"); !strings.Contains(v, "atexit_sleep_ms") {
		c.cmd.Env = append(c.cmd.Env, "GORACE="+strings.TrimSpace(v+" atexit_sleep_ms=0"))
	}
	// The child dies with us, whatever happens to us.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c.cmd.Stderr = &c.stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := withMask(e.childMask, c.cmd.Start); err != nil {
		return nil, fmt.Errorf("start %s child: %w", role, err)
	}
	e.mu.Lock()
	e.live[c] = true
	e.mu.Unlock()
	c.sampler = startPlacementSampler(c.cmd.Process.Pid)
	go func() {
		defer close(c.eof)
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	return c, nil
}

// failure describes the child's end for an error message.
func (c *benchChild) failure(what string) error {
	msg := c.stderr.String()
	if msg == "" {
		msg = "no message"
	}
	return fmt.Errorf("%s child: %s: %s", c.role, what, msg)
}

// expect waits for a line starting with prefix and returns the rest of it.
func (c *benchChild) expect(prefix string) (string, error) {
	timer := time.NewTimer(childTimeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				c.finish()
				return "", c.failure(fmt.Sprintf("exited (%v) before %s", c.err, strings.TrimSpace(prefix)))
			}
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				return rest, nil
			}
		case <-timer.C:
			return "", c.failure(fmt.Sprintf("no %s within %v", strings.TrimSpace(prefix), childTimeout))
		case <-c.e.ctx.Done():
			return "", c.e.ctx.Err()
		}
	}
}

// result waits for the child's RESULT line.
func (c *benchChild) result() (childReport, error) {
	var r childReport
	line, err := c.expect("RESULT ")
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		return r, c.failure(fmt.Sprintf("bad RESULT %q", line))
	}
	return r, nil
}

func (c *benchChild) send(line string) error {
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		return c.failure(fmt.Sprintf("send %q: %v", line, err))
	}
	return nil
}

// wait closes the child's stdin and waits for it to exit on its own,
// killing it after childTimeout. A non-zero exit is an error.
func (c *benchChild) wait() error {
	if c.done {
		return c.exitErr()
	}
	_ = c.stdin.Close()
	timer := time.NewTimer(childTimeout)
	defer timer.Stop()
	killed := false
	for {
		select {
		case _, ok := <-c.lines:
			if ok {
				continue
			}
			c.finish()
			if killed {
				return c.failure(fmt.Sprintf("did not exit within %v", childTimeout))
			}
			return c.exitErr()
		case <-timer.C:
			killed = true
			_ = c.cmd.Process.Kill()
		}
	}
}

func (c *benchChild) exitErr() error {
	if c.err != nil {
		return c.failure(c.err.Error())
	}
	return nil
}

// kill ends a child that has not been waited for; for deferred clean-up.
func (c *benchChild) kill() {
	if c.done {
		return
	}
	_ = c.stdin.Close()
	_ = c.cmd.Process.Kill()
	for range c.lines {
	}
	c.finish()
}

// finish reaps the child once its stdout is closed, and removes the
// buffers it owned if it did not.
func (c *benchChild) finish() {
	if c.done {
		return
	}
	c.done = true
	c.placement()
	for range c.lines { // the reader goroutine ends at EOF
	}
	c.err = c.cmd.Wait()
	c.e.mu.Lock()
	delete(c.e.live, c)
	c.e.mu.Unlock()
	for _, name := range c.owns {
		removeBuffer(name)
	}
}

// ---- Stage 1: floors (the round trips: floors.go) ----

// memcpyFloor copies size bytes at advancing offsets of a prefaulted
// shared mapping as large as the streaming ring (internal/floor's
// Memcpy): one lap of the mapping to warm up and to learn how many laps
// fill d, then five batches of laps in about d. It returns the median
// batch's ns per copy: on a shared machine one batch may stall.
func (e *Engine) memcpyFloor(size int, d time.Duration) (float64, error) {
	dst, err := unix.Mmap(-1, 0, int(streamRing(size)), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_SHARED|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return 0, fmt.Errorf("mmap: %w", err)
	}
	defer unix.Munmap(dst)
	lap := max(len(dst)/size, 1)
	perCopy := floor.Memcpy(dst, size, lap) // warm-up
	const batches = 5
	laps := min(max(int(float64(d.Nanoseconds())/batches/(perCopy*float64(lap))), 1), 1<<20)
	ns := make([]float64, batches)
	for i := range ns {
		if err := e.ctx.Err(); err != nil {
			return 0, err
		}
		ns[i] = floor.Memcpy(dst, size, laps*lap)
	}
	slices.Sort(ns)
	return ns[batches/2], nil
}

// ---- Stage 2: ping-pong through two rings ----

// PingPongFigures are what a ring ping-pong measured: the round trips'
// latency, and the CPU time each process spent per round trip.
type PingPongFigures struct {
	Latency        Latency
	PingCPUNsPerRT float64 // this process: writes the request, reads the response
	EchoCPUNsPerRT float64 // the child: reads the request, writes it back
	Placement      Placement
	Counters       *OpCounters // both processes' notify.Stats, per round trip

	hist *latencyHist // the round trips, for merging rounds

	readers, writers notify.Stats // this process's sides, over the round
}

// openLoop sets up a loop through a child playing role (echo or relay,
// see openPassThrough): it creates ring back (size bytes, with the
// notifier) as its reader, starts the child, which creates ring out and
// connects to back, and connects to out. closeLoop undoes it all, in the
// order the deferred calls it replaces ran.
func (e *Engine) openLoop(role, notifier, out, back string, size uint64) (r *ring.Reader, w *ring.Writer, c *benchChild, closeLoop func(), err error) {
	n, err := ring.NewNotifier(notifier)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	r, err = ring.NewReader(back, ring.Config{PayloadSize: size}, ring.WithNotifier(n))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	c, err = e.start(role, []string{out}, notifier, out, back, strconv.FormatUint(size, 10))
	if err != nil {
		r.Close()
		return nil, nil, nil, nil, err
	}
	if _, err = c.expect("READY"); err == nil {
		w, err = ring.Connect(out)
	}
	if err != nil {
		c.kill()
		r.Close()
		return nil, nil, nil, nil, err
	}
	return r, w, c, func() { w.Close(); c.kill(); r.Close() }, nil
}

// pingPong bounces frames of size bytes through a request ring (this
// process writes, the child reads) and a response ring (the child writes
// its copy back, this process reads), both with the notifier. Round trips
// during warm are not recorded; then round trips are recorded for d (at
// most maxRounds).
func (e *Engine) pingPong(notifier string, size int, warm, d time.Duration, maxRounds int) (PingPongFigures, error) {
	s, err := e.openPingPong(notifier, size)
	if err != nil {
		return PingPongFigures{}, err
	}
	defer s.close()
	fig, err := s.measure(warm, d, maxRounds)
	if err != nil {
		return fig, err
	}
	echoCPU, err := s.finish()
	fig.EchoCPUNsPerRT = echoCPU
	fig.Counters = newOpCounters(fig.Latency.Count, fig.readers.Add(s.echoReaders), fig.writers.Add(s.echoWriters))
	return fig, err
}

// pingSession is an open ping-pong: the two rings and the echo child,
// measured in one or more rounds.
type pingSession struct {
	e         *Engine
	r         *ring.Reader
	w         *ring.Writer
	c         *benchChild
	closeLoop func()
	payload   []byte
	measured  int64 // round trips recorded over all rounds

	echoReaders, echoWriters notify.Stats // the echo child's, once finished
}

func (e *Engine) openPingPong(notifier string, size int) (*pingSession, error) {
	req, resp := e.name("req"), e.name("resp")
	r, w, c, closeLoop, err := e.openLoop("echo", notifier, req, resp, pingPongRing(size))
	if err != nil {
		return nil, err
	}
	return &pingSession{e: e, r: r, w: w, c: c, closeLoop: closeLoop, payload: benchPayload(size)}, nil
}

func (s *pingSession) close() { s.closeLoop() }

func (s *pingSession) roundTrip() error {
	if err := s.w.WriteFrame(s.payload); err != nil {
		return fmt.Errorf("write request: %w", err)
	}
	f, err := s.r.ReadFrame(s.e.ctx)
	if err != nil {
		return fmt.Errorf("read response: %w (%v)", err, s.c.stderr.String())
	}
	return f.Release()
}

// measure runs one round: round trips for warm unrecorded, then recorded
// for d (at most maxRounds). The figures have no echo CPU (see finish).
func (s *pingSession) measure(warm, d time.Duration, maxRounds int) (PingPongFigures, error) {
	var fig PingPongFigures
	s.payload[0] = markWarm
	for start := time.Now(); time.Since(start) < warm; {
		if err := s.roundTrip(); err != nil {
			return fig, err
		}
	}
	s.c.resample() // where it ran while measured, not before
	s.payload[0] = markMeasured
	h := newLatencyHist()
	r0, w0 := s.r.Stats(), s.w.Stats()
	cpu0 := cpuTime()
	start := time.Now()
	last := start
	for {
		if err := s.roundTrip(); err != nil {
			return fig, err
		}
		now := time.Now()
		h.Record(now.Sub(last))
		last = now
		if now.Sub(start) >= d || h.Count() >= int64(maxRounds) {
			break
		}
	}
	cpu := cpuTime() - cpu0
	fig.readers, fig.writers = statsSub(s.r.Stats(), r0), statsSub(s.w.Stats(), w0)
	fig.Placement = s.c.resample()
	s.measured += h.Count()
	fig.Latency, fig.hist = h.Summary(), h
	fig.PingCPUNsPerRT = float64(cpu.Nanoseconds()) / float64(max(h.Count(), 1))
	return fig, nil
}

// pause makes the echo child wait, off the ring, until resume.
func (s *pingSession) pause() error {
	s.payload[0] = markPause
	if err := s.w.WriteFrame(s.payload); err != nil {
		return fmt.Errorf("write pause: %w", err)
	}
	return nil
}

func (s *pingSession) resume() error { return s.c.send("resume") }

// finish ends the echo child and returns its CPU time per measured round
// trip, over all rounds.
func (s *pingSession) finish() (float64, error) {
	s.payload[0] = markQuit
	if err := s.w.WriteFrame(s.payload); err != nil {
		return 0, err
	}
	rep, err := s.c.result()
	if err != nil {
		return 0, err
	}
	if err := s.c.wait(); err != nil {
		return 0, err
	}
	s.echoReaders, s.echoWriters = rep.ReaderStats, rep.WriterStats
	return float64(rep.CPUNs) / float64(max(rep.Frames, 1)), nil
}

// ---- Stage 3: streaming ----

// StreamFigures are what a stream measured over its measured window.
type StreamFigures struct {
	Frames                 int64
	Seconds                float64
	FramesPerSec           float64
	ReaderCPUSecPerMFrames float64   // CPU seconds per million frames, this process
	WriterCPUSecPerMFrames float64   // the same, the writer child
	Placement              Placement // where the reader (this) and the writer ran while measured

	Counters *OpCounters // both processes' notify.Stats, per frame
}

// stream measures a child writing frames of size bytes as fast as the
// ring takes them into this process, which releases each without
// touching its bytes (zero copy). After warm, frames are counted for d;
// each side measures its own CPU time over that window.
func (e *Engine) stream(notifier string, size int, warm, d time.Duration, maxFrames int64) (StreamFigures, error) {
	var fig StreamFigures
	name := e.name("stream")
	n, err := ring.NewNotifier(notifier)
	if err != nil {
		return fig, err
	}
	r, err := ring.NewReader(name, ring.Config{PayloadSize: streamRing(size)}, ring.WithNotifier(n))
	if err != nil {
		return fig, err
	}
	defer r.Close()
	c, err := e.start("stream-writer", nil, strconv.Itoa(size), name)
	if err != nil {
		return fig, err
	}
	defer c.kill()
	if _, err := c.expect("READY"); err != nil {
		return fig, err
	}
	if err := c.send("go"); err != nil {
		return fig, err
	}
	win, err := e.receiveStream(r, c, size, warm, d, maxFrames)
	if err != nil {
		return fig, err
	}
	rep, err := c.result()
	if err != nil {
		return fig, err
	}
	if err := c.wait(); err != nil {
		return fig, err
	}
	fig.Frames = win.stopFrames - win.markFrames
	fig.Seconds = win.stopAt.Sub(win.markAt).Seconds()
	fig.FramesPerSec = perSecond(fig.Frames, win.stopAt.Sub(win.markAt))
	fig.ReaderCPUSecPerMFrames = secondsPerMillion(win.stopCPU-win.markCPU, fig.Frames)
	fig.WriterCPUSecPerMFrames = secondsPerMillion(time.Duration(rep.CPUNs), rep.Frames)
	fig.Counters = newOpCounters(fig.Frames, statsSub(win.stopStats, win.markStats), rep.WriterStats)
	fig.Placement = win.placed
	return fig, nil
}

// streamWindow is the measured part of a stream: from the mark to the
// stop, in frames, time and this process's CPU time.
type streamWindow struct {
	markFrames, stopFrames int64
	markCPU, stopCPU       time.Duration
	markAt, stopAt         time.Time
	markStats, stopStats   notify.Stats
	placed                 Placement // from the mark to the stop
}

// receiveStream reads and releases the writer child's frames until its
// quit frame: after warm it tells the child "mark", after d more (or
// maxFrames more frames) "stop".
func (e *Engine) receiveStream(r *ring.Reader, c *benchChild, size int, warm, d time.Duration, maxFrames int64) (streamWindow, error) {
	var win streamWindow
	// Small frames come millions a second: look at the clock every 64.
	clockEvery := int64(64)
	if size >= 4096 {
		clockEvery = 1
	}
	var frames int64
	phase := 0
	start := time.Now()
	for {
		f, err := r.ReadFrame(e.ctx)
		if err != nil {
			return win, fmt.Errorf("read: %w (%v)", err, c.stderr.String())
		}
		if phase == 2 && f.Bytes()[0] == markQuit {
			_ = f.Release()
			return win, nil
		}
		if err := f.Release(); err != nil {
			return win, err
		}
		frames++
		if phase < 2 && frames%clockEvery == 0 {
			now := time.Now()
			switch {
			case phase == 0 && now.Sub(start) >= warm:
				phase, win.markAt, win.markFrames, win.markCPU, win.markStats = 1, now, frames, cpuTime(), r.Stats()
				c.resample() // where it ran while measured, not before
				if err := c.send("mark"); err != nil {
					return win, err
				}
			case phase == 1 && (now.Sub(win.markAt) >= d || frames-win.markFrames >= maxFrames):
				phase, win.stopAt, win.stopFrames, win.stopCPU, win.stopStats = 2, now, frames, cpuTime(), r.Stats()
				win.placed = c.resample()
				if err := c.send("stop"); err != nil {
					return win, err
				}
			}
		}
	}
}

// ---- Stage 4: relay round trip ----

type relayFigures struct {
	zeroCopy bool
	fps      int
	sentFPS  float64
	lat      Latency
	legs     relayLegs
	placed   Placement // where process 1 (this) and the relay ran during the rate
}

// relayLegs splits the round trip at the points the two processes stamp
// (CLOCK_MONOTONIC): process 1 copies into A (send → WriteFrame
// returned), the relay wakes and takes the frame (→ its ReadFrame
// returned), copies into B (→ copy done), and process 1 wakes and takes
// it (→ its ReadFrame returned). Each is a p50 of its own; they need not
// add up to the round trip's p50.
type relayLegs struct {
	CopyANs   float64 `json:"copy_a_p50_ns"`
	ToRelayNs float64 `json:"wake_relay_p50_ns"`
	CopyBNs   float64 `json:"copy_b_p50_ns"`
	BackNs    float64 `json:"wake_back_p50_ns"`
}

// relayLegHists records the legs of one rate.
type relayLegHists struct{ copyA, toRelay, copyB, back *latencyHist }

func newRelayLegHists() relayLegHists {
	return relayLegHists{newLatencyHist(), newLatencyHist(), newLatencyHist(), newLatencyHist()}
}

func (h relayLegHists) summary() relayLegs {
	return relayLegs{h.copyA.Summary().P50Ns, h.toRelay.Summary().P50Ns, h.copyB.Summary().P50Ns, h.back.Summary().P50Ns}
}

// relay measures the round trip of the other implementations' published
// benchmark: this process (process 1) writes relayFrameBytes frames
// carrying their send time into buffer A at each rate; a relay child
// (process 2) reads A, reserves the same size in B, copies, commits and
// releases; this process reads B back (it owns B's reader) and records
// now − send time. Each rate sends warm frames unrecorded, then frames
// recorded, paced at the rate; the next rate starts once all frames of
// the previous one came back.
func (e *Engine) relay(notifier string, rates []int, warm, frames int, bufSize uint64) ([]relayFigures, error) {
	return e.relayVariant(notifier, false, rates, warm, frames, bufSize)
}

// relayVariant is relay, or with zeroCopy its zero-copy variant: process
// 1 reserves each frame in A and stamps it in place (Reserve, header,
// Commit), writing none of its payload, so the relay's copy A→B is the
// only one, as in the reference's benchmark_roundtrip.
func (e *Engine) relayVariant(notifier string, zeroCopy bool, rates []int, warm, frames int, bufSize uint64) ([]relayFigures, error) {
	a, b := e.name("relay-a"), e.name("relay-b")
	rb, wa, c, closeLoop, err := e.openLoop("relay", notifier, a, b, bufSize)
	if err != nil {
		return nil, err
	}
	defer closeLoop()

	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	run := newRelayRun(rates, warm, frames)
	senderErr := make(chan error, 1)
	go func() {
		err := e.relaySend(ctx, wa, zeroCopy, rates, warm, frames, run.sent, run.written, run.rateDone)
		if err != nil {
			cancel() // the receiver is waiting for frames that will not come
		}
		senderErr <- err
	}()
	recvErr := run.receive(ctx, rb, c)
	if recvErr != nil {
		cancel()
	}
	// The sender's error is the cause when it failed first; the
	// receiver's is when the sender only saw the cancellation.
	if err := <-senderErr; err != nil && (recvErr == nil || !errors.Is(err, context.Canceled)) {
		recvErr = err
	}
	if recvErr != nil {
		return nil, recvErr
	}
	if _, err := c.result(); err != nil {
		return nil, err
	}
	if err := c.wait(); err != nil {
		return nil, err
	}
	figs := run.figures()
	for i := range figs {
		figs[i].zeroCopy = zeroCopy
	}
	return figs, nil
}

// relayRun is what the sender and the receiver of a relay measurement
// share: per rate, the round trips, their legs, when each frame's
// WriteFrame returned, the rate actually sent, and a signal that all of
// a rate's frames are back.
type relayRun struct {
	rates        []int
	warm, frames int
	hists        []*latencyHist
	legs         []relayLegHists
	written      [][]atomic.Int64 // when WriteFrame returned, per frame
	sent         []float64
	placed       []Placement
	rateDone     chan int
}

func newRelayRun(rates []int, warm, frames int) *relayRun {
	run := &relayRun{rates: rates, warm: warm, frames: frames,
		hists: make([]*latencyHist, len(rates)), legs: make([]relayLegHists, len(rates)),
		written: make([][]atomic.Int64, len(rates)), sent: make([]float64, len(rates)), placed: make([]Placement, len(rates)),
		rateDone: make(chan int, len(rates))}
	for i := range rates {
		run.hists[i] = newLatencyHist()
		run.legs[i] = newRelayLegHists()
		run.written[i] = make([]atomic.Int64, warm+frames)
	}
	return run
}

// receive reads buffer B until the quit frame, recording each frame's
// round trip and legs.
func (run *relayRun) receive(ctx context.Context, rb *ring.Reader, c *benchChild) error {
	for {
		f, err := rb.ReadFrame(ctx)
		if err != nil {
			return fmt.Errorf("read B: %w (%v)", err, c.stderr.String())
		}
		now := monoNs()
		sentNs, tag := relayHeader(f.Bytes())
		got, copied := relayStamps(f.Bytes())
		_ = f.Release()
		if tag&relayQuit != 0 {
			return nil
		}
		ri, i := splitRelayTag(tag)
		if ri >= len(run.rates) || i >= run.warm+run.frames {
			return fmt.Errorf("frame with rate index %d, frame index %d", ri, i)
		}
		if i >= run.warm {
			run.record(ri, i, sentNs, got, copied, now)
		}
		if i == run.warm+run.frames-1 {
			run.placed[ri] = c.resample()
			run.rateDone <- ri
		}
	}
}

// record adds frame i of rate ri, stamped at sentNs by the sender, got
// and copied by the relay, and back at now.
func (run *relayRun) record(ri, i int, sentNs, got, copied, now int64) {
	run.hists[ri].RecordNs(now - sentNs)
	l := run.legs[ri]
	// The sender stamps its return from WriteFrame a moment after the
	// frame is out; a frame back before that (the sender descheduled)
	// has no first two legs.
	if w := run.written[ri][i].Load(); w != 0 {
		l.copyA.RecordNs(w - sentNs)
		l.toRelay.RecordNs(got - w)
	}
	l.copyB.RecordNs(copied - got)
	l.back.RecordNs(now - copied)
}

func (run *relayRun) figures() []relayFigures {
	out := make([]relayFigures, len(run.rates))
	for i, fps := range run.rates {
		out[i] = relayFigures{fps: fps, sentFPS: run.sent[i], lat: run.hists[i].Summary(), legs: run.legs[i].summary(),
			placed: run.placed[i]}
	}
	return out
}

// pacedCopy measures what the relay's copies cost without any ring: at
// each rate, frames copies of relayFrameBytes from a private buffer into
// a prefaulted shared mapping of bufSize bytes at advancing offsets, one
// per period, idle in between as the relay's processes are. It returns
// the p50 ns per copy of each rate. A copy after an idle gap is slower
// than the back-to-back copies of the memcpy floor: caches, TLB and the
// (virtual) CPU have cooled down.
func (e *Engine) pacedCopy(rates []int, frames int, bufSize uint64) ([]float64, error) {
	dst, err := unix.Mmap(-1, 0, int(max(bufSize, 2*relayFrameBytes)), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_SHARED|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	defer unix.Munmap(dst)
	src := benchPayload(relayFrameBytes)
	out := make([]float64, len(rates))
	off := 0
	for ri, fps := range rates {
		period := time.Second / time.Duration(fps)
		ns := make([]float64, frames)
		next := time.Now()
		for i := range ns {
			if err := e.ctx.Err(); err != nil {
				return nil, err
			}
			time.Sleep(time.Until(next))
			next = next.Add(period)
			if off+relayFrameBytes > len(dst) {
				off = 0
			}
			t := time.Now()
			copy(dst[off:off+relayFrameBytes], src)
			ns[i] = float64(time.Since(t).Nanoseconds())
			off += relayFrameBytes
		}
		slices.Sort(ns)
		out[ri] = ns[len(ns)/2]
	}
	return out, nil
}

// relaySend is process 1's sending side of the relay: paced frames, each
// stamped just before it is copied into A (with zeroCopy: reserved in A
// and stamped in place, its payload not written), then the quit frame.
func (e *Engine) relaySend(ctx context.Context, w *ring.Writer, zeroCopy bool, rates []int, warm, frames int,
	sent []float64, written [][]atomic.Int64, rateDone <-chan int) error {
	var src []byte
	if !zeroCopy {
		src = benchPayload(relayFrameBytes)
	}
	send := func(sentNs int64, tag uint64) error {
		if !zeroCopy {
			putRelayHeader(src, sentNs, tag)
			return w.WriteFrame(src)
		}
		buf, err := w.Reserve(relayFrameBytes)
		if err != nil {
			return err
		}
		putRelayHeader(buf, sentNs, tag)
		return w.Commit()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	sleepUntil := func(t time.Time) error {
		d := time.Until(t)
		if d <= 0 {
			return nil
		}
		timer.Reset(d)
		select {
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for ri, fps := range rates {
		period := time.Second / time.Duration(fps)
		start := time.Now()
		var first, last time.Time
		for i := range warm + frames {
			if err := sleepUntil(start.Add(time.Duration(i) * period)); err != nil {
				return err
			}
			now := time.Now()
			if i == warm {
				first = now
			}
			last = now
			if err := send(monoNs(), relayTag(ri, i)); err != nil {
				return fmt.Errorf("write A: %w", err)
			}
			written[ri][i].Store(monoNs())
		}
		if frames > 1 {
			sent[ri] = float64(frames-1) / last.Sub(first).Seconds()
		}
		// The next rate starts when this one is all back, so that rates
		// do not overlap.
		select {
		case <-rateDone:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(childTimeout):
			return errors.New("relay: frames did not come back")
		}
	}
	if err := send(0, relayQuit); err != nil {
		return fmt.Errorf("write A: %w", err)
	}
	return nil
}

// ---- Stage 5: idle cost ----

// idle measures the CPU a reader uses while it waits d for a frame that
// does not come, with a writer connected: in the child, so that nothing
// else of the bench is counted; and where it waited (a reader asleep is
// seen on no CPU).
func (e *Engine) idle(notifier string, d time.Duration) (cpu, wall time.Duration, placed Placement, err error) {
	name := e.name("idle")
	c, err := e.start("idle-reader", []string{name}, notifier, name, d.String())
	if err != nil {
		return 0, 0, placed, err
	}
	defer c.kill()
	if _, err := c.expect("READY"); err != nil {
		return 0, 0, placed, err
	}
	w, err := ring.Connect(name)
	if err != nil {
		return 0, 0, placed, err
	}
	defer w.Close()
	c.resample() // where the reader waits, not where it set up
	if err := c.send("go"); err != nil {
		return 0, 0, placed, err
	}
	rep, err := c.result()
	if err != nil {
		return 0, 0, placed, err
	}
	placed = c.resample()
	_ = w.Close()
	if err := c.wait(); err != nil {
		return 0, 0, placed, err
	}
	return time.Duration(rep.CPUNs), time.Duration(rep.WallNs), placed, nil
}

// ---- single measurements, for Go benchmarks ----

// forever is the time limit of a measurement bounded by a count.
const forever = time.Duration(math.MaxInt64)

// FloorRoundTrips measures rounds round trips of floor f between this
// process and a child, after 1,000 unrecorded ones.
func (e *Engine) FloorRoundTrips(f Floor, rounds int) (Latency, error) {
	lat, _, err := e.floorPingPong(f, 1000, forever, max(rounds, 1))
	return lat, err
}

// PingPong measures rounds round trips of size-byte frames through a
// request ring and a response ring with the named notifier (this process
// writes requests, a child echoes them back), after the bench's default
// warm-up of 200 ms.
func (e *Engine) PingPong(notifier string, size, rounds int) (PingPongFigures, error) {
	if err := checkFrameSize(size); err != nil {
		return PingPongFigures{}, err
	}
	return e.pingPong(notifier, size, defaultWarmup, forever, max(rounds, 1))
}

// Stream measures a child writing size-byte frames with the named
// notifier into this process as fast as the ring takes them, over about
// frames frames after the default warm-up.
func (e *Engine) Stream(notifier string, size int, frames int64) (StreamFigures, error) {
	if err := checkFrameSize(size); err != nil {
		return StreamFigures{}, err
	}
	return e.stream(notifier, size, defaultWarmup, forever, max(frames, 1))
}

// Memcpy returns the ns per copy of size bytes copied copies times at
// advancing offsets of a prefaulted shared mapping as large as a
// streaming ring of that size, after one unrecorded lap of the mapping:
// the memcpy floor of the streaming stage.
func (e *Engine) Memcpy(size, copies int) (float64, error) {
	if err := checkFrameSize(size); err != nil {
		return 0, err
	}
	dst, err := unix.Mmap(-1, 0, int(streamRing(size)), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_SHARED|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	if err != nil {
		return 0, fmt.Errorf("mmap: %w", err)
	}
	defer unix.Munmap(dst)
	floor.Memcpy(dst, size, max(len(dst)/size, 1)) // warm-up
	return floor.Memcpy(dst, size, max(copies, 1)), nil
}

// checkFrameSize rejects the frame sizes the bench does not take.
func checkFrameSize(size int) error {
	if size < 1 || size > maxFrameBytes {
		return fmt.Errorf("frame size %d: want 1 byte to %s", size, fmtBytes(maxFrameBytes))
	}
	return nil
}
