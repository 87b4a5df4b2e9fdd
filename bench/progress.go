package bench

// Progress of `zerobuffer bench` on stderr: a bar redrawn in place when
// stderr is a terminal, otherwise one line per step.

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/zerobuffer/zerobuffer-go/internal/cli"
)

type progress struct {
	w     io.Writer
	tty   bool
	total int
	done  int
	start time.Time
	label string
	shown bool // a bar is on the screen
}

// newProgress draws a bar when w is a terminal (isTerminal, inspect.go).
func newProgress(w io.Writer, total int) *progress {
	return &progress{w: w, tty: cli.IsTerminal(w), total: total, start: time.Now()}
}

// step starts the next step.
func (p *progress) step(label string) {
	p.label = label
	if p.tty {
		p.draw()
		return
	}
	fmt.Fprintf(p.w, "zerobuffer bench: [%d/%d] %s\n", p.done+1, p.total, label)
}

// stepDone ends the current step.
func (p *progress) stepDone() {
	p.done++
	if p.tty {
		p.draw()
	}
}

const barWidth = 30

func (p *progress) draw() {
	filled := barWidth * p.done / max(p.total, 1)
	el := time.Since(p.start).Round(time.Second)
	fmt.Fprintf(p.w, "\r\x1b[K[%s%s] %d/%d %d:%02d %s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled),
		p.done, p.total, int(el.Minutes()), int(el.Seconds())%60, p.label)
	p.shown = true
}

// clear takes the bar off the screen, before something is printed.
func (p *progress) clear() {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// note prints a message on its own line.
func (p *progress) note(format string, args ...any) {
	p.clear()
	fmt.Fprintf(p.w, "zerobuffer bench: "+format+"\n", args...)
}
