package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
	"github.com/zerobuffer/zerobuffer-go/internal/proc"
	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

const inspectUsage = `Usage: zerobuffer inspect NAME [options]

Shows the state of the buffer NAME without disturbing it: the segment is
mapped read-only, nothing is created or written, and the buffer is never
locked (the lock file is only probed with a shared, non-blocking flock that
is dropped at once).

Shown: the segment's size; the metadata block's size, written and free
bytes and the metadata's length (with -v a printable preview); the ring's
size, write_pos, read_pos, free bytes, frames written and read, the unread
frames (an estimate: written - read, wrap markers included) and the
utilisation (size - free) / size with its health band (healthy < 80 %,
degraded 80-95 %, critical > 95 %); the reader's and the writer's PIDs and
whether they are alive; the notifier the reader recorded and the raw
reserved words; the lock file and whether a live reader holds it; whether
the control block and the metadata are valid (an error names the field).

Options:
      --json               print one JSON object (snake_case keys)
      --json-output        the same as --json
      --watch DURATION     refresh every DURATION (e.g. 1s, 250ms) until
                           SIGINT or SIGTERM; with --json one object per line
  -v, --verbose            add a printable preview of the metadata
  -h, --help               this text

The fields are loaded one by one while the peers run: they are not one
consistent instant.
Exit status: 0 when the buffer is valid, 1 when it is corrupt (a field out
of range, a metadata length that disagrees, a segment too small for the
control block), 2 on any other error (no such buffer, no permission). With
--watch, the status of the last refresh.
`

type inspectOptions struct {
	name    string
	jsonOut bool
	watch   time.Duration // 0: inspect once
	verbose bool
}

func parseInspectArgs(args []string) (*inspectOptions, error) {
	o := &inspectOptions{}
	fs := cli.NewFlagSet("inspect")
	fs.BoolVar(&o.jsonOut, "json", false, "")
	fs.BoolVar(&o.jsonOut, "json-output", false, "")
	fs.DurationVar(&o.watch, "watch", 0, "")
	fs.BoolVar(&o.verbose, "v", false, "")
	fs.BoolVar(&o.verbose, "verbose", false, "")

	pos, err := cli.ParseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, fmt.Errorf("want exactly one buffer NAME, got %d arguments %q", len(pos), pos)
	}
	o.name = pos[0]
	if cli.WasSet(fs, "watch") && o.watch <= 0 {
		return nil, fmt.Errorf("--watch %v: must be > 0", o.watch)
	}
	return o, nil
}

// runInspect is `zerobuffer inspect`.
func runInspect(args []string, stdout, stderr io.Writer) int {
	o, err := parseInspectArgs(args)
	if err != nil {
		return cli.HandleParseError("zerobuffer inspect", err, inspectUsage, stdout, stderr)
	}
	ctx := context.Background()
	if o.watch > 0 {
		var stop context.CancelFunc
		ctx, stop = cli.SignalContext()
		defer stop()
	}
	return inspectLoop(ctx, o, stdout, stderr)
}

// inspectLoop inspects the buffer once, or, with o.watch, every o.watch
// until ctx ends. It returns the exit code of the last inspection.
func inspectLoop(ctx context.Context, o *inspectOptions, stdout, stderr io.Writer) int {
	if o.watch <= 0 {
		rep := inspectBuffer(o.name, o.verbose)
		rep.write(stdout, o.jsonOut, false)
		if rep.ExitCode == exitError {
			for _, e := range rep.Errors {
				fmt.Fprintf(stderr, "zerobuffer inspect: error: %s\n", e)
			}
		}
		return rep.ExitCode
	}
	clearScreen := !o.jsonOut && cli.IsTerminal(stdout)
	tick := time.NewTicker(o.watch)
	defer tick.Stop()
	for n := 0; ; n++ {
		rep := inspectBuffer(o.name, o.verbose)
		switch {
		case clearScreen:
			fmt.Fprint(stdout, "\x1b[H\x1b[2J")
		case n > 0 && !o.jsonOut:
			fmt.Fprintln(stdout)
		}
		rep.write(stdout, o.jsonOut, true)
		select {
		case <-ctx.Done():
			return rep.ExitCode
		case <-tick.C:
		}
	}
}

