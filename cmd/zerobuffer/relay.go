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

const relayUsage = `Usage: zerobuffer relay IN OUT [options]

Reads frames from the buffer IN, which the relay creates (it is IN's
reader), and writes them, transformed, to the buffer OUT, which a
downstream reader must have created (the relay is OUT's writer). READY is
printed on stdout once OUT is connected and IN exists. Metadata written to
IN is copied to OUT as soon as it appears. Each frame goes from IN's ring
straight into the slot reserved in OUT's ring (no intermediate copy).

Options:
  -n, --frames COUNT       frames to relay; 0 = until IN's writer closes (default 0)
      --create-output      accepted for compatibility with the other relays. In
                           ZeroBuffer the reader creates a buffer, so the relay
                           cannot create OUT; instead it waits (up to
                           --timeout-ms) for OUT's reader to create it rather
                           than failing at once
      --buffer-size BYTES  IN's ring size (default 268435456 = 256 MiB)
      --payload-size BYTES the same as --buffer-size
      --metadata-size BYTES IN's metadata block size (default 4096)
      --perm MODE          octal mode of IN's files (default 0600)
      --transform NAME     none|reverse|xor (default none): reverse the bytes
                           of each frame, or xor each byte with --xor-key
      --xor-key BYTE       key of the xor transform (default 0xFF)
      --timeout-ms MS      longest wait for a frame from IN, and for room in
                           OUT (default 5000)
      --log-interval SECS  progress line on stderr every SECS seconds (default 0: none)
      --checksum           report a CRC-32 of all payload bytes written to OUT
      --notifier NAME      semaphore, futex, hybrid, spin, yield, backoff or adaptive:
                           IN's notifier (default semaphore), and
                           OUT's (default: adopt OUT's reader's)
      --json-output        print one JSON object with the results
  -v, --verbose            details, and the counters of both sides, on stderr
                           (also in --json-output: "stats" for IN's reader,
                           "output_stats" for OUT's writer)
  -h, --help               this text

Exit status: 0 when every frame was relayed, 2 on any error.
`

type relayOptions struct {
	in, out      string
	frames       uint64
	waitOutput   bool
	payloadSize  uint64
	metadataSize uint64
	perm         os.FileMode
	transform    pattern.Transform
	xorKey       byte
	timeoutMS    int
	logInterval  float64
	checksum     bool
	notifier     string
	jsonOut      bool
	verbose      bool
}

func parseRelayArgs(args []string) (*relayOptions, error) {
	o := &relayOptions{payloadSize: 256 << 20, metadataSize: 4096, perm: ring.DefaultPermissions, xorKey: 0xFF}
	fs := cli.NewFlagSet("relay")
	fs.Uint64Var(&o.frames, "n", 0, "")
	fs.Uint64Var(&o.frames, "frames", 0, "")
	fs.BoolVar(&o.waitOutput, "create-output", false, "")
	fs.Var(cli.Size{P: &o.payloadSize}, "buffer-size", "")
	fs.Var(cli.Size{P: &o.payloadSize}, "payload-size", "")
	fs.Var(cli.Size{P: &o.metadataSize}, "metadata-size", "")
	fs.Var(permValue{&o.perm}, "perm", "")
	tr := fs.String("transform", "none", "")
	fs.Var(byteValue{&o.xorKey}, "xor-key", "")
	fs.IntVar(&o.timeoutMS, "timeout-ms", 5000, "")
	fs.Float64Var(&o.logInterval, "log-interval", 0, "")
	fs.BoolVar(&o.checksum, "checksum", false, "")
	fs.StringVar(&o.notifier, "notifier", "", "")
	fs.BoolVar(&o.jsonOut, "json-output", false, "")
	fs.BoolVar(&o.verbose, "v", false, "")
	fs.BoolVar(&o.verbose, "verbose", false, "")

	pos, err := cli.ParseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != 2 {
		return nil, fmt.Errorf("want the buffers IN and OUT, got %d arguments %q", len(pos), pos)
	}
	o.in, o.out = pos[0], pos[1]
	if o.transform, err = pattern.ParseTransform(*tr); err != nil {
		return nil, err
	}
	switch {
	case o.in == o.out:
		return nil, fmt.Errorf("IN and OUT are the same buffer %q", o.in)
	case o.payloadSize == 0:
		return nil, errors.New("--buffer-size must be > 0")
	case o.timeoutMS <= 0:
		return nil, fmt.Errorf("--timeout-ms %d: must be > 0", o.timeoutMS)
	case o.logInterval < 0:
		return nil, fmt.Errorf("--log-interval %v: must be >= 0", o.logInterval)
	}
	if err := checkNotifierName(o.notifier); err != nil {
		return nil, err
	}
	return o, nil
}

// connectOutput connects to OUT as its writer. With wait, a buffer that is
// not there yet (or whose reader has not finished creating it) is retried
// until timeout.
func connectOutput(ctx context.Context, name, notifier string, writeTimeout time.Duration, wait bool, timeout time.Duration) (*ring.Writer, error) {
	deadline := time.Now().Add(timeout)
	for {
		// A Notifier value serves one connection attempt: make a new one.
		opts, _ := notifierOption(notifier)
		opts = append(opts, ring.WithWriteTimeout(writeTimeout))
		w, err := ring.Connect(name, opts...)
		if err == nil || !wait {
			return w, err
		}
		// Retry what a reader still creating the buffer looks like: no
		// segment yet, a segment not sized or initialised yet (the ring
		// reports an OIEB of zeros as incompatible or corrupt), no reader
		// PID recorded yet.
		if !errors.Is(err, ring.ErrBufferNotFound) && !errors.Is(err, ring.ErrReaderDead) &&
			!errors.Is(err, ring.ErrIncompatibleVersion) && !errors.Is(err, ring.ErrCorrupt) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("still not there after %v: %w", timeout, err)
		}
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return nil, fmt.Errorf("interrupted: %w", err)
		}
	}
}

