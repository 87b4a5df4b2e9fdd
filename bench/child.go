package bench

// The child processes of a bench. The bench re-executes its own program
// with benchChildEnv naming a role; RunChild (called first in main, or
// in a test binary's init) hands such a process to benchChildMain before
// any normal dispatch. A child talks to the bench
// in lines: it prints READY once set up, reads commands on stdin, and
// prints its figures as one "RESULT {json}" line. Errors go to stderr and
// the exit status is 2.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// Environment of a child: its role, and the core to pin itself to.
const (
	benchChildEnv = "ZB_BENCH_CHILD"
	benchCoreEnv  = "ZB_BENCH_CORE"
)

// In-band markers in the first payload byte of ping-pong and streaming
// frames: warm-up frames carry 0, measured ones markMeasured, and the last
// frame markQuit; markPause pauses an echo child between rounds.
const (
	markWarm     = 0
	markMeasured = 1
	markPause    = 0xFE
	markQuit     = 0xFF
)

// childWait bounds every wait of a child for its parent: a child whose
// parent stopped talking exits instead of lingering (it is also killed
// with its parent, by Pdeathsig).
const childWait = 2 * time.Minute

// childReport is a child's RESULT line.
type childReport struct {
	CPUNs  int64 `json:"cpu_ns"`  // CPU time of the measured part
	Frames int64 `json:"frames"`  // frames in the measured part
	WallNs int64 `json:"wall_ns"` // wall time of the measured part (idle)
	// The child's notify.Stats over the measured part: its reader's and
	// its writer's (echo), or its writer's (stream).
	ReaderStats notify.Stats `json:"reader_stats"`
	WriterStats notify.Stats `json:"writer_stats"`
}

