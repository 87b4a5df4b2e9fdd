package main

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/pattern"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

func TestParseWriterArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want writerOptions
	}{
		{[]string{"buf"}, writerOptions{name: "buf", frames: 1000, size: 1024, pattern: pattern.Sequential, batchSize: 1, timeoutMS: 5000}},
		// Short names, NAME first.
		{[]string{"buf", "-n", "5", "-s", "10", "-m", "meta", "-v"},
			writerOptions{name: "buf", frames: 5, size: 10, metadata: "meta", hasMetadata: true, pattern: pattern.Sequential, batchSize: 1, timeoutMS: 5000, verbose: true}},
		// Long names, NAME last, = forms.
		{[]string{"--frames=7", "--size", "20", "--metadata", "", "--pattern", "random", "--seed", "9", "--delay-ms", "3",
			"--batch-size", "4", "--json-output", "--verbose", "--notifier", "semaphore", "--timeout-ms", "100", "--checksum", "buf"},
			writerOptions{name: "buf", frames: 7, size: 20, hasMetadata: true, pattern: pattern.Random, seed: 9, delayMS: 3, batchSize: 4,
				jsonOut: true, verbose: true, notifier: "semaphore", timeoutMS: 100, checksum: true}},
		// NAME between flags; single-dash long names.
		{[]string{"-frames", "1", "buf", "-pattern", "ones", "--metadata-file", "/x"},
			writerOptions{name: "buf", frames: 1, size: 1024, metadataFile: "/x", pattern: pattern.Ones, batchSize: 1, timeoutMS: 5000}},
		// After "--" everything is positional.
		{[]string{"-n", "2", "--", "-buf"},
			writerOptions{name: "-buf", frames: 2, size: 1024, pattern: pattern.Sequential, batchSize: 1, timeoutMS: 5000}},
	} {
		got, err := parseWriterArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, *got, tc.want)
		}
	}
	for _, bad := range [][]string{
		{},
		{"a", "b"},
		{"buf", "--bogus"},
		{"buf", "-n"},
		{"buf", "-n", "x"},
		{"buf", "-n", "-1"},
		{"buf", "-s", "0"},
		{"buf", "--pattern", "none"},
		{"buf", "--notifier", "pigeon"},
		{"buf", "--batch-size", "0"},
		{"buf", "-m", "x", "--metadata-file", "f"},
	} {
		if _, err := parseWriterArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseReaderArgs(t *testing.T) {
	o, err := parseReaderArgs([]string{"buf"})
	if err != nil {
		t.Fatal(err)
	}
	want := readerOptions{name: "buf", payloadSize: 268435456, metadataSize: 4096, perm: 0o600, timeoutMS: 5000, verify: pattern.None}
	if !reflect.DeepEqual(*o, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", *o, want)
	}
	o, err = parseReaderArgs([]string{"--payload-size", "1MiB", "-n", "3", "--metadata-size=0x100", "buf", "--perm", "0666",
		"--verify", "random", "--seed", "5", "--checksum", "--json-output", "-v", "--timeout-ms", "10", "--notifier", "semaphore", "--create"})
	if err != nil {
		t.Fatal(err)
	}
	want = readerOptions{name: "buf", frames: 3, payloadSize: 1 << 20, metadataSize: 256, perm: 0o666, timeoutMS: 10, verify: pattern.Random,
		seed: 5, checksum: true, notifier: "semaphore", jsonOut: true, verbose: true}
	if !reflect.DeepEqual(*o, want) {
		t.Errorf("\n got %+v\nwant %+v", *o, want)
	}
	// Compatibility spellings.
	o, err = parseReaderArgs([]string{"buf", "--buffer-size", "4096", "--check-pattern", "--validate", "--frames", "2", "--perm", "0o640"})
	if err != nil {
		t.Fatal(err)
	}
	if o.payloadSize != 4096 || o.verify != pattern.Sequential || o.frames != 2 || o.perm != 0o640 {
		t.Errorf("compat: %+v", *o)
	}
	for _, bad := range [][]string{
		{}, {"a", "b"}, {"buf", "--perm", "999"}, {"buf", "--perm", "1777"}, {"buf", "--payload-size", "0"},
		{"buf", "--payload-size", "lots"}, {"buf", "--verify", "maybe"}, {"buf", "--timeout-ms", "0"},
	} {
		if _, err := parseReaderArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseRelayArgs(t *testing.T) {
	o, err := parseRelayArgs([]string{"--transform", "xor", "in", "--xor-key", "0x5a", "out", "-n", "4", "--create-output",
		"--buffer-size", "2M", "--log-interval", "1.5"})
	if err != nil {
		t.Fatal(err)
	}
	want := relayOptions{in: "in", out: "out", frames: 4, waitOutput: true, payloadSize: 2 << 20, metadataSize: 4096, perm: 0o600,
		transform: pattern.TransformXor, xorKey: 0x5A, timeoutMS: 5000, logInterval: 1.5}
	if !reflect.DeepEqual(*o, want) {
		t.Errorf("\n got %+v\nwant %+v", *o, want)
	}
	o, err = parseRelayArgs([]string{"in", "out"})
	if err != nil || o.xorKey != 0xFF || o.transform != pattern.TransformNone || o.payloadSize != 256<<20 || o.frames != 0 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"in"}, {"in", "out", "x"}, {"in", "in"}, {"in", "out", "--transform", "rot13"}, {"in", "out", "--xor-key", "256"},
		{"in", "out", "--log-interval", "-1"},
	} {
		if _, err := parseRelayArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestBenchCommand runs `zerobuffer bench` through the command line with
// tiny counts: the command is the bench package's Run, with every
// built-in notifier linked in (the bench's own tests cover the rest).
func TestBenchCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"bench", "--smoke", "--stages", "floors,pingpong", "--pingpong-sizes", "64", "--stream-sizes", "64"},
		&out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	if n := len(ring.NotifierNames()); n != 7 {
		t.Errorf("%d notifiers linked in, want the 7 built-in ones: %q", n, ring.NotifierNames())
	}
	for _, n := range ring.NotifierNames() {
		if !strings.Contains(out.String(), "\n"+n+" ") {
			t.Errorf("no ping-pong row for %s:\n%s", n, out.String())
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 0 {
			t.Errorf("%q: exit %d", args, code)
		}
		for _, want := range []string{"reader NAME", "writer NAME", "relay IN OUT", "inspect", "bench", "help"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%q: usage lacks %q:\n%s", args, want, out.String())
			}
		}
	}
	for cmd, c := range commands {
		for _, args := range [][]string{{"help", cmd}, {cmd, "-h"}, {cmd, "--help"}} {
			var out, errOut bytes.Buffer
			if code := run(args, &out, &errOut); code != 0 || out.String() != c.usage {
				t.Errorf("%q: exit %d, output %q", args, code, out.String())
			}
		}
	}
	for _, args := range [][]string{{}, {"bogus"}, {"help", "bogus"}, {"inspect", "x"}, {"writer"}, {"reader", "--nope", "x"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and a message", args, code, errOut.String())
		}
	}
}

func TestJSONShape(t *testing.T) {
	for _, op := range []string{"write", "read", "relay"} {
		r := newResult(op, "buf", nil)
		r.Frames, r.Bytes, r.FrameSize, r.PayloadSize = 10, 1000, 100, 4096
		r.Notifier = "semaphore"
		r.finish(2*time.Second, 0xDEADBEEF, true)
		var out bytes.Buffer
		if code := r.report(&out, true); code != 0 {
			t.Errorf("%s: exit %d", op, code)
		}
		if strings.Count(out.String(), "\n") != 1 {
			t.Errorf("%s: not one line: %q", op, out.String())
		}
		var m map[string]any
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		for _, k := range []string{"operation", "buffer_name", "frames", "bytes", "frame_size", "payload_size", "metadata_size",
			"duration_seconds", "frames_per_second", "throughput_mbps", "verification_errors", "checksum", "checksum_algorithm",
			"notifier", "error_count", "errors", "exit_code"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: no %q in %v", op, k, keys(m))
			}
		}
		counts := map[string]string{"write": "frames_written", "read": "frames_read", "relay": "frames_relayed"}
		for o, k := range counts {
			if _, ok := m[k]; ok != (o == op) {
				t.Errorf("%s: %q present = %v", op, k, ok)
			}
		}
		if m[counts[op]] != 10.0 || m["frames_per_second"] != 5.0 || m["throughput_mbps"] != 0.0005 ||
			m["checksum"] != "deadbeef" || m["operation"] != op {
			t.Errorf("%s: values %v", op, m)
		}
		if errs, ok := m["errors"].([]any); !ok || len(errs) != 0 {
			t.Errorf("%s: errors = %#v, want []", op, m["errors"])
		}
	}

	// Errors and exit codes.
	r := newResult("read", "buf", nil)
	r.VerificationErrors = 1
	r.addError("frame 0 bad")
	if r.exitCode() != 1 {
		t.Errorf("verification only: exit %d", r.exitCode())
	}
	r.addError("timeout")
	if r.exitCode() != 2 {
		t.Errorf("verification + timeout: exit %d", r.exitCode())
	}
	for range 2 * maxErrorMessages {
		r.addError("more")
	}
	if len(r.Errors) != maxErrorMessages || r.ErrorCount != 2*maxErrorMessages+2 {
		t.Errorf("%d messages kept, count %d", len(r.Errors), r.ErrorCount)
	}
	var out bytes.Buffer
	r.report(&out, false)
	if !strings.Contains(out.String(), "and 102 more") {
		t.Errorf("summary: %s", out.String())
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// syncBuffer is a stdout for in-process runs: safe for concurrent use, and
// it signals the READY line.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	once  sync.Once
	ready chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{ready: make(chan struct{})} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if strings.Contains(b.buf.String(), "READY\n") {
		b.once.Do(func() { close(b.ready) })
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// inProcess runs a subcommand in a goroutine of the test process.
type inProcess struct {
	stdout, stderr *syncBuffer
	done           chan int
}

func startInProcess(t *testing.T, args ...string) *inProcess {
	p := &inProcess{stdout: newSyncBuffer(), stderr: newSyncBuffer(), done: make(chan int, 1)}
	go func() { p.done <- run(args, p.stdout, p.stderr) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		case <-time.After(hangGuard):
			t.Errorf("%q still running", args)
		}
	})
	return p
}

func (p *inProcess) waitReady(t *testing.T) {
	t.Helper()
	select {
	case <-p.stdout.ready:
	case code := <-p.done:
		p.done <- code
		t.Fatalf("exited %d before READY: %s %s", code, p.stdout, p.stderr)
	case <-time.After(hangGuard):
		t.Fatal("no READY")
	}
}

func (p *inProcess) expectExit(t *testing.T, want int) *result {
	t.Helper()
	var code int
	select {
	case code = <-p.done:
		p.done <- code
	case <-time.After(hangGuard):
		t.Fatal("still running")
	}
	if code != want {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, want, p.stdout, p.stderr)
	}
	return parseResult(t, p.stdout.String(), p.stderr.String())
}

