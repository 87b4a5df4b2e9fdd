package model

import (
	"fmt"
	"strings"
)

// allSteps is every Step the models use, for the mirror test.
var allSteps []*Step

func step(what, fn string) *Step {
	s := &Step{What: what, Func: fn}
	allSteps = append(allSteps, s)
	return s
}

// Sides.
const (
	writer = 0
	reader = 1
)

// Timeout kinds of a wait.
const (
	tmoPoll     = iota // timeout 0: try once
	tmoSlice           // the reader's unflushed-wait slice: may always end
	tmoLiveness        // a liveness slice or deadline: ends only with Bounds.Timeouts
)

// Program counters. Local ones (see local) run at once after the step
// that reaches them: they read and write only their side's registers, so
// running them eagerly hides no interleaving.
const (
	_ = iota
	// Go writer
	wIdle
	wWS1
	wWS2
	wWS3
	wWrite
	wCommitAdd
	wCommitCount
	wReadyRet
	frFB
	frRC
	frRP
	frTrack
	// C++ writer
	xIdle
	xFree
	xWrap
	xMarker
	xMkCount
	xHeader
	xCount
	// Go reader
	rIdle
	rRF1
	rRF2
	rWD0
	rWD1
	rWD2
	rWD3
	rTake
	rRel2
	rFl0
	rFl1
	rFl2
	rDataLoad
	// C++ reader
	cIdle
	cHdrPre
	cHdr
	cMkLoad
	cMkStore
	cMkPos
	cMkCount
	cPosStore
	cCountAdd
	cRelStore
	// semaphore notifier
	nSemHeld
	nSemDrain0
	nSemTry
	nSemSpin
	nSemReg
	nSemLoop
	nSemAsleep
	nSemPDValue
	nSemDrainR
	nSemPSValue
	nSemPost
	nSemWake
	nSemWW
	// futex and hybrid
	nFutEntry
	nFutR0
	nHySpin
	nHySpinR
	nFutLoop
	nFutSeq
	nFutFlag
	nFutR1
	nFutClear0
	nFutMR
	nFutMSleeper
	nFutWait
	nFutAsleep
	nFutAfter
	nFutR2
	nFutRet
	nFutPost0
	nFutPost1
	nFutPost2
	nFutPost3
	nFutWW
	// spin family
	nSpinEntry
	nSpinR0
	nSpinPoll
	nSpinR1
	// unixgram
	nUgEntry
	nUgR0
	nUgLoop
	nUgRaise
	nUgR1
	nUgClear0
	nUgMR
	nUgMRaise
	nUgMDrain
	nUgRead
	nUgParked
	nUgAfter
	nUgR2
	nUgPost0
	nUgPost1
	nUgSend
	nUgWW
	pcCount
)

var local = [pcCount]bool{
	wWS1: true, wWS2: true, wWS3: true, wReadyRet: true,
	rRF1: true, rRF2: true, rWD0: true, rWD1: true, rWD2: true, rWD3: true, rRel2: true,
	cHdrPre:  true,
	nSemHeld: true, nFutEntry: true, nFutR0: true, nHySpinR: true, nFutR1: true, nFutMR: true,
	nFutR2: true, nFutRet: true, nSpinEntry: true, nSpinR0: true, nSpinR1: true,
	nUgEntry: true, nUgR0: true, nUgLoop: true, nUgR1: true, nUgMR: true, nUgR2: true,
}

