package model

// The notifiers' waits and posts, one atomic operation or system call per
// step. A compare-and-swap loop is one step, taken when the swap succeeds:
// a failed swap changes nothing, and the loop only reloads and retries.
// The foreign peers call glibc's sem_wait and sem_post, which the
// semaphore steps are (sync/semaphore mirrors glibc), without the spin.

// Semaphores: sync/semaphore's Notifier and Sem.
var (
	stSemDrain0   = step("WaitData: Drain(0) takes every token at once (held for the next frames)", fnSemWaitData)
	stSemTry      = step("sem wait: tryTake (CAS value-1 if positive)", fnSemTryTake)
	stSemSpinTake = step("sem wait: spinTake takes a token", fnSemSpinTake)
	stSemSpinOut  = step("sem wait: spin budget spent", fnSemSpinTake)
	stSemReg      = step("sem wait: waitSlow registers, Add(waiterOne)", fnSemWaitSlow)
	stSemCAS      = step("sem wait: CAS value-1 and waiters-1 (takes a token)", fnSemWaitSlow)
	stSemSleep    = step("sem wait: FUTEX_WAIT(value, 0) sleeps", fnSemWaitSlow)
	stSemWoken    = step("sem wait: FUTEX_WAIT returns (woken)", fnSemWaitSlow)
	stSemTimeout  = step("sem wait: ETIMEDOUT, Add(waiterDec)", fnSemWaitSlow)
	stSemPDValue  = step("PostData: space.Value() (drain sem-r above 1?)", fnSemPostData)
	stSemDrainR   = step("PostData: space.Drain(1)", fnSemDrain)
	stSemPSValue  = step("PostSpace: space.Value() (a token already there: skip)", fnSemPostSpace)
	stSemPost     = step("sem_post: CAS value+1 (reads the waiter count)", fnSemPost)
	stSemWake     = step("sem_post: FUTEX_WAKE(value, 1)", fnSemPost)
	stSemWW       = step("WriterWaiting: space.Waiters()", fnSemWriterWaiting)

	stGlibcTry   = step("sem_wait: CAS value-1 if positive", fnGlibcSemWait)
	stGlibcReg   = step("sem_wait: register as a waiter", fnGlibcSemWait)
	stGlibcCAS   = step("sem_wait: CAS value-1 and waiters-1", fnGlibcSemWait)
	stGlibcSleep = step("sem_wait: FUTEX_WAIT(value, 0) sleeps", fnGlibcSemWait)
	stGlibcWoken = step("sem_wait: FUTEX_WAIT returns (woken)", fnGlibcSemWait)
	stGlibcTmo   = step("sem_wait: ETIMEDOUT, deregister", fnGlibcSemWait)
	stGlibcPost  = step("sem_post: value+1 (reads the waiter count)", fnGlibcSemPost)
	stGlibcWake  = step("sem_post: FUTEX_WAKE(value, 1)", fnGlibcSemPost)
)

// Futex and hybrid: sync/futex's wait and post.
var (
	stFutSpinPoll = step("hybrid: pause.Until polls ready()", fnPauseUntil)
	stFutSpinOut  = step("hybrid: spin budget spent", fnPauseUntil)
	stFutTimeout  = step("futex wait: timeout (left <= 0), return ready()", fnFutexWait)
	stFutSeqFirst = step("futex wait: seq.Load", fnFutexWait)
	stFutFlagThen = step("futex wait: sleeper.Store(1), then ready()", fnFutexWait)
	stFutSleeper1 = step("futex wait: sleeper.Store(1) BEFORE seq.Load (the order before the fix)", fnFutexWait)
	stFutSeqLoad  = step("futex wait: seq.Load, then ready()", fnFutexWait)
	stFutLateSl   = step("futex wait: sleeper.Store(1) AFTER the re-check (mutant)", fnFutexWait)
	stFutClear0   = step("futex wait: ready: sleeper.Store(0)", fnFutexWait)
	stFutWait     = step("futex wait: FUTEX_WAIT(seq, seen) (EAGAIN if seq moved)", fnFutexWait)
	stFutWoken    = step("futex wait: FUTEX_WAIT returns (woken)", fnFutexWait)
	stFutTmo      = step("futex wait: FUTEX_WAIT ETIMEDOUT", fnFutexWait)
	stFutAfter    = step("futex wait: sleeper.Store(0), then ready()", fnFutexWait)
	stFutPLoad    = step("futex post: sleeper.Load", fnFutexPost)
	stFutPSwap    = step("futex post: sleeper.Swap(0)", fnFutexPost)
	stFutPSeq     = step("futex post: seq.Add(1)", fnFutexPost)
	stFutPWake    = step("futex post: FUTEX_WAKE(seq, 1)", fnFutexPost)
	stFutWW       = step("WriterWaiting: space sleeper.Load", fnFutexWriterWaiting)
)