// inspectReport is what inspect shows, and with --json prints: one flat
// object with stable snake_case keys. The control block's fields are
// absent when the segment could not be read (missing, too small).
type inspectReport struct {
	BufferName  string `json:"buffer_name"`
	Time        string `json:"time"` // RFC 3339, UTC
	SegmentPath string `json:"segment_path"`
	Exists      bool   `json:"exists"`
	SegmentSize uint64 `json:"segment_size"`

	*InspectOIEB

	LockPath   string `json:"lock_path"`
	LockExists bool   `json:"lock_exists"`
	LockHeld   bool   `json:"lock_held"` // held: a live reader owns the buffer
	LockError  string `json:"lock_error,omitempty"`

	// Valid: the segment holds a control block that passes
	// layout.Snapshot.Validate and metadata that layout.ParseMetadata
	// accepts. The fields name the first bad field of each.
	Valid              bool   `json:"valid"`
	ValidationError    string `json:"validation_error,omitempty"`
	ValidationField    string `json:"validation_field,omitempty"`
	MetadataError      string `json:"metadata_error,omitempty"`
	MetadataErrorField string `json:"metadata_error_field,omitempty"`

	Errors   []string `json:"errors"`
	ExitCode int      `json:"exit_code"`
}

// InspectOIEB is the control block as inspect reports it. (Exported only so
// that encoding/json can fill it back in.)
type InspectOIEB struct {
	OIEBSize uint32 `json:"oieb_size"`
	Version  string `json:"version"`

	MetadataSize         uint64 `json:"metadata_size"`
	MetadataWrittenBytes uint64 `json:"metadata_written_bytes"`
	MetadataFreeBytes    uint64 `json:"metadata_free_bytes"`
	// MetadataLength is the block's length prefix when metadata was
	// written (and the prefix lies in the segment), else 0.
	MetadataLength           uint64  `json:"metadata_length"`
	MetadataPreview          *string `json:"metadata_preview,omitempty"` // -v: Go-escaped, at most metadataPreviewMax bytes
	MetadataPreviewTruncated bool    `json:"metadata_preview_truncated,omitempty"`

	PayloadSize         uint64 `json:"payload_size"`
	PayloadWritePos     uint64 `json:"payload_write_pos"`
	PayloadReadPos      uint64 `json:"payload_read_pos"`
	PayloadFreeBytes    uint64 `json:"payload_free_bytes"`
	PayloadWrittenCount uint64 `json:"payload_written_count"`
	PayloadReadCount    uint64 `json:"payload_read_count"`
	// UnreadFramesEstimate is written - read count (0 if read > written):
	// it counts wrap markers too.
	UnreadFramesEstimate uint64 `json:"unread_frames_estimate"`
	// UtilisationPercent is (payload_size - free) / payload_size * 100; null
	// when the ring's size is 0 or its free bytes exceed it.
	UtilisationPercent *float64 `json:"utilisation_percent"`
	Health             string   `json:"health"` // healthy, degraded, critical, unknown

	ReaderPID    uint64 `json:"reader_pid"`
	ReaderStatus string `json:"reader_status"` // none (PID 0), alive, dead
	ReaderAlive  bool   `json:"reader_alive"`
	WriterPID    uint64 `json:"writer_pid"`
	WriterStatus string `json:"writer_status"`
	WriterAlive  bool   `json:"writer_alive"`

	Notifier string    `json:"notifier"` // named from reserved[0]
	Reserved [4]uint64 `json:"reserved"`
}

// metadataPreviewMax bounds the metadata shown by -v.
const metadataPreviewMax = 256

// Health bands of the ring's utilisation, in percent.
const (
	healthDegradedAt = 80.0 // >= 80: degraded
	healthCriticalAt = 95.0 // > 95: critical
)

