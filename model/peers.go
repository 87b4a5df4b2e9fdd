package model

import "fmt"

// The Go writer: ring.(*Writer).Reserve, Commit, free, waitSpace and the
// release track, one shared-memory operation per step.
var (
	stReserve     = step("Reserve(n): cached free bytes enough, or not (then waitSpace)", fnReserve)
	stWrite       = step("Reserve: write wrap marker (if wrapping), header; caller fills payload", fnReserve)
	stCommitAdd   = step("Commit: PayloadFreeBytes.Add(-used)", fnCommit)
	stCommitCount = step("Commit: PayloadWrittenCount.Store (publishes the frame)", fnCommit)
	stFreeFB      = step("free: PayloadFreeBytes.Load", fnWriterFree)
	stFreeRC      = step("free: PayloadReadCount.Load", fnWriterFree)
	stFreeRP      = step("free: PayloadReadPos.Load", fnWriterFree)
	stFreeTrack   = step("free: track.advance: SpacePosts() = taken + sem-r value", fnTrackAdvance)
)

func (m *machine) goWriterSteps(s State, e emitter) {
	w := &s.W
	switch w.pc {
	case wIdle:
		if w.seq > m.Bounds.Frames {
			return
		}
		for _, span := range m.Bounds.Spans {
			n := s
			nw := &n.W
			toEnd := m.S - w.pos
			wrap := toEnd < span || (toEnd > span && toEnd-span < m.H)
			need := span
			if wrap {
				need += toEnd
			}
			nw.span, nw.need = span, need
			if w.freeBytes >= int8(need) {
				nw.pc = wWrite
			} else {
				nw.fret, nw.pc = wWS1, frFB // waitSpace: free() first
			}
			e.to(writer, stReserve, n, "")
		}
	case wWrite:
		n := s
		nw := &n.W
		pos := w.pos
		toEnd := m.S - pos
		wrap := toEnd < w.span || (toEnd > w.span && toEnd-w.span < m.H)
		bad := ""
		nw.wasted, nw.marker = 0, 0
		if wrap {
			if toEnd >= m.H {
				bad = m.write(&n, pos, m.H, 0)
				nw.marker = 1
			}
			nw.wasted = toEnd
			pos = 0
		}
		if b := m.write(&n, pos, w.span, w.seq); bad == "" {
			bad = b
		}
		n.spans[w.seq] = w.span
		nw.resPos = pos
		nw.pc = wCommitAdd
		e.to(writer, stWrite, n, bad)
	case wCommitAdd:
		n := s
		nw := &n.W
		used := w.wasted + w.span
		nw.freeBytes -= int8(used)
		nw.pos = w.resPos + w.span
		nw.count += w.marker + 1
		nw.seq++
		if m.track {
			nw.trFrames++
		}
		n.free -= int8(used)
		nw.need, nw.span, nw.wasted, nw.marker, nw.resPos = 0, 0, 0, 0, 0
		if m.has(PostBeforePublish) {
			m.callPost(&n, writer, wCommitCount)
		} else {
			nw.pc = wCommitCount
		}
		e.to(writer, stCommitAdd, n, "")
	case wCommitCount:
		n := s
		n.wcnt = w.count
		n.committed = w.seq - 1
		if m.has(PostBeforePublish) {
			n.W.pc = wIdle
		} else {
			m.callPost(&n, writer, wIdle)
		}
		e.to(writer, stCommitCount, n, "")
	case frFB:
		n := s
		n.W.fb = s.free
		if m.has(TrustFreeBytes) {
			n.W.free = s.free
			n.W.pc = w.fret
		} else {
			n.W.pc = frRC
		}
		e.to(writer, stFreeFB, n, "")
	case frRC:
		n := s
		n.W.rc = s.readCount
		n.W.pc = frRP
		e.to(writer, stFreeRC, n, "")
	case frRP:
		n := s
		nw := &n.W
		nw.rp = s.readPos
		rp := nw.rp % m.S
		used := (w.pos%m.S + m.S - rp) % m.S
		if used == 0 && w.rc < w.count {
			used = m.S
		}
		free := int8(m.S - used)
		if w.fb >= 0 && w.fb < free { // a negative field reads as a huge u64
			free = w.fb
		}
		nw.free = free
		if m.track {
			nw.pc = frTrack
		} else {
			nw.pc = w.fret
		}
		e.to(writer, stFreeRP, n, "")
	case frTrack:
		n := s
		nw := &n.W
		posts := w.taken + s.semR.val
		for nw.trCounted < posts {
			if nw.trFrames == 0 {
				nw.trCounted = posts
				break
			}
			next, frame, ok := m.nextItem(&s, nw.trPos)
			if !ok {
				break
			}
			nw.trPos = next
			if frame {
				nw.trFrames--
				nw.trCounted++
			}
		}
		used := (w.pos%m.S + m.S - nw.trPos) % m.S
		if used == 0 && nw.trFrames > 0 {
			used = m.S
		}
		nw.free = min(w.free, int8(m.S-used))
		nw.pc = w.fret
		e.to(writer, stFreeTrack, n, "")
	}
}