var pcNames = map[uint8]string{
	wIdle: "between frames", wWrite: "Reserve", wCommitAdd: "Commit", wCommitCount: "Commit",
	frFB: "free()", frRC: "free()", frRP: "free()", frTrack: "free()",
	xIdle: "between frames", xFree: "write_frame", xWrap: "write_frame", xMarker: "write_frame",
	xMkCount: "write_frame", xHeader: "write_frame", xCount: "write_frame",
	rIdle: "between calls", rTake: "takeFrame", rFl0: "flush", rFl1: "flush", rFl2: "flush", rDataLoad: "dataReady",
	cIdle: "between frames", cHdr: "reading a header", cMkLoad: "wrap marker", cMkStore: "wrap marker",
	cMkPos: "wrap marker", cMkCount: "wrap marker", cPosStore: "read", cCountAdd: "read", cRelStore: "release",
	nSemDrain0: "sem wait (drain)", nSemTry: "sem wait (try)", nSemSpin: "sem wait (spin)", nSemReg: "sem wait (registering)",
	nSemLoop: "sem wait (registered)", nSemAsleep: "ASLEEP in sem FUTEX_WAIT", nSemPDValue: "PostData", nSemDrainR: "PostData (drain)",
	nSemPSValue: "PostSpace", nSemPost: "sem_post", nSemWake: "sem_post (wake)", nSemWW: "WriterWaiting",
	nHySpin: "hybrid spin", nFutLoop: "futex wait", nFutSeq: "futex wait", nFutFlag: "futex wait", nFutClear0: "futex wait", nFutMSleeper: "futex wait",
	nFutWait: "futex wait", nFutAsleep: "ASLEEP in futex FUTEX_WAIT", nFutAfter: "futex wait (woken)",
	nFutPost0: "futex post", nFutPost1: "futex post", nFutPost2: "futex post", nFutPost3: "futex post", nFutWW: "WriterWaiting",
	nSpinPoll: "spin wait (polling)",
	nUgRaise:  "unixgram wait", nUgClear0: "unixgram wait", nUgMRaise: "unixgram wait", nUgMDrain: "unixgram wait (draining stale datagrams)",
	nUgRead: "unixgram wait (recv)", nUgParked: "ASLEEP in unixgram read (netpoller)", nUgAfter: "unixgram wait (woken)",
	nUgPost0: "unixgram post", nUgPost1: "unixgram post", nUgSend: "unixgram post (sendto)", nUgWW: "WriterWaiting",
}

// machine is a Config made executable.
type machine struct {
	Config
	S, H      uint8
	ringItems uint8 // the most frames the ring holds at once
	goWriter  bool
	goReader  bool
	track     bool    // the Go writer follows sem-r posts (releaseTrack)
	pruned    *[2]int // transitions not explored: [0] full ring read as empty, [1] a write past the end
}

func newMachine(c Config) *machine {
	m := &machine{Config: c, S: c.Bounds.Ring, H: c.Bounds.Header, pruned: new([2]int)}
	m.goWriter = c.Peers != CppWriterGoReader
	m.goReader = c.Peers != GoWriterCppReader
	m.track = c.Peers == GoWriterCppReader && c.Mutants&TrustFreeBytes == 0
	minSpan := c.Bounds.Spans[0]
	for _, s := range c.Bounds.Spans {
		minSpan = min(minSpan, s)
	}
	m.ringItems = m.S / minSpan
	return m
}

func (m *machine) has(x Mutant) bool { return m.Mutants&x != 0 }

func (m *machine) initial() State {
	var s State
	s.free = int8(m.S)
	s.W.seq, s.R.expSeq = 1, 1
	if m.goWriter {
		s.W.pc = wIdle
	} else {
		s.W.pc = xIdle
	}
	if m.goReader {
		s.R.pc = rIdle
	} else {
		s.R.pc = cIdle
	}
	return s
}

func (s *State) side(who int) *sideRegs {
	if who == writer {
		return &s.W.sideRegs
	}
	return &s.R.sideRegs
}

// The semaphore a side waits on and the one it posts.
func (s *State) waitSem(who int) *semState {
	if who == writer {
		return &s.semR
	}
	return &s.semW
}

func (s *State) postSem(who int) *semState {
	if who == writer {
		return &s.semW
	}
	return &s.semR
}

func (s *State) waitFut(who int) *futState {
	if who == writer {
		return &s.futS
	}
	return &s.futD
}

func (s *State) postFut(who int) *futState {
	if who == writer {
		return &s.futD
	}
	return &s.futS
}

// The unixgram direction a side waits on (its socket's queue, its own
// sleeper word) and the one it posts to.
func (s *State) waitUg(who int) *ugState {
	if who == writer {
		return &s.ugS
	}
	return &s.ugD
}

func (s *State) postUg(who int) *ugState {
	if who == writer {
		return &s.ugD
	}
	return &s.ugS
}

// ---------------------------------------------------------------- calls

