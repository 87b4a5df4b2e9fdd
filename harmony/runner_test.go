package harmony

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	messages "github.com/cucumber/messages/go/v34"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testConfig runs the test binary itself as the serve of each platform.
func testConfig(platforms ...string) *Config {
	c := &Config{Platforms: map[string]PlatformConfig{}}
	for _, p := range platforms {
		c.Platforms[p] = PlatformConfig{Executable: os.Args[0], Environment: map[string]string{serveChildEnv: "1",
			// A race-enabled serve would sleep a second at exit.
			"GORACE": "atexit_sleep_ms=0"}}
	}
	return c
}

// leftovers lists the files a run with this host PID left behind.
func leftovers(t *testing.T, hostPID int) []string {
	t.Helper()
	var found []string
	tag := "_" + strconv.Itoa(hostPID) + "_"
	for _, dir := range []string{"/dev/shm", "/tmp/zerobuffer"} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), tag) {
				found = append(found, filepath.Join(dir, e.Name()))
			}
		}
	}
	return found
}

// TestProjectFeaturesGoByGo runs the project's own feature files with a Go
// serve in every role, as CI does.
func TestProjectFeaturesGoByGo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs serve processes for every scenario")
	}
	var out bytes.Buffer
	hostPID := 3000000 + os.Getpid()
	junit := filepath.Join(t.TempDir(), "junit.xml")
	sum, err := Run(context.Background(), Options{Features: "testdata/features", Config: testConfig("go"), Out: &out, HostPID: hostPID})
	require.NoError(t, err)
	t.Log("\n" + out.String())
	require.NoError(t, WriteJUnit(junit, sum))

	byName := map[string]Result{}
	for _, r := range sum.Results {
		byName[r.Scenario] = r
	}
	for _, r := range sum.Results {
		switch {
		case strings.HasPrefix(r.Scenario, "E5 "):
			assert.Equal(t, Skipped, r.Status)
			assert.Contains(t, r.Reason, NotApplicablePrefix)
		case strings.HasPrefix(r.Scenario, "R2 ") && os.Geteuid() != 0: // only root can start the other user's writer
			assert.Equal(t, Skipped, r.Status)
			assert.Contains(t, r.Reason, NotApplicablePrefix)
		default:
			assert.Equal(t, Passed, r.Status, "%s / %s: %s", r.Feature, r.Scenario, r.Reason)
		}
	}
	assert.Len(t, sum.Results, 6+4+9+8+5+5+5)
	assert.Equal(t, sum.Passed+sum.Failed+sum.Skipped, len(sum.Results))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Equal(t, sum.Line(), lines[len(lines)-1])
	assert.Regexp(t, `^\d+ passed, \d+ failed, \d+ skipped$`, sum.Line())

	b, err := os.ReadFile(junit)
	require.NoError(t, err)
	var report struct {
		Suites []struct {
			Tests int `xml:"tests,attr"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b, &report))
	assert.Len(t, report.Suites, 7)

	assert.Empty(t, leftovers(t, hostPID), "the serves removed their buffers")
}

// TestRunnerRunsEveryAssignment gives two platforms to two roles: four runs.
func TestRunnerRunsEveryAssignment(t *testing.T) {
	var out bytes.Buffer
	hostPID := 4000000 + os.Getpid()
	sum, err := Run(context.Background(), Options{Features: "testdata/features/01-basic.feature", Config: testConfig("go", "gox"),
		Run: regexp.MustCompile(`B1 `), Out: &out, HostPID: hostPID})
	require.NoError(t, err)
	require.Len(t, sum.Results, 4, out.String())
	labels := map[string]bool{}
	for _, r := range sum.Results {
		assert.Equal(t, Passed, r.Status, r.Reason)
		labels[r.Label()] = true
	}
	assert.Equal(t, map[string]bool{"reader=go, writer=go": true, "reader=go, writer=gox": true,
		"reader=gox, writer=go": true, "reader=gox, writer=gox": true}, labels)
	assert.Contains(t, out.String(), "go×gox")
	assert.Empty(t, leftovers(t, hostPID))
}

func TestRunnerRejectsBadInput(t *testing.T) {
	_, err := Run(context.Background(), Options{Features: "testdata/features", Config: &Config{}})
	assert.Error(t, err)
	_, err = Run(context.Background(), Options{Features: "testdata/features", Config: testConfig("go"), Platforms: []string{"cobol"}})
	assert.ErrorContains(t, err, "cobol")
	_, err = Run(context.Background(), Options{Features: "testdata/no-such-dir", Config: testConfig("go")})
	assert.Error(t, err)
	bad := filepath.Join(t.TempDir(), "bad.feature")
	require.NoError(t, os.WriteFile(bad, []byte("Feature: x\n  Scenario: y\n    Given a\n  Examples oops\n"), 0o644))
	_, err = Run(context.Background(), Options{Features: bad, Config: testConfig("go")})
	assert.Error(t, err)
}

// A serve that cannot start, or dies at once, fails its scenarios with the
// reason; the run goes on.
func TestRunnerReportsBrokenServes(t *testing.T) {
	var out bytes.Buffer
	cfg := &Config{Platforms: map[string]PlatformConfig{
		"missing": {Executable: "/nonexistent/serve"},
		"dies":    {Executable: "/bin/false"},
	}}
	sum, err := Run(context.Background(), Options{Features: "testdata/features/03-errors.feature", Config: cfg,
		Platforms: []string{"missing", "dies"}, Run: regexp.MustCompile(`E4 `), Out: &out})
	require.NoError(t, err)
	require.Len(t, sum.Results, 2)
	assert.Equal(t, 2, sum.Failed)
	assert.Contains(t, sum.Results[0].Reason, "/nonexistent/serve")
	assert.Contains(t, sum.Results[1].Reason, "not healthy")
	assert.True(t, strings.HasSuffix(strings.TrimSpace(out.String()), "0 passed, 2 failed, 0 skipped"))
}

func TestRouteFollowsHarmonysRules(t *testing.T) {
	step := func(text string, typ messages.PickleStepType) *messages.PickleStep {
		return &messages.PickleStep{Text: text, Type: typ}
	}
	p := &messages.Pickle{Steps: []*messages.PickleStep{
		step("the test environment is initialized", messages.PickleStepType_CONTEXT),
		step("the 'reader' process creates buffer 'b' with default config", messages.PickleStepType_CONTEXT),
		step("a second 'writer' process attempts to connect to buffer 'b'", messages.PickleStepType_ACTION),
		step("the connection should fail with writer exists error", messages.PickleStepType_OUTCOME),
		step("wait for '1' seconds", messages.PickleStepType_UNKNOWN),
	}}
	got := route(p)
	require.Len(t, got, 5)
	assert.True(t, got[0].broadcast)
	assert.Equal(t, "reader", got[1].role)
	assert.Equal(t, "writer", got[2].role)
	assert.Equal(t, When, got[2].kind)
	assert.Equal(t, "writer", got[3].role, "a step naming no process goes to the previous step's")
	assert.Equal(t, Then, got[4].kind, "And keeps the previous keyword's type")
	assert.Equal(t, []string{"reader", "writer"}, scenarioRoles(p))
	assert.Equal(t, []string{implicitRole}, scenarioRoles(&messages.Pickle{Steps: p.Steps[:1]}))
}

func TestLoadConfigReadsHarmonysFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "harmony-config.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"platforms":{"cpp":{"executable":"/x/zerobuffer-serve","arguments":"-a b","workingDirectory":"/x"}},
		"featuresPath":"Features","defaultTimeoutMs":30000,"processInitializationDelayMs":1000}`), 0o644))
	c, err := RunnerConfig(path, "serve")
	require.NoError(t, err)
	assert.Equal(t, "/x/zerobuffer-serve", c.Platforms["cpp"].Executable)
	assert.Equal(t, "-a b", c.Platforms["cpp"].Arguments)
	assert.Equal(t, "serve", c.Platforms["go"].Arguments, "go is always this program's serve")

	require.NoError(t, os.WriteFile(path, []byte(`{"platforms":{"cpp":{"arguments":""}}}`), 0o644))
	_, err = LoadConfig(path)
	assert.ErrorContains(t, err, "no executable")
	require.NoError(t, os.WriteFile(path, []byte(`{`), 0o644))
	_, err = LoadConfig(path)
	assert.Error(t, err)
}

// TestContradictionsFailWhereTheyShow runs the shapes of the reference
// scenarios that contradict the protocol (CONTRADICTIONS.md): each must
// fail at the step its title names, with an error that cites the file.
func TestContradictionsFailWhereTheyShow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs serve processes for every scenario")
	}
	var out bytes.Buffer
	hostPID := 5000000 + os.Getpid()
	sum, err := Run(context.Background(), Options{Features: "testdata/contradictions", Config: testConfig("go"), Out: &out, HostPID: hostPID})
	require.NoError(t, err)
	t.Log("\n" + out.String())
	require.Len(t, sum.Results, 5)
	for _, r := range sum.Results {
		m := regexp.MustCompile(`\(step (\d+)\)$`).FindStringSubmatch(r.Scenario)
		require.NotNil(t, m, r.Scenario)
		assert.Equal(t, Failed, r.Status, r.Scenario)
		assert.Contains(t, r.Reason, "step "+m[1]+" ", r.Scenario)
		assert.Contains(t, r.Reason, "CONTRADICTIONS.md", r.Scenario)
	}
	assert.Empty(t, leftovers(t, hostPID), "the serves removed their buffers")
}
