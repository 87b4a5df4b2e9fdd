package duplex

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/internal/testsupport"
)

// TestConcurrentCloseWaits: a Close that finds another one under way
// returns only once the server is closed, as the first does: the request
// ring is gone. (It used to return at once, and
// TestScenarios/*/server-death/goroutines, whose crash is a Close in a
// goroutine, then now and then found the request ring's lock file left.)
func TestConcurrentCloseWaits(t *testing.T) {
	for range 10 {
		name := uniqueName(t)
		srv, err := Listen(name, defaultCfg)
		require.NoError(t, err)
		served := make(chan error, 1)
		go func() { served <- srv.Serve(context.Background(), echo) }()
		require.NoError(t, waitServing(srv))

		first := make(chan error, 1)
		go func() { first <- srv.Close() }()
		require.NoError(t, waitClosing(srv))
		require.NoError(t, srv.Close())
		require.Empty(t, testsupport.BufferFiles(name+"_request"), "the second Close returned before the request ring was removed")
		require.ErrorIs(t, <-served, ErrServerClosed)
		require.NoError(t, <-first)
	}
}

// waitServing and waitClosing poll the server's state to order the steps
// above; the bound only catches a hang.
func waitServing(s *Server) error {
	return pollState(s, "Serve to start", func() bool { return s.serving })
}

func waitClosing(s *Server) error {
	return pollState(s, "the first Close to begin", func() bool { return s.closed })
}

func pollState(s *Server, what string, cond func() bool) error {
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(100 * time.Microsecond) {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("gave up waiting for " + what)
		}
	}
}