// runRelay is `zerobuffer relay`.
func runRelay(args []string, stdout, stderr io.Writer) int {
	o, err := parseRelayArgs(args)
	if err != nil {
		return cli.HandleParseError("zerobuffer relay", err, relayUsage, stdout, stderr)
	}
	ctx, stop := cli.SignalContext()
	defer stop()

	res := newResult("relay", o.in, stderr)
	res.InputBuffer, res.OutputBuffer = o.in, o.out
	res.Transform = o.transform.String()
	res.Notifier = o.notifier
	vlog := func(format string, args ...any) {
		if o.verbose {
			fmt.Fprintf(stderr, "zerobuffer relay: "+format+"\n", args...)
		}
	}
	timeout := msDuration(o.timeoutMS)

	out, err := connectOutput(ctx, o.out, o.notifier, timeout, o.waitOutput, timeout)
	if err != nil {
		res.addError("connect to output %s: %v", o.out, err)
		return res.report(stdout, o.jsonOut)
	}
	defer out.Close()
	outNotifier := out.NotifierName()
	vlog("connected to output %s: ring %d bytes, notifier %s", o.out, out.PayloadSize(), outNotifier)

	opts, _ := notifierOption(o.notifier)
	opts = append(opts, ring.WithPermissions(o.perm))
	in, err := ring.NewReader(o.in, ring.Config{MetadataSize: o.metadataSize, PayloadSize: o.payloadSize}, opts...)
	if err != nil {
		res.addError("create input %s: %v", o.in, err)
		_ = out.Close()
		return res.report(stdout, o.jsonOut)
	}
	defer in.Close()
	res.PayloadSize = in.PayloadSize()
	res.Notifier = in.NotifierName()
	if outNotifier != res.Notifier {
		res.Notifier += "/" + outNotifier
	}
	vlog("created input %s: ring %d bytes, notifier %s", o.in, in.PayloadSize(), res.Notifier)
	fmt.Fprintln(stdout, "READY")
	cli.Flush(stdout)

	rl := &relayer{in: in, out: out, o: o, res: res, vlog: vlog}
	var (
		logEvery = time.Duration(o.logInterval * float64(time.Second))
		nextLog  = time.Now().Add(logEvery)
	)
	elapsed := readFrames(ctx, in, o.frames, timeout, res, rl.frame, func(start, last time.Time) {
		if logEvery > 0 && last.After(nextLog) {
			nextLog = last.Add(logEvery)
			secs := last.Sub(start).Seconds()
			fmt.Fprintf(stderr, "zerobuffer relay: %d frames, %d bytes, %.1f frames/s, %.2f MB/s\n",
				res.Frames, res.Bytes, float64(res.Frames)/secs, float64(res.Bytes)/1e6/secs)
		}
	})
	// Metadata written after the last frame still goes through.
	if err := rl.metadata(); err != nil {
		res.addError("metadata: %v", err)
	}
	vlog("relayed %d frames", res.Frames)
	if err := out.Close(); err != nil {
		res.addError("close %s: %v", o.out, err)
	}
	if err := in.Close(); err != nil {
		res.addError("close %s: %v", o.in, err)
	}
	inStats, outStats := in.Stats(), out.Stats()
	res.Stats, res.OutputStats = &inStats, &outStats
	vlog("input %s", statsLine(inStats))
	vlog("output %s", statsLine(outStats))
	res.finish(elapsed, rl.crc, o.checksum)
	return res.report(stdout, o.jsonOut)
}

// relayer copies frames and metadata from the relay's input ring to its
// output ring.
type relayer struct {
	in       *ring.Reader
	out      *ring.Writer
	o        *relayOptions
	res      *result
	vlog     func(format string, args ...any)
	metaDone bool
	crc      uint32
}

// metadata copies the input's metadata to the output once the input's
// writer has stored it.
func (r *relayer) metadata() error {
	if r.metaDone {
		return nil
	}
	md, err := r.in.Metadata()
	if err == nil && md == nil {
		return nil // not written yet
	}
	r.metaDone = true
	if err != nil {
		return err
	}
	if err := r.out.SetMetadata(md); err != nil {
		return err
	}
	r.res.MetadataSize = uint64(len(md))
	r.vlog("relayed %d bytes of metadata", len(md))
	return nil
}

// frame transforms one input frame into a reserved output frame.
func (r *relayer) frame(f ring.Frame) error {
	if err := r.metadata(); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	src := f.Bytes()
	dst, err := r.out.Reserve(len(src))
	if err != nil {
		return fmt.Errorf("frame %d: reserve %d bytes in %s: %w", f.Seq(), len(src), r.o.out, err)
	}
	pattern.ApplyTransform(r.o.transform, dst, src, r.o.xorKey)
	if r.o.checksum {
		r.crc = crc32.Update(r.crc, crc32.IEEETable, dst)
	}
	if err := r.out.Commit(); err != nil {
		return fmt.Errorf("frame %d: commit to %s: %w", f.Seq(), r.o.out, err)
	}
	return nil
}
