package main

import (
	"context"
	"errors"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
)

// frameTimeout reads frames with a per-frame timeout (--timeout-ms: the
// longest wait for each frame) without making a context and a timer for
// every frame. It keeps one context whose deadline is a timeout after the
// wait it was made for; while frames arrive, ReadFrame takes them without
// looking at the context. Only when a read runs into a deadline made for
// an earlier frame does it make a new context, for this frame's own wait,
// and read again.
type frameTimeout struct {
	parent  context.Context
	timeout time.Duration
	ctx     context.Context
	cancel  context.CancelFunc
	made    time.Time // the start of the wait ctx's deadline counts from
}

func newFrameTimeout(parent context.Context, timeout time.Duration) *frameTimeout {
	return &frameTimeout{parent: parent, timeout: timeout}
}

// read waits at most the timeout for the next frame.
func (ft *frameTimeout) read(r *ring.Reader) (ring.Frame, error) {
	start := time.Now()
	if ft.ctx == nil {
		ft.renew(start)
	}
	for {
		f, err := r.ReadFrame(ft.ctx)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || ft.parent.Err() != nil || !ft.made.Before(start) {
			return f, err
		}
		ft.renew(start) // an earlier frame's deadline: wait this frame's own
	}
}

func (ft *frameTimeout) renew(start time.Time) {
	if ft.cancel != nil {
		ft.cancel()
	}
	ft.ctx, ft.cancel = context.WithDeadline(ft.parent, start.Add(ft.timeout))
	ft.made = start
}

// stop releases the context's timer.
func (ft *frameTimeout) stop() {
	if ft.cancel != nil {
		ft.cancel()
	}
}
