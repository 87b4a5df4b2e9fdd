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

const writerUsage = `Usage: zerobuffer writer NAME [options]

Connects to the buffer NAME, which a reader created, and writes frames.

Options:
  -n, --frames COUNT       frames to write (default 1000)
  -s, --size BYTES         payload bytes per frame (default 1024)
  -m, --metadata TEXT      metadata to write before the first frame
      --metadata-file PATH metadata read from a file
      --pattern NAME       sequential|random|zero|ones (default sequential):
                           sequential: byte i of frame k is (k+i) % 256;
                           random: splitmix64 stream from (--seed, k);
                           zero: all 0x00; ones: all 0xFF
      --seed N             seed of the random pattern (default 0, meaning 1)
      --delay-ms MS        pause after each batch of frames (default 0)
      --batch-size COUNT   frames per batch (default 1)
      --timeout-ms MS      how long one write waits for room (default 5000)
      --notifier NAME      semaphore, futex, hybrid, spin, yield, backoff or
                           adaptive (default: adopt the one the reader recorded)
      --checksum           report a CRC-32 of all payload bytes written
      --json-output        print one JSON object with the results
  -v, --verbose            progress, and the counters of the writer's waits
                           and posts, on stderr (the counters are also in
                           --json-output, as "stats")
  -h, --help               this text

Frames are filled in place in the shared memory (Reserve/Commit).
Exit status: 0 when every frame was written, 2 on any error.
`

type writerOptions struct {
	name         string
	frames       int
	size         int
	metadata     string
	hasMetadata  bool
	metadataFile string
	pattern      pattern.Pattern
	seed         uint64
	delayMS      int
	batchSize    int
	timeoutMS    int
	notifier     string
	checksum     bool
	jsonOut      bool
	verbose      bool
}

func parseWriterArgs(args []string) (*writerOptions, error) {
	o := &writerOptions{}
	fs := cli.NewFlagSet("writer")
	fs.IntVar(&o.frames, "n", 1000, "")
	fs.IntVar(&o.frames, "frames", 1000, "")
	fs.IntVar(&o.size, "s", 1024, "")
	fs.IntVar(&o.size, "size", 1024, "")
	fs.StringVar(&o.metadata, "m", "", "")
	fs.StringVar(&o.metadata, "metadata", "", "")
	fs.StringVar(&o.metadataFile, "metadata-file", "", "")
	pat := fs.String("pattern", "sequential", "")
	fs.Uint64Var(&o.seed, "seed", 0, "")
	fs.IntVar(&o.delayMS, "delay-ms", 0, "")
	fs.IntVar(&o.batchSize, "batch-size", 1, "")
	fs.IntVar(&o.timeoutMS, "timeout-ms", 5000, "")
	fs.StringVar(&o.notifier, "notifier", "", "")
	fs.BoolVar(&o.checksum, "checksum", false, "")
	fs.BoolVar(&o.jsonOut, "json-output", false, "")
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
	o.hasMetadata = cli.WasSet(fs, "m", "metadata")
	if o.pattern, err = pattern.Parse(*pat, false); err != nil {
		return nil, err
	}
	switch {
	case o.frames < 0:
		return nil, fmt.Errorf("--frames %d: must be >= 0", o.frames)
	case o.size < 1:
		return nil, fmt.Errorf("--size %d: must be >= 1", o.size)
	case o.delayMS < 0:
		return nil, fmt.Errorf("--delay-ms %d: must be >= 0", o.delayMS)
	case o.batchSize < 1:
		return nil, fmt.Errorf("--batch-size %d: must be >= 1", o.batchSize)
	case o.timeoutMS <= 0:
		return nil, fmt.Errorf("--timeout-ms %d: must be > 0", o.timeoutMS)
	case o.hasMetadata && o.metadataFile != "":
		return nil, errors.New("--metadata and --metadata-file exclude each other")
	}
	if err := checkNotifierName(o.notifier); err != nil {
		return nil, err
	}
	return o, nil
}

