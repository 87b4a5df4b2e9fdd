package harmony

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// callTimeout bounds one request to a serve: a step's own 30 s, plus room.
const callTimeout = DefaultStepTimeout + 10*time.Second

// serveProcess is one running serve and the runner's end of its pipes.
type serveProcess struct {
	role, platform string
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	out            *frameWriter
	responses      chan []byte // closed when stdout ends
	exited         chan struct{}
	stderr         *lockedBuffer
	nextID         int
	dead           bool
}

// lockedBuffer keeps the tail of a serve's stderr for failure reports.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		b.buf.Next(b.buf.Len() - 512<<10)
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// startServe starts a platform's serve with Harmony's environment.
func startServe(pc PlatformConfig, role, platform string, hostPID, featureID int, log io.Writer) (*serveProcess, error) {
	cmd := exec.Command(pc.Executable, strings.Fields(pc.Arguments)...)
	cmd.Dir = pc.WorkingDirectory
	cmd.Env = append(os.Environ(), "HARMONY_HOST_PID="+strconv.Itoa(hostPID), "HARMONY_FEATURE_ID="+strconv.Itoa(featureID))
	for k, v := range pc.Environment {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	sp, err := launch(cmd, role, platform, log)
	if err != nil {
		return nil, fmt.Errorf("start the %s serve for %q (%s): %w", platform, role, pc.Executable, err)
	}
	return sp, nil
}

// launch starts cmd as a serve and reads its framed answers.
func launch(cmd *exec.Cmd, role, platform string, log io.Writer) (*serveProcess, error) {
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	sp := &serveProcess{role: role, platform: platform, cmd: cmd, stdin: stdin, out: &frameWriter{w: stdin},
		responses: make(chan []byte, 1), exited: make(chan struct{}), stderr: &lockedBuffer{}}
	if log != nil {
		cmd.Stderr = io.MultiWriter(sp.stderr, log)
	} else {
		cmd.Stderr = sp.stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		defer close(sp.responses)
		fr := newFrameReader(stdout)
		for {
			body, err := fr.next()
			if err != nil {
				if errors.Is(err, ErrFraming) {
					fmt.Fprintf(sp.stderr, "harmony runner: bad framing from the serve: %v\n", err)
				}
				return
			}
			sp.responses <- body
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(sp.exited)
	}()
	return sp, nil
}

// call sends one request and waits for its response's result.
func (sp *serveProcess) call(method string, param any, timeout time.Duration, result any) error {
	if sp.dead {
		return fmt.Errorf("the %s serve for %q is not running", sp.platform, sp.role)
	}
	sp.nextID++
	req := map[string]any{"jsonrpc": "2.0", "id": sp.nextID, "method": method}
	if param != nil {
		req["params"] = []any{param}
	}
	if err := sp.out.write(req); err != nil {
		return fmt.Errorf("send %s to the %s serve for %q: %w", method, sp.platform, sp.role, err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case body, ok := <-sp.responses:
			if !ok {
				return fmt.Errorf("the %s serve for %q ended during %s; its stderr ends: %s", sp.platform, sp.role, method, sp.stderr.tail(800))
			}
			var resp struct {
				ID     json.RawMessage `json:"id"`
				Result json.RawMessage `json:"result"`
				Error  *RPCError       `json:"error"`
			}
			if err := json.Unmarshal(body, &resp); err != nil {
				return fmt.Errorf("the %s serve for %q answered %s with bad JSON: %w", sp.platform, sp.role, method, err)
			}
			if string(resp.ID) != strconv.Itoa(sp.nextID) {
				continue // a stale answer (to a request that timed out)
			}
			if resp.Error != nil {
				return fmt.Errorf("%s: %w", method, resp.Error)
			}
			if result != nil && len(resp.Result) > 0 {
				if err := json.Unmarshal(resp.Result, result); err != nil {
					return fmt.Errorf("the %s serve for %q answered %s with an unexpected result %s: %w", sp.platform, sp.role, method, resp.Result, err)
				}
			}
			return nil
		case <-timer.C:
			return fmt.Errorf("the %s serve for %q did not answer %s within %s", sp.platform, sp.role, method, timeout)
		}
	}
}

// notify sends a request whose answer is not awaited (crash).
func (sp *serveProcess) notify(method string) error {
	sp.nextID++
	return sp.out.write(map[string]any{"jsonrpc": "2.0", "id": sp.nextID, "method": method})
}

// waitExit waits up to d for the process to end, then kills it.
func (sp *serveProcess) waitExit(d time.Duration) {
	select {
	case <-sp.exited:
	case <-time.After(d):
		_ = sp.cmd.Process.Kill()
		<-sp.exited
	}
	sp.dead = true
}

// kill ends the serve with SIGKILL, as "the 'X' process is killed".
func (sp *serveProcess) kill() {
	_ = sp.cmd.Process.Signal(syscall.SIGKILL)
	sp.waitExit(5 * time.Second)
}

// crash asks the serve to crash itself, and kills it if it does not.
func (sp *serveProcess) crash() {
	_ = sp.notify("crash")
	sp.waitExit(5 * time.Second)
}

// stop ends a serve gracefully: cleanup, shutdown, end of stdin.
func (sp *serveProcess) stop() {
	if sp.dead {
		return
	}
	_ = sp.call("cleanup", nil, 10*time.Second, nil)
	_ = sp.call("shutdown", nil, 5*time.Second, nil)
	_ = sp.stdin.Close()
	sp.waitExit(10 * time.Second)
}
