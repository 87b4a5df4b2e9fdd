package harmony

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	gherkin "github.com/cucumber/gherkin/go/v42"
	messages "github.com/cucumber/messages/go/v34"
)

// Options configures Run.
type Options struct {
	// Features is a directory of .feature files, or one file.
	Features string
	// Config says how to start each platform's serve.
	Config *Config
	// Platforms to assign to roles (default: every platform in Config, sorted).
	Platforms []string
	// Run, when set, keeps only the scenarios whose "feature/scenario" name
	// or assignment label it matches.
	Run *regexp.Regexp
	// Out receives one line per scenario, the matrix and the summary line.
	Out io.Writer
	// ServeLog, when set, receives every serve's stderr.
	ServeLog io.Writer
	// HostPID is the HARMONY_HOST_PID every serve gets (default os.Getpid()).
	HostPID int
}

// Status is a scenario run's outcome.
type Status string

// The outcomes.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Result is one scenario under one assignment of platforms to roles.
type Result struct {
	Feature    string
	Scenario   string
	Assignment []RolePlatform
	Status     Status
	Reason     string // why it failed or was skipped
	Duration   time.Duration
}

// RolePlatform is one role's platform in an assignment.
type RolePlatform struct{ Role, Platform string }

// Label is "reader=go, writer=cpp".
func (r Result) Label() string {
	parts := make([]string, len(r.Assignment))
	for i, a := range r.Assignment {
		parts[i] = a.Role + "=" + a.Platform
	}
	return strings.Join(parts, ", ")
}

// Summary is a run's results and their counts.
type Summary struct {
	Results                 []Result
	Passed, Failed, Skipped int
}

// Line is the summary's last line: "N passed, N failed, N skipped".
func (s Summary) Line() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped)
}

var (
	processRe  = regexp.MustCompile(`'([^']+)' process`)
	waitRe     = regexp.MustCompile(`^wait for '(\d+)' seconds?$`)
	killRe     = regexp.MustCompile(`^the '([^']+)' process is killed(?: while .*)?$`)
	crashRe    = regexp.MustCompile(`^the '([^']+)' process crashes(?: while .*)?$`)
	killBareRe = regexp.MustCompile(`^kill ([A-Za-z0-9_-]+) process$`)
	shutdownRe = regexp.MustCompile(`^the '([^']+)' process (?:is shut down|shuts down)$`)
	featureNum = regexp.MustCompile(`^(\d+)`)
)

// Run runs every scenario of the feature files under every assignment of
// platforms to its roles and reports the results. The error is for problems
// that stop the whole run (unreadable features, no platforms); scenario
// failures are in the Summary.
func Run(ctx context.Context, opts Options) (Summary, error) {
	var sum Summary
	if opts.Config == nil || len(opts.Config.Platforms) == 0 {
		return sum, errors.New("no platforms configured")
	}
	platforms := opts.Platforms
	if len(platforms) == 0 {
		for p := range opts.Config.Platforms {
			platforms = append(platforms, p)
		}
		sort.Strings(platforms)
	}
	for _, p := range platforms {
		if _, ok := opts.Config.Platforms[p]; !ok {
			return sum, fmt.Errorf("platform %q is not configured", p)
		}
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.HostPID == 0 {
		opts.HostPID = os.Getpid()
	}
	files, err := featureFiles(opts.Features)
	if err != nil {
		return sum, err
	}
	for i, file := range files {
		feature, pickles, err := parseFeature(file)
		if err != nil {
			return sum, err
		}
		featureID := i + 1
		if m := featureNum.FindStringSubmatch(filepath.Base(file)); m != nil {
			featureID, _ = strconv.Atoi(m[1])
		}
		for _, p := range pickles {
			roles := scenarioRoles(p)
			for _, assign := range assignments(roles, platforms) {
				res := Result{Feature: feature, Scenario: p.Name, Assignment: assign}
				if opts.Run != nil && !opts.Run.MatchString(feature+"/"+p.Name) && !opts.Run.MatchString(res.Label()) {
					continue
				}
				if err := ctx.Err(); err != nil {
					return sum, err
				}
				start := time.Now()
				res.Status, res.Reason = runScenario(ctx, opts, featureID, p, assign)
				res.Duration = time.Since(start)
				sum.Results = append(sum.Results, res)
				switch res.Status {
				case Passed:
					sum.Passed++
				case Failed:
					sum.Failed++
				case Skipped:
					sum.Skipped++
				}
				printResult(opts.Out, res)
			}
		}
	}
	printMatrix(opts.Out, sum)
	fmt.Fprintln(opts.Out, sum.Line())
	return sum, nil
}

func featureFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	files, err := filepath.Glob(filepath.Join(path, "*.feature"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .feature files in %s", path)
	}
	sort.Strings(files)
	return files, nil
}

// parseFeature returns a feature's name and its scenarios as pickles
// (Background steps included, outlines expanded).
func parseFeature(path string) (string, []*messages.Pickle, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("open feature: %w", err)
	}
	defer f.Close()
	ids := &messages.Incrementing{}
	doc, err := gherkin.ParseGherkinDocument(f, ids.NewId)
	if err != nil {
		return "", nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if doc.Feature == nil {
		return "", nil, fmt.Errorf("%s holds no feature", path)
	}
	doc.Uri = path
	name := strings.TrimSuffix(filepath.Base(path), ".feature")
	return name, gherkin.Pickles(*doc, path, ids.NewId), nil
}

// implicitRole runs a scenario that names no process: its steps go to one
// serve in this role, so that they run (and pass or fail) rather than vanish.
const implicitRole = "test"

// scenarioRoles lists the roles a scenario names, in order of appearance
// (implicitRole alone when it names none).
func scenarioRoles(p *messages.Pickle) []string {
	var roles []string
	seen := map[string]bool{}
	for _, s := range p.Steps {
		for _, m := range processRe.FindAllStringSubmatch(s.Text, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				roles = append(roles, m[1])
			}
		}
	}
	if len(roles) == 0 {
		roles = []string{implicitRole}
	}
	return roles
}

