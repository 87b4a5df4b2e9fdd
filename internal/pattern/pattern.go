// Package pattern is the content of the command line's test frames: the
// patterns a writer fills frames with and a reader verifies them against
// (sequential, random, zero, ones), and the transforms a relay applies on
// the way (none, reverse, xor). They match the cross-platform test
// programs of the other ZeroBuffer implementations, so a Go writer can be
// checked by their reader and the other way round; the random pattern is
// specified below so that any implementation can regenerate a frame.
package pattern

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Pattern is the content of a test frame, as the writer fills it and the
// reader verifies it. Every function here works in place on the caller's
// slice (for the writer, the slot Reserve handed out in shared memory) and
// allocates nothing.
type Pattern uint8

const (
	None       Pattern = iota // no content check (reader only)
	Sequential                // byte i of frame k is (k+i) % 256
	Random                    // splitmix64 stream seeded from (seed, k); see randomStart
	Zero                      // every byte 0x00
	Ones                      // every byte 0xFF
)

var patternNames = [...]string{
	None:       "none",
	Sequential: "sequential",
	Random:     "random",
	Zero:       "zero",
	Ones:       "ones",
}

func (p Pattern) String() string {
	if int(p) < len(patternNames) {
		return patternNames[p]
	}
	return fmt.Sprintf("pattern(%d)", uint8(p))
}

// Parse reads a pattern name; "none" is accepted only when allowNone.
func Parse(s string, allowNone bool) (Pattern, error) {
	for i, name := range patternNames {
		if s == name && (i != int(None) || allowNone) {
			return Pattern(i), nil
		}
	}
	if allowNone {
		return 0, fmt.Errorf("unknown pattern %q (want none, sequential, random, zero or ones)", s)
	}
	return 0, fmt.Errorf("unknown pattern %q (want sequential, random, zero or ones)", s)
}

// chunk is the block size of the table-driven fills and compares.
const chunk = 4096

var (
	// seqTable[i] = byte(i): any 4096-byte window starting at offset o<256
	// is the sequential pattern starting at value o. 4096 is a multiple of
	// 256, so consecutive chunks of a frame all start at the same offset.
	seqTable  [chunk + 256]byte
	zeroBlock [chunk]byte
	onesBlock [chunk]byte
)

func init() {
	for i := range seqTable {
		seqTable[i] = byte(i)
	}
	for i := range onesBlock {
		onesBlock[i] = 0xFF
	}
}

// effectiveSeed maps a seed (the --seed flag) to the PRNG seed: 0 means 1, so that
// the default is a fixed, reproducible stream.
func effectiveSeed(seed uint64) uint64 {
	if seed == 0 {
		return 1
	}
	return seed
}

// The random pattern of frame k under seed s is the little-endian byte
// stream of splitmix64 outputs whose state starts at
//
//	randomStart(s, k) = s*0x9E3779B97F4A7C15 ^ (k+1)*0xD1B54A32D192ED03
//
// (64-bit wrapping arithmetic). Each output advances the state by
// 0x9E3779B97F4A7C15 and mixes it with the splitmix64 finaliser. A frame
// of n bytes takes ceil(n/8) outputs; the last output's low bytes come
// first. Any implementation can regenerate a frame from (seed, k) alone.
func randomStart(seed, k uint64) uint64 {
	return effectiveSeed(seed)*0x9E3779B97F4A7C15 ^ (k+1)*0xD1B54A32D192ED03
}

func splitmix64(state *uint64) uint64 {
	*state += 0x9E3779B97F4A7C15
	z := *state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Fill writes the pattern of frame k (0-based) into b.
func Fill(p Pattern, b []byte, k, seed uint64) {
	switch p {
	case Sequential:
		off := int(k % 256)
		for i := 0; i < len(b); i += chunk {
			copy(b[i:], seqTable[off:off+chunk])
		}
	case Random:
		s := randomStart(seed, k)
		i := 0
		for ; i+8 <= len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], splitmix64(&s))
		}
		if i < len(b) {
			v := splitmix64(&s)
			for ; i < len(b); i++ {
				b[i] = byte(v)
				v >>= 8
			}
		}
	case Zero:
		clear(b)
	case Ones:
		for i := 0; i < len(b); i += chunk {
			copy(b[i:], onesBlock[:])
		}
	}
}

