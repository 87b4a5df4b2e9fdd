package harmony

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultStepTimeout is how long one step may run before the serve answers
// with an error, as Harmony's serves do.
const DefaultStepTimeout = 30 * time.Second

// ServeConfig configures Serve. The zero value serves with the defaults.
type ServeConfig struct {
	// Log receives the serve's log lines (default os.Stderr). Never stdout:
	// stdout carries only framed JSON.
	Log io.Writer
	// Getenv reads HARMONY_HOST_PID and HARMONY_FEATURE_ID (default os.Getenv).
	Getenv func(string) string
	// StepTimeout bounds each step (default DefaultStepTimeout).
	StepTimeout time.Duration
	// Crash ends the process at once, as a crash would (default: SIGKILL to
	// itself). Tests that serve in-process replace it.
	Crash func()
}

// Serve answers Harmony's JSON-RPC requests read from in, writing responses
// to out, until in ends, shutdown is called or ctx is done. It releases every
// buffer its steps opened before it returns. A malformed message gets a
// JSON-RPC error response; only a failure to write to out ends Serve early.
func Serve(ctx context.Context, in io.Reader, out io.Writer, cfg ServeConfig) error {
	s := newServer(cfg)
	defer s.close()
	fr := newFrameReader(in)
	fw := &frameWriter{w: out}
	type message struct {
		body []byte
		err  error
	}
	msgs := make(chan message)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			body, err := fr.next()
			select {
			case msgs <- message{body, err}:
			case <-stop:
				return
			}
			if err != nil && !errors.Is(err, ErrFraming) {
				return
			}
		}
	}()
	for {
		var m message
		select {
		case <-ctx.Done():
			return nil
		case m = <-msgs:
		}
		if m.err != nil {
			if errors.Is(m.err, ErrFraming) {
				s.logf(LevelError, "%v", m.err)
				if err := fw.write(errorResponse(nil, codeParseError, m.err.Error())); err != nil {
					return err
				}
				continue
			}
			if errors.Is(m.err, io.EOF) {
				s.logf(LevelInformation, "stdin closed, stopping")
				return nil
			}
			s.logf(LevelError, "reading requests: %v", m.err)
			return nil
		}
		resp, done := s.handle(ctx, m.body)
		if resp != nil {
			if err := fw.write(resp); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}

func errorResponse(id json.RawMessage, code int, msg string) *rpcResponse {
	if id == nil {
		id = json.RawMessage("null")
	}
	return &rpcResponse{JSONRPC: "2.0", ID: id, Error: &RPCError{Code: code, Message: msg}}
}

func resultResponse(id json.RawMessage, v any) *rpcResponse {
	b, err := json.Marshal(v)
	if err != nil {
		return errorResponse(id, codeInternalError, "encode result: "+err.Error())
	}
	return &rpcResponse{JSONRPC: "2.0", ID: id, Result: b}
}

// server is one serve's state: its configuration and the world its steps act on.
type server struct {
	cfg   ServeConfig
	steps *Registry
	world *world
	// busy is closed when the step running now ends; a step that timed out
	// keeps running, and the steps after it fail until it ends.
	busy chan struct{}
}

func newServer(cfg ServeConfig) *server {
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = DefaultStepTimeout
	}
	if cfg.Crash == nil {
		cfg.Crash = func() { _ = syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	}
	s := &server{cfg: cfg, steps: DefaultRegistry()}
	s.world = newWorld(bufferSuffix(cfg.Getenv), s.logf)
	s.world.crash = cfg.Crash
	return s
}

// bufferSuffix is Harmony's naming rule: with HARMONY_HOST_PID and
// HARMONY_FEATURE_ID set, every serve of a scenario (whatever its language)
// appends _{pid}_{feature} to a buffer's name; alone, a serve uses its own
// PID and the time so that runs never collide.
func bufferSuffix(getenv func(string) string) string {
	pid, feature := getenv("HARMONY_HOST_PID"), getenv("HARMONY_FEATURE_ID")
	if pid != "" && feature != "" {
		return pid + "_" + feature
	}
	return fmt.Sprintf("%d_%d", os.Getpid(), time.Now().UnixNano())
}

func (s *server) logf(level int, format string, args ...any) {
	fmt.Fprintf(s.cfg.Log, "%s %s %s\n", time.Now().UTC().Format(time.RFC3339Nano), levelName(level), fmt.Sprintf(format, args...))
}

func levelName(level int) string {
	switch level {
	case LevelDebug:
		return "DEBUG"
	case LevelInformation:
		return "INFO"
	case LevelWarning:
		return "WARN"
	case LevelError:
		return "ERROR"
	}
	return "TRACE"
}

func (s *server) close() {
	if s.busy != nil {
		select {
		case <-s.busy:
		case <-time.After(s.cfg.StepTimeout):
			s.logf(LevelError, "a timed-out step is still running at exit")
			return
		}
	}
	s.world.reset()
}

// handle answers one message; done reports that the serve should stop.
func (s *server) handle(ctx context.Context, body []byte) (resp *rpcResponse, done bool) {
	var req rpcRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return errorResponse(nil, codeParseError, "parse error: "+err.Error()), false
	}
	if req.Method == "" {
		return errorResponse(req.ID, codeInvalidRequest, "invalid request: no method"), false
	}
	notification := len(req.ID) == 0
	reply := func(r *rpcResponse) *rpcResponse {
		if notification {
			return nil
		}
		return r
	}
	switch req.Method {
	case "health":
		return reply(resultResponse(req.ID, true)), false
	case "initialize":
		var p InitializeRequest
		if err := singleParam(req.Params, &p); err != nil {
			return reply(errorResponse(req.ID, codeInvalidParams, "initialize: "+err.Error())), false
		}
		s.logf(LevelInformation, "initialize: role=%s platform=%s scenario=%q hostPid=%d featureId=%d", p.Role, p.Platform, p.Scenario, p.HostPid, p.FeatureID)
		s.world.role = p.Role
		return reply(resultResponse(req.ID, true)), false
	case "discover":
		return reply(resultResponse(req.ID, DiscoverResponse{Steps: s.steps.Infos()})), false
	case "executeStep":
		var p StepRequest
		if err := singleParam(req.Params, &p); err != nil {
			return reply(errorResponse(req.ID, codeInvalidParams, "executeStep: "+err.Error())), false
		}
		if strings.TrimSpace(p.Step) == "" {
			return reply(errorResponse(req.ID, codeInvalidParams, "executeStep: no step text")), false
		}
		return reply(resultResponse(req.ID, s.execute(ctx, p))), false
	case "cleanup":
		s.world.reset()
		return reply(resultResponse(req.ID, nil)), false
	case "shutdown":
		return reply(resultResponse(req.ID, nil)), true
	case "crash":
		s.logf(LevelWarning, "crash requested")
		s.cfg.Crash()
		return nil, true
	}
	return reply(errorResponse(req.ID, codeMethodNotFound, "method not found: "+req.Method)), false
}