// nextItem is ring.nextItem over the cells: the offset after the item at
// pos, and whether it was a frame.
func (m *machine) nextItem(s *State, pos uint8) (next uint8, frame, ok bool) {
	if pos >= m.S || m.S-pos < m.H {
		pos = 0
	}
	k := m.header(s, pos)
	switch {
	case k == 0:
		return 0, false, pos != 0
	case k < 0 || pos+s.spans[k] > m.S:
		return 0, false, false
	}
	next = pos + s.spans[k]
	if next == m.S {
		next = 0
	}
	return next, true, true
}

// The Go reader: ring.(*Reader).ReadFrame, waitData, takeFrame, release
// and flush.
var (
	stReadFrame = step("ReadFrame: WaitData(dataReady, 0)", fnReadFrame)
	stDataReady = step("dataReady: PayloadWrittenCount.Load", fnDataReady)
	stTake      = step("takeFrame: parse the header at readPos (a wrap marker: reclaim the tail), hand out the frame", fnTakeFrame)
	stRelease   = step("Frame.Release: space returns in ring order (then flush if a batch is due)", fnFrameRelease)
	stFlushPos  = step("flush: PayloadReadPos.Store(release point)", fnFlush)
	stFlushCnt  = step("flush: PayloadReadCount.Store(release point's count)", fnFlush)
	stFlushFree = step("flush: PayloadFreeBytes.Add(unpublished), then PostSpace", fnFlush)
)

func (m *machine) goReaderSteps(s State, e emitter) {
	r := &s.R
	switch r.pc {
	case rIdle:
		if r.expSeq <= m.Bounds.Frames && r.held < m.Bounds.Held {
			n := s
			m.callWait(&n, reader, tmoPoll, rRF1)
			e.to(reader, stReadFrame, n, "")
		}
		for i := range r.n {
			p := r.pending[i]
			if p.seq == 0 || p.released {
				continue
			}
			n := s
			m.release(&n, i)
			e.to(reader, stRelease, n, "")
		}
	case rDataLoad:
		n := s
		n.R.known = s.wcnt
		n.R.rdy = n.R.known != r.readCount
		n.R.pc, n.R.rret = r.rret, 0
		e.to(reader, stDataReady, n, "")
	case rTake:
		n := s
		bad := m.take(&n)
		n.R.pc = rIdle
		e.to(reader, stTake, n, bad)
	case rFl0:
		n := s
		n.readPos = r.relPos
		if m.has(ReleasePointIgnoresHeld) {
			n.readPos = r.readPos
		}
		n.R.pc = rFl1
		e.to(reader, stFlushPos, n, "")
	case rFl1:
		n := s
		n.readCount = r.relCount
		if m.has(ReleasePointIgnoresHeld) {
			n.readCount = r.readCount
		}
		if r.unpub == 0 {
			n.R.pc, n.R.fret = r.fret, 0
		} else {
			n.R.pc = rFl2
		}
		e.to(reader, stFlushCnt, n, "")
	case rFl2:
		n := s
		n.free += int8(r.unpub)
		n.R.unpub = 0
		fret := r.fret
		n.R.fret = 0
		m.callPost(&n, reader, fret)
		e.to(reader, stFlushFree, n, "")
	}
}

// take is takeFrame.
func (m *machine) take(s *State) string {
	r := &s.R
	pos := r.readPos
	if m.S-pos < m.H {
		m.reclaimTail(s, m.S-pos, 0)
		pos = 0
	}
	k := m.header(s, pos)
	if k == 0 {
		if pos == 0 {
			return "corrupt: a wrap marker at the start of the ring"
		}
		m.reclaimTail(s, m.S-pos, 1)
		r.readCount++
		pos = 0
		k = m.header(s, pos)
	}
	if bad := m.readFrame(s, pos, k); bad != "" {
		return bad
	}
	span := s.spans[k]
	r.readPos = pos + span
	if r.readPos == m.S {
		r.readPos = 0
	}
	r.readCount++
	r.expSeq = uint8(k) + 1
	r.pending[r.n] = pendingSpan{size: span, end: r.readPos, items: 1, seq: uint8(k)}
	r.n++
	r.held++
	return ""
}