// Mismatch describes the first byte of a frame that differs from its
// pattern.
type Mismatch struct {
	Index     int
	Got, Want byte
}

// Verify checks b against the pattern of frame k. It returns
// ok=true when every byte matches (always for None), else the first
// differing byte.
func Verify(p Pattern, b []byte, k, seed uint64) (Mismatch, bool) {
	switch p {
	case Sequential:
		off := int(k % 256)
		for i := 0; i < len(b); i += chunk {
			c := b[i:min(i+chunk, len(b))]
			if want := seqTable[off : off+len(c)]; !bytes.Equal(c, want) {
				return firstDiff(c, want, i), false
			}
		}
	case Random:
		s := randomStart(seed, k)
		i := 0
		for ; i+8 <= len(b); i += 8 {
			got, want := binary.LittleEndian.Uint64(b[i:]), splitmix64(&s)
			if got != want {
				j := bits.TrailingZeros64(got^want) / 8
				return Mismatch{Index: i + j, Got: byte(got >> (8 * j)), Want: byte(want >> (8 * j))}, false
			}
		}
		if i < len(b) {
			v := splitmix64(&s)
			for ; i < len(b); i++ {
				if b[i] != byte(v) {
					return Mismatch{Index: i, Got: b[i], Want: byte(v)}, false
				}
				v >>= 8
			}
		}
	case Zero, Ones:
		block := &zeroBlock
		if p == Ones {
			block = &onesBlock
		}
		for i := 0; i < len(b); i += chunk {
			c := b[i:min(i+chunk, len(b))]
			if want := block[:len(c)]; !bytes.Equal(c, want) {
				return firstDiff(c, want, i), false
			}
		}
	}
	return Mismatch{}, true
}

// firstDiff finds the first index where got and want (equal lengths,
// known to differ) disagree; base is got's offset in the frame.
func firstDiff(got, want []byte, base int) Mismatch {
	for i := range got {
		if got[i] != want[i] {
			return Mismatch{Index: base + i, Got: got[i], Want: want[i]}
		}
	}
	return Mismatch{Index: -1}
}

// Transform is what the relay does to each frame on its way from IN to
// OUT.
type Transform uint8

const (
	TransformNone    Transform = iota // copy
	TransformReverse                  // dst[i] = src[n-1-i]
	TransformXor                      // dst[i] = src[i] ^ key
)

var transformNames = [...]string{
	TransformNone:    "none",
	TransformReverse: "reverse",
	TransformXor:     "xor",
}

func (t Transform) String() string {
	if int(t) < len(transformNames) {
		return transformNames[t]
	}
	return fmt.Sprintf("transform(%d)", uint8(t))
}

// ParseTransform reads a transform name.
func ParseTransform(s string) (Transform, error) {
	for i, name := range transformNames {
		if s == name {
			return Transform(i), nil
		}
	}
	return 0, fmt.Errorf("unknown transform %q (want none, reverse or xor)", s)
}

// ApplyTransform writes t(src) into dst; len(dst) must equal len(src) and
// the two must not overlap (in the relay they are in different buffers).
func ApplyTransform(t Transform, dst, src []byte, key byte) {
	switch t {
	case TransformNone:
		copy(dst, src)
	case TransformReverse:
		n := len(src)
		i := 0
		for ; i+8 <= n; i += 8 {
			v := binary.LittleEndian.Uint64(src[i:])
			binary.BigEndian.PutUint64(dst[n-i-8:], v)
		}
		for ; i < n; i++ {
			dst[n-1-i] = src[i]
		}
	case TransformXor:
		k8 := uint64(key) * 0x0101010101010101
		i := 0
		for ; i+8 <= len(src); i += 8 {
			binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^k8)
		}
		for ; i < len(src); i++ {
			dst[i] = src[i] ^ key
		}
	}
}