// The three subcommands in goroutines of one process, under the race
// detector: writer → relay → reader, with batches and delays.
func TestInProcessChain(t *testing.T) {
	in, out := uniqueName(t), uniqueName(t)
	r := startInProcess(t, "reader", out, "--payload-size", "64K", "--verify", "random", "--seed", "77", "--json-output",
		"--timeout-ms", bigTimeout, "-v", "--checksum")
	r.waitReady(t)
	rl := startInProcess(t, "relay", in, out, "--buffer-size", "64K", "--json-output", "--timeout-ms", bigTimeout, "--log-interval", "0.001")
	rl.waitReady(t)
	var wout, werr bytes.Buffer
	if code := run([]string{"writer", in, "-n", "500", "-s", "1000", "--pattern", "random", "--seed", "77", "--batch-size", "100",
		"--delay-ms", "1", "-m", "m", "--json-output", "-v", "--checksum"}, &wout, &werr); code != 0 {
		t.Fatalf("writer exit %d: %s %s", code, wout.String(), werr.String())
	}
	wr := parseResult(t, wout.String(), werr.String())
	rlr := rl.expectExit(t, 0)
	rr := r.expectExit(t, 0)
	if wr.Frames != 500 || rlr.Frames != 500 || rr.Frames != 500 || rr.VerificationErrors != 0 || rr.Bytes != 500000 {
		t.Errorf("frames: writer %d, relay %d, reader %d (%d bytes, %d verification errors)",
			wr.Frames, rlr.Frames, rr.Frames, rr.Bytes, rr.VerificationErrors)
	}
	if rr.Checksum != wr.Checksum || rr.Metadata == nil || *rr.Metadata != "m" {
		t.Errorf("checksum reader %s writer %s; metadata %v", rr.Checksum, wr.Checksum, rr.Metadata)
	}
}

