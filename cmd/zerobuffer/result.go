package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
	"github.com/zerobuffer/zerobuffer-go/internal/pattern"
	"github.com/zerobuffer/zerobuffer-go/notify"
)

// maxErrorMessages caps the messages kept in a result; error_count still
// counts every error.
const maxErrorMessages = 100

// result is what a subcommand reports at the end: one JSON object on
// stdout with --json-output, else a short human summary.
//
// The names follow the cross-platform test CLIs of the other
// implementations (operation, buffer_name, frames_written / frames_read /
// frames_relayed, frame_size, metadata_size, duration_seconds,
// throughput_mbps, errors) plus fields of our own. MB is 10^6 bytes.
type result struct {
	Operation    string `json:"operation"` // write, read or relay
	BufferName   string `json:"buffer_name"`
	InputBuffer  string `json:"input_buffer,omitempty"`
	OutputBuffer string `json:"output_buffer,omitempty"`

	Frames        uint64  `json:"frames"`
	FramesWritten *uint64 `json:"frames_written,omitempty"` // = frames, for "write"
	FramesRead    *uint64 `json:"frames_read,omitempty"`    // = frames, for "read"
	FramesRelayed *uint64 `json:"frames_relayed,omitempty"` // = frames, for "relay"
	Bytes         uint64  `json:"bytes"`                    // payload bytes, headers excluded

	FrameSize    uint64  `json:"frame_size"`         // writer: -s; reader, relay: the largest frame seen
	PayloadSize  uint64  `json:"payload_size"`       // the ring's size (IN's, for the relay)
	MetadataSize uint64  `json:"metadata_size"`      // bytes of metadata written / received / relayed
	Metadata     *string `json:"metadata,omitempty"` // reader: the metadata received, as text

	DurationSeconds float64 `json:"duration_seconds"` // first frame to last frame
	FramesPerSecond float64 `json:"frames_per_second"`
	ThroughputMBps  float64 `json:"throughput_mbps"`

	Pattern            string `json:"pattern,omitempty"`   // writer
	Verify             string `json:"verify,omitempty"`    // reader
	Transform          string `json:"transform,omitempty"` // relay
	VerificationErrors uint64 `json:"verification_errors"`
	Checksum           string `json:"checksum,omitempty"` // CRC-32 (IEEE) of all payload bytes, 8 hex digits
	ChecksumAlgorithm  string `json:"checksum_algorithm,omitempty"`
	Notifier           string `json:"notifier"`

	// Stats are the counters of the reader's or the writer's side (the
	// relay's input reader); OutputStats those of the relay's output
	// writer. See notify.Stats for what each counts.
	Stats       *notify.Stats `json:"stats,omitempty"`
	OutputStats *notify.Stats `json:"output_stats,omitempty"`

	ErrorCount int      `json:"error_count"`
	Errors     []string `json:"errors"`
	ExitCode   int      `json:"exit_code"`

	log io.Writer // where errors are echoed as they happen (stderr); may be nil
}

func newResult(op, name string, log io.Writer) *result {
	r := &result{Operation: op, BufferName: name, Errors: []string{}, log: log}
	switch op {
	case "write":
		r.FramesWritten = &r.Frames
	case "read":
		r.FramesRead = &r.Frames
	case "relay":
		r.FramesRelayed = &r.Frames
	}
	return r
}

// addError records an error message (the first maxErrorMessages of them).
func (r *result) addError(format string, args ...any) {
	r.ErrorCount++
	if len(r.Errors) < maxErrorMessages {
		msg := fmt.Sprintf(format, args...)
		r.Errors = append(r.Errors, msg)
		if r.log != nil {
			cmd := map[string]string{"write": "writer", "read": "reader"}[r.Operation]
			if cmd == "" {
				cmd = r.Operation
			}
			fmt.Fprintf(r.log, "zerobuffer %s: error: %s\n", cmd, msg)
		}
	}
}

// otherErrors is the number of errors that are not verification errors.
func (r *result) otherErrors() int { return r.ErrorCount - int(r.VerificationErrors) }

// finish fills the derived numbers.
func (r *result) finish(d time.Duration, checksum uint32, withChecksum bool) {
	r.DurationSeconds = d.Seconds()
	if r.DurationSeconds > 0 {
		r.FramesPerSecond = float64(r.Frames) / r.DurationSeconds
		r.ThroughputMBps = float64(r.Bytes) / 1e6 / r.DurationSeconds
	}
	if withChecksum {
		r.Checksum = fmt.Sprintf("%08x", checksum)
		r.ChecksumAlgorithm = "crc32"
	}
}

// exitCode is 2 for any error other than a verification error, 1 for
// verification errors alone, else 0.
func (r *result) exitCode() int {
	switch {
	case r.otherErrors() > 0:
		return exitError
	case r.VerificationErrors > 0:
		return exitVerify
	}
	return exitOK
}

// report writes the result and returns the exit code.
func (r *result) report(stdout io.Writer, jsonOut bool) int {
	r.ExitCode = r.exitCode()
	if jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(r)
	} else {
		fmt.Fprint(stdout, r.summary())
	}
	cli.Flush(stdout)
	return r.ExitCode
}

// summary is the human-readable report.
func (r *result) summary() string {
	var b strings.Builder
	verb := map[string]string{"write": "wrote", "read": "read", "relay": "relayed"}[r.Operation]
	name := r.BufferName
	if r.Operation == "relay" {
		name = r.InputBuffer + " -> " + r.OutputBuffer
	}
	fmt.Fprintf(&b, "%s %s: %s %d frames, %d bytes in %.3fs (%.1f frames/s, %.2f MB/s), notifier %s\n",
		r.Operation, name, verb, r.Frames, r.Bytes, r.DurationSeconds, r.FramesPerSecond, r.ThroughputMBps, r.Notifier)
	if r.MetadataSize > 0 {
		fmt.Fprintf(&b, "  metadata: %d bytes\n", r.MetadataSize)
	}
	if r.Verify != "" && r.Verify != pattern.None.String() {
		fmt.Fprintf(&b, "  verify %s: %d errors\n", r.Verify, r.VerificationErrors)
	}
	if r.Checksum != "" {
		fmt.Fprintf(&b, "  checksum %s: %s\n", r.ChecksumAlgorithm, r.Checksum)
	}
	if r.ErrorCount > 0 {
		fmt.Fprintf(&b, "  %d errors:\n", r.ErrorCount)
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "    %s\n", e)
		}
		if n := r.ErrorCount - len(r.Errors); n > 0 {
			fmt.Fprintf(&b, "    ... and %d more\n", n)
		}
	} else {
		b.WriteString("  OK\n")
	}
	return b.String()
}

// statsLine is one side's counters as -v prints them: the frames, how the
// waits ended, what they cost in system calls and spins, and the posts'
// wake system calls made and skipped.
func statsLine(s notify.Stats) string {
	return fmt.Sprintf("stats: %d frames; %d waits: %d at once, %d spun, %d slept, %d polls, %d timeouts; "+
		"%d sleeps, %d spurious wake-ups, %d spin iterations; %d wakes, %d wakes skipped; %d space batches",
		s.Frames, s.Waits, s.WaitsAtOnce, s.WaitsSpun, s.WaitsSlept, s.Polls, s.Timeouts,
		s.Sleeps, s.Spurious, s.SpinIterations, s.Wakes, s.WakesSkipped, s.SpaceBatches)
}
