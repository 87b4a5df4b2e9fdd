// Command zerobuffer is the command line of the Go ZeroBuffer
// implementation: a test writer, reader and relay whose options match the
// cross-platform test programs of the C++, C# and Python implementations,
// so that each can be paired with theirs.
//
//	zerobuffer reader NAME [options]   create NAME, print READY, read frames
//	zerobuffer writer NAME [options]   connect to NAME, write frames
//	zerobuffer relay IN OUT [options]  read IN (created here), write OUT
//	zerobuffer inspect NAME [options]  show a buffer's state, read-only
//	zerobuffer bench [options]         measure every notifier against its floor
//	zerobuffer serve                   a Harmony serve on stdin/stdout
//	zerobuffer conformance [options]   run Harmony feature files
//	zerobuffer help [COMMAND]
//
// Each subcommand is a function of its arguments and output streams that
// returns the exit status, so tests run it in-process as well as in a
// child process.
package main

import (
	"fmt"
	"io"
	"os"

	// Every notifier is linked in, so that --notifier offers them all and a
	// writer adopts whatever its reader recorded.
	"github.com/zerobuffer/zerobuffer-go/bench"
	_ "github.com/zerobuffer/zerobuffer-go/sync/futex"
	_ "github.com/zerobuffer/zerobuffer-go/sync/spin"
)

const usage = `zerobuffer: the ZeroBuffer shared-memory ring (protocol v1.0.0) from the command line

Usage:
  zerobuffer COMMAND [arguments]

Commands:
  reader NAME      create the buffer NAME, print READY, read and verify frames
  writer NAME      connect to the buffer NAME and write test frames
  relay IN OUT     read frames from IN (created here) and write them to OUT
  inspect NAME     show a buffer's state (read-only; --json, --watch)
  bench            measure every notifier next to its raw floor (--quick, --out)
  serve            a Harmony serve: JSON-RPC steps on stdin/stdout
  conformance      run Harmony feature files against Go and other serves
  help [COMMAND]   this text, or a command's options

Options take one or two dashes (-n or --frames, -frames or --frames) and may
come before or after the buffer names. Run 'zerobuffer help COMMAND' or
'zerobuffer COMMAND -h' for a command's options.

Exit status: 0 on success, 1 when the reader found frames that failed
verification, 2 on any other error.
`

type command struct {
	run   func(args []string, stdout, stderr io.Writer) int
	usage string
}

var commands = map[string]command{
	"reader":      {runReader, readerUsage},
	"writer":      {runWriter, writerUsage},
	"relay":       {runRelay, relayUsage},
	"inspect":     {runInspect, inspectUsage},
	"bench":       {bench.Run, bench.Usage()},
	"serve":       {runServe, serveUsage},
	"conformance": {runConformance, conformanceUsage},
}

// notYet are the commands announced in the usage but not built yet.
var notYet = map[string]bool{}

// run is the whole program: args without the program name.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			if c, ok := commands[rest[0]]; ok {
				fmt.Fprint(stdout, c.usage)
				return exitOK
			}
			if !notYet[rest[0]] {
				fmt.Fprintf(stderr, "zerobuffer: unknown command %q\n\n", rest[0])
				fmt.Fprint(stderr, usage)
				return exitError
			}
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	if c, ok := commands[name]; ok {
		return c.run(rest, stdout, stderr)
	}
	if notYet[name] {
		fmt.Fprintf(stderr, "zerobuffer: %s is not implemented yet\n", name)
		return exitError
	}
	fmt.Fprintf(stderr, "zerobuffer: unknown command %q\n\n", name)
	fmt.Fprint(stderr, usage)
	return exitError
}

func main() {
	// A child process of `zerobuffer bench` (the binary run again in a
	// role) runs its role and exits here, before any normal dispatch.
	bench.RunChild()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
