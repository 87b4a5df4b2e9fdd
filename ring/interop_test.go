package ring

// Interop tests against testdata/zbpeer.c, a foreign peer that speaks
// ZeroBuffer v1 through glibc the way the C++ implementation does (see
// cpeer_test.go). They prove, in both directions, that the Go ring and an
// existing-style peer agree on every byte of the layout, the OIEB
// bookkeeping, wrap markers and the semaphores:
//
//   - a C writer, which like the existing peers leaves 1..15-byte "short
//     tails" without a wrap marker, feeds a Go reader, which must tolerate
//     them;
//   - a Go writer feeds a C reader, which like the C++ reader fails on a
//     short tail, so its success proves the Go writer never leaves one.
//
// The size cycles are checked with cPeerWalkRing before use, so each case is
// known to produce the wraps it claims to. No result depends on timing:
// every wait is bounded only to turn a hang into a failure.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/zerobuffer/zerobuffer-go/sync/semaphore"
)

// interopDeadline bounds a whole interop case; it only turns a hang into a
// failure.
const interopDeadline = 5 * time.Minute

// interopWriteTimeout is the Go writer's wait for room: long, so that a
// slow machine never makes a case fail.
const interopWriteTimeout = 2 * time.Minute

type interopCase struct {
	name         string
	payloadSize  uint64
	metadataSize uint64
	metadata     string // "" for none
	sizes        []int
	frames       int
	// What the existing peers' rule (used by the C writer) must produce
	// with this cycle, at least: so the case tests what it claims.
	wantMarkers, wantShortTails, wantExactEnds bool
	// spaceSemStart, when set, is written into sem-r before the Go writer
	// connects, as if countless unwaited releases had been posted.
	spaceSemStart uint32
	// racyFree makes the C reader return space with a plain load and
	// store, as the C++ reader does (see zbpeer.c); its final free-bytes
	// count is then meaningless and not checked.
	racyFree bool
	// releaseLate makes the C reader move read_pos and read_count when it
	// reads a frame and return its space after checking it, as the C++
	// reader does.
	releaseLate bool
}

// interopCases force wrap markers, short tails (with the existing peers'
// writer rule) and frames ending exactly at the end of the ring, including
// a frame filling the whole ring and 1-byte frames. None has a frame of
// 16+size in (payloadSize-16, payloadSize), which leaves a short tail
// wherever it is placed.
var interopCases = []interopCase{
	{
		name: "markers and short tails", payloadSize: 1024, metadataSize: 256,
		metadata: "interop metadata \x01\xff end", // no NUL: it goes through argv
		sizes:    []int{494, 411, 64, 196, 69, 214, 1}, frames: 2000,
		wantMarkers: true, wantShortTails: true,
	},
	{
		name: "short tail every ninth frame", payloadSize: 1024, metadataSize: 64,
		metadata: "m",
		sizes:    []int{97}, frames: 500, // 9 x 113 = 1017: a 7-byte tail
		wantShortTails: true,
	},
	{
		// A full-ring frame fits only right after a frame that ended
		// exactly at the end (or at the start): anywhere else it needs
		// more free space than the ring has.
		name: "exact ends and full-ring frames", payloadSize: 1024, metadataSize: 128,
		metadata: "exact",
		sizes:    []int{1008, 1008, 496, 496, 240, 240, 496}, frames: 300,
		wantExactEnds: true,
	},
	{
		name: "unaligned sizes rounded up", payloadSize: 1000, metadataSize: 50,
		metadata: "rounded to 64",
		sizes:    []int{100, 7, 300, 33}, frames: 400, // ring of 1024 bytes
		wantMarkers: true,
	},
}

// interopRoundedRing is the ring size a reader creates for payloadSize.
func interopRoundedRing(payloadSize uint64) uint64 { return (payloadSize + 63) &^ 63 }

func (c interopCase) check(t *testing.T) {
	t.Helper()
	p := interopRoundedRing(c.payloadSize)
	w := cPeerWalkRing(p, c.sizes, c.frames, false)
	if (c.wantMarkers && w.markers == 0) || (c.wantShortTails && w.shortTails == 0) ||
		(c.wantExactEnds && w.exactEnds == 0) {
		t.Fatalf("size cycle %v in a ring of %d gives %+v, not what the case claims", c.sizes, p, w)
	}
	for _, s := range c.sizes {
		if tot := uint64(16 + s); tot > p-16 && tot != p {
			t.Fatalf("size %d cannot avoid a short tail in a ring of %d", s, p)
		}
	}
	for _, safe := range []bool{false, true} {
		if w := cPeerWalkRing(p, c.sizes, c.frames, safe); w.maxNeed > p {
			t.Fatalf("size cycle %v: a frame needs %d free bytes in a ring of %d (safe rule %v)", c.sizes, w.maxNeed, p, safe)
		}
	}
}

