package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// Exit codes shared by the subcommands.
const (
	exitOK     = cli.ExitOK
	exitVerify = 1             // the reader saw frames that did not match --verify
	exitError  = cli.ExitError // anything else: bad arguments, connection, timeout, I/O
)

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

// msDuration converts a --timeout-ms style flag.
func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
