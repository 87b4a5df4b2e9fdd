package harmony

import (
	"context"
	"fmt"
)

// notApplicable lists the phrasings that cannot apply on Linux, with the
// reason. discover lists them; executing one fails with an error that starts
// with NotApplicablePrefix, which the runner counts as a skipped scenario.
var notApplicable = []struct{ pattern, reason string }{
	{`the platform is 'Windows'`, "the scenario checks Windows named objects (CreateFileMapping, session namespaces)"},
	{`verify CreateFileMapping with proper naming`, "CreateFileMapping is a Windows API"},
	{`test Global vs Local namespace for different contexts`, "Global and Local kernel-object namespaces are Windows'"},
	{`verify semaphore limits and max count`, "the step checks Windows semaphore objects"},
	{`test across different user sessions`, "user-session isolation of named objects is Windows'"},
	{`verify proper isolation or sharing as expected`, "the step checks Windows session isolation"},
	{`the test runs continuous write-read for ` + q + ` hours`, "an hours-long soak does not fit a conformance run; the stress package covers endurance"},
	{`verify no resource leaks`, "the check closes the hours-long soak"},
	{`verify sequence numbers handle overflow`, "64-bit sequence numbers overflow only after centuries of frames; the check belongs to the hours-long soak"},
	{`monitor system resource usage`, "the check belongs to the hours-long soak"},
	{`ensure stable operation throughout`, "the check belongs to the hours-long soak"},
}

func registerNotApplicable(r *Registry) {
	for _, na := range notApplicable {
		msg := fmt.Sprintf("%s %s", NotApplicablePrefix, na.reason)
		r.add(Given, na.pattern, func(context.Context, *world, []string) error { return fmt.Errorf("%s", msg) })
	}
}