func healthBand(pct float64) string {
	switch {
	case pct < healthDegradedAt:
		return "healthy"
	case pct <= healthCriticalAt:
		return "degraded"
	}
	return "critical"
}

func pidStatus(pid uint64) (string, bool) {
	switch {
	case pid == 0:
		return "none", false
	case proc.Alive(pid):
		return "alive", true
	}
	return "dead", false
}

// inspectBuffer looks at the buffer name: read-only, creating nothing.
func inspectBuffer(name string, verbose bool) *inspectReport {
	rep := &inspectReport{
		BufferName:  name,
		Time:        time.Now().UTC().Format(time.RFC3339Nano),
		SegmentPath: ring.BufferFiles(name).Segment,
		LockPath:    ring.BufferFiles(name).Lock,
		Errors:      []string{},
	}
	// A name with '/' or ".." would make the paths point elsewhere.
	if err := ring.ValidateName(name); err != nil {
		rep.SegmentPath, rep.LockPath = "", ""
		return rep.fail(exitError, "%v", err)
	}

	exists, held, err := probeLock(rep.LockPath)
	rep.LockExists, rep.LockHeld = exists, held
	if err != nil {
		rep.LockError = err.Error()
	}

	seg, err := shm.Open(name, true, layout.OIEBSize)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return rep.fail(exitError, "no buffer %q: %s does not exist", name, rep.SegmentPath)
	case errors.Is(err, shm.ErrTooSmall):
		rep.Exists = true
		var st unix.Stat_t
		if unix.Stat(rep.SegmentPath, &st) == nil && st.Size >= 0 {
			rep.SegmentSize = uint64(st.Size)
		}
		rep.ValidationField = "segment_size"
		rep.ValidationError = fmt.Sprintf("segment %s is %d bytes, too small for the %d-byte OIEB", rep.SegmentPath, rep.SegmentSize, layout.OIEBSize)
		return rep.fail(exitVerify, "%s", rep.ValidationError)
	case err != nil:
		return rep.fail(exitError, "open %s: %v", name, err)
	}
	defer seg.Close()
	rep.Exists = true
	rep.SegmentSize = uint64(len(seg.Data))
	if err := examineSafely(rep, seg.Data, verbose); err != nil {
		rep.InspectOIEB = nil
		return rep.fail(exitError, "%v", err)
	}
	rep.finish()
	return rep
}

// fail records a message and the exit code.
func (r *inspectReport) fail(code int, format string, args ...any) *inspectReport {
	r.Errors = append(r.Errors, fmt.Sprintf(format, args...))
	r.Valid = false
	r.ExitCode = code
	return r
}

// finish sets the verdict of a segment that was read.
func (r *inspectReport) finish() {
	if r.ValidationError != "" {
		r.Errors = append(r.Errors, r.ValidationError)
	}
	if r.MetadataError != "" {
		r.Errors = append(r.Errors, r.MetadataError)
	}
	r.Valid = len(r.Errors) == 0
	if !r.Valid {
		r.ExitCode = exitVerify
	}
}

// examineSafely runs examine, turning a memory fault — the segment being
// truncated under the mapping by someone else — into an error.
func examineSafely(rep *inspectReport, data []byte, verbose bool) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			f, ok := p.(interface{ Addr() uintptr })
			if !ok {
				panic(p)
			}
			err = fmt.Errorf("reading the segment faulted at %#x (was it truncated?)", f.Addr())
		}
	}()
	return examine(rep, data, verbose)
}

