package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/zerobuffer/zerobuffer-go/harmony"
)

const serveUsage = `Usage: zerobuffer serve

Speaks Harmony's JSON-RPC protocol (Content-Length framing) on stdin and
stdout, so that the family's cross-platform runner can drive the Go
implementation as one of its platforms. Logs go to stderr. Buffer names get
the suffix _$HARMONY_HOST_PID_$HARMONY_FEATURE_ID. Ends at the end of stdin.
`

func runServe(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" {
			fmt.Fprint(stdout, serveUsage)
			return exitOK
		}
		fmt.Fprintf(stderr, "zerobuffer serve: takes no arguments\n\n%s", serveUsage)
		return exitError
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := harmony.Serve(ctx, os.Stdin, stdout, harmony.ServeConfig{Log: stderr}); err != nil {
		fmt.Fprintf(stderr, "zerobuffer serve: %v\n", err)
		return exitError
	}
	return exitOK
}
