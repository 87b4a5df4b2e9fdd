package duplex

import "github.com/zerobuffer/zerobuffer-go/internal/proc"

// pidAlive reports whether a peer's PID names a live process. (The ring
// checks its peers only while it waits; a duplex side needs to ask at
// other times: a server before writing a response, a client on demand.)
func pidAlive(pid uint64) bool { return proc.Alive(pid) }
