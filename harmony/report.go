package harmony

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
)

func printResult(w io.Writer, r Result) {
	mark := map[Status]string{Passed: "PASS", Failed: "FAIL", Skipped: "SKIP"}[r.Status]
	fmt.Fprintf(w, "%s %s / %s [%s] (%.1fs)\n", mark, r.Feature, r.Scenario, r.Label(), r.Duration.Seconds())
	if r.Reason != "" {
		fmt.Fprintf(w, "     %s\n", r.Reason)
	}
}

// platformsOf is an assignment's platforms without the roles: "go×cpp".
func platformsOf(r Result) string {
	parts := make([]string, len(r.Assignment))
	for i, a := range r.Assignment {
		parts[i] = a.Platform
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "×")
}

// printMatrix prints passed/failed/skipped per feature and platform mix.
func printMatrix(w io.Writer, s Summary) {
	type key struct{ feature, mix string }
	counts := map[key]*[3]int{}
	var features, mixes []string
	seenF, seenM := map[string]bool{}, map[string]bool{}
	for _, r := range s.Results {
		k := key{r.Feature, platformsOf(r)}
		if counts[k] == nil {
			counts[k] = &[3]int{}
		}
		switch r.Status {
		case Passed:
			counts[k][0]++
		case Failed:
			counts[k][1]++
		case Skipped:
			counts[k][2]++
		}
		if !seenF[k.feature] {
			seenF[k.feature] = true
			features = append(features, k.feature)
		}
		if !seenM[k.mix] {
			seenM[k.mix] = true
			mixes = append(mixes, k.mix)
		}
	}
	sort.Strings(mixes)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "feature (passed/failed/skipped)")
	for _, m := range mixes {
		fmt.Fprintf(tw, "\t%s", m)
	}
	fmt.Fprintln(tw)
	for _, f := range features {
		fmt.Fprint(tw, f)
		for _, m := range mixes {
			if c := counts[key{f, m}]; c != nil {
				fmt.Fprintf(tw, "\t%d/%d/%d", c[0], c[1], c[2])
			} else {
				fmt.Fprint(tw, "\t-")
			}
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
}

// WriteJUnit writes the results as a JUnit XML report: one test suite per
// feature, one test case per scenario and assignment.
func WriteJUnit(path string, s Summary) error {
	type failure struct {
		Message string `xml:"message,attr"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Time      string   `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		Skipped   *failure `xml:"skipped,omitempty"`
	}
	type suite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Skipped  int        `xml:"skipped,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	type suites struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []*suite `xml:"testsuite"`
	}
	var out suites
	byName := map[string]*suite{}
	for _, r := range s.Results {
		su := byName[r.Feature]
		if su == nil {
			su = &suite{Name: r.Feature}
			byName[r.Feature] = su
			out.Suites = append(out.Suites, su)
		}
		tc := testcase{Name: fmt.Sprintf("%s [%s]", r.Scenario, r.Label()), Classname: r.Feature, Time: fmt.Sprintf("%.3f", r.Duration.Seconds())}
		su.Tests++
		switch r.Status {
		case Failed:
			tc.Failure = &failure{Message: r.Reason}
			su.Failures++
		case Skipped:
			tc.Skipped = &failure{Message: r.Reason}
			su.Skipped++
		}
		su.Cases = append(su.Cases, tc)
	}
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}