// readFramesFromC reads frames frames written by a zbpeer writer with the
// given size cycle from r, checking sequence, size and every byte, and the
// metadata after the first frame.
func readFramesFromC(ctx context.Context, t *testing.T, r *Reader, sizes []int, frames int, metadata string) {
	t.Helper()
	for k := 0; k < frames; k++ {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			t.Fatalf("frame %d: ReadFrame: %v", k, err)
		}
		if f.Seq() != uint64(k+1) {
			t.Fatalf("frame %d: sequence %d, want %d", k, f.Seq(), k+1)
		}
		b := f.Bytes()
		if want := sizes[k%len(sizes)]; len(b) != want {
			t.Fatalf("frame %d: %d bytes, want %d", k, len(b), want)
		}
		if i := cPeerCheck(k, b); i >= 0 {
			t.Fatalf("frame %d: byte %d is %d, want %d", k, i, b[i], byte(k+i))
		}
		if err := f.Release(); err != nil {
			t.Fatalf("frame %d: Release: %v", k, err)
		}
		if k == 0 && metadata != "" {
			md, err := r.Metadata()
			if err != nil {
				t.Fatalf("Metadata: %v", err)
			}
			if !bytes.Equal(md, []byte(metadata)) {
				t.Fatalf("Metadata = %q, want %q", md, metadata)
			}
		}
	}
}

// cWriterToGoReader runs a zbpeer writer into a Go reader.
func cWriterToGoReader(t *testing.T, c interopCase) {
	ctx, cancel := context.WithTimeout(context.Background(), interopDeadline)
	defer cancel()
	name := cPeerBufferName(t, "zbtest-interop-")
	r, err := NewReader(name, Config{MetadataSize: c.metadataSize, PayloadSize: c.payloadSize})
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Reader.Close: %v", err)
		}
	})

	args := []string{"--frames", strconv.Itoa(c.frames), "--sizes", cPeerSizes(c.sizes),
		"--timeout-ms", strconv.Itoa(cPeerTimeoutMS)}
	if c.metadata != "" {
		args = append(args, "--metadata", c.metadata)
	}
	wr := startCWriter(t, name, args...)

	readFramesFromC(ctx, t, r, c.sizes, c.frames, c.metadata)
	wr.WaitOK(c.frames, cPeerSumSizes(c.sizes, c.frames))

	// The C writer cleared writer_pid on exit and every frame was read:
	// the Go reader must see the writer as gone, not wait for more.
	end, endCancel := context.WithTimeout(ctx, time.Minute)
	defer endCancel()
	if f, err := r.ReadFrame(end); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("ReadFrame after the C writer left = (seq %d, %v), want ErrWriterClosed", f.Seq(), err)
	}
}

// goWriterToCReader runs a Go writer into a zbpeer reader. Odd frames go
// through Reserve/Commit, even ones through WriteFrame.
func goWriterToCReader(t *testing.T, c interopCase) {
	name := cPeerBufferName(t, "zbtest-interop-")
	args := []string{"--payload-size", strconv.FormatUint(c.payloadSize, 10),
		"--metadata-size", strconv.FormatUint(c.metadataSize, 10),
		"--frames", strconv.Itoa(c.frames), "--sizes", cPeerSizes(c.sizes),
		"--timeout-ms", strconv.Itoa(cPeerTimeoutMS)}
	if c.metadata != "" {
		args = append(args, "--expect-metadata", c.metadata)
	}
	if c.racyFree {
		args = append(args, "--racy-free")
	}
	if c.releaseLate {
		args = append(args, "--release-late")
	}
	rd := startCReader(t, name, args...)
	if c.spaceSemStart != 0 {
		setSemValue(t, semaphore.SpaceName(name), c.spaceSemStart)
	}

	w, err := Connect(name, WithWriteTimeout(interopWriteTimeout))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			w.Close()
		}
	})
	if c.metadata != "" {
		if err := w.SetMetadata([]byte(c.metadata)); err != nil {
			t.Fatalf("SetMetadata: %v", err)
		}
	}
	buf := make([]byte, 0, 64<<10)
	for k := 0; k < c.frames; k++ {
		n := c.sizes[k%len(c.sizes)]
		if k%2 == 0 {
			buf = buf[:n]
			cPeerPattern(k, buf)
			if err := w.WriteFrame(buf); err != nil {
				t.Fatalf("frame %d (%d bytes): WriteFrame: %v\nC reader so far: %s", k, n, err, rd.result())
			}
			continue
		}
		p, err := w.Reserve(n)
		if err != nil {
			t.Fatalf("frame %d (%d bytes): Reserve: %v\nC reader so far: %s", k, n, err, rd.result())
		}
		if len(p) != n {
			t.Fatalf("frame %d: Reserve(%d) gave %d bytes", k, n, len(p))
		}
		cPeerPattern(k, p)
		if err := w.Commit(); err != nil {
			t.Fatalf("frame %d: Commit: %v", k, err)
		}
	}
	res := rd.WaitOK(c.frames, cPeerSumSizes(c.sizes, c.frames))
	if !c.racyFree {
		cPeerCheckDrained(t, res, interopRoundedRing(c.payloadSize))
	}
	closed = true
	if err := w.Close(); err != nil {
		t.Errorf("Writer.Close after the C reader left: %v", err)
	}
}

