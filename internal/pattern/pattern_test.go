package pattern

import (
	"bytes"
	"encoding/binary"
	"testing"
)

var testSizes = []int{1, 2, 7, 8, 9, 15, 16, 255, 256, 257, 1000, 4095, 4096, 4097, 8192, 10007}
var testFrames = []uint64{0, 1, 2, 254, 255, 256, 257, 511, 1000, 1 << 40}

func TestSequentialPattern(t *testing.T) {
	for _, n := range testSizes {
		for _, k := range testFrames {
			b := make([]byte, n)
			Fill(Sequential, b, k, 0)
			for i := range b {
				if want := byte((k + uint64(i)) % 256); b[i] != want {
					t.Fatalf("size %d frame %d: byte %d = %#x, want %#x", n, k, i, b[i], want)
				}
			}
			if m, ok := Verify(Sequential, b, k, 0); !ok {
				t.Fatalf("size %d frame %d: own fill fails verification at %+v", n, k, m)
			}
		}
	}
	// The frame index wraps past 255: frame 256 is frame 0 again, and
	// frame 255 runs 0xFF, 0x00, 0x01, ...
	a, b := make([]byte, 300), make([]byte, 300)
	Fill(Sequential, a, 0, 0)
	Fill(Sequential, b, 256, 0)
	if !bytes.Equal(a, b) {
		t.Error("frame 256 differs from frame 0")
	}
	Fill(Sequential, b, 255, 0)
	if b[0] != 0xFF || b[1] != 0x00 || b[2] != 0x01 || b[257] != 0x00 {
		t.Errorf("frame 255 starts % x, byte 257 %#x", b[:3], b[257])
	}
	// Frame k is not frame k+1.
	if _, ok := Verify(Sequential, a, 1, 0); ok {
		t.Error("frame 0 verifies as frame 1")
	}
}

func TestConstantPatterns(t *testing.T) {
	for _, tc := range []struct {
		p    Pattern
		want byte
	}{{Zero, 0x00}, {Ones, 0xFF}} {
		for _, n := range testSizes {
			b := bytes.Repeat([]byte{0x5A}, n)
			Fill(tc.p, b, 7, 0)
			if !bytes.Equal(b, bytes.Repeat([]byte{tc.want}, n)) {
				t.Fatalf("%v size %d: not all %#x", tc.p, n, tc.want)
			}
			if m, ok := Verify(tc.p, b, 99, 0); !ok {
				t.Fatalf("%v size %d: own fill fails at %+v", tc.p, n, m)
			}
		}
	}
}

func TestRandomPattern(t *testing.T) {
	for _, n := range testSizes {
		for _, k := range testFrames {
			a, b := make([]byte, n), make([]byte, n)
			Fill(Random, a, k, 42)
			Fill(Random, b, k, 42)
			if !bytes.Equal(a, b) {
				t.Fatalf("size %d frame %d: two fills differ", n, k)
			}
			if m, ok := Verify(Random, a, k, 42); !ok {
				t.Fatalf("size %d frame %d: own fill fails at %+v", n, k, m)
			}
			if n >= 8 {
				if _, ok := Verify(Random, a, k+1, 42); ok {
					t.Fatalf("size %d: frame %d verifies as frame %d", n, k, k+1)
				}
				if _, ok := Verify(Random, a, k, 43); ok {
					t.Fatalf("size %d frame %d: seed 42 verifies as seed 43", n, k)
				}
			}
		}
	}
	// Seed 0 means 1.
	a, b := make([]byte, 64), make([]byte, 64)
	Fill(Random, a, 3, 0)
	Fill(Random, b, 3, 1)
	if !bytes.Equal(a, b) {
		t.Error("seed 0 is not seed 1")
	}
	// A prefix of a frame is the frame of that size: the stream does not
	// depend on the length.
	long, short := make([]byte, 100), make([]byte, 13)
	Fill(Random, long, 5, 9)
	Fill(Random, short, 5, 9)
	if !bytes.Equal(long[:13], short) {
		t.Error("a 13-byte frame is not the prefix of a 100-byte one")
	}
}

// TestRandomPatternDocumented restates the algorithm from randomStart's doc
// comment, so that the documentation (which other implementations would
// follow) and the code cannot drift apart.
func TestRandomPatternDocumented(t *testing.T) {
	seed, k := uint64(7), uint64(12)
	state := seed*0x9E3779B97F4A7C15 ^ (k+1)*0xD1B54A32D192ED03
	want := make([]byte, 0, 24)
	for range 3 {
		state += 0x9E3779B97F4A7C15
		z := state
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		z ^= z >> 31
		want = binary.LittleEndian.AppendUint64(want, z)
	}
	got := make([]byte, 20)
	Fill(Random, got, k, seed)
	if !bytes.Equal(got, want[:20]) {
		t.Errorf("random frame %d seed %d:\n got % x\nwant % x", k, seed, got, want[:20])
	}
}

