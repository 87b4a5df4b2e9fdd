package harmony

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
