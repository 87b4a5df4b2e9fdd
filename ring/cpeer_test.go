package ring

// Harness for testdata/zbpeer.c, a foreign ZeroBuffer v1 peer written in C
// against glibc (shm_open, sem_open, ...) the way the C++ implementation
// does it. Interop tests start it as a child process:
//
//	zbpeer reader NAME [--payload-size P] [--metadata-size M] [--frames N]
//	                   [--sizes a,b,c] [--expect-metadata STR] [--timeout-ms T]
//	zbpeer writer NAME [--frames N] [--sizes a,b,c] [--metadata STR]
//	                   [--timeout-ms T]
//
// Frame k (0-based) has size sizes[k%len(sizes)] and byte i of its payload
// is byte(k+i); see cPeerPattern. The peer prints READY (reader), then
// "OK frames=N bytes=TOTAL" or "ERROR ...", and exits 0 on success, 1 on a
// data mismatch, 2 on a protocol or liveness error, 3 on SIGTERM. Every wait
// of the peer is bounded by --timeout-ms, so a peer always exits on its own,
// removing what it created, even if the test binary dies.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cPeerTimeoutMS is the --timeout-ms the tests pass: the longest a peer
// waits for one frame (or for room for one frame). It only bounds how long a
// broken run takes to fail; no test passes or fails because of it.
const cPeerTimeoutMS = 120000

// cPeerExitLimit bounds how long a test waits for a peer to exit on its own
// before it kills it and fails. Larger than any of the peer's own bounds.
const cPeerExitLimit = 5 * time.Minute

var cPeerBinaries sync.Map // testing.TB -> string

// buildCPeer compiles testdata/zbpeer.c into the test's temporary directory
// (once per test; the directory and the binary are removed when the test
// ends) and returns the binary's path. It skips the test when gcc is missing.
func buildCPeer(t testing.TB) string {
	t.Helper()
	if p, ok := cPeerBinaries.Load(t); ok {
		return p.(string)
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc not found; the C interop peer cannot be built")
	}
	src, err := filepath.Abs(filepath.Join("testdata", "zbpeer.c"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "zbpeer")
	cmd := exec.Command(gcc, "-O2", "-Wall", "-Wextra", "-pthread", "-o", bin, src, "-lrt")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the C peer: %v\n%s", err, out)
	}
	cPeerBinaries.Store(t, bin)
	t.Cleanup(func() { cPeerBinaries.Delete(t) })
	return bin
}

// cPeerPattern fills b with the payload of frame k (0-based) as zbpeer
// writes and expects it.
func cPeerPattern(k int, b []byte) {
	for i := range b {
		b[i] = byte(k + i)
	}
}

// cPeerCheck reports the first byte of b that differs from frame k's
// payload, or -1.
func cPeerCheck(k int, b []byte) int {
	for i := range b {
		if b[i] != byte(k+i) {
			return i
		}
	}
	return -1
}

// cPeerSizes formats a size list for --sizes.
func cPeerSizes(sizes []int) string {
	s := make([]string, len(sizes))
	for i, n := range sizes {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// cPeerRingWalk is what a writer leaves behind in a ring of payloadSize bytes
// when it writes frames of the given sizes, cycling: how many wrap markers
// and how many short tails (1..15 bytes skipped without a marker). Positions
// in the ring depend only on the sizes, not on the reader's timing, so this
// is exact. safe selects the Go writer's rule (a frame that would end 1..15
// bytes before the end wraps first, with a marker); otherwise it is the
// existing peers' rule. maxNeed is the most free space a frame needed
// (the protocol's space_to_end + T when wrapping): a cycle with maxNeed
// above the ring size cannot be written, as that frame never fits.
type cPeerRingWalk struct {
	markers, shortTails, exactEnds int
	maxNeed                        uint64
}

func cPeerWalkRing(payloadSize uint64, sizes []int, frames int, safe bool) cPeerRingWalk {
	var w cPeerRingWalk
	var pos uint64
	for k := 0; k < frames; k++ {
		t := 16 + uint64(sizes[k%len(sizes)])
		toEnd := payloadSize - pos
		wrap := toEnd < t
		if safe && !wrap && toEnd-t > 0 && toEnd-t < 16 {
			wrap = true
		}
		need := t
		if wrap {
			need += toEnd
		}
		w.maxNeed = max(w.maxNeed, need)
		if wrap {
			switch {
			case toEnd >= 16:
				w.markers++
			case toEnd > 0:
				w.shortTails++
			}
			pos = 0
		}
		pos += t
		if pos == payloadSize {
			w.exactEnds++
		}
	}
	return w
}

var cPeerNameCounter atomic.Uint64

// cPeerBufferName returns a buffer name unique to this process and call, and
// registers a cleanup, which runs after every cleanup registered later (so
// after the peers and the Go reader or writer are gone), that fails the test
// if any of the buffer's files is left behind, and removes them.
func cPeerBufferName(t testing.TB, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), cPeerNameCounter.Add(1))
	t.Cleanup(func() {
		for _, p := range cPeerBufferFiles(name) {
			if _, err := os.Lstat(p); err == nil {
				if !t.Failed() {
					t.Errorf("left behind: %s", p)
				}
				os.Remove(p)
			}
		}
	})
	return name
}

