package main

// End-to-end tests: the reader, writer and relay run as separate processes
// (the test binary re-executed with ZB_CLI_MAIN=1) over real shared memory.

import (
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/zerobuffer/zerobuffer-go/internal/pattern"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// naiveFrame is an independent restatement of the documented patterns,
// for checking the CLI's output.
func naiveFrame(pat string, k, size int, seed uint64) []byte {
	b := make([]byte, size)
	switch pat {
	case "sequential":
		for i := range b {
			b[i] = byte((k + i) % 256)
		}
	case "ones":
		for i := range b {
			b[i] = 0xFF
		}
	case "random":
		pattern.Fill(pattern.Random, b, uint64(k), seed) // checked on its own in TestRandomPatternDocumented
	}
	return b
}

// expectedCRC is the CRC-32 of frames 0..frames-1 of pat, each transformed
// as the relay would.
func expectedCRC(pat string, frames, size int, tr string, key byte) string {
	var crc uint32
	out := make([]byte, size)
	for k := 0; k < frames; k++ {
		in := naiveFrame(pat, k, size, 0)
		for i := range in {
			switch tr {
			case "reverse":
				out[i] = in[size-1-i]
			case "xor":
				out[i] = in[i] ^ key
			default:
				out[i] = in[i]
			}
		}
		crc = crc32.Update(crc, crc32.IEEETable, out)
	}
	return fmt.Sprintf("%08x", crc)
}

func TestEndToEndPatterns(t *testing.T) {
	const frames, size = 300, 4000 // 300 frames of 4016 bytes wrap a 1 MiB ring
	for _, pat := range []string{"sequential", "random", "zero", "ones"} {
		t.Run(pat, func(t *testing.T) {
			name := uniqueName(t)
			r := startCLI(t, "reader", name, "--payload-size", "1MiB", "-n", strconv.Itoa(frames),
				"--verify", pat, "--checksum", "--json-output", "--timeout-ms", bigTimeout)
			r.waitReady()
			// NAME after the flags, long and short spellings mixed.
			w := startCLI(t, "writer", "--frames", strconv.Itoa(frames), "-s", strconv.Itoa(size),
				"--pattern", pat, "--checksum", "--json-output", name)
			wr := w.expectExit(0)
			rr := r.expectExit(0)

			if wr.Frames != frames || wr.Bytes != frames*size || wr.FramesWritten == nil || *wr.FramesWritten != frames {
				t.Errorf("writer: frames %d, bytes %d; want %d, %d", wr.Frames, wr.Bytes, frames, frames*size)
			}
			if rr.Frames != frames || rr.Bytes != frames*size || rr.FramesRead == nil || *rr.FramesRead != frames {
				t.Errorf("reader: frames %d, bytes %d; want %d, %d", rr.Frames, rr.Bytes, frames, frames*size)
			}
			if rr.VerificationErrors != 0 || rr.ErrorCount != 0 || len(rr.Errors) != 0 {
				t.Errorf("reader errors: %d verification, %v", rr.VerificationErrors, rr.Errors)
			}
			if rr.FrameSize != size || rr.PayloadSize != 1<<20 || rr.Verify != pat || rr.Notifier != "semaphore" {
				t.Errorf("reader: frame_size %d, payload_size %d, verify %q, notifier %q", rr.FrameSize, rr.PayloadSize, rr.Verify, rr.Notifier)
			}
			if wr.PayloadSize != 1<<20 || wr.Pattern != pat || wr.Notifier != "semaphore" {
				t.Errorf("writer: payload_size %d, pattern %q, notifier %q", wr.PayloadSize, wr.Pattern, wr.Notifier)
			}
			if rr.Checksum != wr.Checksum {
				t.Errorf("checksums differ: reader %s, writer %s", rr.Checksum, wr.Checksum)
			}
			if want := expectedCRC(pat, frames, size, "none", 0); rr.Checksum != want {
				t.Errorf("reader checksum %s, want %s", rr.Checksum, want)
			}
		})
	}
}

func TestEndToEndMetadata(t *testing.T) {
	const meta = "camera=front; format=yuv420 ✓"
	t.Run("flag", func(t *testing.T) {
		name := uniqueName(t)
		r := startCLI(t, "reader", "--payload-size", "1MiB", name, "-n", "10", "--json-output", "-v", "--timeout-ms", bigTimeout)
		r.waitReady()
		w := startCLI(t, "writer", name, "-n", "10", "-m", meta, "--json-output")
		wr := w.expectExit(0)
		rr := r.expectExit(0)
		if wr.MetadataSize != uint64(len(meta)) {
			t.Errorf("writer metadata_size %d, want %d", wr.MetadataSize, len(meta))
		}
		if rr.Metadata == nil || *rr.Metadata != meta || rr.MetadataSize != uint64(len(meta)) {
			t.Errorf("reader metadata %v (size %d), want %q", rr.Metadata, rr.MetadataSize, meta)
		}
		if !strings.Contains(r.stderr.String(), "metadata") {
			t.Errorf("reader -v did not print the metadata: %s", r.stderr.String())
		}
		if !strings.Contains(r.stderr.String(), "stats: 10 frames; ") {
			t.Errorf("reader -v did not print its counters: %s", r.stderr.String())
		}
	})
	t.Run("file", func(t *testing.T) {
		name := uniqueName(t)
		path := filepath.Join(t.TempDir(), "meta.bin")
		if err := os.WriteFile(path, []byte(meta), 0o600); err != nil {
			t.Fatal(err)
		}
		r := startCLI(t, "reader", name, "--payload-size", "1MiB", "--metadata-size", "1024", "-n", "3", "--json-output", "--timeout-ms", bigTimeout)
		r.waitReady()
		w := startCLI(t, "writer", name, "-n", "3", "--metadata-file", path, "--json-output")
		w.expectExit(0)
		rr := r.expectExit(0)
		if rr.Metadata == nil || *rr.Metadata != meta {
			t.Errorf("reader metadata %v, want %q", rr.Metadata, meta)
		}
	})
	t.Run("none", func(t *testing.T) {
		name := uniqueName(t)
		r := startCLI(t, "reader", name, "--payload-size", "1MiB", "-n", "3", "--json-output", "--timeout-ms", bigTimeout)
		r.waitReady()
		startCLI(t, "writer", name, "-n", "3", "--json-output").expectExit(0)
		if rr := r.expectExit(0); rr.Metadata != nil || rr.MetadataSize != 0 {
			t.Errorf("reader metadata %v (size %d), want none", rr.Metadata, rr.MetadataSize)
		}
	})
}

func TestEndToEndVerifyMismatch(t *testing.T) {
	name := uniqueName(t)
	r := startCLI(t, "reader", name, "--payload-size", "1MiB", "-n", "20", "--verify", "zero", "--json-output", "--timeout-ms", bigTimeout)
	r.waitReady()
	w := startCLI(t, "writer", name, "-n", "20", "-s", "100", "--pattern", "ones", "--json-output")
	w.expectExit(0)
	rr := r.expectExit(1)
	if rr.Frames != 20 || rr.VerificationErrors != 20 || rr.ErrorCount != 20 || rr.ExitCode != 1 {
		t.Errorf("reader: frames %d, verification errors %d, errors %d, exit_code %d; want 20, 20, 20, 1",
			rr.Frames, rr.VerificationErrors, rr.ErrorCount, rr.ExitCode)
	}
	if len(rr.Errors) == 0 || !strings.Contains(rr.Errors[0], "byte 0 is 0xff") {
		t.Errorf("first error %q does not name the byte", rr.Errors)
	}
}

// The reader wants 5 frames; the writer writes 3 and leaves.
func TestEndToEndWriterLeavesEarly(t *testing.T) {
	name := uniqueName(t)
	r := startCLI(t, "reader", name, "--payload-size", "1MiB", "-n", "5", "--timeout-ms", "500", "--json-output")
	r.waitReady()
	startCLI(t, "writer", name, "-n", "3", "--json-output").expectExit(0)
	rr := r.expectExit(2)
	// Whether the reader saw the writer leave or (on a very slow machine)
	// timed out first, it must fail, and it cannot have read more than 3.
	if rr.Frames > 3 || rr.ErrorCount == 0 || rr.ExitCode != 2 {
		t.Errorf("reader: frames %d, errors %v, exit_code %d", rr.Frames, rr.Errors, rr.ExitCode)
	}
}

func TestEndToEndWriterWithoutReader(t *testing.T) {
	name := uniqueName(t)
	wr := startCLI(t, "writer", name, "-n", "3", "--json-output").expectExit(2)
	if wr.Frames != 0 || len(wr.Errors) != 1 || !strings.Contains(wr.Errors[0], "buffer not found") {
		t.Errorf("writer: frames %d, errors %q; want a buffer-not-found error", wr.Frames, wr.Errors)
	}
	// Without --json-output the summary is for humans.
	w := startCLI(t, "writer", name)
	if code := w.wait(); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if out := w.output(); !strings.Contains(out, "buffer not found") || strings.HasPrefix(out, "{") {
		t.Errorf("human summary: %q", out)
	}
}

// writer → relay (transform) → reader. The reader cannot verify a
// transformed pattern, so its checksum is compared with one computed here.
func TestEndToEndRelay(t *testing.T) {
	const frames, size, meta = 200, 3000, "relayed metadata"
	for _, tc := range []struct {
		transform string
		key       byte
		extra     []string
	}{
		{"none", 0, nil},
		{"reverse", 0, nil},
		{"xor", 0xFF, nil},                           // the default key
		{"xor", 0x5A, []string{"--xor-key", "0x5a"}}, // a given key
	} {
		t.Run(fmt.Sprintf("%s-%#x", tc.transform, tc.key), func(t *testing.T) {
			in, out := uniqueName(t), uniqueName(t)
			r := startCLI(t, "reader", out, "--payload-size", "1MiB", "--checksum", "--json-output", "--timeout-ms", bigTimeout)
			r.waitReady()
			args := append([]string{"relay", "--transform", tc.transform, in, "--buffer-size", "1MiB", out,
				"--json-output", "--checksum", "--timeout-ms", bigTimeout}, tc.extra...)
			rl := startCLI(t, args...)
			rl.waitReady()
			w := startCLI(t, "writer", in, "-n", strconv.Itoa(frames), "-s", strconv.Itoa(size), "-m", meta, "--json-output")
			w.expectExit(0)
			rlr := rl.expectExit(0)
			rr := r.expectExit(0)

			want := expectedCRC("sequential", frames, size, tc.transform, tc.key)
			if rr.Frames != frames || rr.Bytes != frames*size || rr.Checksum != want {
				t.Errorf("reader: frames %d, bytes %d, checksum %s; want %d, %d, %s", rr.Frames, rr.Bytes, rr.Checksum, frames, frames*size, want)
			}
			if rlr.Frames != frames || rlr.FramesRelayed == nil || *rlr.FramesRelayed != frames || rlr.Checksum != want ||
				rlr.Transform != tc.transform || rlr.InputBuffer != in || rlr.OutputBuffer != out {
				t.Errorf("relay result: %+v", rlr)
			}
			if rr.Metadata == nil || *rr.Metadata != meta || rlr.MetadataSize != uint64(len(meta)) {
				t.Errorf("metadata: reader %v, relay size %d; want %q", rr.Metadata, rlr.MetadataSize, meta)
			}
		})
	}
}

// --create-output: the relay starts before OUT exists and waits for it.
func TestEndToEndRelayWaitsForOutput(t *testing.T) {
	in, out := uniqueName(t), uniqueName(t)
	rl := startCLI(t, "relay", in, out, "--create-output", "--buffer-size", "1MiB", "-n", "10", "--json-output", "--timeout-ms", bigTimeout)
	r := startCLI(t, "reader", out, "--payload-size", "1MiB", "-n", "10", "--verify", "sequential", "--json-output", "--timeout-ms", bigTimeout)
	r.waitReady()
	rl.waitReady()
	startCLI(t, "writer", in, "-n", "10", "--json-output").expectExit(0)
	if rlr := rl.expectExit(0); rlr.Frames != 10 {
		t.Errorf("relay frames %d, want 10", rlr.Frames)
	}
	if rr := r.expectExit(0); rr.Frames != 10 || rr.VerificationErrors != 0 {
		t.Errorf("reader: frames %d, verification errors %d", rr.Frames, rr.VerificationErrors)
	}

	// Without --create-output a missing OUT fails at once.
	in2, out2 := uniqueName(t), uniqueName(t)
	rlr := startCLI(t, "relay", in2, out2, "--json-output").expectExit(2)
	if len(rlr.Errors) != 1 || !strings.Contains(rlr.Errors[0], "buffer not found") {
		t.Errorf("relay errors %q, want buffer not found", rlr.Errors)
	}
}

// SIGINT/SIGTERM close the reader cleanly: its files are removed (checked
// by uniqueName's cleanup).
func TestEndToEndReaderSignal(t *testing.T) {
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		args []string
		code int
	}{
		{"open-ended-sigterm", syscall.SIGTERM, nil, 0}, // -n 0: stopping it is a normal end
		{"open-ended-sigint", syscall.SIGINT, nil, 0},
		{"counted", syscall.SIGTERM, []string{"-n", "10"}, 2}, // 10 frames were asked for
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := uniqueName(t)
			args := append([]string{"reader", name, "--payload-size", "1MiB", "--json-output", "--timeout-ms", bigTimeout}, tc.args...)
			r := startCLI(t, args...)
			r.waitReady()
			r.signal(tc.sig)
			rr := r.expectExit(tc.code)
			if rr.Frames != 0 {
				t.Errorf("frames %d, want 0", rr.Frames)
			}
		})
	}
}

