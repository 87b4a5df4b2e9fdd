package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// zerobuffer serve answers health over LSP framing and stops at stdin's end.
func TestEndToEndServeHealth(t *testing.T) {
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), cliEnv+"=1", "GORACE=atexit_sleep_ms=0")
	body := `{"jsonrpc":"2.0","id":1,"method":"health"}`
	cmd.Stdin = strings.NewReader("Content-Length: 42\r\n\r\n" + body)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("serve: %v\n%s", err, stderr.String())
	}
	want := `{"jsonrpc":"2.0","id":1,"result":true}`
	if got := stdout.String(); got != "Content-Length: 38\r\n\r\n"+want {
		t.Errorf("stdout %q, want only the framed answer %q", got, want)
	}
}

// zerobuffer conformance runs a feature with this program's own serve.
func TestEndToEndConformance(t *testing.T) {
	c := startCLI(t, "conformance", "--features", "../../harmony/testdata/features", "--run", "^01-basic/B1 ")
	if code := c.wait(); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, c.output(), c.stderr.String())
	}
	if out := c.output(); !strings.HasSuffix(strings.TrimSpace(out), "1 passed, 0 failed, 0 skipped") {
		t.Errorf("output:\n%s", out)
	}
}