func (m *machine) reclaimTail(s *State, n, items uint8) {
	r := &s.R
	if r.n == 0 {
		r.unpub += n
		r.relPos, r.relCount = 0, r.relCount+items
		return
	}
	r.pending[r.n] = pendingSpan{size: n, end: 0, items: items, released: true}
	r.n++
}

// release is Frame.Release → ring.(*Reader).release for pending[i].
func (m *machine) release(s *State, i uint8) {
	r := &s.R
	s.released |= 1 << r.pending[i].seq
	r.pending[i].released = true
	r.held--
	if i != 0 {
		// Not the oldest: its space waits for the frames before it.
		r.pc = rIdle
		return
	}
	for r.n > 0 && r.pending[0].released {
		p := r.pending[0]
		r.unpub += p.size
		r.relPos, r.relCount = p.end, r.relCount+p.items
		copy(r.pending[:], r.pending[1:r.n])
		r.n--
		r.pending[r.n] = pendingSpan{}
	}
	r.releases++
	switch {
	case r.unpub >= m.Bounds.FlushAt:
		r.fret, r.pc = rIdle, rFl0
	case r.releases%m.Bounds.CheckEvery == 0:
		m.callWriterWaiting(s, rRel2)
	default:
		r.pc = rIdle
	}
	if m.Bounds.CheckEvery > 0 {
		r.releases %= m.Bounds.CheckEvery // only the remainder matters
	}
}

// The C++ reader, as ring/testdata/zbpeer.c's --racy-free --release-late
// reproduces it: glibc sem_wait, a plain `payload_free_bytes += T` (a load
// and a store), read_pos and read_count moved when a frame is read, its
// space returned and sem-r posted when the caller drops it (in ring order).
var (
	stCWait     = step("sem_wait(sem-w)", fnPeerRead)
	stCHdr      = step("read the header at R (checks sequence and size)", fnPeerRead)
	stCMkLoad   = step("wrap marker: load payload_free_bytes (racy +=)", fnPeerFreeAdd)
	stCMkStore  = step("wrap marker: store payload_free_bytes = loaded + tail", fnPeerFreeAdd)
	stCMkPos    = step("wrap marker: ST(payload_read_pos, 0)", fnPeerRead)
	stCMkCount  = step("wrap marker: ADD(payload_read_count, 1)", fnPeerRead)
	stCPos      = step("read: ST(payload_read_pos, next) (before the release)", fnPeerRead)
	stCCount    = step("read: ADD(payload_read_count, 1); the caller holds the frame", fnPeerRead)
	stCRelLoad  = step("release: load payload_free_bytes (racy +=)", fnPeerFreeAdd)
	stCRelStore = step("release: store payload_free_bytes = loaded + T; then sem_post(sem-r)", fnPeerFreeAdd)
)

func (m *machine) cppReaderSteps(s State, e emitter) {
	r := &s.R
	switch r.pc {
	case cIdle:
		if r.expSeq <= m.Bounds.Frames && r.held < m.Bounds.Held {
			n := s
			m.callWait(&n, reader, tmoLiveness, cHdrPre)
			n.R.deadline = r.held > 0 // as ReadFrame's: see rWD1
			e.to(reader, stCWait, n, "")
		}
		if r.held > 0 {
			n := s
			n.R.fb = s.free
			n.released |= 1 << r.pending[0].seq // the caller dropped it
			n.R.pc = cRelStore
			e.to(reader, stCRelLoad, n, "")
		}
	case cHdr:
		n := s
		nr := &n.R
		pos := r.readPos
		if m.S-pos < m.H {
			e.to(reader, stCHdr, n, fmt.Sprintf("short tail: the C++ reader meets a %d-cell tail at %d", m.S-pos, pos))
			return
		}
		k := m.header(&n, pos)
		if k == 0 {
			if pos == 0 {
				e.to(reader, stCHdr, n, "corrupt: a wrap marker at the start of the ring")
				return
			}
			nr.span = m.S - pos
			nr.pc = cMkLoad
			e.to(reader, stCHdr, n, "")
			return
		}
		if bad := m.readFrame(&n, pos, k); bad != "" {
			e.to(reader, stCHdr, n, bad)
			return
		}
		nr.cur, nr.span = uint8(k), n.spans[k]
		nr.pc = cPosStore
		e.to(reader, stCHdr, n, "")
	case cMkLoad:
		n := s
		n.R.fb = s.free
		n.R.pc = cMkStore
		e.to(reader, stCMkLoad, n, "")
	case cMkStore:
		n := s
		n.free = r.fb + int8(r.span)
		n.R.fb, n.R.span, n.R.readPos = 0, 0, 0
		n.R.pc = cMkPos
		e.to(reader, stCMkStore, n, "")
	case cMkPos:
		n := s
		n.readPos = 0
		n.R.pc = cMkCount
		e.to(reader, stCMkPos, n, "")
	case cMkCount:
		n := s
		n.readCount++
		n.R.pc = cHdr
		e.to(reader, stCMkCount, n, "")
	case cPosStore:
		n := s
		next := r.readPos + r.span
		if next == m.S {
			next = 0
		}
		n.readPos = next
		n.R.pc = cCountAdd
		e.to(reader, stCPos, n, "")
	case cCountAdd:
		n := s
		nr := &n.R
		n.readCount++
		nr.pending[nr.n] = pendingSpan{size: r.span, seq: r.cur}
		nr.n++
		nr.held++
		nr.readPos += r.span
		if nr.readPos == m.S {
			nr.readPos = 0
		}
		nr.expSeq++
		nr.pc = cIdle
		e.to(reader, stCCount, n, "")
	case cRelStore:
		n := s
		nr := &n.R
		n.free = r.fb + int8(r.pending[0].size)
		copy(nr.pending[:], nr.pending[1:nr.n])
		nr.n--
		nr.pending[nr.n] = pendingSpan{}
		nr.held--
		nr.fb = 0
		m.callPost(&n, reader, cIdle)
		e.to(reader, stCRelStore, n, "")
	}
}

