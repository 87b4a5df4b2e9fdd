package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/proc"
	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// runInspectArgs runs `zerobuffer inspect args...` in-process.
func runInspectArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(append([]string{"inspect"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// inspectJSON runs inspect --json and decodes its one line both as a
// report and as a map (to check the keys).
func inspectJSON(t *testing.T, wantCode int, args ...string) (*inspectReport, map[string]any) {
	t.Helper()
	code, out, errOut := runInspectArgs(append(args, "--json")...)
	if code != wantCode {
		t.Fatalf("inspect %q --json: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, out, errOut)
	}
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("--json printed not exactly one line: %q", out)
	}
	var rep inspectReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != code {
		t.Errorf("exit_code %d, process exit %d", rep.ExitCode, code)
	}
	return &rep, m
}

// segmentBytes is a copy of the whole segment of buffer name.
func segmentBytes(t *testing.T, name string) []byte {
	t.Helper()
	seg, err := shm.Open(name, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	return bytes.Clone(seg.Data)
}

// rawSegment creates the segment of a buffer by hand, with an initialised
// OIEB and no reader, semaphores or lock file (so that no stale-lock
// cleanup in a concurrent test process touches it), mapped read-write for
// the test to corrupt. It is removed when the test ends.
func rawSegment(t *testing.T, name string, mdSize, plSize uint64) (*shm.Segment, *layout.OIEB) {
	t.Helper()
	seg, err := shm.Create(name, layout.SegmentSize(mdSize, plSize), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		seg.Close()
		if err := shm.Unlink(name); err != nil {
			t.Error(err)
		}
	})
	o, err := layout.View(seg.Data)
	if err != nil {
		t.Fatal(err)
	}
	o.Init(mdSize, plSize, 0)
	return seg, o
}

// deadPID is the PID of a process that has exited and been reaped.
func deadPID(t *testing.T) uint64 {
	t.Helper()
	for range 10 {
		cmd := exec.Command("true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		if pid := uint64(cmd.Process.Pid); !proc.Alive(pid) { // not reused already
			return pid
		}
	}
	t.Fatal("no dead PID found")
	return 0
}

// checkUnchanged fails when inspect changed the segment's bytes.
func checkUnchanged(t *testing.T, name string, before []byte) {
	t.Helper()
	if after := segmentBytes(t, name); !bytes.Equal(before, after) {
		for i := range before {
			if before[i] != after[i] {
				t.Fatalf("inspect changed the segment: byte %d is %#x, was %#x", i, after[i], before[i])
			}
		}
		t.Fatalf("inspect changed the segment's size: %d, was %d", len(after), len(before))
	}
}

func TestParseInspectArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want inspectOptions
	}{
		{[]string{"buf"}, inspectOptions{name: "buf"}},
		{[]string{"--json", "buf", "--watch", "250ms", "-v"}, inspectOptions{name: "buf", jsonOut: true, watch: 250 * time.Millisecond, verbose: true}},
		{[]string{"-watch=2s", "--json-output", "--verbose", "--", "-buf"}, inspectOptions{name: "-buf", jsonOut: true, watch: 2 * time.Second, verbose: true}},
	} {
		got, err := parseInspectArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, *got, tc.want)
		}
	}
	for _, bad := range [][]string{{}, {"a", "b"}, {"buf", "--watch", "0"}, {"buf", "--watch", "-1s"}, {"buf", "--watch", "soon"}, {"buf", "--bogus"}} {
		if _, err := parseInspectArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A live buffer: reader and writer connected, metadata, frames written
// and some read. Inspect shows what the OIEB holds, changes nothing and
// leaves the reader's lock alone.
func TestInspectLive(t *testing.T) {
	name := uniqueName(t)
	r, err := ring.NewReader(name, ring.Config{MetadataSize: 256, PayloadSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := ring.Connect(name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const meta = "camera=front\x01 ✓"
	if err := w.SetMetadata([]byte(meta)); err != nil {
		t.Fatal(err)
	}
	// 2016-byte spans: the third release passes the reader's flush
	// threshold (a 16th of the ring), so the OIEB shows three frames read.
	frame := bytes.Repeat([]byte{0xAB}, 2000)
	for range 7 {
		if err := w.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		f, err := r.ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Release(); err != nil {
			t.Fatal(err)
		}
	}
	before := segmentBytes(t, name)
	s := r.Snapshot()
	pid := uint64(os.Getpid())

	code, out, errOut := runInspectArgs(name, "-v")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	t.Logf("text:\n%s", out)
	for _, want := range []string{
		"buffer " + name + "\n",
		fmt.Sprintf("/dev/shm/%s, %d bytes", name, len(before)),
		"128 bytes, version 1.0.0",
		fmt.Sprintf("block 256 bytes, written %d, free %d, length %d", 8+len(meta), 256-8-len(meta), len(meta)),
		`preview "camera=front\x01 ✓"`,
		fmt.Sprintf("ring 65536 bytes, write_pos %d, read_pos %d, free %d (used %d)",
			s.PayloadWritePos, s.PayloadReadPos, s.PayloadFreeBytes, s.PayloadSize-s.PayloadFreeBytes),
		"written 7, read 3, unread ~4 (counts include wrap markers)",
		fmt.Sprintf("utilisation %.1f %% (healthy)", float64(s.PayloadSize-s.PayloadFreeBytes)*100/float64(s.PayloadSize)),
		fmt.Sprintf("reader      PID %d (alive)", pid),
		fmt.Sprintf("writer      PID %d (alive)", pid),
		"notifier    semaphore, space returned in batches (a Go reader) (reserved 0x0 0x0 0x0 0x5a4252454c454153)",
		"/tmp/zerobuffer/" + name + ".lock: held (a live reader)",
		"validation  OK",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q", want)
		}
	}

	rep, m := inspectJSON(t, 0, name, "-v")
	jsonLine, _ := json.Marshal(rep)
	t.Logf("json: %s", jsonLine)
	util := float64(s.PayloadSize-s.PayloadFreeBytes) * 100 / float64(s.PayloadSize)
	preview := strconv.Quote(meta)
	preview = preview[1 : len(preview)-1]
	want := &InspectOIEB{
		OIEBSize: 128, Version: "1.0.0",
		MetadataSize: 256, MetadataWrittenBytes: s.MetadataWrittenBytes, MetadataFreeBytes: s.MetadataFreeBytes,
		MetadataLength: uint64(len(meta)), MetadataPreview: &preview,
		PayloadSize: s.PayloadSize, PayloadWritePos: s.PayloadWritePos, PayloadReadPos: s.PayloadReadPos,
		PayloadFreeBytes: s.PayloadFreeBytes, PayloadWrittenCount: 7, PayloadReadCount: 3,
		UnreadFramesEstimate: 4, UtilisationPercent: &util, Health: "healthy",
		ReaderPID: pid, ReaderStatus: "alive", ReaderAlive: true,
		WriterPID: pid, WriterStatus: "alive", WriterAlive: true,
		Notifier: "semaphore", Reserved: s.Reserved,
	}
	if !reflect.DeepEqual(rep.InspectOIEB, want) {
		t.Errorf("JSON:\n got %+v\nwant %+v", rep.InspectOIEB, want)
	}
	if rep.BufferName != name || rep.SegmentPath != "/dev/shm/"+name || !rep.Exists || rep.SegmentSize != uint64(len(before)) ||
		rep.LockPath != "/tmp/zerobuffer/"+name+".lock" || !rep.LockExists || !rep.LockHeld || rep.LockError != "" ||
		!rep.Valid || rep.ValidationError != "" || rep.MetadataError != "" || len(rep.Errors) != 0 || rep.ExitCode != 0 {
		t.Errorf("JSON: %+v", rep)
	}
	if _, err := time.Parse(time.RFC3339Nano, rep.Time); err != nil {
		t.Errorf("time: %v", err)
	}
	for _, k := range []string{"buffer_name", "time", "segment_path", "exists", "segment_size", "oieb_size", "version",
		"metadata_size", "metadata_written_bytes", "metadata_free_bytes", "metadata_length", "metadata_preview",
		"payload_size", "payload_write_pos", "payload_read_pos", "payload_free_bytes", "payload_written_count", "payload_read_count",
		"unread_frames_estimate", "utilisation_percent", "health", "reader_pid", "reader_status", "reader_alive",
		"writer_pid", "writer_status", "writer_alive", "notifier", "reserved", "lock_path", "lock_exists", "lock_held",
		"valid", "errors", "exit_code"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON has no %q: %v", k, keys(m))
		}
	}
	if m["payload_write_pos"] != json.Number(strconv.FormatUint(s.PayloadWritePos, 10)) {
		t.Errorf("payload_write_pos %v", m["payload_write_pos"])
	}
	// Without -v, no preview.
	if rep, m := inspectJSON(t, 0, name); rep.MetadataPreview != nil || m["metadata_preview"] != nil {
		t.Errorf("preview without -v: %v", m["metadata_preview"])
	}

	checkUnchanged(t, name, before)
	// The reader still holds its lock, and the ring still works.
	fd, err := unix.Open("/tmp/zerobuffer/"+name+".lock", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	unix.Close(fd)
	if err != unix.EWOULDBLOCK {
		t.Errorf("the reader's lock is not held after inspect: flock gave %v", err)
	}
	if err := w.WriteFrame([]byte("after")); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		f, err := r.ReadFrame(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if f.Seq() != uint64(4+i) {
			t.Errorf("frame seq %d, want %d", f.Seq(), 4+i)
		}
		_ = f.Release()
	}
}

// Peers that have gone: a PID of a reaped process shows as dead, 0 as none.
// Dead peers do not make the buffer invalid.
func TestInspectDeadPeers(t *testing.T) {
	name := uniqueName(t)
	_, o := rawSegment(t, name, 64, 1024)
	dead := deadPID(t)
	o.ReaderPID.Store(dead)
	o.WriterPID.Store(dead)
	before := segmentBytes(t, name)

	code, out, _ := runInspectArgs(name)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		fmt.Sprintf("reader      PID %d (dead)", dead),
		fmt.Sprintf("writer      PID %d (dead)", dead),
		name + ".lock: absent", "validation  OK",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	rep, _ := inspectJSON(t, 0, name)
	if rep.ReaderPID != dead || rep.ReaderStatus != "dead" || rep.ReaderAlive ||
		rep.WriterPID != dead || rep.WriterStatus != "dead" || rep.WriterAlive || rep.LockExists || rep.LockHeld || !rep.Valid {
		t.Errorf("JSON: %+v %+v", rep, rep.InspectOIEB)
	}
	checkUnchanged(t, name, before)

	o.WriterPID.Store(0)
	before = segmentBytes(t, name)
	code, out, _ = runInspectArgs(name)
	if code != 0 || !strings.Contains(out, "writer      none") {
		t.Errorf("exit %d, want a writer shown as none:\n%s", code, out)
	}
	rep, _ = inspectJSON(t, 0, name)
	if rep.WriterPID != 0 || rep.WriterStatus != "none" || rep.WriterAlive {
		t.Errorf("JSON: %+v", rep.InspectOIEB)
	}
	checkUnchanged(t, name, before)
}

// Corrupt control blocks and metadata are reported with the field's name
// and exit status 1; nothing panics and nothing is changed.
func TestInspectCorrupt(t *testing.T) {
	putMeta := func(data []byte, o *layout.OIEB, prefix, written uint64) {
		binary.LittleEndian.PutUint64(data[layout.OIEBSize:], prefix)
		o.MetadataWrittenBytes.Store(written)
		o.MetadataFreeBytes.Store(o.MetadataSize.Load() - written)
	}
	for _, tc := range []struct {
		name      string
		corrupt   func(data []byte, o *layout.OIEB)
		field     string // validation_field
		metaField string // metadata_error_field
	}{
		{"write_pos beyond the ring", func(_ []byte, o *layout.OIEB) { o.PayloadWritePos.Store(1025) }, "payload_write_pos", ""},
		{"read_pos beyond the ring", func(_ []byte, o *layout.OIEB) { o.PayloadReadPos.Store(1 << 63) }, "payload_read_pos", ""},
		{"oieb_size 0", func(_ []byte, o *layout.OIEB) { o.OIEBSizeField.Store(0) }, "oieb_size", ""},
		{"major version 2", func(_ []byte, o *layout.OIEB) { o.SetVersion(layout.Version{Major: 2}) }, "version.major", ""},
		{"payload_size beyond the segment", func(_ []byte, o *layout.OIEB) { o.PayloadSize.Store(^uint64(0)) }, "payload_size", ""},
		{"metadata_size beyond the segment", func(_ []byte, o *layout.OIEB) { o.MetadataSize.Store(1 << 40) }, "metadata_size", ""},
		{"free bytes beyond the ring", func(_ []byte, o *layout.OIEB) { o.PayloadFreeBytes.Store(4096) }, "payload_free_bytes", ""},
		{"more read than written", func(_ []byte, o *layout.OIEB) { o.PayloadReadCount.Store(1) }, "payload_read_count", ""},
		{"metadata length prefix disagrees", func(d []byte, o *layout.OIEB) { putMeta(d, o, 7, 8+5) }, "", "metadata_length"},
		{"metadata prefix absurd", func(d []byte, o *layout.OIEB) { putMeta(d, o, ^uint64(0), 8+5) }, "", "metadata_length"},
		{"metadata written beyond its block", func(d []byte, o *layout.OIEB) {
			o.MetadataWrittenBytes.Store(1000)
			o.MetadataFreeBytes.Store(0)
		}, "metadata_written_bytes", "metadata_written_bytes"},
		{"metadata free bytes disagree", func(d []byte, o *layout.OIEB) { o.MetadataFreeBytes.Store(1) }, "metadata_free_bytes", ""},
		{"all 0xFF", func(d []byte, _ *layout.OIEB) {
			for i := range d[:layout.OIEBSize+64] {
				d[i] = 0xFF
			}
		}, "oieb_size", "metadata_written_bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := uniqueName(t)
			seg, o := rawSegment(t, name, 64, 1024)
			tc.corrupt(seg.Data, o)
			before := segmentBytes(t, name)

			code, out, _ := runInspectArgs(name, "-v")
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, out)
			}
			if !strings.Contains(out, "validation  FAILED") {
				t.Errorf("text does not say FAILED:\n%s", out)
			}
			for _, f := range []string{tc.field, tc.metaField} {
				if f != "" && !strings.Contains(out, f+": ") {
					t.Errorf("text does not name %s:\n%s", f, out)
				}
			}
			rep, _ := inspectJSON(t, 1, name, "-v")
			if rep.Valid || rep.ValidationField != tc.field || rep.MetadataErrorField != tc.metaField || len(rep.Errors) == 0 {
				t.Errorf("JSON: valid %v, validation_field %q (want %q), metadata_error_field %q (want %q), errors %q",
					rep.Valid, rep.ValidationField, tc.field, rep.MetadataErrorField, tc.metaField, rep.Errors)
			}
			if tc.field != "" && !strings.Contains(rep.ValidationError, tc.field) {
				t.Errorf("validation_error %q does not name %s", rep.ValidationError, tc.field)
			}
			if rep.InspectOIEB == nil {
				t.Error("the control block's fields are missing")
			}
			checkUnchanged(t, name, before)
		})
	}
}

