package stress

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/shm"
	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

func TestOptionsDefaults(t *testing.T) {
	t.Setenv(durationEnv, "")
	t.Setenv(seedEnv, "")
	cfg, err := Options{}.resolve()
	require.NoError(t, err)
	assert.Equal(t, ring.NotifierNames(), cfg.notifiers, "every registered notifier")
	assert.Equal(t, defaultDuration, cfg.budget)
	assert.NotZero(t, cfg.seed)
	again, err := Options{}.resolve()
	require.NoError(t, err)
	assert.Equal(t, cfg.seed, again.seed, "one time-based seed per process")
}

func TestOptionsOverEnvironment(t *testing.T) {
	t.Setenv(durationEnv, "3s")
	t.Setenv(seedEnv, "0x10")
	cfg, err := Options{}.resolve()
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, cfg.budget, "ZB_STRESS_DURATION")
	assert.Equal(t, uint64(16), cfg.seed, "ZB_STRESS_SEED")

	cfg, err = Options{Notifiers: []string{"semaphore"}, Duration: time.Second, Seed: 7}.resolve()
	require.NoError(t, err)
	assert.Equal(t, []string{"semaphore"}, cfg.notifiers)
	assert.Equal(t, time.Second, cfg.budget, "Options win over the environment")
	assert.Equal(t, uint64(7), cfg.seed)
}

func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, duration, seed string
		opts                 Options
		want                 string
	}{
		{name: "unregistered notifier", opts: Options{Notifiers: []string{"semaphore", "carrier-pigeon"}}, want: `notifier "carrier-pigeon" is not registered`},
		{name: "negative duration", opts: Options{Duration: -time.Second}, want: "negative"},
		{name: "bad duration knob", duration: "soon", want: `ZB_STRESS_DURATION="soon"`},
		{name: "zero duration knob", duration: "0s", want: "positive Go duration"},
		{name: "bad seed knob", seed: "-1", want: `ZB_STRESS_SEED="-1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(durationEnv, tc.duration)
			t.Setenv(seedEnv, tc.seed)
			_, err := tc.opts.resolve()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestFileLocations checks the places testsupport repeats (it cannot
// import ring or internal/shm) against the originals.
func TestFileLocations(t *testing.T) {
	assert.Equal(t, ring.LockDir, testsupport.LockDir)
	assert.Equal(t, shm.Dir, testsupport.ShmDir)
}

// TestSuitesListed checks that All runs every exported suite.
func TestSuitesListed(t *testing.T) {
	var listed []string
	for _, s := range suites {
		listed = append(listed, s.name)
	}
	assert.Equal(t, []string{"RandomSizes", "Pauses", "ReserveHold", "MemoryOrdering", "Faults", "Churn"}, listed)
}