// assignments is every way to give each role one of the platforms.
func assignments(roles, platforms []string) [][]RolePlatform {
	out := [][]RolePlatform{{}}
	for _, role := range roles {
		var next [][]RolePlatform
		for _, prefix := range out {
			for _, p := range platforms {
				a := append(append([]RolePlatform{}, prefix...), RolePlatform{role, p})
				next = append(next, a)
			}
		}
		out = next
	}
	return out
}

// routedStep is one step and where it goes.
type routedStep struct {
	text      string
	kind      StepType
	role      string // "" with broadcast
	broadcast bool
	table     string // the step's data table as JSON rows, if it has one
}

// route applies Harmony's rules: a step goes to the process it names; a step
// naming none goes to the previous step's process; steps before any process is
// named go to every process.
func route(p *messages.Pickle) []routedStep {
	var out []routedStep
	prevRole := ""
	prevKind := Given
	for _, s := range p.Steps {
		kind := prevKind
		{
			switch s.Type {
			case messages.PickleStepType_CONTEXT:
				kind = Given
			case messages.PickleStepType_ACTION:
				kind = When
			case messages.PickleStepType_OUTCOME:
				kind = Then
			}
		}
		prevKind = kind
		text := strings.TrimSpace(s.Text)
		rs := routedStep{text: text, kind: kind}
		if s.Argument != nil && s.Argument.DataTable != nil {
			var rows [][]string
			for _, row := range s.Argument.DataTable.Rows {
				var cells []string
				for _, c := range row.Cells {
					cells = append(cells, c.Value)
				}
				rows = append(rows, cells)
			}
			b, _ := json.Marshal(rows)
			rs.table = string(b)
		}
		if m := processRe.FindStringSubmatch(text); m != nil {
			rs.role = m[1]
		} else if prevRole != "" {
			rs.role = prevRole
		} else {
			rs.broadcast = true
		}
		if rs.role != "" {
			prevRole = rs.role
		}
		out = append(out, rs)
	}
	return out
}

// scenarioRun is one scenario's serves.
type scenarioRun struct {
	opts      Options
	featureID int
	name      string
	platform  map[string]string
	roles     []string
	serves    map[string]*serveProcess
	context   map[string]string
}