// Segments too small to hold an OIEB are reported, not mapped past.
func TestInspectTooSmall(t *testing.T) {
	for _, size := range []int{0, 1, 64, 127} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			name := uniqueName(t)
			if err := os.WriteFile(shm.Path(name), make([]byte, size), 0o600); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(shm.Path(name))
			code, out, _ := runInspectArgs(name)
			if code != 1 || !strings.Contains(out, "too small") || !strings.Contains(out, "segment_size") {
				t.Errorf("exit %d, want 1 and a report:\n%s", code, out)
			}
			rep, m := inspectJSON(t, 1, name)
			if !rep.Exists || rep.SegmentSize != uint64(size) || rep.Valid || rep.ValidationField != "segment_size" || rep.InspectOIEB != nil {
				t.Errorf("JSON: %+v", rep)
			}
			if _, ok := m["payload_size"]; ok {
				t.Errorf("OIEB fields reported for a segment without one: %v", keys(m))
			}
		})
	}
}

// A missing buffer is an error (exit 2), and inspect creates nothing:
// uniqueName's cleanup fails the test if any of the buffer's files exist.
func TestInspectMissing(t *testing.T) {
	name := uniqueName(t)
	code, out, errOut := runInspectArgs(name)
	if code != 2 || !strings.Contains(errOut, name) || !strings.Contains(errOut, "does not exist") {
		t.Errorf("exit %d, stderr %q; want 2 and a message naming the buffer", code, errOut)
	}
	if !strings.Contains(out, "does not exist") {
		t.Errorf("stdout: %s", out)
	}
	rep, _ := inspectJSON(t, 2, name)
	if rep.Exists || rep.Valid || rep.InspectOIEB != nil || len(rep.Errors) != 1 || rep.LockExists {
		t.Errorf("JSON: %+v", rep)
	}
	// Names that would reach outside /dev/shm are refused before any access.
	for _, bad := range []string{"", "..", "a/b", "../etc/passwd"} {
		if code, _, errOut := runInspectArgs("--", bad); code != 2 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q", bad, code, errOut)
		}
	}
}

