package main

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
	"github.com/zerobuffer/zerobuffer-go/internal/pattern"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

const readerUsage = `Usage: zerobuffer reader NAME [options]

Creates the buffer NAME, prints READY on stdout once it exists, then reads
frames until the count is reached or, with -n 0, until the writer leaves.
The buffer's files are removed on exit, also on SIGINT or SIGTERM.

Options:
  -n, --frames COUNT       frames to read; 0 = until the writer closes (default 0)
      --payload-size BYTES ring size (default 268435456 = 256 MiB; K/M/G suffixes ok)
      --buffer-size BYTES  the same as --payload-size
      --metadata-size BYTES metadata block size (default 4096)
      --perm MODE          octal mode of the files created (default 0600)
      --timeout-ms MS      longest wait for each frame, the first included (default 5000)
      --verify PATTERN     none|sequential|random|zero|ones (default none)
      --check-pattern      the same as --verify sequential
      --seed N             seed of the random pattern (default 0, meaning 1)
      --checksum           report a CRC-32 of all payload bytes read
      --notifier NAME      semaphore, futex, hybrid, spin, yield, backoff or
                           adaptive (default semaphore); recorded in the buffer
      --json-output        print one JSON object with the results
  -v, --verbose            details, the metadata received, and the counters
                           of the reader's waits and posts, on stderr (the
                           counters are also in --json-output, as "stats")
  -h, --help               this text
  --create, --validate     accepted for compatibility: the reader always
                           creates the buffer and always checks sequence numbers

Frame k (0-based) is the frame with sequence number k+1.
Exit status: 0 when every frame was read (and verified), 1 when some frame
did not match --verify, 2 on any other error: a timeout or the writer
leaving before COUNT frames, a dead writer, a protocol error.
`

type readerOptions struct {
	name         string
	frames       uint64
	payloadSize  uint64
	metadataSize uint64
	perm         os.FileMode
	timeoutMS    int
	verify       pattern.Pattern
	seed         uint64
	checksum     bool
	notifier     string
	jsonOut      bool
	verbose      bool
}

func parseReaderArgs(args []string) (*readerOptions, error) {
	o := &readerOptions{payloadSize: 256 << 20, metadataSize: 4096, perm: ring.DefaultPermissions}
	fs := cli.NewFlagSet("reader")
	fs.Uint64Var(&o.frames, "n", 0, "")
	fs.Uint64Var(&o.frames, "frames", 0, "")
	fs.Var(cli.Size{P: &o.payloadSize}, "payload-size", "")
	fs.Var(cli.Size{P: &o.payloadSize}, "buffer-size", "")
	fs.Var(cli.Size{P: &o.metadataSize}, "metadata-size", "")
	fs.Var(permValue{&o.perm}, "perm", "")
	fs.IntVar(&o.timeoutMS, "timeout-ms", 5000, "")
	verify := fs.String("verify", "none", "")
	checkPattern := fs.Bool("check-pattern", false, "")
	fs.Uint64Var(&o.seed, "seed", 0, "")
	fs.BoolVar(&o.checksum, "checksum", false, "")
	fs.StringVar(&o.notifier, "notifier", "", "")
	fs.BoolVar(&o.jsonOut, "json-output", false, "")
	fs.BoolVar(&o.verbose, "v", false, "")
	fs.BoolVar(&o.verbose, "verbose", false, "")
	fs.Bool("create", true, "")
	fs.Bool("validate", true, "")

	pos, err := cli.ParseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, fmt.Errorf("want exactly one buffer NAME, got %d arguments %q", len(pos), pos)
	}
	o.name = pos[0]
	if *checkPattern && !cli.WasSet(fs, "verify") {
		*verify = "sequential"
	}
	if o.verify, err = pattern.Parse(*verify, true); err != nil {
		return nil, err
	}
	switch {
	case o.payloadSize == 0:
		return nil, errors.New("--payload-size must be > 0")
	case o.timeoutMS <= 0:
		return nil, fmt.Errorf("--timeout-ms %d: must be > 0", o.timeoutMS)
	}
	if err := checkNotifierName(o.notifier); err != nil {
		return nil, err
	}
	return o, nil
}

// frameChecker verifies and checksums frames as they are read, without
// allocating (unless a frame fails verification).
type frameChecker struct {
	verify   pattern.Pattern
	seed     uint64
	checksum bool
	crc      uint32
}

// check returns the first pattern.Mismatch of the frame with sequence number seq.
func (c *frameChecker) check(data []byte, seq uint64) (pattern.Mismatch, bool) {
	if c.checksum {
		c.crc = crc32.Update(c.crc, crc32.IEEETable, data)
	}
	return pattern.Verify(c.verify, data, seq-1, c.seed)
}

