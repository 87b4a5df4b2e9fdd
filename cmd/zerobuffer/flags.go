package main

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
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// Exit codes shared by the subcommands.
const (
	exitOK     = 0
	exitVerify = 1 // the reader saw frames that did not match --verify
	exitError  = 2 // anything else: bad arguments, connection, timeout, I/O
)

// newFlagSet makes a flag set that prints nothing itself: the caller
// reports its errors and prints the subcommand's hand-written usage.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseInterleaved parses args with fs, allowing positional arguments
// before, between and after the flags (the flag package stops at the first
// non-flag). Everything after a "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
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

// sizeValue is a byte count: a plain integer (decimal, 0x hex, 0o octal),
// optionally with a binary suffix K/KiB, M/MiB or G/GiB.
type sizeValue struct{ p *uint64 }

func (v sizeValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatUint(*v.p, 10)
}

func (v sizeValue) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}

func parseSize(s string) (uint64, error) {
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

// permValue is a file mode in octal: "0600", "600" and "0o600" all mean
// rw for the owner only.
type permValue struct{ p *os.FileMode }

func (v permValue) String() string {
	if v.p == nil {
		return "0600"
	}
	return fmt.Sprintf("%#o", uint32(*v.p))
}

func (v permValue) Set(s string) error {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	n, err := strconv.ParseUint(t, 8, 32)
	if err != nil || n > 0o777 {
		return fmt.Errorf("invalid permissions %q (want octal, e.g. 0600 or 0666)", s)
	}
	*v.p = os.FileMode(n)
	return nil
}

// byteValue is one byte: decimal, 0x hex or 0o octal, 0..255.
type byteValue struct{ p *byte }

func (v byteValue) String() string {
	if v.p == nil {
		return "0xff"
	}
	return fmt.Sprintf("%#02x", *v.p)
}

func (v byteValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 0, 8)
	if err != nil {
		return fmt.Errorf("invalid byte %q (want 0..255, e.g. 0xFF)", s)
	}
	*v.p = byte(n)
	return nil
}

// The --notifier flag takes the names of ring.NotifierNames(). The empty
// name means: the reader's default (POSIX semaphores), or, for a writer,
// whatever the reader recorded.

func notifierNames() string { return strings.Join(ring.NotifierNames(), ", ") }

func checkNotifierName(name string) error {
	_, err := notifierOption(name)
	return err
}

// notifierOption turns a --notifier value into ring options: none for the
// empty name.
func notifierOption(name string) ([]ring.Option, error) {
	if name == "" {
		return nil, nil
	}
	n, err := ring.NewNotifier(name)
	if err != nil {
		return nil, fmt.Errorf("unknown notifier %q (available: %s)", name, notifierNames())
	}
	return []ring.Option{ring.WithNotifier(n)}, nil
}

// notifierName names the notifier kind a reader recorded in the OIEB.
func notifierName(kind uint64) string { return ring.NotifierName(kind) }

// signalContext is cancelled by SIGINT or SIGTERM, so that a subcommand
// stops at the next frame boundary and closes its buffer cleanly.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// msDuration converts a --timeout-ms style flag.
func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

// flagWasSet reports whether any of names was given on the command line.
func flagWasSet(fs *flag.FlagSet, names ...string) bool {
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

// handleParseError reports a flag error; -h/--help prints the usage on
// stdout and is not an error.
func handleParseError(cmd string, err error, usage string, stdout, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "zerobuffer %s: %v\n", cmd, err)
	fmt.Fprintf(stderr, "Run 'zerobuffer help %s' for usage.\n", cmd)
	return exitError
}

// flush pushes buffered output out, for writers that buffer.
func flush(w io.Writer) {
	if f, ok := w.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
}