func (m *machine) callWait(s *State, who int, tmo uint8, ret uint8) {
	r := s.side(who)
	r.nret, r.tmo, r.ok, r.err = ret, tmo, false, false
	switch {
	case m.Notifier == Semaphore && who == reader && m.goReader:
		r.pc = nSemHeld
	case m.Notifier == Semaphore:
		r.pc = nSemTry
	case m.Notifier == Spin:
		r.pc = nSpinEntry
	case m.Notifier == Unixgram:
		r.pc = nUgEntry
	default:
		r.pc = nFutEntry
	}
}

func (m *machine) callPost(s *State, who int, ret uint8) {
	r := s.side(who)
	r.nret = ret
	switch {
	case m.Notifier == Semaphore && who == writer && m.goWriter && !m.has(NoSpaceDrain):
		r.pc = nSemPDValue
	case m.Notifier == Semaphore && who == reader && m.goReader:
		r.pc = nSemPSValue
	case m.Notifier == Semaphore:
		r.pc = nSemPost
	case m.Notifier == Spin:
		r.pc = ret // a post is nothing: the OIEB store was the signal
	case m.Notifier == Unixgram:
		r.pc = nUgPost0
	default:
		r.pc = nFutPost0
	}
}

func (m *machine) callWriterWaiting(s *State, ret uint8) {
	r := &s.R.sideRegs
	r.nret = ret
	switch m.Notifier {
	case Semaphore:
		r.pc = nSemWW
	case Futex, Hybrid, Adaptive:
		r.pc = nFutWW
	case Unixgram:
		r.pc = nUgWW
	default:
		r.rdy, r.pc = false, ret
	}
}

// callReady evaluates the waiter's condition: the writer's spaceReady
// (free() >= need, four loads), the reader's dataReady.
func (m *machine) callReady(s *State, who int, ret uint8) {
	r := s.side(who)
	if who == writer {
		r.rret, r.fret, r.pc = ret, wReadyRet, frFB
		return
	}
	if s.R.known != s.R.readCount {
		r.rdy, r.pc = true, ret
		return
	}
	r.rret, r.pc = ret, rDataLoad
}

// ret ends a notifier call with its result.
func ret(r *sideRegs, ok bool) {
	r.ok, r.pc = ok, r.nret
	r.nret, r.tmo, r.seen, r.err, r.deadline = 0, 0, 0, false, false
}

func (m *machine) timeoutOn(r *sideRegs) bool {
	return r.tmo == tmoSlice || r.deadline || (r.tmo == tmoLiveness && m.Bounds.Timeouts)
}

// ---------------------------------------------------------------- local steps

