package model

// The functions the models mirror, in one table. Every Step names one of
// them; TestMirroredFunctionsExist parses the repository's sources and
// fails, listing every name that is gone, when a refactor moves or renames
// one. A name is "<package dir>.<Func>" or "<package dir>.(*Type).Method"
// for Go code, "<file>:<function>" for C in this repository, and
// "external:..." for the foreign implementation's code, which is not in
// the repository and is not checked (README: "Pairing with the C++
// implementation" names the commits).
//
// After a refactor (the Notifier seam moving to its own package, say),
// update the names here, in this one table.
const (
	fnReserve      = "ring.(*Writer).Reserve"
	fnCommit       = "ring.(*Writer).Commit"
	fnWriterFree   = "ring.(*Writer).free"
	fnWaitSpace    = "ring.(*Writer).waitSpace"
	fnTrackAdvance = "ring.(*releaseTrack).advance"
	fnDataReady    = "ring.(*Reader).create" // the dataReady closure
	fnReadFrame    = "ring.(*Reader).ReadFrame"
	fnWaitData     = "ring.(*Reader).waitData"
	fnTakeFrame    = "ring.(*Reader).takeFrame"
	fnFrameRelease = "ring.Frame.Release"
	fnRelease      = "ring.(*Reader).release"
	fnFlush        = "ring.(*Reader).flush"

	fnSemWaitData      = "sync/semaphore.(*Notifier).WaitData"
	fnSemPostData      = "sync/semaphore.(*Notifier).PostData"
	fnSemWaitSpace     = "sync/semaphore.(*Notifier).WaitSpace"
	fnSemPostSpace     = "sync/semaphore.(*Notifier).PostSpace"
	fnSemWriterWaiting = "sync/semaphore.(*Notifier).WriterWaiting"
	fnSemPost          = "sync/semaphore.(*Sem).post" // Post is post without counters
	fnSemTryTake       = "sync/semaphore.tryTake"
	fnSemSpinTake      = "sync/semaphore.(*Sem).spinTake"
	fnSemWaitSlow      = "sync/semaphore.(*Sem).waitSlow"
	fnSemDrain         = "sync/semaphore.(*Sem).Drain"

	fnFutexWait          = "sync/futex.(*Notifier).block" // wait looks once, then block spins and sleeps
	fnFutexPost          = "sync/futex.(*Notifier).post"
	fnFutexWriterWaiting = "sync/futex.(*Notifier).WriterWaiting"
	fnPauseUntil         = "internal/pause.Until"

	fnAdaptiveBudget = "sync/futex.(*gapEstimator).budget" // wait's choice of block's spin

	// examples/unixgram is a module of its own; the test parses its
	// source like the others.
	fnUgWait          = "examples/unixgram.(*Notifier).wait"
	fnUgRecv          = "examples/unixgram.(*Notifier).recv"
	fnUgSleep         = "examples/unixgram.(*Notifier).sleep"
	fnUgPostData      = "examples/unixgram.(*Notifier).PostData"
	fnUgPostSpace     = "examples/unixgram.(*Notifier).PostSpace"
	fnUgSend          = "examples/unixgram.(*Notifier).sendErr0"
	fnUgWriterWaiting = "examples/unixgram.(*Notifier).WriterWaiting"

	fnSpinWait = "sync/spin.(*Notifier).wait"
	fnSpinPost = "sync/spin.(*Notifier).post"

	fnPeerRead    = "ring/testdata/zbpeer.c:run_reader"
	fnPeerFreeAdd = "ring/testdata/zbpeer.c:free_bytes_add"

	fnCppWriterFree  = "external:cpp/src/writer.cpp@72dab4c:get_continuous_free_space"
	fnCppWriterWrite = "external:cpp/src/writer.cpp@72dab4c:write_frame"
	fnGlibcSemWait   = "external:glibc:sem_wait"
	fnGlibcSemPost   = "external:glibc:sem_post"
)

// mirrored lists the table, for the test.
var mirrored = []string{
	fnReserve, fnCommit, fnWriterFree, fnWaitSpace, fnTrackAdvance, fnDataReady,
	fnReadFrame, fnWaitData, fnTakeFrame, fnFrameRelease, fnRelease, fnFlush,
	fnSemWaitData, fnSemPostData, fnSemWaitSpace, fnSemPostSpace, fnSemWriterWaiting,
	fnSemPost, fnSemTryTake, fnSemSpinTake, fnSemWaitSlow, fnSemDrain,
	fnFutexWait, fnFutexPost, fnFutexWriterWaiting, fnPauseUntil,
	fnAdaptiveBudget,
	fnUgWait, fnUgRecv, fnUgSleep, fnUgPostData, fnUgPostSpace, fnUgSend, fnUgWriterWaiting,
	fnSpinWait, fnSpinPost,
	fnPeerRead, fnPeerFreeAdd,
	fnCppWriterFree, fnCppWriterWrite, fnGlibcSemWait, fnGlibcSemPost,
}
