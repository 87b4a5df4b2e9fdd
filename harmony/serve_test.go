package harmony

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inProcessServe runs Serve over pipes; the test talks to it as a runner.
type inProcessServe struct {
	in      *io.PipeWriter
	frames  *frameReader
	done    chan error
	crashed chan struct{}
}

func startInProcess(t *testing.T, cfg ServeConfig) *inProcessServe {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &inProcessServe{in: inW, frames: newFrameReader(outR), done: make(chan error, 1), crashed: make(chan struct{})}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Getenv == nil {
		cfg.Getenv = func(k string) string {
			return map[string]string{"HARMONY_HOST_PID": fmt.Sprint(1000000 + rand.IntN(1000000)), "HARMONY_FEATURE_ID": "99"}[k]
		}
	}
	cfg.Crash = func() { close(s.crashed) }
	go func() {
		err := Serve(context.Background(), inR, outW, cfg)
		_ = outW.Close()
		s.done <- err
	}()
	t.Cleanup(func() {
		_ = inW.Close()
		go func() { _, _ = io.Copy(io.Discard, outR) }()
		select {
		case err := <-s.done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its input ended")
		}
	})
	return s
}

func (s *inProcessServe) send(t *testing.T, raw string) {
	t.Helper()
	_, err := io.WriteString(s.in, raw)
	require.NoError(t, err)
}

func (s *inProcessServe) request(t *testing.T, id int, method string, params any) {
	t.Helper()
	req := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		req["params"] = []any{params}
	}
	body, err := json.Marshal(req)
	require.NoError(t, err)
	s.send(t, fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body))
}

func (s *inProcessServe) response(t *testing.T) rpcResponse {
	t.Helper()
	body, err := s.frames.next()
	require.NoError(t, err)
	var r rpcResponse
	require.NoError(t, json.Unmarshal(body, &r), "response %s", body)
	assert.Equal(t, "2.0", r.JSONRPC)
	return r
}

func (s *inProcessServe) call(t *testing.T, id int, method string, params, result any) {
	t.Helper()
	s.request(t, id, method, params)
	r := s.response(t)
	require.Nil(t, r.Error, "%s answered an error", method)
	require.Equal(t, fmt.Sprint(id), string(r.ID))
	if result != nil {
		require.NoError(t, json.Unmarshal(r.Result, result))
	}
}

func (s *inProcessServe) step(t *testing.T, id int, text string) StepResponse {
	t.Helper()
	var resp StepResponse
	s.call(t, id, "executeStep", StepRequest{Process: "reader", StepType: Given, Step: text, Context: map[string]string{"k": "v"}}, &resp)
	return resp
}

func TestServeAnswersHealthInitializeDiscover(t *testing.T) {
	s := startInProcess(t, ServeConfig{})
	var healthy bool
	s.call(t, 1, "health", nil, &healthy)
	assert.True(t, healthy)

	var ok bool
	s.call(t, 2, "initialize", InitializeRequest{Role: "reader", Platform: "go", Scenario: "s", HostPid: 1, FeatureID: 2}, &ok)
	assert.True(t, ok)

	var d DiscoverResponse
	s.call(t, 3, "discover", nil, &d)
	require.Equal(t, DefaultRegistry().Len(), len(d.Steps))
	patterns := map[string]bool{}
	for _, st := range d.Steps {
		assert.Contains(t, []string{"Given", "When", "Then"}, st.Type)
		patterns[st.Pattern] = true
	}
	assert.True(t, patterns[`the `+q+` process creates buffer `+q+` with metadata size `+q+` and payload size `+q])
	assert.True(t, patterns[`the platform is 'Windows'`], "not-applicable steps are listed too")

	s.call(t, 4, "cleanup", nil, nil)
	s.request(t, 5, "shutdown", nil)
	r := s.response(t)
	assert.Nil(t, r.Error)
	select {
	case err := <-s.done:
		require.NoError(t, err)
		s.done <- nil // for the cleanup's check
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop after shutdown")
	}
}

func TestServeExecutesStepsAndReportsFailures(t *testing.T) {
	s := startInProcess(t, ServeConfig{})
	resp := s.step(t, 1, "the 'reader' process creates buffer 'harmony-unit' with metadata size '0' and payload size '4096'")
	require.True(t, resp.Success, "error: %v", resp.Error)
	assert.Equal(t, "v", resp.Context["k"], "the context comes back")
	assert.Equal(t, "harmony-unit", resp.Context[contextBuffer], "with the buffer's name added")
	assert.NotEmpty(t, resp.Logs)

	resp = s.step(t, 2, "the 'reader' process should read frame with size '7'")
	assert.False(t, resp.Success, "no writer: the read times out")

	resp = s.step(t, 3, "the 'reader' process dances")
	require.False(t, resp.Success)
	require.NotNil(t, resp.Error)
	assert.Contains(t, *resp.Error, "no step definition matches")

	resp = s.step(t, 4, "the platform is 'Windows'")
	require.False(t, resp.Success)
	require.NotNil(t, resp.Error)
	assert.True(t, strings.HasPrefix(*resp.Error, NotApplicablePrefix), *resp.Error)

	resp = s.step(t, 5, "the 'client' process creates duplex channel client 'harmony-no-server'")
	require.False(t, resp.Success)
	assert.Contains(t, *resp.Error, "no server listening")
	assert.False(t, strings.HasPrefix(*resp.Error, NotApplicablePrefix), "a failure is not 'not applicable'")
}