func TestVerifyReportsFirstMismatch(t *testing.T) {
	for _, p := range []Pattern{Sequential, Random, Zero, Ones} {
		for _, n := range []int{1, 9, 300, 5000, 10007} {
			for _, at := range []int{0, n / 2, n - 1} {
				b := make([]byte, n)
				Fill(p, b, 300, 5)
				want := b[at]
				b[at] ^= 0x10
				if at+1 < n {
					b[n-1] ^= 0x01 // a later difference must not be reported
				}
				m, ok := Verify(p, b, 300, 5)
				if ok || m.Index != at || m.Got != want^0x10 || m.Want != want {
					t.Errorf("%v size %d, byte %d changed: got %+v ok=%v, want index %d got %#x want %#x",
						p, n, at, m, ok, at, want^0x10, want)
				}
			}
		}
	}
	// none checks nothing.
	if _, ok := Verify(None, []byte{1, 2, 3}, 0, 0); !ok {
		t.Error("none failed")
	}
	// Empty frames verify (the ring never hands them out, but be total).
	for _, p := range []Pattern{Sequential, Random, Zero, Ones} {
		if _, ok := Verify(p, nil, 1, 1); !ok {
			t.Errorf("%v: empty frame failed", p)
		}
	}
}

func TestParsePattern(t *testing.T) {
	for _, name := range []string{"sequential", "random", "zero", "ones"} {
		p, err := Parse(name, false)
		if err != nil || p.String() != name {
			t.Errorf("Parse(%q) = %v, %v", name, p, err)
		}
	}
	if p, err := Parse("none", true); err != nil || p != None {
		t.Errorf("none with allowNone: %v, %v", p, err)
	}
	for _, bad := range []string{"none", "", "Sequential", "incrementing"} {
		if _, err := Parse(bad, false); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestTransforms(t *testing.T) {
	for n := 0; n <= 70; n++ {
		src := make([]byte, n)
		Fill(Random, src, uint64(n), 1)
		for _, tr := range []Transform{TransformNone, TransformReverse, TransformXor} {
			dst := make([]byte, n)
			ApplyTransform(tr, dst, src, 0xA5)
			for i := range src {
				var want byte
				switch tr {
				case TransformNone:
					want = src[i]
				case TransformReverse:
					want = src[n-1-i]
				case TransformXor:
					want = src[i] ^ 0xA5
				}
				if dst[i] != want {
					t.Fatalf("%v size %d: byte %d = %#x, want %#x", tr, n, i, dst[i], want)
				}
			}
		}
	}
	for _, name := range []string{"none", "reverse", "xor"} {
		if tr, err := ParseTransform(name); err != nil || tr.String() != name {
			t.Errorf("ParseTransform(%q) = %v, %v", name, tr, err)
		}
	}
	if _, err := ParseTransform("rot13"); err == nil {
		t.Error("rot13 accepted")
	}
}

func TestPatternsDoNotAllocate(t *testing.T) {
	b := make([]byte, 10007)
	dst := make([]byte, len(b))
	for _, p := range []Pattern{Sequential, Random, Zero, Ones} {
		k := uint64(0)
		if n := testing.AllocsPerRun(50, func() {
			Fill(p, b, k, 3)
			if _, ok := Verify(p, b, k, 3); !ok {
				panic("mismatch")
			}
			k++
		}); n != 0 {
			t.Errorf("%v: %v allocations per fill+verify", p, n)
		}
	}
	for _, tr := range []Transform{TransformNone, TransformReverse, TransformXor} {
		if n := testing.AllocsPerRun(50, func() { ApplyTransform(tr, dst, b, 0xFF) }); n != 0 {
			t.Errorf("%v: %v allocations per transform", tr, n)
		}
	}
}

func BenchmarkFillVerify(b *testing.B) {
	buf := make([]byte, 1<<20)
	for _, p := range []Pattern{Sequential, Random, Zero, Ones} {
		b.Run(p.String(), func(b *testing.B) {
			b.SetBytes(int64(len(buf)))
			for i := 0; b.Loop(); i++ {
				Fill(p, buf, uint64(i), 1)
				Verify(p, buf, uint64(i), 1)
			}
		})
	}
}