// The C++ writer of 72dab4c: it decides from the positions alone
// (get_continuous_free_space), loads read_pos again to decide the wrap,
// and counts a wrap marker when it writes it. Its payload_free_bytes
// updates are left out: no reader of this pairing reads the field.
var (
	stXFree   = step("write_frame(n): get_continuous_free_space (load read_pos)", fnCppWriterFree)
	stXWrap   = step("write_frame: load read_pos again to decide the wrap", fnCppWriterWrite)
	stXMarker = step("write_frame: write the wrap marker", fnCppWriterWrite)
	stXMkCnt  = step("write_frame: payload_written_count++ (the marker)", fnCppWriterWrite)
	stXHeader = step("write_frame: write header and payload at write_pos", fnCppWriterWrite)
	stXCount  = step("write_frame: payload_written_count++, then sem_post(sem-w)", fnCppWriterWrite)
)

func (m *machine) cppWriterSteps(s State, e emitter) {
	w := &s.W
	switch w.pc {
	case xIdle, xFree:
		if w.pc == xIdle && w.seq > m.Bounds.Frames {
			return
		}
		spans := m.Bounds.Spans
		if w.pc == xFree {
			spans = []uint8{w.span}
		}
		for _, span := range spans {
			n := s
			nw := &n.W
			nw.span = span
			rp := s.readPos
			var cont uint8
			switch {
			case w.pos >= rp && rp == 0:
				cont = m.S - w.pos
			case w.pos >= rp:
				cont = max(m.S-w.pos, rp)
			default:
				cont = rp - w.pos
			}
			if cont < span {
				m.callWait(&n, writer, tmoLiveness, xFree)
				e.to(writer, stXFree, n, "")
				continue
			}
			if rp == w.pos && s.readCount < s.wcnt {
				// The known defect: a full ring read as empty. No reader
				// can prevent the overwrite that follows; not explored.
				m.pruned[0]++
				continue
			}
			nw.pc = xWrap
			e.to(writer, stXFree, n, "")
		}
	case xWrap:
		n := s
		nw := &n.W
		toEnd := m.S - w.pos
		switch {
		case toEnd >= w.span:
			nw.pc = xHeader
		case s.readPos > 0 && toEnd >= m.H:
			nw.pc = xMarker
		case s.readPos > 0:
			nw.pos, nw.pc = 0, xHeader
		default:
			// read_pos moved to 0 since the first load: the writer would
			// write past the ring's end. A defect of the C++ writer, not
			// explored further.
			m.pruned[1]++
			return
		}
		e.to(writer, stXWrap, n, "")
	case xMarker:
		n := s
		bad := m.write(&n, w.pos, m.H, 0)
		n.W.pc = xMkCount
		e.to(writer, stXMarker, n, bad)
	case xMkCount:
		n := s
		n.wcnt++
		n.W.pos, n.W.pc = 0, xHeader
		e.to(writer, stXMkCnt, n, "")
	case xHeader:
		n := s
		bad := m.write(&n, w.pos, w.span, w.seq)
		n.spans[w.seq] = w.span
		n.W.pos += w.span
		n.W.pc = xCount
		e.to(writer, stXHeader, n, bad)
	case xCount:
		n := s
		n.wcnt++
		n.committed = w.seq
		n.W.seq++
		n.W.span = 0
		m.callPost(&n, writer, xIdle)
		e.to(writer, stXCount, n, "")
	}
}