// patternWriter writes one frame of the test pattern, filled in place in
// the slot Reserve hands out: no copy and no allocation per frame.
type patternWriter struct {
	w        *ring.Writer
	pattern  pattern.Pattern
	seed     uint64
	size     int
	checksum bool
	crc      uint32
}

func (p *patternWriter) writeFrame(k uint64) error {
	buf, err := p.w.Reserve(p.size)
	if err != nil {
		return err
	}
	pattern.Fill(p.pattern, buf, k, p.seed)
	if p.checksum {
		p.crc = crc32.Update(p.crc, crc32.IEEETable, buf)
	}
	return p.w.Commit()
}

// runWriter is `zerobuffer writer`.
func runWriter(args []string, stdout, stderr io.Writer) int {
	o, err := parseWriterArgs(args)
	if err != nil {
		return cli.HandleParseError("zerobuffer writer", err, writerUsage, stdout, stderr)
	}
	ctx, stop := cli.SignalContext()
	defer stop()

	res := newResult("write", o.name, stderr)
	res.FrameSize = uint64(o.size)
	res.Pattern = o.pattern.String()
	vlog := func(format string, args ...any) {
		if o.verbose {
			fmt.Fprintf(stderr, "zerobuffer writer: "+format+"\n", args...)
		}
	}

	var meta []byte
	switch {
	case o.metadataFile != "":
		if meta, err = os.ReadFile(o.metadataFile); err != nil {
			res.addError("metadata file: %v", err)
			return res.report(stdout, o.jsonOut)
		}
	case o.hasMetadata:
		meta = []byte(o.metadata)
	}

	opts, _ := notifierOption(o.notifier)
	opts = append(opts, ring.WithWriteTimeout(msDuration(o.timeoutMS)))
	w, err := ring.Connect(o.name, opts...)
	if err != nil {
		res.Notifier = o.notifier
		res.addError("connect to %s: %v", o.name, err)
		return res.report(stdout, o.jsonOut)
	}
	defer w.Close()
	res.Notifier = w.NotifierName()
	res.PayloadSize = w.PayloadSize()
	vlog("connected to %s: ring %d bytes, notifier %s", o.name, w.PayloadSize(), res.Notifier)

	if meta != nil {
		if err := w.SetMetadata(meta); err != nil {
			res.addError("metadata: %v", err)
			_ = w.Close()
			return res.report(stdout, o.jsonOut)
		}
		res.MetadataSize = uint64(len(meta))
		vlog("wrote %d bytes of metadata", len(meta))
	}

	pw := &patternWriter{w: w, pattern: o.pattern, seed: o.seed, size: o.size, checksum: o.checksum}
	elapsed := writeFrames(ctx, pw, o, res)
	if err := w.Close(); err != nil {
		res.addError("close: %v", err)
	}
	vlog("wrote %d frames", res.Frames)
	stats := w.Stats()
	res.Stats = &stats
	vlog("%s", statsLine(stats))
	res.finish(elapsed, pw.crc, o.checksum)
	return res.report(stdout, o.jsonOut)
}

// writeFrames writes o.frames frames through pw, pausing o.delayMS after
// each batch of o.batchSize, until done, a write fails or ctx ends; it
// counts them in res and returns the time the writes took.
func writeFrames(ctx context.Context, pw *patternWriter, o *writerOptions, res *result) time.Duration {
	delay := msDuration(o.delayMS)
	var timer *time.Timer
	start := time.Now()
	for k := 0; k < o.frames; k++ {
		if ctx.Err() != nil {
			res.addError("interrupted after %d of %d frames", k, o.frames)
			break
		}
		if err := pw.writeFrame(uint64(k)); err != nil {
			res.addError("frame %d: %v", k, err)
			break
		}
		res.Frames++
		res.Bytes += uint64(o.size)
		if delay > 0 && (k+1)%o.batchSize == 0 && k+1 < o.frames {
			if timer == nil {
				timer = time.NewTimer(delay)
			} else {
				timer.Reset(delay)
			}
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
	}
	elapsed := time.Since(start)
	if timer != nil {
		timer.Stop()
	}
	return elapsed
}

// sleepCtx waits d or until ctx ends; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