// examine fills rep from the segment's bytes. It reads only within data,
// whatever the fields say, and never writes.
func examine(rep *inspectReport, data []byte, verbose bool) error {
	o, err := layout.View(data)
	if err != nil {
		return err
	}
	s := o.Snapshot()
	x := &InspectOIEB{
		OIEBSize:             s.OIEBSize,
		Version:              s.Version.String(),
		MetadataSize:         s.MetadataSize,
		MetadataWrittenBytes: s.MetadataWrittenBytes,
		MetadataFreeBytes:    s.MetadataFreeBytes,
		PayloadSize:          s.PayloadSize,
		PayloadWritePos:      s.PayloadWritePos,
		PayloadReadPos:       s.PayloadReadPos,
		PayloadFreeBytes:     s.PayloadFreeBytes,
		PayloadWrittenCount:  s.PayloadWrittenCount,
		PayloadReadCount:     s.PayloadReadCount,
		ReaderPID:            s.ReaderPID,
		WriterPID:            s.WriterPID,
		Notifier:             ring.NotifierName(s.Reserved[0]),
		Reserved:             s.Reserved,
		Health:               "unknown",
	}
	rep.InspectOIEB = x
	if s.PayloadWrittenCount >= s.PayloadReadCount {
		x.UnreadFramesEstimate = s.PayloadWrittenCount - s.PayloadReadCount
	}
	if s.PayloadSize > 0 && s.PayloadFreeBytes <= s.PayloadSize {
		pct := float64(s.PayloadSize-s.PayloadFreeBytes) * 100 / float64(s.PayloadSize)
		x.UtilisationPercent = &pct
		x.Health = healthBand(pct)
	}
	x.ReaderStatus, x.ReaderAlive = pidStatus(s.ReaderPID)
	x.WriterStatus, x.WriterAlive = pidStatus(s.WriterPID)

	if err := s.Validate(uint64(len(data))); err != nil {
		rep.ValidationError = err.Error()
		rep.ValidationField = fieldOf(err)
	}

	// The metadata block as far as it lies in the segment; ParseMetadata
	// checks the rest against metadata_written_bytes.
	block := data[layout.OIEBSize:]
	if uint64(len(block)) > s.MetadataSize {
		block = block[:s.MetadataSize]
	}
	if s.MetadataWrittenBytes != 0 && len(block) >= layout.MetadataPrefixSize {
		x.MetadataLength = binary.LittleEndian.Uint64(block[:layout.MetadataPrefixSize])
	}
	md, err := layout.ParseMetadata(block, s.MetadataWrittenBytes)
	if err != nil {
		rep.MetadataError = err.Error()
		rep.MetadataErrorField = fieldOf(err)
	} else if verbose && md != nil {
		n := min(len(md), metadataPreviewMax)
		q := strconv.Quote(string(md[:n])) // copies out of the mapping
		q = q[1 : len(q)-1]
		x.MetadataPreview = &q
		x.MetadataPreviewTruncated = n < len(md)
	}
	return nil
}