// cPeerBufferFiles are the files a reader creates for buffer name.
func cPeerBufferFiles(name string) []string { return BufferFiles(name).All() }

// cPeerOutput is an io.Writer safe for the exec package's copying
// goroutine and the test's goroutine at once. It closes ready when it sees
// the line READY.
type cPeerOutput struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	seen  bool
}

func (b *cPeerOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.ready != nil && !b.seen {
		for _, l := range strings.Split(b.buf.String(), "\n") {
			if l == "READY" {
				b.seen = true
				close(b.ready)
				break
			}
		}
	}
	return len(p), nil
}

func (b *cPeerOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cPeer is a running zbpeer process.
type cPeer struct {
	t      testing.TB
	args   []string
	cmd    *exec.Cmd
	stdout *cPeerOutput
	stderr *cPeerOutput
	done   chan struct{} // closed when Wait returned
	err    error         // Wait's result, valid after done
}

// cPeerResult is how a peer ended.
type cPeerResult struct {
	Code   int // exit status; -1 when killed by a signal
	Stdout string
	Stderr string
}

// Line returns the first stdout line starting with prefix, or "".
func (r cPeerResult) Line(prefix string) string {
	for _, l := range strings.Split(r.Stdout, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func (r cPeerResult) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// startCPeer builds zbpeer if needed and starts it with args. The process
// is always waited for: when the test ends with it still running (the test
// failed or forgot it), it is stopped (SIGTERM, which lets it remove its
// resources, then SIGKILL) and reaped.
func startCPeer(t testing.TB, args ...string) *cPeer {
	t.Helper()
	bin := buildCPeer(t)
	p := &cPeer{
		t:      t,
		args:   args,
		stdout: &cPeerOutput{ready: make(chan struct{})},
		stderr: &cPeerOutput{},
		done:   make(chan struct{}),
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting zbpeer %v: %v", args, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			if !t.Failed() {
				t.Errorf("zbpeer %v still running at the end of the test; stopping it", args)
			}
			p.stop()
		}
		if t.Failed() {
			t.Logf("zbpeer %v: %s", args, p.result())
		}
	})
	return p
}

// startCReader starts a zbpeer reader and waits until it printed READY,
// so that the buffer exists.
func startCReader(t testing.TB, name string, args ...string) *cPeer {
	t.Helper()
	p := startCPeer(t, append([]string{"reader", name}, args...)...)
	p.waitReady()
	return p
}

// startCWriter starts a zbpeer writer.
func startCWriter(t testing.TB, name string, args ...string) *cPeer {
	t.Helper()
	return startCPeer(t, append([]string{"writer", name}, args...)...)
}

// waitReady blocks until the peer printed READY; it fails the test if the
// peer exits first.
func (p *cPeer) waitReady() {
	p.t.Helper()
	select {
	case <-p.stdout.ready:
	case <-p.done:
		select {
		case <-p.stdout.ready:
		default:
			p.t.Fatalf("zbpeer %v exited before READY: %s", p.args, p.result())
		}
	case <-time.After(cPeerExitLimit):
		p.stop()
		p.t.Fatalf("zbpeer %v: no READY: %s", p.args, p.result())
	}
}

// Wait waits for the peer to exit and returns how it ended. A peer that
// does not exit within cPeerExitLimit (it bounds all its own waits far
// below that) is killed and fails the test.
func (p *cPeer) Wait() cPeerResult {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(cPeerExitLimit):
		p.stop()
		p.t.Fatalf("zbpeer %v did not exit: %s", p.args, p.result())
	}
	return p.result()
}

// WaitOK waits for the peer and fails the test unless it exited 0 and
// printed "OK frames=N bytes=B" with the given counts.
func (p *cPeer) WaitOK(frames int, bytes uint64) cPeerResult {
	p.t.Helper()
	r := p.Wait()
	want := fmt.Sprintf("OK frames=%d bytes=%d", frames, bytes)
	if r.Code != 0 || r.Line("OK ") != want {
		p.t.Fatalf("zbpeer %v: want %q and exit 0, got %s", p.args, want, r)
	}
	return r
}