// writeFrame fills the reserved slot in place and allocates nothing.
func TestWriterFrameDoesNotAllocate(t *testing.T) {
	name := uniqueName(t)
	r, err := ring.NewReader(name, ring.Config{PayloadSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := ring.Connect(name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pw := &patternWriter{w: w, pattern: pattern.Random, size: 1024, checksum: true}
	k := uint64(0)
	// 101 frames of 1040 bytes fit in the ring: nothing blocks.
	if n := testing.AllocsPerRun(100, func() {
		if err := pw.writeFrame(k); err != nil {
			panic(err)
		}
		k++
	}); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
	// And what was written reads back as the pattern.
	c := &frameChecker{verify: pattern.Random}
	for i := uint64(0); i < k; i++ {
		f, err := r.ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := c.check(f.Bytes(), f.Seq()); !ok {
			t.Fatalf("frame %d: %+v", i, m)
		}
		_ = f.Release()
	}
}

func TestNotifierNames(t *testing.T) {
	if got := notifierName(0); got != "semaphore" {
		t.Errorf("kind 0 is %q", got)
	}
	if got := notifierName(0xBAD); !strings.Contains(got, "0xbad") {
		t.Errorf("unknown kind is %q", got)
	}
	if opts, err := notifierOption(""); err != nil || opts != nil {
		t.Errorf("empty notifier: %v, %v", opts, err)
	}
	if _, err := notifierOption("semaphore"); err != nil {
		t.Error(err)
	}
}

func TestFrameCheckerDoesNotAllocate(t *testing.T) {
	b := make([]byte, 10007)
	c := &frameChecker{verify: pattern.Sequential, checksum: true}
	pattern.Fill(pattern.Sequential, b, 0, 0)
	if n := testing.AllocsPerRun(50, func() { c.check(b, 1) }); n != 0 {
		t.Errorf("frameChecker.check: %v allocations", n)
	}
}