// lineBuffer collects output and signals every write.
type lineBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	notify chan struct{}
}

func newLineBuffer() *lineBuffer { return &lineBuffer{notify: make(chan struct{}, 1)} }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	select {
	case b.notify <- struct{}{}:
	default:
	}
	return n, err
}

func (b *lineBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSuffix(b.buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitFor blocks until cond holds for the lines written so far.
func (b *lineBuffer) waitFor(t *testing.T, what string, cond func([]string) bool) []string {
	t.Helper()
	guard := time.NewTimer(hangGuard)
	defer guard.Stop()
	for {
		if l := b.lines(); cond(l) {
			return l
		}
		select {
		case <-b.notify:
		case <-guard.C:
			t.Fatalf("no %s within %v; output:\n%s", what, hangGuard, strings.Join(b.lines(), "\n"))
		}
	}
}

// --watch refreshes until its context ends, one JSON object per line, and
// returns the exit status of the last refresh.
func TestInspectWatch(t *testing.T) {
	name := uniqueName(t)
	_, o := rawSegment(t, name, 64, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := newLineBuffer(), newLineBuffer()
	done := make(chan int, 1)
	go func() {
		done <- inspectLoop(ctx, &inspectOptions{name: name, jsonOut: true, watch: time.Millisecond}, out, errOut)
	}()
	out.waitFor(t, "three refreshes", func(l []string) bool { return len(l) >= 3 })
	o.PayloadWritePos.Store(5000) // corrupt it while watched
	out.waitFor(t, "a refresh showing the corruption", func(l []string) bool {
		return strings.Contains(l[len(l)-1], `"validation_field":"payload_write_pos"`)
	})
	cancel()
	var code int
	select {
	case code = <-done:
	case <-time.After(hangGuard):
		t.Fatal("--watch did not stop when its context ended")
	}
	if code != 1 {
		t.Errorf("exit %d, want 1 (the last refresh saw the corruption)", code)
	}
	for i, l := range out.lines() {
		var rep inspectReport
		if err := json.Unmarshal([]byte(l), &rep); err != nil {
			t.Fatalf("line %d is not a JSON object: %v: %q", i, err, l)
		}
		if rep.BufferName != name || rep.InspectOIEB == nil {
			t.Errorf("line %d: %s", i, l)
		}
	}
	if e := errOut.lines(); len(e) != 0 {
		t.Errorf("stderr: %q", e)
	}

	// Text mode to something that is not a terminal: no screen clearing.
	o.PayloadWritePos.Store(0)
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	out2 := newLineBuffer()
	go func() {
		done <- inspectLoop(ctx2, &inspectOptions{name: name, watch: time.Millisecond}, out2, errOut)
	}()
	out2.waitFor(t, "two text refreshes", func(l []string) bool { return strings.Count(strings.Join(l, "\n"), "validation  OK") >= 2 })
	cancel2()
	select {
	case code = <-done:
	case <-time.After(hangGuard):
		t.Fatal("--watch did not stop when its context ended")
	}
	if code != 0 || strings.Contains(strings.Join(out2.lines(), "\n"), "\x1b") {
		t.Errorf("exit %d; output:\n%q", code, out2.lines())
	}
}

// The command with --watch, as a process, stops on SIGINT and SIGTERM.
func TestInspectWatchSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			name := uniqueName(t)
			rawSegment(t, name, 64, 1024)
			c := startCLI(t, "inspect", name, "--watch", "5ms", "--json")
			// Output comes after the signal handler is installed.
			guard := time.Now().Add(hangGuard)
			for strings.Count(c.output(), "\n") < 2 {
				select {
				case <-c.eof:
					c.finish()
					t.Fatalf("exited %d before refreshing twice:\n%s\n%s", c.code, c.output(), c.stderr.String())
				case <-time.After(5 * time.Millisecond):
				}
				if time.Now().After(guard) {
					t.Fatalf("no output within %v", hangGuard)
				}
			}
			c.signal(sig)
			if code := c.wait(); code != 0 {
				t.Errorf("exit %d after %v, want 0\n%s", code, sig, c.stderr.String())
			}
		})
	}
}