// TestInteropCWriterGoReader: the C writer (existing peers' wrap rule,
// short tails included) feeds the Go reader.
func TestInteropCWriterGoReader(t *testing.T) {
	for _, c := range interopCases {
		t.Run(c.name, func(t *testing.T) {
			c.check(t)
			cWriterToGoReader(t, c)
		})
	}
}

// TestInteropGoWriterCReader: the Go writer feeds the C reader, which
// fails on a short tail; the cycles are ones where the existing peers'
// writer would leave short tails.
func TestInteropGoWriterCReader(t *testing.T) {
	for _, c := range interopCases {
		t.Run(c.name, func(t *testing.T) {
			c.check(t)
			if w := cPeerWalkRing(interopRoundedRing(c.payloadSize), c.sizes, c.frames, true); w.shortTails != 0 {
				t.Fatalf("cycle %v leaves short tails even with the Go rule: %+v", c.sizes, w)
			}
			goWriterToCReader(t, c)
		})
	}
}

// TestInteropManyFrames pushes a few thousand frames each way through a
// 10 KiB ring with a cycle that makes the existing peers' writer leave
// short tails, and without a metadata block.
func TestInteropManyFrames(t *testing.T) {
	c := interopCase{
		name: "10KiB", payloadSize: 10 << 10, metadataSize: 0,
		sizes:  []int{2055, 536, 2179, 622, 2145, 2092, 77, 3576, 1803},
		frames: 5000, wantMarkers: true, wantShortTails: true,
	}
	t.Run("CWriterToGoReader", func(t *testing.T) {
		c.check(t)
		cWriterToGoReader(t, c)
	})
	t.Run("GoWriterToCReader", func(t *testing.T) {
		c.check(t)
		goWriterToCReader(t, c)
	})
}

// TestInteropRacyFreeBytesReader pairs the Go writer with a reader that
// returns space the way the C++ reader does: payload_free_bytes += T as a
// plain load and store, against which the writer's atomic subtract is
// sometimes lost, so the field overstates the free space. A writer that
// trusted it would write a lap ahead over unread frames, and one that
// trusted the positions would overwrite the frame the reader is checking
// when, like the C++ reader, it moves them before it returns the space
// ("late"); the C reader then fails its sequence or payload check. The Go
// writer counts the reader's sem-r posts instead (ring/releases.go).
func TestInteropRacyFreeBytesReader(t *testing.T) {
	sizes64, sizes8 := []int{5001, 6537, 77, 7777, 1, 16368}, []int{1000, 24, 1500, 333}
	for _, c := range []interopCase{
		{name: "64KiB", payloadSize: 64 << 10, sizes: sizes64, frames: 40000, racyFree: true},
		{name: "8KiB", payloadSize: 8 << 10, sizes: sizes8, frames: 40000, racyFree: true},
		{name: "64KiB-late", payloadSize: 64 << 10, sizes: sizes64, frames: 40000, racyFree: true, releaseLate: true},
		{name: "8KiB-late", payloadSize: 8 << 10, sizes: sizes8, frames: 40000, racyFree: true, releaseLate: true},
		{name: "8KiB-late-atomic", payloadSize: 8 << 10, sizes: sizes8, frames: 20000, releaseLate: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.check(t)
			goWriterToCReader(t, c)
		})
	}
}

// TestInteropSpaceSemaphoreNearMax starts the C reader's sem-r ten posts
// short of SEM_VALUE_MAX. The C reader, like the C++ one, posts it on every
// release whether or not the writer waits; in a ring large enough that the
// writer never waits (and so never consumes a token), without the Go
// writer draining it the reader's sem_post would fail with EOVERFLOW
// within ten frames.
func TestInteropSpaceSemaphoreNearMax(t *testing.T) {
	c := interopCase{
		name: "near-max", payloadSize: 8 << 20,
		sizes: []int{2055, 536, 2179, 622, 77}, frames: 2000,
		spaceSemStart: semaphore.ValueMax - 10,
	}
	c.check(t)
	goWriterToCReader(t, c)
}