// RunChild runs the role this process was started in, and exits, when
// this process is a child the bench started (the program run again with
// an environment variable naming the role); otherwise it returns at once.
// A program that runs the bench calls it first thing in main (Main does),
// and a test binary that runs it calls it from TestMain or an init
// function, so that the children never reach the program's own work.
func RunChild() {
	if role := os.Getenv(benchChildEnv); role != "" {
		os.Exit(benchChildMain(role, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
}

// benchChildMain runs the child role with its arguments and returns the
// exit status.
func benchChildMain(role string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if core := os.Getenv(benchCoreEnv); core != "" {
		n, err := strconv.Atoi(core)
		if err == nil {
			_, err = pinProcess(n)
		}
		if err != nil {
			fmt.Fprintf(stderr, "zerobuffer bench %s: pin to core %s: %v\n", role, core, err)
			return cli.ExitError
		}
	}
	c := &childIO{in: bufio.NewScanner(stdin), out: stdout}
	var err error
	switch role {
	case "floor-pong":
		err = c.floorPong(args)
	case "echo":
		err = c.echo(args)
	case "stream-writer":
		err = c.streamWriter(args)
	case "relay":
		err = c.relay(args)
	case "idle-reader":
		err = c.idleReader(args)
	case "openloop-writer":
		err = c.openLoopWriter(args)
	case "wake-writer":
		err = c.wakeWriter(args)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(stderr, "zerobuffer bench %s: %v\n", role, err)
		return cli.ExitError
	}
	return cli.ExitOK
}

type childIO struct {
	in  *bufio.Scanner
	out io.Writer
}

func (c *childIO) say(line string) { fmt.Fprintln(c.out, line) }

func (c *childIO) report(r childReport) {
	b, _ := json.Marshal(r)
	fmt.Fprintf(c.out, "RESULT %s\n", b)
}

// readLine returns the next command, or io.EOF when the parent closed
// stdin.
func (c *childIO) readLine() (string, error) {
	if c.in.Scan() {
		return c.in.Text(), nil
	}
	if err := c.in.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

// ignoreEOF is nil for io.EOF (the parent closed stdin: the end), else
// err.
func ignoreEOF(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

func wantArgs(args []string, n int, what string) error {
	if len(args) != n {
		return fmt.Errorf("want %s, got %q", what, args)
	}
	return nil
}

// openPassThrough opens what the echo and relay roles share, from args
// NOTIFIER IN OUT SIZE: it creates the ring IN (SIZE bytes, with the named
// notifier) as its reader and connects to OUT as its writer.
func openPassThrough(args []string) (*ring.Reader, *ring.Writer, error) {
	n, err := ring.NewNotifier(args[0])
	if err != nil {
		return nil, nil, err
	}
	size, err := strconv.ParseUint(args[3], 10, 64)
	if err != nil {
		return nil, nil, fmt.Errorf("bad ring size %q", args[3])
	}
	r, err := ring.NewReader(args[1], ring.Config{PayloadSize: size}, ring.WithNotifier(n))
	if err != nil {
		return nil, nil, err
	}
	w, err := ring.Connect(args[2], ring.WithWriteTimeout(childWait))
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	return r, w, nil
}

// echo is the far side of the ring ping-pong: args NOTIFIER REQ RESP
// RINGSIZE. It creates the request ring REQ, connects to the response ring
// RESP, and echoes each request until a frame marked markQuit; a frame
// marked markPause makes it wait for "resume" on stdin. It reports its
// CPU time over the frames marked markMeasured.
func (c *childIO) echo(args []string) error {
	if err := wantArgs(args, 4, "NOTIFIER REQ RESP RINGSIZE"); err != nil {
		return err
	}
	r, w, err := openPassThrough(args)
	if err != nil {
		return err
	}
	defer r.Close()
	defer w.Close()
	c.say("READY")
	ctx := context.Background()
	var rep childReport
	var cpu0 time.Duration
	var r0, w0 notify.Stats
	measuring := false
	for {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			return fmt.Errorf("read request: %w", err)
		}
		p := f.Bytes()
		// CPU time counts over the runs of measured frames.
		if measuring != (p[0] == markMeasured) {
			if measuring {
				rep.CPUNs += int64(cpuTime() - cpu0)
				rep.ReaderStats = rep.ReaderStats.Add(statsSub(r.Stats(), r0))
				rep.WriterStats = rep.WriterStats.Add(statsSub(w.Stats(), w0))
			} else {
				cpu0, r0, w0 = cpuTime(), r.Stats(), w.Stats()
			}
			measuring = !measuring
		}
		switch p[0] {
		case markQuit:
			_ = f.Release()
			c.report(rep)
			return nil
		case markPause:
			// Not echoed: the parent measures something else until it
			// says "resume"; meanwhile this process waits on stdin, not
			// on the ring (a spinning notifier would burn a CPU).
			_ = f.Release()
			if line, err := c.readLine(); err != nil || line != "resume" {
				return fmt.Errorf("paused: got %q, %v", line, err)
			}
			continue
		case markMeasured:
			rep.Frames++
		}
		buf, err := w.Reserve(len(p))
		if err != nil {
			return fmt.Errorf("reserve response: %w", err)
		}
		copy(buf, p)
		if err := f.Release(); err != nil {
			return err
		}
		if err := w.Commit(); err != nil {
			return fmt.Errorf("commit response: %w", err)
		}
	}
}

// streamWriter writes frames as fast as the ring takes them: args SIZE
// NAME. It starts on "go", notes its CPU time and frame count on "mark"
// and on "stop", then writes a frame marked markQuit and reports the
// figures between mark and stop.
func (c *childIO) streamWriter(args []string) error {
	if err := wantArgs(args, 2, "SIZE NAME"); err != nil {
		return err
	}
	size, err := strconv.Atoi(args[0])
	if err != nil || size <= 0 {
		return fmt.Errorf("bad size %q", args[0])
	}
	w, err := ring.Connect(args[1], ring.WithWriteTimeout(childWait))
	if err != nil {
		return err
	}
	defer w.Close()
	payload := benchPayload(size)
	c.say("READY")
	if line, err := c.readLine(); err != nil || line != "go" {
		return fmt.Errorf("waiting for go: got %q, %v", line, err)
	}
	// Commands arrive while we write: a goroutine turns them into a
	// phase the loop checks with one atomic load per frame.
	var phase atomic.Int32
	go func() {
		for {
			line, err := c.readLine()
			switch {
			case err != nil:
				phase.Store(2) // the parent went away: stop
				return
			case line == "mark":
				phase.CompareAndSwap(0, 1)
			case line == "stop":
				phase.Store(2)
				return
			}
		}
	}()
	var frames, markFrames int64
	var markCPU time.Duration
	var markStats notify.Stats
	seen := int32(0)
	for {
		if p := phase.Load(); p != seen {
			if seen == 0 {
				markFrames, markCPU, markStats = frames, cpuTime(), w.Stats()
			}
			if p == 2 {
				break
			}
			seen = p
		}
		if err := w.WriteFrame(payload); err != nil {
			return err
		}
		frames++
	}
	rep := childReport{CPUNs: int64(cpuTime() - markCPU), Frames: frames - markFrames, WriterStats: statsSub(w.Stats(), markStats)}
	payload[0] = markQuit
	if err := w.WriteFrame(payload); err != nil {
		return err
	}
	c.report(rep)
	return nil
}

// benchPayload is a frame's source bytes, written so that they are backed
// by real pages: a fresh allocation that is only read maps the kernel's
// shared zero page, whose reads always hit the cache, and a copy from it
// would beat the memcpy floor (which copies from written memory).
func benchPayload(size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(i*7 + 1)
	}
	p[0] = markWarm
	return p
}

// The relay's frames carry a 16-byte header in their payload: the send
// time (CLOCK_MONOTONIC ns, which every process shares) and a tag: the
// rate's index, the frame's index within the rate, and a quit bit. The
// relay stamps the next 16 bytes in B with the times its read returned
// and its copy ended, so that process 1 can split the round trip into
// its legs.
const (
	relayQuit      = uint64(1) << 63
	relayRateShift = 32
)

// monoNs reads CLOCK_MONOTONIC: unlike Go's monotonic readings, it is
// the same clock in every process.
func monoNs() int64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func putRelayStamps(p []byte, got, copied int64) {
	binary.LittleEndian.PutUint64(p[16:24], uint64(got))
	binary.LittleEndian.PutUint64(p[24:32], uint64(copied))
}

func relayStamps(p []byte) (got, copied int64) {
	return int64(binary.LittleEndian.Uint64(p[16:24])), int64(binary.LittleEndian.Uint64(p[24:32]))
}

func putRelayHeader(p []byte, sentNs int64, tag uint64) {
	binary.LittleEndian.PutUint64(p[0:8], uint64(sentNs))
	binary.LittleEndian.PutUint64(p[8:16], tag)
}

func relayHeader(p []byte) (sentNs int64, tag uint64) {
	return int64(binary.LittleEndian.Uint64(p[0:8])), binary.LittleEndian.Uint64(p[8:16])
}

func relayTag(rate, frame int) uint64 {
	return uint64(rate)<<relayRateShift | uint64(uint32(frame))
}

func splitRelayTag(tag uint64) (rate, frame int) {
	return int((tag &^ relayQuit) >> relayRateShift), int(uint32(tag))
}

// relay is process 2 of the relay round trip: args NOTIFIER A B SIZE. It
// creates buffer A (SIZE bytes) and connects to buffer B; each frame read
// from A is copied into a slot reserved in B, committed, and released
// from A. The quit frame is passed on, then it stops.
func (c *childIO) relay(args []string) error {
	if err := wantArgs(args, 4, "NOTIFIER A B SIZE"); err != nil {
		return err
	}
	in, out, err := openPassThrough(args)
	if err != nil {
		return err
	}
	defer in.Close()
	defer out.Close()
	c.say("READY")
	ctx := context.Background()
	var rep childReport
	cpu0 := cpuTime()
	for {
		f, err := in.ReadFrame(ctx)
		if err != nil {
			return fmt.Errorf("read A: %w", err)
		}
		got := monoNs()
		src := f.Bytes()
		dst, err := out.Reserve(len(src))
		if err != nil {
			return fmt.Errorf("reserve B: %w", err)
		}
		copy(dst, src)
		putRelayStamps(dst, got, monoNs())
		_, tag := relayHeader(src)
		if err := out.Commit(); err != nil {
			return fmt.Errorf("commit B: %w", err)
		}
		if err := f.Release(); err != nil {
			return err
		}
		if tag&relayQuit != 0 {
			break
		}
		rep.Frames++
	}
	rep.CPUNs = int64(cpuTime() - cpu0)
	c.report(rep)
	return nil
}

// idleReader measures what waiting costs: args NOTIFIER NAME DURATION. It
// creates the buffer, and on "go" waits for a frame that never comes for
// DURATION, reporting the CPU time it used meanwhile.
func (c *childIO) idleReader(args []string) error {
	if err := wantArgs(args, 3, "NOTIFIER NAME DURATION"); err != nil {
		return err
	}
	n, err := ring.NewNotifier(args[0])
	if err != nil {
		return err
	}
	d, err := time.ParseDuration(args[2])
	if err != nil || d <= 0 {
		return fmt.Errorf("bad duration %q", args[2])
	}
	r, err := ring.NewReader(args[1], ring.Config{PayloadSize: 64 << 10}, ring.WithNotifier(n))
	if err != nil {
		return err
	}
	defer r.Close()
	c.say("READY")
	if line, err := c.readLine(); err != nil || line != "go" {
		return fmt.Errorf("waiting for go: got %q, %v", line, err)
	}
	runtime.GC() // not during the measurement
	cpu0, start := cpuTime(), time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(d))
	defer cancel()
	f, err := r.ReadFrame(ctx)
	switch {
	case err == nil:
		_ = f.Release()
		return errors.New("a frame arrived on the idle ring")
	case !errors.Is(err, context.DeadlineExceeded):
		return err
	}
	c.report(childReport{CPUNs: int64(cpuTime() - cpu0), WallNs: int64(time.Since(start))})
	return nil
}