// The lock probe sees a held lock without disturbing its holder, and
// leaves a free lock free.
func TestInspectLockProbe(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "b.lock")
	probe := func(wantExists, wantHeld bool) {
		t.Helper()
		exists, held, err := probeLock(path)
		if exists != wantExists || held != wantHeld || err != nil {
			t.Errorf("probe: exists %v held %v err %v; want %v %v", exists, held, err, wantExists, wantHeld)
		}
	}
	tryLock := func() (int, error) {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}

	probe(false, false)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the probe created the lock file: %v", err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	probe(true, false)
	holder, err := tryLock() // the probe released its shared lock
	if err != nil {
		t.Fatalf("lock not free after a probe: %v", err)
	}
	probe(true, true)
	probe(true, true)
	if fd, err := tryLock(); err != unix.EWOULDBLOCK { // the holder still holds it
		if fd >= 0 {
			unix.Close(fd)
		}
		t.Errorf("after probes, a second LOCK_EX gave %v, want EWOULDBLOCK", err)
	}
	unix.Close(holder)
	probe(true, false)

	// Not a regular file: reported, and a FIFO does not block the probe.
	fifo := filepath.Join(dir, "fifo.lock")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if exists, held, err := probeLock(fifo); !exists || held || err == nil {
		t.Errorf("FIFO: exists %v held %v err %v", exists, held, err)
	}
	link := filepath.Join(dir, "link.lock")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if exists, _, err := probeLock(link); !exists || err == nil {
		t.Errorf("symlink: exists %v err %v; want an error", exists, err)
	}
}

