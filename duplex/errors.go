package duplex

import "errors"

// Errors a caller can test with errors.Is. Errors that come from a ring
// also match the ring's own error (ring.ErrReaderDead, ring.ErrWriterDead,
// ring.ErrBufferFull, ...).
var (
	// ErrServerNotFound: Dial found no server listening on the name.
	ErrServerNotFound = errors.New("duplex: no server listening")
	// ErrServerGone: the server died, stopped, or ended the session.
	ErrServerGone = errors.New("duplex: server gone")
	// ErrClientGone: the client died or closed before the response was
	// written.
	ErrClientGone = errors.New("duplex: client gone")
	// ErrClosed: the Client or Server was closed.
	ErrClosed = errors.New("duplex: closed")
	// ErrServerClosed: Serve returns it after Close.
	ErrServerClosed = errors.New("duplex: server closed")
	// ErrServing: Serve was called while another Serve runs.
	ErrServing = errors.New("duplex: server already serving")
	// ErrNoResponse: a handler returned without committing a response
	// (reported through WithErrorLog, wrapping the handler's error).
	ErrNoResponse = errors.New("duplex: handler wrote no response")
	// ErrResponseWritten: a handler tried to write a second response.
	ErrResponseWritten = errors.New("duplex: response already written")
	// ErrNoClient: no client connected within WithClientWait.
	ErrNoClient = errors.New("duplex: no client connected")
)