// execute runs one step under the step timeout and gathers its logs.
func (s *server) execute(ctx context.Context, req StepRequest) StepResponse {
	resp := StepResponse{Context: req.Context}
	logs := &stepLog{srv: s}
	fail := func(msg string) StepResponse {
		logs.add(LevelError, msg)
		resp.Success, resp.Error, resp.Logs = false, &msg, logs.take()
		return resp
	}
	if s.busy != nil {
		select {
		case <-s.busy:
			s.busy = nil
		default:
			return fail("a previous step timed out and is still running; this serve cannot take more steps")
		}
	}
	match, args, err := s.steps.Match(req.Step)
	if err != nil {
		return fail(err.Error())
	}
	logs.add(LevelInformation, fmt.Sprintf("%s %s", req.StepType, req.Step))
	stepCtx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout)
	defer cancel()
	done := make(chan error, 1)
	busy := make(chan struct{})
	s.world.setLog(logs.add)
	s.world.ctxIn, s.world.params = req.Context, req.Parameters
	go func() {
		defer close(busy)
		done <- runStep(stepCtx, match, s.world, args)
	}()
	select {
	case err = <-done:
	case <-stepCtx.Done():
		select {
		case err = <-done: // finished at the deadline
		case <-time.After(time.Second):
			s.busy = busy
			return fail(fmt.Sprintf("step timed out after %s: %s", s.cfg.StepTimeout, req.Step))
		}
	}
	if err != nil {
		return fail(err.Error())
	}
	resp.Success, resp.Logs = true, logs.take()
	if len(s.world.ctxOut) > 0 {
		merged := map[string]string{}
		for k, v := range req.Context {
			merged[k] = v
		}
		for k, v := range s.world.ctxOut {
			merged[k] = v
		}
		resp.Context = merged
	}
	return resp
}

// runStep calls a step's handler, turning a panic into an error so that a
// bug in one step never takes the serve down.
func runStep(ctx context.Context, d *stepDef, w *world, args []string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("step panicked: %v", r)
		}
	}()
	return d.run(ctx, w, args)
}

// stepLog collects one step's log lines (also written to the serve's log).
type stepLog struct {
	srv   *server
	mu    sync.Mutex
	lines []LogResponse
}

func (l *stepLog) add(level int, msg string) {
	l.srv.logf(level, "%s", msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, LogResponse{Timestamp: time.Now().UTC().Format(time.RFC3339Nano), Level: level, Message: msg})
}

func (l *stepLog) take() []LogResponse {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	if out == nil {
		out = []LogResponse{}
	}
	return out
}