// An interrupted relay closes both its buffers; an interrupted writer
// stops between frames and reports it.
func TestEndToEndRelayAndWriterSignal(t *testing.T) {
	in, out := uniqueName(t), uniqueName(t)
	r := startCLI(t, "reader", out, "--payload-size", "1MiB", "-n", "1", "--verify", "sequential", "--json-output", "--timeout-ms", bigTimeout)
	r.waitReady()
	rl := startCLI(t, "relay", in, out, "--buffer-size", "1MiB", "--json-output", "--timeout-ms", bigTimeout)
	rl.waitReady()
	// Frame 0, then a pause far longer than the test.
	w := startCLI(t, "writer", in, "-n", "2", "--delay-ms", "600000", "--json-output")
	// The reader exits after one frame: it went through the relay.
	r.expectExit(0)
	rl.signal(syscall.SIGTERM)
	if rlr := rl.expectExit(0); rlr.Frames != 1 {
		t.Errorf("relay frames %d, want 1", rlr.Frames)
	}
	w.signal(syscall.SIGINT)
	wr := w.expectExit(2)
	if wr.Frames != 1 || len(wr.Errors) != 1 || !strings.Contains(wr.Errors[0], "interrupted") {
		t.Errorf("writer: frames %d, errors %q", wr.Frames, wr.Errors)
	}
}