func TestServeStepTimeout(t *testing.T) {
	s := startInProcess(t, ServeConfig{StepTimeout: 300 * time.Millisecond})
	resp := s.step(t, 1, "the 'reader' process creates buffer 'harmony-timeout' with metadata size '0' and payload size '4096'")
	require.True(t, resp.Success, "error: %v", resp.Error)
	// A read waits up to 5 s for a frame; the step's deadline ends it first.
	resp = s.step(t, 2, "the 'reader' process should read frame with size '7'")
	require.False(t, resp.Success)
	assert.Contains(t, *resp.Error, "deadline exceeded")
}

func TestServeAnswersMalformedInputWithErrors(t *testing.T) {
	s := startInProcess(t, ServeConfig{})
	cases := []struct {
		name, raw string
		code      int
	}{
		{"not JSON", "Content-Length: 5\r\n\r\nhello", codeParseError},
		{"no Content-Length", "X-Other: 1\r\n\r\n", codeParseError},
		{"bad Content-Length", "Content-Length: many\r\n\r\n", codeParseError},
		{"negative Content-Length", "Content-Length: -4\r\n\r\n", codeParseError},
		{"huge Content-Length", fmt.Sprintf("Content-Length: %d\r\n\r\n", MaxMessageSize+1), codeParseError},
		{"header without colon", "garbage\r\n\r\n", codeParseError},
		{"no method", frame(`{"jsonrpc":"2.0","id":7}`), codeInvalidRequest},
		{"unknown method", frame(`{"jsonrpc":"2.0","id":8,"method":"dance"}`), codeMethodNotFound},
		{"params of the wrong shape", frame(`{"jsonrpc":"2.0","id":9,"method":"executeStep","params":[1,2]}`), codeInvalidParams},
		{"bad step type", frame(`{"jsonrpc":"2.0","id":10,"method":"executeStep","params":[{"Step":"x","StepType":7}]}`), codeInvalidParams},
		{"no step text", frame(`{"jsonrpc":"2.0","id":11,"method":"executeStep","params":{"StepType":"Given"}}`), codeInvalidParams},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.send(t, c.raw)
			r := s.response(t)
			require.NotNil(t, r.Error)
			assert.Equal(t, c.code, r.Error.Code, r.Error.Message)
			assert.NotEmpty(t, r.Error.Message)
		})
	}
	var healthy bool
	s.call(t, 12, "health", nil, &healthy)
	assert.True(t, healthy, "the serve goes on after bad input")
}

func frame(body string) string { return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body) }

func TestServeSurvivesRandomInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var in bytes.Buffer
		if i%2 == 0 {
			body := make([]byte, rng.IntN(64))
			for j := range body {
				body[j] = byte(rng.IntN(256))
			}
			fmt.Fprintf(&in, "Content-Length: %d\r\n\r\n%s", len(body)+rng.IntN(3), body)
		} else {
			const alphabet = "Content-Length: 0123456789\r\n{}[]\":,"
			junk := make([]byte, rng.IntN(200))
			for j := range junk {
				junk[j] = alphabet[rng.IntN(len(alphabet))]
			}
			in.Write(junk)
		}
		var out bytes.Buffer
		err := Serve(context.Background(), &in, &out, ServeConfig{Log: io.Discard, Crash: func() {}})
		require.NoError(t, err, "input %d", i)
	}
}

func TestFrameReaderAcceptsBareNewlines(t *testing.T) {
	fr := newFrameReader(strings.NewReader("Content-Length: 2\n\n{}\r\n\r\nContent-Length: 2\r\nContent-Type: x\r\n\r\n[]"))
	b, err := fr.next()
	require.NoError(t, err)
	assert.Equal(t, "{}", string(b))
	b, err = fr.next()
	require.NoError(t, err)
	assert.Equal(t, "[]", string(b))
	_, err = fr.next()
	assert.ErrorIs(t, err, io.EOF)
}

func TestBufferSuffixFollowsHarmony(t *testing.T) {
	env := map[string]string{"HARMONY_HOST_PID": "4242", "HARMONY_FEATURE_ID": "7"}
	assert.Equal(t, "4242_7", bufferSuffix(func(k string) string { return env[k] }))
	alone := bufferSuffix(func(string) string { return "" })
	assert.NotEqual(t, "_", alone)
	assert.Regexp(t, `^\d+_\d+$`, alone)
}