// runLocal runs who's local program counters until the next step that
// touches shared state.
func (m *machine) runLocal(s *State, who int) {
	r := s.side(who)
	for local[r.pc] {
		switch r.pc {
		case wWS1, wWS3:
			if s.W.free >= int8(s.W.need) {
				s.W.freeBytes = s.W.free
				s.W.pc = wWrite
			} else {
				m.callWait(s, writer, tmoLiveness, wWS2)
			}
		case wWS2:
			if r.ok && m.Notifier == Semaphore {
				s.W.taken++ // WaitSpace counts the posts it consumed
			}
			r.ok = false
			r.fret, r.pc = wWS3, frFB
		case wReadyRet:
			r.rdy = s.W.free >= int8(s.W.need)
			r.pc, r.rret = r.rret, 0
		case rRF1:
			if r.ok {
				m.callReady(s, reader, rRF2)
			} else {
				r.pc = rWD0
			}
		case rRF2:
			if r.rdy {
				r.pc = rTake
			} else {
				r.pc = rWD0
			}
		case rWD0:
			relCount := s.R.relCount
			if m.has(ReleasePointIgnoresHeld) {
				relCount = s.R.readCount
			}
			s.R.flushed = !(s.R.unpub != 0 || s.readCount != relCount)
			if m.has(NoFlushBeforeWait) {
				s.R.flushed = true
			}
			r.pc = rWD1
		case rWD1:
			tmo := uint8(tmoSlice)
			if s.R.flushed {
				tmo = tmoLiveness
			}
			m.callWait(s, reader, tmo, rWD2)
			// A caller that holds frames while it waits for the next one
			// gives ReadFrame a deadline: on a ring full of held frames,
			// only the caller can make room.
			r.deadline = s.R.held > 0
		case rWD2:
			switch {
			case r.ok:
				r.ok = false
				m.callReady(s, reader, rRF2)
			case !s.R.flushed:
				r.fret, r.pc = rWD3, rFl0
			case s.R.held > 0:
				// The deadline passed: ReadFrame flushes and fails with
				// context.DeadlineExceeded; the caller goes on.
				r.fret, r.pc = rIdle, rFl0
			default:
				r.pc = rWD1
			}
		case rWD3:
			s.R.flushed = true
			r.pc = rWD1
		case rRel2:
			if r.rdy {
				r.fret, r.pc = rIdle, rFl0
			} else {
				r.pc = rIdle
			}
			r.rdy = false
		case cHdrPre:
			if r.ok {
				r.pc = cHdr
			} else if s.R.held > 0 {
				r.pc = cIdle // the caller's deadline: it goes and releases
			} else {
				m.callWait(s, reader, tmoLiveness, cHdrPre)
			}
		case nSemHeld:
			if s.R.semHeld > 0 {
				s.R.semHeld--
				ret(r, true)
			} else {
				r.pc = nSemDrain0
			}
		case nFutEntry:
			m.callReady(s, who, nFutR0)
		case nFutR0:
			switch {
			case r.rdy:
				ret(r, true)
			case r.tmo == tmoPoll:
				ret(r, false)
			case m.Notifier == Hybrid || m.Notifier == Adaptive:
				// Adaptive: gaps.budget's choice, from the process's own
				// clock and counters, is one of the spins nHySpin allows
				// (0 included: straight to the futex).
				r.pc = nHySpin
			default:
				r.pc = nFutLoop
			}
		case nHySpinR:
			// A poll that fails changes nothing shared: polling until the
			// budget is spent is one poll, at the last moment, then the
			// sleep path.
			if r.rdy {
				ret(r, true)
			} else {
				r.pc = nFutLoop
			}
		case nFutR1:
			if r.rdy {
				r.pc = nFutClear0
			} else {
				r.pc = nFutWait
			}
		case nFutMR:
			if r.rdy {
				ret(r, true)
			} else {
				r.pc = nFutMSleeper
			}
		case nFutR2:
			switch {
			case r.rdy:
				ret(r, true)
			case r.err:
				ret(r, false)
			default:
				r.pc = nFutLoop
			}
		case nFutRet:
			ret(r, r.rdy)
		case nSpinEntry:
			m.callReady(s, who, nSpinR0)
		case nSpinR0:
			switch {
			case r.rdy:
				ret(r, true)
			case r.tmo == tmoPoll:
				ret(r, false)
			default:
				r.pc = nSpinPoll
			}
		case nSpinR1:
			if r.rdy {
				ret(r, true)
			} else {
				r.pc = nSpinPoll
			}
		case nUgEntry:
			m.callReady(s, who, nUgR0)
		case nUgR0:
			switch {
			case r.rdy:
				ret(r, true)
			case r.tmo == tmoPoll:
				ret(r, false)
			default:
				r.pc = nUgLoop
			}
		case nUgLoop:
			if m.has(SleeperAfterRecheck) {
				m.callReady(s, who, nUgMR) // the re-check, with the word down
			} else {
				r.pc = nUgRaise
			}
		case nUgR1:
			switch {
			case r.rdy:
				r.pc = nUgClear0
			case m.has(DrainStaleBeforeRead):
				r.pc = nUgMDrain
			default:
				r.pc = nUgRead
			}
		case nUgMR:
			if r.rdy {
				ret(r, true)
			} else {
				r.pc = nUgMRaise
			}
		case nUgR2:
			switch {
			case r.rdy:
				ret(r, true)
			case r.err:
				ret(r, false)
			default:
				r.pc = nUgLoop
			}
		default:
			panic(fmt.Sprintf("local pc %d has no code", r.pc))
		}
	}
	// Results are consumed by the local code they return to.
	r.ok, r.rdy = false, false
}

// ---------------------------------------------------------------- steps

// emitter wraps the checker's emit: it runs the local code after a step.
type emitter struct {
	m    *machine
	emit func(int, *Step, State, string)
}

