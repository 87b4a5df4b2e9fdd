package harmony

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// MaxMessageSize bounds one framed message's body. Harmony's messages are a
// few kilobytes; anything near this is a broken or hostile peer.
const MaxMessageSize = 16 << 20

// maxHeaderLine bounds one header line, for the same reason.
const maxHeaderLine = 4096

// JSON-RPC 2.0 error codes used by the serve.
const (
	codeParseError     = -32700
	codeInvalidRequest = -32600
	codeMethodNotFound = -32601
	codeInvalidParams  = -32602
	codeInternalError  = -32603
)

// ErrFraming is matched (errors.Is) by every error about a message's framing:
// a missing or bad Content-Length, an oversized header or body.
var ErrFraming = errors.New("harmony: bad message framing")

// frameReader reads LSP-framed messages: header lines ending in "\r\n" (a bare
// "\n" is accepted), an empty line, then Content-Length bytes of body.
type frameReader struct {
	r *bufio.Reader
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next message's body. It returns io.EOF at a clean end of
// input, io.ErrUnexpectedEOF when the input ends inside a message, and an
// error matching ErrFraming when the headers are bad (the headers are consumed,
// so the caller may answer with an error and go on reading).
func (f *frameReader) next() ([]byte, error) {
	length := -1
	sawHeader := false
	for {
		line, err := f.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && !sawHeader {
				return nil, io.EOF
			}
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if line == "" {
			if !sawHeader {
				continue // stray blank line between messages
			}
			break
		}
		sawHeader = true
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: header line %q has no colon", ErrFraming, line)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("%w: Content-Length %q is not a byte count", ErrFraming, strings.TrimSpace(value))
			}
			if n > MaxMessageSize {
				return nil, fmt.Errorf("%w: Content-Length %d exceeds the limit of %d bytes", ErrFraming, n, MaxMessageSize)
			}
			length = n
		}
	}
	if length < 0 {
		return nil, fmt.Errorf("%w: no Content-Length header", ErrFraming)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(f.r, body); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

func (f *frameReader) readLine() (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := f.r.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxHeaderLine {
			return "", fmt.Errorf("%w: header line longer than %d bytes", ErrFraming, maxHeaderLine)
		}
		if !isPrefix {
			return strings.TrimRight(string(b), "\r"), nil
		}
	}
}

// frameWriter writes LSP-framed messages; safe for concurrent use.
type frameWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (f *frameWriter) write(v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("harmony: encode message: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := fmt.Fprintf(f.w, "Content-Length: %d\r\n\r\n", len(body)); err != nil {
		return err
	}
	_, err = f.w.Write(body)
	return err
}

// rpcRequest is a JSON-RPC 2.0 request or notification (no id).
type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

// rpcResponse is a JSON-RPC 2.0 response: exactly one of Result and Error.
type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *RPCError       `json:"error,omitempty"`
}

// RPCError is a JSON-RPC 2.0 error object.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("json-rpc error %d: %s", e.Code, e.Message) }

// singleParam decodes Harmony's one positional parameter object: params is
// either [ {…} ] (how StreamJsonRpc sends it) or the object itself.
func singleParam(raw json.RawMessage, into any) error {
	trimmed := strings.TrimSpace(string(raw))
	if trimmed == "" || trimmed == "null" {
		return nil
	}
	if strings.HasPrefix(trimmed, "[") {
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return err
		}
		switch len(arr) {
		case 0:
			return nil
		case 1:
			raw = arr[0]
		default:
			return fmt.Errorf("expected one parameter object, got %d parameters", len(arr))
		}
	}
	return json.Unmarshal(raw, into)
}