// fieldOf names the field a layout error is about, or "".
func fieldOf(err error) string {
	var fe *layout.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// probeLock reports whether the lock file at path exists and whether a
// reader holds it. It opens the file read-only (never creating it) and
// tries a shared, non-blocking flock, released at once: a reader holds
// LOCK_EX for its whole life, so the attempt fails with EWOULDBLOCK while
// one is alive and never blocks or steals anything. (For the instant the
// probe holds LOCK_SH, a new reader taking over a stale lock file, or a
// stale-cleanup scan, would find it busy.)
func probeLock(path string) (exists, held bool, err error) {
	// O_NONBLOCK: a FIFO planted at the path must not hang us.
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		if err == unix.ENOENT {
			return false, false, nil
		}
		var st unix.Stat_t
		return unix.Lstat(path, &st) == nil, false, fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return true, false, fmt.Errorf("fstat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return true, false, fmt.Errorf("%s is not a regular file", path)
	}
	switch err := flockRetry(fd, unix.LOCK_SH|unix.LOCK_NB); err {
	case nil:
		_ = flockRetry(fd, unix.LOCK_UN) // closing would release it too
		return true, false, nil
	case unix.EWOULDBLOCK:
		return true, true, nil
	default:
		return true, false, fmt.Errorf("flock %s: %w", path, err)
	}
}

func flockRetry(fd, how int) error {
	for {
		if err := unix.Flock(fd, how); err != unix.EINTR {
			return err
		}
	}
}

// write prints the report: one JSON line, or the text form.
func (r *inspectReport) write(w io.Writer, jsonOut, withTime bool) {
	if jsonOut {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(r)
	} else {
		fmt.Fprint(w, r.text(withTime))
	}
	cli.Flush(w)
}

// text is the human-readable form.
func (r *inspectReport) text(withTime bool) string {
	var b strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "  %-11s %s\n", label, fmt.Sprintf(format, args...))
	}
	b.WriteString("buffer " + r.BufferName)
	if withTime {
		b.WriteString(" at " + r.Time)
	}
	b.WriteString("\n")
	if r.Exists {
		line("segment", "%s, %d bytes", r.SegmentPath, r.SegmentSize)
	}
	if x := r.InspectOIEB; x != nil {
		line("oieb", "%d bytes, version %s", x.OIEBSize, x.Version)
		md := fmt.Sprintf("block %d bytes, written %d, free %d", x.MetadataSize, x.MetadataWrittenBytes, x.MetadataFreeBytes)
		if x.MetadataWrittenBytes == 0 {
			md += ", no metadata"
		} else {
			md += fmt.Sprintf(", length %d", x.MetadataLength)
		}
		line("metadata", "%s", md)
		if x.MetadataPreview != nil {
			more := ""
			if x.MetadataPreviewTruncated {
				more = fmt.Sprintf(" (first %d bytes)", metadataPreviewMax)
			}
			line("", "preview \"%s\"%s", *x.MetadataPreview, more)
		}
		used := "?"
		if x.PayloadFreeBytes <= x.PayloadSize {
			used = strconv.FormatUint(x.PayloadSize-x.PayloadFreeBytes, 10)
		}
		line("payload", "ring %d bytes, write_pos %d, read_pos %d, free %d (used %s)",
			x.PayloadSize, x.PayloadWritePos, x.PayloadReadPos, x.PayloadFreeBytes, used)
		line("", "written %d, read %d, unread ~%d (counts include wrap markers)",
			x.PayloadWrittenCount, x.PayloadReadCount, x.UnreadFramesEstimate)
		if x.UtilisationPercent != nil {
			line("", "utilisation %.1f %% (%s)", *x.UtilisationPercent, x.Health)
		} else {
			line("", "utilisation unknown")
		}
		line("reader", "%s", pidText(x.ReaderPID, x.ReaderStatus))
		line("writer", "%s", pidText(x.WriterPID, x.WriterStatus))
		batched := ""
		if x.Reserved[0] == 0 && x.Reserved[3] == layout.BatchedReleaseMark {
			batched = ", space returned in batches (a Go reader)"
		}
		line("notifier", "%s%s (reserved %#x %#x %#x %#x)", x.Notifier, batched, x.Reserved[0], x.Reserved[1], x.Reserved[2], x.Reserved[3])
	}
	if r.LockPath != "" {
		var lock string
		switch {
		case r.LockError != "":
			lock = "unknown: " + r.LockError
		case r.LockHeld:
			lock = "held (a live reader)"
		case r.LockExists:
			lock = "exists, not held (no live reader)"
		default:
			lock = "absent"
		}
		line("lock", "%s: %s", r.LockPath, lock)
	}
	switch {
	case r.Valid:
		line("validation", "OK")
	case r.ExitCode == exitError:
		line("error", "%s", strings.Join(r.Errors, "; "))
	default:
		line("validation", "FAILED")
		if r.ValidationError != "" {
			line("", "%s: %s", orUnknown(r.ValidationField), r.ValidationError)
		}
		if r.MetadataError != "" {
			line("", "%s: %s", orUnknown(r.MetadataErrorField), r.MetadataError)
		}
	}
	return b.String()
}

func pidText(pid uint64, status string) string {
	if pid == 0 {
		return "none"
	}
	return fmt.Sprintf("PID %d (%s)", pid, status)
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}