// runReader is `zerobuffer reader`.
func runReader(args []string, stdout, stderr io.Writer) int {
	o, err := parseReaderArgs(args)
	if err != nil {
		return cli.HandleParseError("zerobuffer reader", err, readerUsage, stdout, stderr)
	}
	ctx, stop := cli.SignalContext()
	defer stop()

	res := newResult("read", o.name, stderr)
	res.Verify = o.verify.String()
	vlog := func(format string, args ...any) {
		if o.verbose {
			fmt.Fprintf(stderr, "zerobuffer reader: "+format+"\n", args...)
		}
	}

	opts, _ := notifierOption(o.notifier)
	opts = append(opts, ring.WithPermissions(o.perm))
	r, err := ring.NewReader(o.name, ring.Config{MetadataSize: o.metadataSize, PayloadSize: o.payloadSize}, opts...)
	if err != nil {
		res.Notifier = o.notifier
		res.addError("create %s: %v", o.name, err)
		return res.report(stdout, o.jsonOut)
	}
	defer r.Close()
	res.Notifier = r.NotifierName()
	res.PayloadSize = r.PayloadSize()
	vlog("created %s: ring %d bytes, metadata block %d bytes, notifier %s",
		o.name, r.PayloadSize(), r.MetadataSize(), res.Notifier)
	fmt.Fprintln(stdout, "READY")
	cli.Flush(stdout)

	checker := &frameChecker{verify: o.verify, seed: o.seed, checksum: o.checksum}
	timeout := msDuration(o.timeoutMS)
	haveMeta := false
	takeMetadata := func() {
		if haveMeta {
			return
		}
		md, err := r.Metadata()
		if err != nil {
			haveMeta = true
			res.addError("metadata: %v", err)
			return
		}
		if md == nil {
			return
		}
		haveMeta = true
		s := string(md)
		res.Metadata, res.MetadataSize = &s, uint64(len(md))
		vlog("metadata (%d bytes): %q", len(md), md)
	}

	elapsed := readFrames(ctx, r, o.frames, timeout, res, func(f ring.Frame) error {
		takeMetadata()
		data := f.Bytes()
		if m, ok := checker.check(data, f.Seq()); !ok {
			res.VerificationErrors++
			res.addError("frame %d (seq %d, %d bytes): byte %d is 0x%02x, %s wants 0x%02x",
				f.Seq()-1, f.Seq(), len(data), m.Index, m.Got, o.verify, m.Want)
		}
		return nil
	}, nil)
	takeMetadata()
	vlog("read %d frames", res.Frames)
	if err := r.Close(); err != nil {
		res.addError("close: %v", err)
	}
	stats := r.Stats()
	res.Stats = &stats
	vlog("%s", statsLine(stats))
	res.finish(elapsed, checker.crc, o.checksum)
	return res.report(stdout, o.jsonOut)
}

// readFrames is the read loop of the reader and the relay: it reads
// frames from r, each within timeout, until want frames (0: until the
// writer leaves) or an error; it hands each to handle, counts it into res
// and releases it. An error from handle ends the loop and is recorded.
// tick (may be nil) runs after each frame. It returns the time from the
// first frame to the last.
func readFrames(ctx context.Context, r *ring.Reader, want uint64, timeout time.Duration, res *result,
	handle func(ring.Frame) error, tick func(start, last time.Time)) time.Duration {
	var start, last time.Time
	ft := newFrameTimeout(ctx, timeout)
	defer ft.stop()
	for want == 0 || res.Frames < want {
		f, err := ft.read(r)
		if err != nil {
			endOfRead(ctx, err, res, want, timeout)
			break
		}
		if res.Frames == 0 {
			start = time.Now()
		}
		n := uint64(len(f.Bytes()))
		if err := handle(f); err != nil {
			_ = f.Release()
			res.addError("%v", err)
			break
		}
		res.Frames++
		res.Bytes += n
		res.FrameSize = max(res.FrameSize, n)
		if err := f.Release(); err != nil {
			res.addError("release frame %d: %v", f.Seq(), err)
			break
		}
		last = time.Now()
		if tick != nil {
			tick(start, last)
		}
	}
	if res.Frames == 0 {
		return 0
	}
	return last.Sub(start)
}

// endOfRead classifies the error that ended a read loop (the reader's and
// the relay's): the writer closing is the normal end when no count was
// asked for (want == 0); a signal ends an open-ended read normally too.
// Everything else is an error.
func endOfRead(sigCtx context.Context, err error, res *result, want uint64, timeout time.Duration) {
	of := ""
	if want > 0 {
		of = fmt.Sprintf(" of %d", want)
	}
	switch {
	case sigCtx.Err() != nil:
		if want > 0 {
			res.addError("interrupted after %d%s frames", res.Frames, of)
		}
	case errors.Is(err, ring.ErrWriterClosed):
		if want > 0 {
			res.addError("writer closed after %d%s frames", res.Frames, of)
		}
	case errors.Is(err, context.DeadlineExceeded):
		res.addError("timeout: no frame within %v after %d%s frames", timeout, res.Frames, of)
	default:
		res.addError("after %d%s frames: %v", res.Frames, of, err)
	}
}