func runScenario(ctx context.Context, opts Options, featureID int, p *messages.Pickle, assign []RolePlatform) (Status, string) {
	sr := &scenarioRun{opts: opts, featureID: featureID, name: p.Name, platform: map[string]string{},
		serves: map[string]*serveProcess{}, context: map[string]string{}}
	for _, a := range assign {
		sr.platform[a.Role] = a.Platform
		sr.roles = append(sr.roles, a.Role)
	}
	defer sr.stopAll()
	for _, role := range sr.roles {
		if _, err := sr.serve(role); err != nil {
			return Failed, err.Error()
		}
	}
	for i, st := range route(p) {
		if err := ctx.Err(); err != nil {
			return Failed, err.Error()
		}
		status, reason := sr.step(ctx, st)
		if status != Passed {
			return status, fmt.Sprintf("step %d %q: %s", i+1, st.text, reason)
		}
	}
	return Passed, ""
}

// serve returns a role's running serve, starting one (again, after a kill or
// a crash) when needed: health, then initialize.
func (sr *scenarioRun) serve(role string) (*serveProcess, error) {
	if sp, ok := sr.serves[role]; ok && !sp.dead {
		return sp, nil
	}
	platform, ok := sr.platform[role]
	if !ok {
		return nil, fmt.Errorf("no platform for role %q", role)
	}
	sp, err := startServe(sr.opts.Config.Platforms[platform], role, platform, sr.opts.HostPID, sr.featureID, sr.opts.ServeLog)
	if err != nil {
		return nil, err
	}
	sr.serves[role] = sp
	var healthy bool
	if err := sp.call("health", nil, 30*time.Second, &healthy); err != nil || !healthy {
		sp.kill()
		return nil, fmt.Errorf("the %s serve for %q is not healthy: %v", platform, role, err)
	}
	init := InitializeRequest{Role: role, Platform: platform, Scenario: sr.name, HostPid: sr.opts.HostPID,
		FeatureID: sr.featureID, TestRunID: fmt.Sprintf("%d_%d", sr.opts.HostPID, sr.featureID)}
	var ok2 bool
	if err := sp.call("initialize", init, 30*time.Second, &ok2); err != nil || !ok2 {
		sp.kill()
		return nil, fmt.Errorf("the %s serve for %q did not initialize: %v", platform, role, err)
	}
	return sp, nil
}

func (sr *scenarioRun) stopAll() {
	for _, sp := range sr.serves {
		sp.stop()
	}
}

// step runs one routed step: the runner's own steps here, the others on
// their serves.
func (sr *scenarioRun) step(ctx context.Context, st routedStep) (Status, string) {
	if m := waitRe.FindStringSubmatch(st.text); m != nil {
		n, _ := strconv.Atoi(m[1])
		select {
		case <-time.After(time.Duration(n) * time.Second):
			return Passed, ""
		case <-ctx.Done():
			return Failed, ctx.Err().Error()
		}
	}
	for _, own := range []struct {
		re *regexp.Regexp
		do func(*serveProcess)
	}{{killRe, (*serveProcess).kill}, {killBareRe, (*serveProcess).kill}, {crashRe, (*serveProcess).crash}, {shutdownRe, (*serveProcess).stop}} {
		if m := own.re.FindStringSubmatch(st.text); m != nil {
			sp, ok := sr.serves[m[1]]
			if !ok || sp.dead {
				return Failed, fmt.Sprintf("the %q process is not running", m[1])
			}
			own.do(sp)
			return Passed, ""
		}
	}
	targets := []string{st.role}
	if st.broadcast {
		targets = sr.roles
	}
	for _, role := range targets {
		sp, err := sr.serve(role)
		if err != nil {
			return Failed, err.Error()
		}
		params := map[string]string{}
		if st.table != "" {
			params["table"] = st.table
		}
		req := StepRequest{Process: role, StepType: st.kind, Step: st.text, Parameters: params,
			Context: sr.context, IsBroadcast: st.broadcast}
		var resp StepResponse
		if err := sp.call("executeStep", req, callTimeout, &resp); err != nil {
			return Failed, err.Error()
		}
		for k, v := range resp.Context {
			sr.context[k] = v
		}
		if !resp.Success {
			msg := "the step failed without an error message"
			if resp.Error != nil && *resp.Error != "" {
				msg = *resp.Error
			}
			if strings.HasPrefix(msg, NotApplicablePrefix) {
				return Skipped, msg
			}
			return Failed, fmt.Sprintf("%s (%s serve): %s", role, sp.platform, msg)
		}
	}
	return Passed, ""
}
