// Package cli holds the pieces of a command line that the zerobuffer
// command and the bench package share: flag sets that print nothing
// themselves, positional arguments between flags, byte sizes with binary
// suffixes, comma-separated lists, the handling of -h and of bad flags,
// and the signal context a command stops on. Nothing here is for a third
// party: it is the house style of zerobuffer's command lines.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Exit codes shared by the commands.
const (
	ExitOK    = 0
	ExitError = 2 // bad arguments, connection, timeout, I/O, a failed measurement
)

// NewFlagSet makes a flag set that prints nothing itself: the caller
// reports its errors and prints the command's hand-written usage.
func NewFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// ParseInterleaved parses args with fs, allowing positional arguments
// before, between and after the flags (the flag package stops at the first
// non-flag). Everything after a "--" is positional.
func ParseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// Did Parse stop at a "--" terminator (rather than at a non-flag)?
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// WasSet reports whether any of names was given on the command line.
func WasSet(fs *flag.FlagSet, names ...string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			if f.Name == n {
				set = true
			}
		}
	})
	return set
}

// Size is a byte-count flag: a plain integer (decimal, 0x hex, 0o octal),
// optionally with a binary suffix K/KiB, M/MiB or G/GiB.
type Size struct{ P *uint64 }

func (v Size) String() string {
	if v.P == nil {
		return "0"
	}
	return strconv.FormatUint(*v.P, 10)
}

// Set parses s with ParseSize.
func (v Size) Set(s string) error {
	n, err := ParseSize(s)
	if err != nil {
		return err
	}
	*v.P = n
	return nil
}

// ParseSize parses a byte count as Size does.
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	mult := uint64(1)
	for _, suf := range []struct {
		s string
		m uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"k", 1 << 10}} {
		if strings.HasSuffix(t, suf.s) {
			t, mult = strings.TrimSuffix(t, suf.s), suf.m
			break
		}
	}
	n, err := strconv.ParseUint(t, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	if n > (1<<64-1)/mult {
		return 0, fmt.Errorf("size %q overflows", s)
	}
	return n * mult, nil
}

// List is a comma-separated list flag; blanks around the items are
// dropped, and an empty list is an error.
type List struct{ P *[]string }

func (v List) String() string {
	if v.P == nil {
		return ""
	}
	return strings.Join(*v.P, ",")
}

// Set splits s at the commas.
func (v List) Set(s string) error {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return fmt.Errorf("empty list %q", s)
	}
	*v.P = out
	return nil
}

// HandleParseError reports a flag error of the command prog (for
// example "zerobuffer bench"); -h/--help prints the usage on stdout and
// is not an error.
func HandleParseError(prog string, err error, usage string, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	if cmd, ok := strings.CutPrefix(prog, "zerobuffer "); ok {
		fmt.Fprintf(stderr, "Run 'zerobuffer help %s' for usage.\n", cmd)
	} else {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", prog)
	}
	return ExitError
}

// SignalContext is cancelled by SIGINT or SIGTERM, so that a command
// stops at the next frame boundary and closes its buffers cleanly.
func SignalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Flush pushes buffered output out, for writers that buffer.
func Flush(w io.Writer) {
	if f, ok := w.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
