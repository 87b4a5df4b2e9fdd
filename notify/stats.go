package notify

// Stats are the counters of one side of one buffer: what its waits and
// posts cost, so that a latency or a CPU figure can be explained (a wake
// system call per frame, waits that mostly sleep, spins that rarely pay
// off). The ring fills Frames and SpaceBatches; a notifier that
// implements StatsReporter fills the rest, and a notifier that does not
// leaves them zero.
//
// The counters are plain fields of the side's own (per-process) structs,
// incremented by the goroutine that uses the side: nothing is shared
// between the processes and nothing is allocated. They are read through
// that goroutine, or after it stopped using the side.
//
// Each wait call ends in exactly one of WaitsAtOnce, WaitsSpun,
// WaitsSlept and Polls, so Waits is their sum; Timeouts overlaps them.
// The counts are of one side: on a reader, the waits are for data and the
// posts are of space; on a writer, the other way round.
type Stats struct {
	// Frames is the number of frames read (reader) or committed (writer).
	Frames uint64 `json:"frames"`
	// Waits is the number of calls to WaitData (reader) or WaitSpace
	// (writer).
	Waits uint64 `json:"waits"`
	// WaitsAtOnce are the waits that found their event at the first look:
	// no spin, no sleep.
	WaitsAtOnce uint64 `json:"waits_at_once"`
	// WaitsSpun are the waits that missed their event at the first look
	// and ended without sleeping: found it while polling (a spin, the
	// futex's look after raising its flag), or spun until their timeout.
	WaitsSpun uint64 `json:"waits_spun"`
	// WaitsSlept are the waits that slept at least once: in a system call
	// another process's post can end (FUTEX_WAIT, a semaphore's sleep) or
	// in a timed park (backoff). A wait that timed out asleep counts here.
	WaitsSlept uint64 `json:"waits_slept"`
	// Polls are the waits with timeout 0 that found no event (the ring
	// looks before it waits).
	Polls uint64 `json:"polls"`
	// Timeouts are the waits with a timeout that ended without an event
	// (the timeout passed, or the peer closed).
	Timeouts uint64 `json:"timeouts"`
	// Sleeps is the number of sleeping system calls made; a wait may make
	// several (signals, spurious wake-ups, backoff parks).
	Sleeps uint64 `json:"sleeps"`
	// Spurious are the returns from a sleep after which the waiter found
	// no event and slept again or timed out: a wake meant for an earlier
	// wait, a signal (Go's preemption), a changed word.
	Spurious uint64 `json:"spurious"`
	// SpinIterations is the number of polls made while spinning, over all
	// waits (a poll is one look at the condition, or at the semaphore).
	SpinIterations uint64 `json:"spin_iterations"`
	// Wakes is the number of wake system calls (FUTEX_WAKE) the posts
	// made: posts that found the peer asleep, or about to be.
	Wakes uint64 `json:"wakes"`
	// WakesSkipped are the posts that made no system call because nobody
	// slept (or, for a semaphore, a token was still there to be found).
	WakesSkipped uint64 `json:"wakes_skipped"`
	// SpaceBatches is the number of times the reader returned released
	// space to the writer (each is one PostSpace): frames ÷ batches is
	// how many frames a batch of released space held. Zero on a writer.
	SpaceBatches uint64 `json:"space_batches"`
}

// StatsReporter is implemented by notifiers that count their waits and
// posts. It is optional: the ring reports Frames and SpaceBatches for any
// notifier, and the rest only for those that implement it. Stats follows
// the notifier's own rule: called from the goroutine that uses it, or
// after that goroutine stopped; it must not allocate.
type StatsReporter interface {
	// Stats returns the notifier's counters since Create or Open. Frames
	// and SpaceBatches are the ring's and are left zero.
	Stats() Stats
}

// Add returns the field-by-field sum of s and o: the counters of two
// buffers, or of two runs, together.
func (s Stats) Add(o Stats) Stats {
	return Stats{
		Frames:         s.Frames + o.Frames,
		Waits:          s.Waits + o.Waits,
		WaitsAtOnce:    s.WaitsAtOnce + o.WaitsAtOnce,
		WaitsSpun:      s.WaitsSpun + o.WaitsSpun,
		WaitsSlept:     s.WaitsSlept + o.WaitsSlept,
		Polls:          s.Polls + o.Polls,
		Timeouts:       s.Timeouts + o.Timeouts,
		Sleeps:         s.Sleeps + o.Sleeps,
		Spurious:       s.Spurious + o.Spurious,
		SpinIterations: s.SpinIterations + o.SpinIterations,
		Wakes:          s.Wakes + o.Wakes,
		WakesSkipped:   s.WakesSkipped + o.WakesSkipped,
		SpaceBatches:   s.SpaceBatches + o.SpaceBatches,
	}
}