func (e emitter) to(who int, st *Step, n State, bad string) {
	if bad == "" {
		e.m.runLocal(&n, who)
		e.m.clearDead(&n)
	}
	e.emit(who, st, n, bad)
}

// clearDead zeroes registers no longer live, so that states that differ
// only in dead values are one state.
func (m *machine) clearDead(s *State) {
	if s.W.pc != frRC && s.W.pc != frRP && s.W.pc != frTrack {
		s.W.fb, s.W.rc, s.W.rp = 0, 0, 0
	}
	if s.W.pc != frTrack {
		s.W.free = 0
	}
	if s.W.pc == wIdle || s.W.pc == xIdle {
		seq, pos, count, fb, taken := s.W.seq, s.W.pos, s.W.count, s.W.freeBytes, s.W.taken
		c, tp, tf := s.W.trCounted, s.W.trPos, s.W.trFrames
		s.W = writerState{seq: seq, pos: pos, count: count, freeBytes: fb, taken: taken, trCounted: c, trPos: tp, trFrames: tf}
		s.W.pc = wIdle
		if !m.goWriter {
			s.W.pc = xIdle
		}
	}
	if s.R.pc == rIdle || s.R.pc == cIdle {
		s.R.sideRegs = sideRegs{pc: s.R.pc}
		s.R.fb, s.R.cur, s.R.span, s.R.flushed = 0, 0, 0, false
	}
}

func (m *machine) next(s State, emit func(int, *Step, State, string)) {
	e := emitter{m, emit}
	for who := range 2 {
		r := s.side(who)
		switch {
		case r.pc >= nSemHeld:
			m.notifierSteps(s, who, e)
		case who == writer && m.goWriter:
			m.goWriterSteps(s, e)
		case who == writer:
			m.cppWriterSteps(s, e)
		case m.goReader:
			m.goReaderSteps(s, e)
		default:
			m.cppReaderSteps(s, e)
		}
	}
}

func (m *machine) final(s State) bool {
	return m.writerDone(s) && m.readerDone(s)
}

func (m *machine) writerDone(s State) bool {
	return (s.W.pc == wIdle || s.W.pc == xIdle) && s.W.seq > m.Bounds.Frames
}

func (m *machine) readerDone(s State) bool {
	return (s.R.pc == rIdle || s.R.pc == cIdle) && s.R.expSeq > m.Bounds.Frames && s.R.held == 0
}

// ---------------------------------------------------------------- ring memory

// header parses the header at pos: a frame's number, 0 for zero bytes
// (a wrap marker), or -1 for bytes that are no header the writer wrote
// whole (torn, or overwritten).
func (m *machine) header(s *State, pos uint8) int {
	a, b := s.cells[pos], s.cells[pos+1]
	if m.H == 1 {
		b = a
		if a != 0 && a&15 != 0 {
			return -1
		}
	}
	switch {
	case a == 0 && b == 0:
		return 0
	case a != 0 && a&15 == 0 && b == a+1:
		return int(a >> 4)
	}
	return -1
}

// write stores frame k's bytes (k 0: zero bytes, a wrap marker) at
// [pos, pos+n) and reports the unreleased frame it overwrote, if any.
func (m *machine) write(s *State, pos, n, k uint8) string {
	bad := ""
	for i := range n {
		c := pos + i
		if old := s.cells[c] >> 4; old != 0 && s.released&(1<<old) == 0 && bad == "" {
			state := "unread"
			if old < s.R.expSeq {
				state = "held by the reader"
			}
			bad = fmt.Sprintf("overwrite: frame %d (%s) overwritten at cell %d by frame %d", old, state, c, k)
		}
		if k == 0 {
			s.cells[c] = 0
		} else {
			s.cells[c] = k<<4 | i
		}
	}
	return bad
}