func TestHealthBands(t *testing.T) {
	for pct, want := range map[float64]string{0: "healthy", 79.99: "healthy", 80: "degraded", 90: "degraded", 95: "degraded",
		95.01: "critical", 100: "critical"} {
		if got := healthBand(pct); got != want {
			t.Errorf("%v %%: %s, want %s", pct, got, want)
		}
	}
	name := uniqueName(t)
	_, o := rawSegment(t, name, 0, 1000)
	for _, tc := range []struct {
		free   uint64
		health string
		pct    string
	}{{1000, "healthy", "0.0"}, {201, "healthy", "79.9"}, {200, "degraded", "80.0"}, {50, "degraded", "95.0"}, {49, "critical", "95.1"}, {0, "critical", "100.0"}} {
		o.PayloadFreeBytes.Store(tc.free)
		code, out, _ := runInspectArgs(name)
		if want := fmt.Sprintf("utilisation %s %% (%s)", tc.pct, tc.health); code != 0 || !strings.Contains(out, want) {
			t.Errorf("free %d: exit %d, want %q:\n%s", tc.free, code, want, out)
		}
		rep, _ := inspectJSON(t, 0, name)
		if rep.Health != tc.health || rep.UtilisationPercent == nil {
			t.Errorf("free %d: JSON health %q utilisation %v", tc.free, rep.Health, rep.UtilisationPercent)
		}
	}
	o.PayloadFreeBytes.Store(1001) // corrupt: utilisation unknown
	rep, m := inspectJSON(t, 1, name)
	if rep.Health != "unknown" || rep.UtilisationPercent != nil || m["utilisation_percent"] != nil {
		t.Errorf("free > size: health %q utilisation %v", rep.Health, m["utilisation_percent"])
	}
}

