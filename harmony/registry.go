package harmony

import (
	"context"
	"fmt"
	"regexp"
	"strings"
)

// stepDef is one step phrasing: an anchored regular expression whose groups
// are the handler's arguments.
type stepDef struct {
	kind    StepType
	pattern string
	re      *regexp.Regexp
	run     func(ctx context.Context, w *world, args []string) error
}

// Registry maps step texts to their definitions. The first definition whose
// pattern matches the whole text wins, so more specific phrasings are
// registered before general ones.
type Registry struct {
	defs []*stepDef
}

func (r *Registry) add(kind StepType, pattern string, run func(ctx context.Context, w *world, args []string) error) {
	r.defs = append(r.defs, &stepDef{kind: kind, pattern: pattern, re: regexp.MustCompile("^" + pattern + "$"), run: run})
}

// Match finds the definition for a step's text (without its keyword).
func (r *Registry) Match(text string) (*stepDef, []string, error) {
	text = strings.TrimSpace(text)
	for _, d := range r.defs {
		if m := d.re.FindStringSubmatch(text); m != nil {
			return d, m[1:], nil
		}
	}
	return nil, nil, fmt.Errorf("no step definition matches %q", text)
}

// Infos lists the definitions for discover.
func (r *Registry) Infos() []StepInfo {
	out := make([]StepInfo, 0, len(r.defs))
	for _, d := range r.defs {
		out = append(out, StepInfo{Type: d.kind.String(), Pattern: d.pattern})
	}
	return out
}

// Len is the number of step definitions.
func (r *Registry) Len() int { return len(r.defs) }

// DefaultRegistry returns the serve's step definitions: every phrasing of the
// family's feature files the Go serve knows.
func DefaultRegistry() *Registry {
	r := &Registry{}
	registerCommon(r)
	registerBasic(r)
	registerLifecycle(r)
	registerErrors(r)
	registerEdge(r)
	registerIntegrity(r)
	registerPlatform(r)
	registerResources(r)
	registerLimits(r)
	registerDuplex(r)
	registerWrap(r)
	registerHeaders(r)
	registerPerf(r)
	registerBench(r)
	registerPermissions(r)
	registerNotApplicable(r)
	return r
}

// q is the pattern of one quoted parameter.
const q = `'([^']*)'`
