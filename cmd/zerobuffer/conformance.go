package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/zerobuffer/zerobuffer-go/harmony"
	"github.com/zerobuffer/zerobuffer-go/internal/cli"
)

const conformanceUsage = `Usage: zerobuffer conformance --features DIR [options]

Runs Harmony feature files: one serve per role per scenario, for every
assignment of the platforms to the roles; prints each scenario, a matrix and
a last line "N passed, N failed, N skipped". Exit status 0 only when nothing
failed.

Options:
      --features DIR      a directory of .feature files (or one file)
      --config FILE       Harmony's harmony-config.json (platforms and how to
                          start their serves); "go" is always this program
      --platforms LIST    comma-separated platforms (default: go, or all in FILE)
      --run REGEXP        only scenarios whose "feature/scenario" matches
      --junit FILE        also write a JUnit XML report
  -v, --verbose           copy every serve's stderr to stderr
`

func runConformance(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("conformance")
	features := fs.String("features", "", "")
	config := fs.String("config", "", "")
	platforms := fs.String("platforms", "", "")
	run := fs.String("run", "", "")
	junit := fs.String("junit", "", "")
	verbose := fs.Bool("verbose", false, "")
	fs.BoolVar(verbose, "v", false, "")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, conformanceUsage)
		return exitOK
	} else if err != nil || *features == "" || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "zerobuffer conformance: %v\n\n%s", cmp.Or(err, errors.New("--features DIR is required")), conformanceUsage)
		return exitError
	}
	opts, err := harmony.CommandOptions(*features, *config, *platforms, *run, "serve")
	if err != nil {
		fmt.Fprintf(stderr, "zerobuffer conformance: %v\n", err)
		return exitError
	}
	opts.Out = stdout
	if *verbose {
		opts.ServeLog = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	sum, err := harmony.Run(ctx, opts)
	if err == nil && *junit != "" {
		err = harmony.WriteJUnit(*junit, sum)
	}
	if err != nil {
		fmt.Fprintf(stderr, "zerobuffer conformance: %v\n", err)
		return exitError
	}
	if sum.Failed > 0 {
		return exitVerify
	}
	return exitOK
}