// alignedBytes is n zero bytes starting on an 8-byte boundary, as a
// mapping would.
func alignedBytes(n int) []byte {
	words := make([]uint64, (n+7)/8+1)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), n)
}

// examineAll runs what inspect does with a segment's bytes, and checks the
// verdict against layout's own.
func examineAll(data []byte) error {
	rep := &inspectReport{Errors: []string{}}
	if err := examineSafely(rep, data, true); err != nil {
		return fmt.Errorf("examine: %v", err)
	}
	rep.finish()
	_ = rep.text(true)
	if _, err := json.Marshal(rep); err != nil {
		return fmt.Errorf("JSON: %v", err)
	}
	o, _ := layout.View(data)
	s := o.Snapshot()
	verr := s.Validate(uint64(len(data)))
	block := data[layout.OIEBSize:]
	block = block[:min(uint64(len(block)), s.MetadataSize)]
	_, merr := layout.ParseMetadata(block, s.MetadataWrittenBytes)
	if want := verr == nil && merr == nil; rep.Valid != want || (rep.ExitCode == 0) != want || rep.ExitCode > 1 {
		return fmt.Errorf("valid %v exit %d; Validate: %v, ParseMetadata: %v", rep.Valid, rep.ExitCode, verr, merr)
	}
	return nil
}