// setSemValue writes a semaphore's value into its file, as only a test may.
func setSemValue(t *testing.T, name string, v uint32) {
	t.Helper()
	f, err := os.OpenFile("/dev/shm/sem."+name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	if _, err := f.WriteAt(b[:], 0); err != nil {
		t.Fatal(err)
	}
}

// TestInteropPeerKilled checks liveness across implementations: a C peer
// killed with SIGKILL (so it clears nothing) is seen as dead through the
// PID it recorded. The peer is reaped before the Go side looks, since a
// zombie still answers kill(pid, 0).
func TestInteropPeerKilled(t *testing.T) {
	const payload = 1024
	sizes := []int{100, 37}

	t.Run("CWriterKilled", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), interopDeadline)
		defer cancel()
		name := cPeerBufferName(t, "zbtest-interop-")
		r, err := NewReader(name, Config{MetadataSize: 64, PayloadSize: payload})
		if err != nil {
			t.Fatalf("NewReader: %v", err)
		}
		t.Cleanup(func() {
			if err := r.Close(); err != nil {
				t.Errorf("Reader.Close: %v", err)
			}
		})
		// Far more frames than the ring holds: the writer blocks for
		// space, alive, until it is killed.
		wr := startCWriter(t, name, "--frames", "1000000", "--sizes", cPeerSizes(sizes),
			"--timeout-ms", strconv.Itoa(cPeerTimeoutMS))
		readFramesFromC(ctx, t, r, sizes, 20, "")
		if err := wr.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		if res := wr.Wait(); res.Code != -1 {
			t.Fatalf("C writer: want killed, got %s", res)
		}
		// Frames the writer published before it died are still read,
		// intact; then the reader reports the writer dead.
		for k := 20; ; k++ {
			f, err := r.ReadFrame(ctx)
			if err != nil {
				if !errors.Is(err, ErrWriterDead) {
					t.Fatalf("after %d frames: ReadFrame = %v, want ErrWriterDead", k, err)
				}
				break
			}
			if f.Seq() != uint64(k+1) || len(f.Bytes()) != sizes[k%len(sizes)] || cPeerCheck(k, f.Bytes()) >= 0 {
				t.Fatalf("frame %d after the kill: seq %d, %d bytes, mismatch at %d", k, f.Seq(), len(f.Bytes()), cPeerCheck(k, f.Bytes()))
			}
			if err := f.Release(); err != nil {
				t.Fatalf("frame %d: Release: %v", k, err)
			}
		}
	})

	t.Run("CReaderKilled", func(t *testing.T) {
		name := cPeerBufferName(t, "zbtest-interop-")
		rd := startCReader(t, name, "--payload-size", strconv.Itoa(payload), "--frames", "1000000",
			"--sizes", cPeerSizes(sizes), "--timeout-ms", strconv.Itoa(cPeerTimeoutMS))
		w, err := Connect(name, WithWriteTimeout(interopWriteTimeout))
		if err != nil {
			t.Fatalf("Connect: %v", err)
		}
		defer w.Close()
		buf := make([]byte, 1024)
		k := 0
		write := func() error {
			b := buf[:sizes[k%len(sizes)]]
			cPeerPattern(k, b)
			err := w.WriteFrame(b)
			if err == nil {
				k++
			}
			return err
		}
		for k < 20 {
			if err := write(); err != nil {
				t.Fatalf("frame %d: WriteFrame: %v", k, err)
			}
		}
		if err := rd.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		if res := rd.Wait(); res.Code != -1 {
			t.Fatalf("C reader: want killed, got %s", res)
		}
		// The ring fills (nobody reads), then the writer finds the
		// reader dead. 1000 frames of 100+ bytes cannot all fit in 1 KiB.
		var werr error
		for i := 0; i < 1000 && werr == nil; i++ {
			werr = write()
		}
		if !errors.Is(werr, ErrReaderDead) {
			t.Fatalf("WriteFrame after the C reader was killed = %v, want ErrReaderDead", werr)
		}
		// A SIGKILLed reader removes nothing; do it for it. Any reader
		// starting meanwhile (another test process) may already have
		// removed the stale lock file, as the protocol's stale cleanup
		// does.
		for _, p := range cPeerBufferFiles(name) {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the killed C reader's %s: %v", p, err)
			}
		}
	})
}