// Adaptive: sync/futex NewAdaptive. Its wait is the futex's block after a
// spin whose budget gaps.budget chose (0 when the mean gap is long); the
// steps are the hybrid's (nHySpin), named for the adaptive's functions.
var (
	stAdSpinPoll = step("adaptive: pause.Until polls ready() within the budget gaps.budget chose", fnPauseUntil)
	stAdSpinOut  = step("adaptive: the budget gaps.budget chose is spent (0: straight to the futex)", fnAdaptiveBudget)
)

// Unixgram: examples/unixgram's wait, recv, sleep and posts. A datagram
// queue per direction (the waiter's socket), the waiter's sleeper word.
var (
	stUgRaise    = step("unixgram wait: sleeper.Store(mark), then ready()", fnUgWait)
	stUgClear0   = step("unixgram wait: ready: sleeper.Store(0)", fnUgWait)
	stUgMRaise   = step("unixgram wait: sleeper.Store(mark) AFTER the re-check (mutant)", fnUgWait)
	stUgMDrain   = step("unixgram wait: read(2) takes a queued datagram and discards it as stale (mutant)", fnUgRecv)
	stUgMDrained = step("unixgram wait: read(2) EAGAIN, stale datagrams gone; now the sleeping read (mutant)", fnUgRecv)
	stUgRecv     = step("unixgram recv: read(2) takes a datagram", fnUgRecv)
	stUgRecvDone = step("unixgram recv: read(2) EAGAIN after datagrams: woken (raw.Read returns nil)", fnUgRecv)
	stUgRecvPark = step("unixgram recv: read(2) EAGAIN, nothing read: park in the netpoller", fnUgRecv)
	stUgReadable = step("unixgram sleep: the netpoller finds the socket readable; recv again", fnUgSleep)
	stUgDeadline = step("unixgram sleep: the read deadline passed (os.ErrDeadlineExceeded)", fnUgSleep)
	stUgAfter    = step("unixgram wait: sleeper.Store(0), then ready()", fnUgWait)
	stUgPLoad    = [2]*Step{
		step("unixgram PostData: data sleeper.Load", fnUgPostData),
		step("unixgram PostSpace: space sleeper.Load", fnUgPostSpace)}
	stUgPSwap = [2]*Step{
		step("unixgram PostData: data sleeper.Swap(0)", fnUgPostData),
		step("unixgram PostSpace: space sleeper.Swap(0) (the writer's token)", fnUgPostSpace)}
	stUgSend = step("unixgram post: sendto(peer, MSG_DONTWAIT) queues a datagram (queue full: EAGAIN, counted as woken)", fnUgSend)
	stUgWW   = step("WriterWaiting: space sleeper.Load", fnUgWriterWaiting)
)

// Spin family: sync/spin's wait (busy, yield and backoff differ only in
// how long a poll takes). A post is no step at all.
var (
	stSpinPoll    = step("spin wait: poll ready()", fnSpinWait)
	stSpinTimeout = step("spin wait: timeout, return ready()", fnSpinWait)
	_             = step("spin post: nothing (the OIEB store is the signal)", fnSpinPost)
)