// No contents make inspect panic or read outside the segment (the mapping
// has a guard page; here the bytes are on the heap, checked by -race's
// and Go's bounds checks).
func TestInspectArbitraryContents(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	interesting := []uint64{0, 1, 7, 8, 9, 16, 17, 63, 64, 127, 128, 129, 1 << 31, 1<<63 - 1, 1 << 63, ^uint64(0) - 7, ^uint64(0)}
	for i := range 3000 {
		size := []int{128, 129, 136, 192, 200, 256, 1024, 4096}[rng.IntN(8)]
		data := alignedBytes(size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		// Make a plausible control block most of the time, then break a few
		// fields with interesting values.
		if rng.IntN(4) != 0 {
			o, _ := layout.View(data)
			md := uint64(rng.IntN(size-layout.OIEBSize+1)) &^ 7
			o.Init(md, uint64(size-layout.OIEBSize)-md, 0)
			if w := uint64(rng.IntN(int(md) + 1)); md >= 8 && w >= 8 && rng.IntN(2) == 0 {
				binary.LittleEndian.PutUint64(data[layout.OIEBSize:], w-8)
				o.MetadataWrittenBytes.Store(w)
				o.MetadataFreeBytes.Store(md - w)
			}
		}
		for range rng.IntN(4) {
			off := 8 * rng.IntN(layout.OIEBSize/8+2)
			if off+8 <= len(data) {
				binary.LittleEndian.PutUint64(data[off:], interesting[rng.IntN(len(interesting))])
			}
		}
		if err := examineAll(data); err != nil {
			t.Fatalf("case %d (%d bytes, OIEB % x): %v", i, size, data[:layout.OIEBSize], err)
		}
	}
}

func FuzzInspectContents(f *testing.F) {
	valid := alignedBytes(int(layout.SegmentSize(64, 64)))
	o, _ := layout.View(valid)
	o.Init(64, 64, 0)
	f.Add(valid)
	f.Add(bytes.Repeat([]byte{0xFF}, 256))
	f.Add(make([]byte, 128))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < layout.OIEBSize || len(b) > 1<<16 {
			return
		}
		data := alignedBytes(len(b))
		copy(data, b)
		if err := examineAll(data); err != nil {
			t.Fatal(err)
		}
	})
}

// A segment truncated to nothing while mapped makes every access fault
// (SIGBUS): inspect reports it instead of crashing.
func TestInspectTruncatedUnderMapping(t *testing.T) {
	name := uniqueName(t)
	rawSegment(t, name, 64, 1024)
	seg, err := shm.Open(name, true, layout.OIEBSize)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	if err := os.Truncate(shm.Path(name), 0); err != nil {
		t.Fatal(err)
	}
	rep := &inspectReport{Errors: []string{}}
	if err := examineSafely(rep, seg.Data, true); err == nil || !strings.Contains(err.Error(), "faulted") {
		t.Errorf("examine of a truncated mapping: %v, want a fault reported", err)
	}
}
