package harmony

import (
	"encoding/json"
	"fmt"
	"strings"
)

// StepType is a step's Gherkin keyword as Harmony numbers it.
type StepType int

// The keywords; And and But take the type of the step before them.
const (
	Given StepType = 0
	When  StepType = 1
	Then  StepType = 2
)

func (t StepType) String() string {
	switch t {
	case Given:
		return "Given"
	case When:
		return "When"
	case Then:
		return "Then"
	}
	return fmt.Sprintf("StepType(%d)", int(t))
}

// UnmarshalJSON accepts the number Harmony's runner sends and, as the other
// serves do, the keyword as a string.
func (t *StepType) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		if n < 0 || n > 2 {
			return fmt.Errorf("step type %d is not 0 (Given), 1 (When) or 2 (Then)", n)
		}
		*t = StepType(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("step type %s is neither a number nor a keyword", b)
	}
	switch strings.ToLower(s) {
	case "given":
		*t = Given
	case "when":
		*t = When
	case "then":
		*t = Then
	default:
		return fmt.Errorf("step type %q is not Given, When or Then", s)
	}
	return nil
}

// InitializeRequest is initialize's parameter: who this serve is in which
// scenario. Field names are PascalCase on the wire, as Harmony's runner sends
// them (decoding is case-insensitive, so camelCase peers work too).
type InitializeRequest struct {
	Role      string `json:"Role"`
	Platform  string `json:"Platform"`
	Scenario  string `json:"Scenario"`
	HostPid   int    `json:"HostPid"`
	FeatureID int    `json:"FeatureId"`
	TestRunID string `json:"TestRunId,omitempty"`
}

// StepRequest is executeStep's parameter.
type StepRequest struct {
	Process     string            `json:"Process"`
	StepType    StepType          `json:"StepType"`
	Step        string            `json:"Step"` // the step's text without its keyword
	Parameters  map[string]string `json:"Parameters"`
	Context     map[string]string `json:"Context"`
	IsBroadcast bool              `json:"IsBroadcast"`
}

// LogResponse is one log line a step produced. Level follows
// Microsoft.Extensions.Logging's numbering, which Harmony uses.
type LogResponse struct {
	Timestamp string `json:"timestamp"`
	Level     int    `json:"level"`
	Message   string `json:"message"`
}

// Log levels (Microsoft.Extensions.Logging.LogLevel).
const (
	LevelDebug       = 1
	LevelInformation = 2
	LevelWarning     = 3
	LevelError       = 4
)

// StepResponse is executeStep's result.
type StepResponse struct {
	Success bool              `json:"success"`
	Error   *string           `json:"error"`
	Context map[string]string `json:"context"`
	Logs    []LogResponse     `json:"logs"`
}

// StepInfo describes one step definition for discover.
type StepInfo struct {
	Type    string `json:"type"`
	Pattern string `json:"pattern"`
}

// DiscoverResponse is discover's result.
type DiscoverResponse struct {
	Steps []StepInfo `json:"steps"`
}

// NotApplicablePrefix starts the error of a step that cannot apply on Linux;
// the runner counts its scenario as skipped.
const NotApplicablePrefix = "not applicable on Linux:"