// TestEndToEndNotifiers runs a reader with each --notifier and a writer
// without one: the reader records its choice and the writer adopts it. A
// writer forcing another kind is refused.
func TestEndToEndNotifiers(t *testing.T) {
	const frames, size = 200, 3000
	for _, notifier := range ring.NotifierNames() {
		t.Run(notifier, func(t *testing.T) {
			name := uniqueName(t)
			r := startCLI(t, "reader", name, "--payload-size", "64KiB", "-n", strconv.Itoa(frames),
				"--verify", "sequential", "--json-output", "--timeout-ms", bigTimeout, "--notifier", notifier)
			r.waitReady()
			other := "semaphore"
			if notifier == "semaphore" {
				other = "futex"
			}
			bad := startCLI(t, "writer", name, "-n", "1", "--notifier", other, "--json-output")
			bad.expectExit(2)
			w := startCLI(t, "writer", name, "-n", strconv.Itoa(frames), "-s", strconv.Itoa(size), "--json-output")
			wr := w.expectExit(0)
			rr := r.expectExit(0)
			if rr.Notifier != notifier || wr.Notifier != notifier {
				t.Errorf("notifier: reader %q, writer %q; want %q", rr.Notifier, wr.Notifier, notifier)
			}
			if rr.Frames != frames || rr.VerificationErrors != 0 {
				t.Errorf("reader: %d frames, %d verification errors", rr.Frames, rr.VerificationErrors)
			}
			// The counters travel in --json-output: every notifier of
			// the module counts its waits (each frame is one at least).
			if rr.Stats == nil || rr.Stats.Frames != frames || rr.Stats.Waits < frames {
				t.Errorf("reader stats %+v, want %d frames and as many waits", rr.Stats, frames)
			}
			if wr.Stats == nil || wr.Stats.Frames != frames || wr.Stats.Wakes+wr.Stats.WakesSkipped != frames {
				t.Errorf("writer stats %+v, want %d frames, each posted", wr.Stats, frames)
			}
		})
	}
}