func (m *machine) notifierSteps(s State, who int, e emitter) {
	r := s.side(who)
	foreign := (who == writer && !m.goWriter) || (who == reader && !m.goReader)
	pick := func(goStep, glibcStep *Step) *Step {
		if foreign {
			return glibcStep
		}
		return goStep
	}
	switch r.pc {
	// ---- semaphores
	case nSemDrain0:
		n := s
		if v := s.semW.val; v > 0 {
			n.semW.val = 0
			n.R.semHeld = v - 1
			ret(&n.R.sideRegs, true)
		} else {
			n.R.pc = nSemTry
		}
		e.to(who, stSemDrain0, n, "")
	case nSemTry:
		n := s
		nr := n.side(who)
		sem := n.waitSem(who)
		switch {
		case sem.val > 0:
			sem.val--
			ret(nr, true)
		case r.tmo == tmoPoll:
			ret(nr, false)
		case foreign:
			nr.pc = nSemReg
		default:
			nr.pc = nSemSpin
		}
		e.to(who, pick(stSemTry, stGlibcTry), n, "")
	case nSemSpin:
		if s.waitSem(who).val > 0 {
			n := s
			n.waitSem(who).val--
			ret(n.side(who), true)
			e.to(who, stSemSpinTake, n, "")
		}
		n := s
		n.side(who).pc = nSemReg
		e.to(who, stSemSpinOut, n, "")
	case nSemReg:
		n := s
		n.waitSem(who).waiters++
		n.side(who).pc = nSemLoop
		e.to(who, pick(stSemReg, stGlibcReg), n, "")
	case nSemLoop:
		n := s
		sem := n.waitSem(who)
		if sem.val > 0 {
			sem.val--
			sem.waiters--
			ret(n.side(who), true)
			e.to(who, pick(stSemCAS, stGlibcCAS), n, "")
		} else {
			sem.asleep = true
			n.side(who).pc = nSemAsleep
			e.to(who, pick(stSemSleep, stGlibcSleep), n, "")
		}
	case nSemAsleep:
		if !s.waitSem(who).asleep {
			n := s
			n.side(who).pc = nSemLoop
			e.to(who, pick(stSemWoken, stGlibcWoken), n, "")
		}
		if m.timeoutOn(r) {
			n := s
			sem := n.waitSem(who)
			sem.asleep = false
			sem.waiters--
			ret(n.side(who), false)
			e.to(who, pick(stSemTimeout, stGlibcTmo), n, "")
		}
	case nSemPDValue:
		n := s
		if s.semR.val > 1 {
			n.W.pc = nSemDrainR
		} else {
			n.W.pc = nSemPost
		}
		e.to(who, stSemPDValue, n, "")
	case nSemDrainR:
		n := s
		if v := s.semR.val; v > 1 {
			n.W.taken += v - 1
			n.semR.val = 1
		}
		n.W.pc = nSemPost
		e.to(who, stSemDrainR, n, "")
	case nSemPSValue:
		n := s
		if s.semR.val != 0 {
			ret(&n.R.sideRegs, true)
		} else {
			n.R.pc = nSemPost
		}
		e.to(who, stSemPSValue, n, "")
	case nSemPost:
		n := s
		sem := n.postSem(who)
		sem.val++
		if sem.waiters > 0 {
			n.side(who).pc = nSemWake
		} else {
			ret(n.side(who), true)
		}
		e.to(who, pick(stSemPost, stGlibcPost), n, "")
	case nSemWake:
		n := s
		n.postSem(who).asleep = false
		ret(n.side(who), true)
		e.to(who, pick(stSemWake, stGlibcWake), n, "")
	case nSemWW:
		n := s
		n.R.rdy = s.semR.waiters != 0
		rdy := n.R.rdy
		ret(&n.R.sideRegs, true)
		n.R.rdy = rdy
		e.to(who, stSemWW, n, "")

	// ---- futex and hybrid
	case nHySpin:
		poll, out := stFutSpinPoll, stFutSpinOut
		if m.Notifier == Adaptive {
			poll, out = stAdSpinPoll, stAdSpinOut
		}
		n := s
		m.callReady(&n, who, nHySpinR)
		e.to(who, poll, n, "")
		n = s
		n.side(who).pc = nFutLoop
		e.to(who, out, n, "")
	case nFutLoop:
		if m.timeoutOn(r) {
			n := s
			m.callReady(&n, who, nFutRet)
			e.to(who, stFutTimeout, n, "")
		}
		n := s
		switch {
		case m.has(FlagBeforeSeqLoad):
			n.waitFut(who).sleeper = 1
			n.side(who).pc = nFutSeq
			e.to(who, stFutSleeper1, n, "")
		case m.has(SleeperAfterRecheck):
			n.side(who).seen = s.waitFut(who).seq
			m.callReady(&n, who, nFutMR)
			e.to(who, stFutSeqLoad, n, "")
		default:
			n.side(who).seen = s.waitFut(who).seq
			n.side(who).pc = nFutFlag
			e.to(who, stFutSeqFirst, n, "")
		}
	case nFutSeq: // FlagBeforeSeqLoad: the sequence after the flag
		n := s
		n.side(who).seen = s.waitFut(who).seq
		m.callReady(&n, who, nFutR1)
		e.to(who, stFutSeqLoad, n, "")
	case nFutFlag:
		n := s
		n.waitFut(who).sleeper = 1
		m.callReady(&n, who, nFutR1)
		e.to(who, stFutFlagThen, n, "")
	case nFutClear0:
		n := s
		n.waitFut(who).sleeper = 0
		ret(n.side(who), true)
		e.to(who, stFutClear0, n, "")
	case nFutMSleeper:
		n := s
		n.waitFut(who).sleeper = 1
		n.side(who).pc = nFutWait
		e.to(who, stFutLateSl, n, "")
	case nFutWait:
		n := s
		f := n.waitFut(who)
		if f.seq != r.seen {
			n.side(who).pc = nFutAfter // EAGAIN
		} else {
			f.asleep = true
			n.side(who).pc = nFutAsleep
		}
		e.to(who, stFutWait, n, "")
	case nFutAsleep:
		if !s.waitFut(who).asleep {
			n := s
			n.side(who).pc = nFutAfter
			e.to(who, stFutWoken, n, "")
		}
		if m.timeoutOn(r) {
			n := s
			n.waitFut(who).asleep = false
			n.side(who).err = true
			n.side(who).pc = nFutAfter
			e.to(who, stFutTmo, n, "")
		}
	case nFutAfter:
		n := s
		n.waitFut(who).sleeper = 0
		n.side(who).seen = 0
		m.callReady(&n, who, nFutR2)
		e.to(who, stFutAfter, n, "")
	case nFutPost0:
		n := s
		if s.postFut(who).sleeper == 0 {
			ret(n.side(who), true)
		} else {
			n.side(who).pc = nFutPost1
		}
		e.to(who, stFutPLoad, n, "")
	case nFutPost1:
		n := s
		f := n.postFut(who)
		old := f.sleeper
		f.sleeper = 0
		if old == 0 {
			ret(n.side(who), true)
		} else {
			n.side(who).pc = nFutPost2
		}
		e.to(who, stFutPSwap, n, "")
	case nFutPost2:
		n := s
		n.postFut(who).seq++
		n.side(who).pc = nFutPost3
		e.to(who, stFutPSeq, n, "")
	case nFutPost3:
		n := s
		n.postFut(who).asleep = false
		ret(n.side(who), true)
		e.to(who, stFutPWake, n, "")
	case nFutWW:
		n := s
		rdy := s.futS.sleeper != 0
		ret(&n.R.sideRegs, true)
		n.R.rdy = rdy
		e.to(who, stFutWW, n, "")

	// ---- unixgram
	case nUgRaise:
		n := s
		n.waitUg(who).sleeper = 1
		m.callReady(&n, who, nUgR1)
		e.to(who, stUgRaise, n, "")
	case nUgClear0:
		n := s
		n.waitUg(who).sleeper = 0
		ret(n.side(who), true)
		e.to(who, stUgClear0, n, "")
	case nUgMRaise:
		n := s
		n.waitUg(who).sleeper = 1
		n.side(who).pc = nUgRead
		e.to(who, stUgMRaise, n, "")
	case nUgMDrain:
		n := s
		if q := n.waitUg(who); q.queue > 0 {
			q.queue--
			e.to(who, stUgMDrain, n, "")
		} else {
			n.side(who).pc = nUgRead
			e.to(who, stUgMDrained, n, "")
		}
	case nUgRead:
		// raw.Read: prepareRead fails at once when the deadline passed;
		// then recv reads until EAGAIN, and parks if it read nothing.
		if r.seen == 0 && m.timeoutOn(r) {
			n := s
			n.side(who).err = true
			n.side(who).pc = nUgAfter
			e.to(who, stUgDeadline, n, "")
		}
		n := s
		nr := n.side(who)
		switch q := n.waitUg(who); {
		case q.queue > 0:
			q.queue--
			nr.seen = 1
			e.to(who, stUgRecv, n, "")
		case r.seen != 0:
			nr.seen = 0
			nr.pc = nUgAfter
			e.to(who, stUgRecvDone, n, "")
		default:
			nr.pc = nUgParked
			e.to(who, stUgRecvPark, n, "")
		}
	case nUgParked:
		if s.waitUg(who).queue > 0 {
			n := s
			n.side(who).pc = nUgRead
			e.to(who, stUgReadable, n, "")
		}
		if m.timeoutOn(r) {
			n := s
			n.side(who).err = true
			n.side(who).pc = nUgAfter
			e.to(who, stUgDeadline, n, "")
		}
	case nUgAfter:
		n := s
		n.waitUg(who).sleeper = 0
		m.callReady(&n, who, nUgR2)
		e.to(who, stUgAfter, n, "")
	case nUgPost0:
		n := s
		if s.postUg(who).sleeper == 0 {
			ret(n.side(who), true)
		} else {
			n.side(who).pc = nUgPost1
		}
		e.to(who, stUgPLoad[who], n, "")
	case nUgPost1:
		n := s
		q := n.postUg(who)
		old := q.sleeper
		q.sleeper = 0
		if old == 0 {
			ret(n.side(who), true)
		} else {
			n.side(who).pc = nUgSend
		}
		e.to(who, stUgPSwap[who], n, "")
	case nUgSend:
		n := s
		if q := n.postUg(who); q.queue < ugQueueCap {
			q.queue++
		}
		ret(n.side(who), true)
		e.to(who, stUgSend, n, "")
	case nUgWW:
		n := s
		rdy := s.ugS.sleeper != 0
		ret(&n.R.sideRegs, true)
		n.R.rdy = rdy
		e.to(who, stUgWW, n, "")

	// ---- spin family
	case nSpinPoll:
		n := s
		m.callReady(&n, who, nSpinR1)
		e.to(who, stSpinPoll, n, "")
		if m.timeoutOn(r) {
			n := s
			m.callReady(&n, who, nFutRet)
			e.to(who, stSpinTimeout, n, "")
		}
	}
}
