package harmony

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

func TestContinuousFree(t *testing.T) {
	const size = 10240
	tests := []struct {
		name             string
		wpos, rpos, free uint64
		want             uint64
	}{
		{"writer ahead, the tail is larger", 5000, 2000, size - 3000, 5240},
		{"writer ahead, the start is larger", 7000, 4000, size - 3000, 4000},
		{"writer behind the reader", 2000, 5000, 3000, 3000},
		{"empty, in the middle", 5000, 5000, size, 5240},
		{"empty, at the start", 0, 0, size, size},
		{"full", 5000, 5000, 0, 0},
		{"reader at the start cannot be wrapped to", 5000, 0, size - 5000, 5240},
		{"a writer at the very end is at the start", size, 3000, 3000, 3000},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, continuousFree(size, tt.wpos, tt.rpos, tt.free), tt.name)
	}
}

func TestNamedPattern(t *testing.T) {
	p, err := namedPattern("incremental", 300, 7)
	require.NoError(t, err)
	assert.Equal(t, byte(0), p[0])
	assert.Equal(t, byte(44), p[300-256])
	p, err = namedPattern("sequential", 3, 7)
	require.NoError(t, err)
	assert.Equal(t, []byte{7, 8, 9}, p)
	_, err = namedPattern("random", 3, 1)
	assert.ErrorContains(t, err, "unknown pattern")
}

// TestReferencePhrasingsOfProtocolSteps checks that the reference's
// phrasings reach the steps of steps_wrap.go and steps_headers.go, with
// and without their process.
func TestReferencePhrasingsOfProtocolSteps(t *testing.T) {
	reg := DefaultRegistry()
	for text, want := range map[string]string{
		"writes frame that leaves '100' bytes at end with 'incremental' pattern":                      "writes frame that leaves",
		"the 'writer' process writes frame that leaves '100' bytes at end with 'incremental' pattern": "writes frame that leaves",
		"attempts to write '200' byte frame with 'sequential' pattern":                                "attempts to write",
		"the 'writer' process should write wrap marker at current position":                           "wrap marker at current position",
		"the 'reader' process reads next frame":                                                       "reads next frame",
		"the 'reader' process should detect wrap marker":                                              "should detect wrap marker",
		"should read '200' byte frame successfully with 'sequential' pattern":                         "byte frame successfully",
		"the 'reader' process creates buffer 'test-free-space' with specific configuration":           "specific configuration",
		"the system tests continuous_free_bytes calculation with:":                                    "continuous_free_bytes",
		"the 'writer' process writes valid frame":                                                     "writes valid frame",
		"test multiple corruption scenarios:":                                                         "corruption scenarios",
		"writes various sized frames":                                                                 "various sized frames",
		"the 'writer' process should verify all data access respects alignment":                       "respects alignment",
		"the 'writer' process should wait for space":                                                  "should wait for space",
		"the 'writer' process should complete write at buffer start":                                  "complete write at buffer start",
		"the 'server' process should block on response write":                                         "block on response write",
	} {
		d, _, err := reg.Match(text)
		require.NoError(t, err, text)
		assert.Contains(t, d.pattern, want, text)
	}
}

// TestTooLargeWhy checks the explanations a refused frame gets: a frame
// larger than the ring, and 4.8's frame that can never be placed at the
// writer's offset.
func TestTooLargeWhy(t *testing.T) {
	name := fmt.Sprintf("zbtest-harmony-toolarge-%d", os.Getpid())
	rd, err := ring.NewReader(name, ring.Config{PayloadSize: 10240}, ring.WithUnbatchedRelease())
	require.NoError(t, err)
	defer rd.Close()
	wr, err := ring.Connect(name)
	require.NoError(t, err)
	defer wr.Close()

	err = wr.WriteFrame(make([]byte, 1<<20))
	require.ErrorIs(t, err, ring.ErrFrameTooLarge)
	assert.Contains(t, tooLargeWhy(wr, 1<<20, err), "must fit the ring, here 10240 bytes")

	require.NoError(t, wr.WriteFrame(make([]byte, 6144)))
	f, err := rd.ReadFrame(context.Background())
	require.NoError(t, err)
	require.NoError(t, f.Release())
	err = wr.WriteFrame(make([]byte, 7168))
	require.ErrorIs(t, err, ring.ErrFrameTooLarge)
	why := tooLargeWhy(wr, 7168, err)
	assert.Contains(t, why, "At write_pos 6160")
	assert.Contains(t, why, "11264 free bytes")

	assert.Empty(t, tooLargeWhy(wr, 10, ring.ErrBufferFull), "other errors get no explanation")
}
