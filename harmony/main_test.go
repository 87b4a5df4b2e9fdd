package harmony

import (
	"context"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// serveChildEnv makes the test binary, run again by a runner test, a serve.
const serveChildEnv = "HARMONY_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveChildEnv) == "1" {
		if err := Serve(context.Background(), os.Stdin, os.Stdout, ServeConfig{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