// stop ends the peer if it still runs: SIGTERM, then SIGKILL after a grace
// period, and reaps it.
func (p *cPeer) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(10 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// result returns how the peer ended so far (Code -2 while it runs).
func (p *cPeer) result() cPeerResult {
	r := cPeerResult{Code: -2, Stdout: p.stdout.String(), Stderr: p.stderr.String()}
	select {
	case <-p.done:
		r.Code = 0
		var ee *exec.ExitError
		if errors.As(p.err, &ee) {
			r.Code = ee.ExitCode()
		} else if p.err != nil {
			r.Code = -1
			r.Stderr += "\n(wait: " + p.err.Error() + ")"
		}
	default:
	}
	return r
}

// cPeerParseOIEB parses the reader's "OIEB k=v ..." line.
func cPeerParseOIEB(t testing.TB, line string) map[string]uint64 {
	t.Helper()
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "OIEB" {
		t.Fatalf("no OIEB line: %q", line)
	}
	m := make(map[string]uint64)
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 64)
		if !ok || err != nil {
			t.Fatalf("bad OIEB line %q", line)
		}
		m[k] = n
	}
	return m
}

// cPeerCheckDrained checks the C reader's final OIEB line: everything
// written was read and every byte the writer took (tails included) was
// given back.
func cPeerCheckDrained(t testing.TB, r cPeerResult, payloadSize uint64) {
	t.Helper()
	o := cPeerParseOIEB(t, r.Line("OIEB "))
	if o["size"] != payloadSize || o["free"] != payloadSize {
		t.Errorf("final OIEB: free=%d of %d (size field %d), want all free", o["free"], payloadSize, o["size"])
	}
	if o["wcount"] != o["rcount"] {
		t.Errorf("final OIEB: written_count %d != read_count %d", o["wcount"], o["rcount"])
	}
	if o["wpos"]%payloadSize != o["rpos"]%payloadSize {
		t.Errorf("final OIEB: write_pos %d != read_pos %d", o["wpos"], o["rpos"])
	}
}

func cPeerSumSizes(sizes []int, frames int) uint64 {
	var n uint64
	for k := 0; k < frames; k++ {
		n += uint64(sizes[k%len(sizes)])
	}
	return n
}

// TestCPeerLoopback checks the C peer and this harness against themselves:
// the C writer feeds the C reader through wrap markers, and the C reader
// rejects the short tail the C writer leaves, as the C++ reader would.
func TestCPeerLoopback(t *testing.T) {
	const payload = 1024
	timeout := strconv.Itoa(cPeerTimeoutMS)

	t.Run("markers", func(t *testing.T) {
		sizes := []int{100, 300, 17, 1, 500}
		const frames = 500
		if w := cPeerWalkRing(payload, sizes, frames, false); w.markers == 0 || w.shortTails != 0 {
			t.Fatalf("size cycle gives %+v; want markers and no short tail", w)
		}
		name := cPeerBufferName(t, "zbtest-cpeer-")
		rd := startCReader(t, name, "--payload-size", strconv.Itoa(payload), "--metadata-size", "100",
			"--frames", strconv.Itoa(frames), "--sizes", cPeerSizes(sizes),
			"--expect-metadata", "loop", "--timeout-ms", timeout)
		wr := startCWriter(t, name, "--frames", strconv.Itoa(frames), "--sizes", cPeerSizes(sizes),
			"--metadata", "loop", "--timeout-ms", timeout)
		wr.WaitOK(frames, cPeerSumSizes(sizes, frames))
		cPeerCheckDrained(t, rd.WaitOK(frames, cPeerSumSizes(sizes, frames)), payload)
	})

	t.Run("short tail rejected", func(t *testing.T) {
		sizes := []int{97} // 9 frames of 113 bytes leave 7
		const frames = 50
		if w := cPeerWalkRing(payload, sizes, frames, false); w.shortTails == 0 {
			t.Fatalf("size cycle gives %+v; want a short tail", w)
		}
		name := cPeerBufferName(t, "zbtest-cpeer-")
		rd := startCReader(t, name, "--payload-size", strconv.Itoa(payload),
			"--frames", strconv.Itoa(frames), "--sizes", cPeerSizes(sizes), "--timeout-ms", timeout)
		wr := startCWriter(t, name, "--frames", strconv.Itoa(frames), "--sizes", cPeerSizes(sizes),
			"--timeout-ms", timeout)
		r := rd.Wait()
		if r.Code != 2 || !strings.HasPrefix(r.Line("ERROR "), "ERROR short tail at 1017") {
			t.Fatalf("C reader: want ERROR short tail at 1017, got %s", r)
		}
		// The writer, blocked for space, notices the reader is gone.
		if w := wr.Wait(); w.Code != 2 || !strings.HasPrefix(w.Line("ERROR "), "ERROR reader dead") {
			t.Fatalf("C writer: want ERROR reader dead, got %s", w)
		}
	})
}