// readFrame checks frame k at pos as a reader takes it: the one expected,
// committed, and whole.
func (m *machine) readFrame(s *State, pos uint8, k int) string {
	switch {
	case k < 0:
		return fmt.Sprintf("torn read: the header at cell %d is no header the writer wrote whole", pos)
	case k != int(s.R.expSeq):
		return fmt.Sprintf("FIFO/sequence: expected frame %d, read frame %d at cell %d", s.R.expSeq, k, pos)
	case k > int(s.committed):
		return fmt.Sprintf("torn read: frame %d read at cell %d before its commit", k, pos)
	}
	span := s.spans[k]
	if pos+span > m.S {
		return fmt.Sprintf("corrupt: frame %d at cell %d reaches past the ring", k, pos)
	}
	for i := range span {
		if s.cells[pos+i] != uint8(k)<<4|i {
			return fmt.Sprintf("torn read: frame %d's byte %d overwritten", k, i)
		}
	}
	return ""
}

// ---------------------------------------------------------------- properties

func (m *machine) invariant(s State) string {
	if m.Peers == GoPeers && (s.free < 0 || s.free > int8(m.S)) {
		return fmt.Sprintf("free bytes: payload_free_bytes %d outside 0..%d", s.free, m.S)
	}
	if s.semR.val > 1+m.ringItems {
		return fmt.Sprintf("semaphore bound: sem-r holds %d tokens, more than 1 + the %d frames the ring holds", s.semR.val, m.ringItems)
	}
	if s.semW.val > m.ringItems+1 {
		return fmt.Sprintf("semaphore bound: sem-w holds %d tokens, more than the %d frames the ring holds + 1", s.semW.val, m.ringItems)
	}
	return ""
}

func (m *machine) show(s State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ring=[%s] free=%d read_pos=%d read_count=%d written=%d", ringString(s.cells[:m.S]), s.free, s.readPos, s.readCount, s.wcnt)
	switch m.Notifier {
	case Semaphore:
		fmt.Fprintf(&b, " sem-w=%s sem-r=%s", s.semW, s.semR)
	case Futex, Hybrid, Adaptive:
		fmt.Fprintf(&b, " data=%s space=%s", s.futD, s.futS)
	case Unixgram:
		fmt.Fprintf(&b, " data=%s space=%s", s.ugD, s.ugS)
	}
	fmt.Fprintf(&b, " | W pos=%d seq=%d", s.W.pos, s.W.seq)
	if m.goReader {
		fmt.Fprintf(&b, " | R pos=%d rel=%d/%d unflushed=%d held=%d", s.R.readPos, s.R.relPos, s.R.relCount, s.R.unpub, s.R.held)
	} else {
		fmt.Fprintf(&b, " | R pos=%d held=%d", s.R.readPos, s.R.held)
	}
	return b.String()
}

func (x semState) String() string {
	z := ""
	if x.asleep {
		z = ",asleep"
	}
	return fmt.Sprintf("%d(w%d%s)", x.val, x.waiters, z)
}

func (x futState) String() string {
	z := ""
	if x.asleep {
		z = ",asleep"
	}
	return fmt.Sprintf("seq%d/sleeper%d%s", x.seq, x.sleeper, z)
}

func (x ugState) String() string {
	return fmt.Sprintf("queued%d/sleeper%d", x.queue, x.sleeper)
}

func (m *machine) stuck(s State) string {
	name := func(pc uint8) string {
		if n, ok := pcNames[pc]; ok {
			return n
		}
		return fmt.Sprintf("pc %d", pc)
	}
	w := "writer " + name(s.W.pc)
	if m.writerDone(s) {
		w = "writer done"
	} else if s.W.need != 0 {
		w += fmt.Sprintf(" (needs %d free cells)", s.W.need)
	}
	r := "reader " + name(s.R.pc)
	if m.readerDone(s) {
		r = "reader done"
	} else {
		r += fmt.Sprintf(" (read %d of %d, %d held, %d released cells not returned, %d frames written)", s.R.expSeq-1, m.Bounds.Frames, s.R.held, s.R.unpub, s.committed)
	}
	return w + "; " + r
}

// System returns the transition system of c for Check.
func (c Config) System() (System[State], error) {
	if err := c.validate(); err != nil {
		return System[State]{}, err
	}
	m := newMachine(c)
	return System[State]{
		Init:      m.initial(),
		Next:      m.next,
		Invariant: m.invariant,
		Final:     m.final,
		Liveness:  !c.Bounds.Timeouts && c.Peers != CppWriterGoReader,
		Show:      m.show,
		Stuck:     m.stuck,
		Sides:     []string{"writer", "reader"},
	}, nil
}
