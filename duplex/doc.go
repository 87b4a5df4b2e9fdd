// Package duplex is a request/response channel over two ZeroBuffer rings,
// wire-compatible with the duplex channel of the C++, C# and Python
// implementations.
//
// # The channel
//
// A channel named NAME is two ordinary protocol-v1 buffers and nothing
// more: NAME_request, which the client writes and the server reads, and
// NAME_response, which the server writes and the client reads. Each side
// creates the buffer it reads, so each side's Close removes what it
// created:
//
//   - [Listen] creates NAME_request (the server is its reader).
//   - [Dial] connects to NAME_request as its writer (it fails at once with
//     [ErrServerNotFound] when no server listens) and creates NAME_response
//     (4 KiB metadata and a 256 MiB ring unless [WithResponseConfig] says
//     otherwise).
//   - [Server.Serve] connects to NAME_response as its writer once a client
//     has created it, polling every 100 ms, then reads requests one at a
//     time, hands each to the [Handler] and releases it when the handler
//     returns.
//
// Request and response frames are zero copy on both sides: a request is
// filled in place with [Client.Reserve] and [Client.Commit] and read by the
// handler through [Request.Bytes], which points into the shared memory; a
// response is written in place with [ResponseWriter.Reserve] and
// [ResponseWriter.Commit] and read through [Response.Bytes]. [Client.Call]
// is the convenient form: it copies the request in and the response out.
//
// # Correlation and pipelining
//
// Nothing on the wire ties a response to its request: the response frame
// carries the response ring's own sequence number. The n-th response a
// client reads answers the n-th request it sent. That holds because one
// server reads one client's requests in ring order, handles them one at a
// time, and writes exactly one response for each before it reads the next
// (the other implementations' servers work the same way). So several
// requests may be in flight at once: [Client.Call] is safe for concurrent
// use, and concurrent calls are pipelined — each call's request goes out in
// the order the calls took the send lock, and whichever caller is reading
// hands the responses in front of its own to their callers. A call whose
// context ends gives up its place; its response, when it comes, is read and
// dropped, so the calls after it stay aligned.
//
// A client is used either through Call or through the low-level
// Send/Reserve/Commit and Receive, not both at once: Receive does not know
// which responses a pending Call is waiting for.
//
// # Exactly one response per request
//
// The reference servers report a handler's failure and go on to the next
// request without having answered, which leaves their client one response
// short and every later response misaligned. A Go server never does that.
// After each handler it checks that one response was committed. If not, it
// writes the payload [WithErrorResponse] makes of the error, when that
// option is set (the wire has no error frame and no empty frame, so any
// in-band error encoding is the application's); otherwise it ends the
// session: it closes its end of NAME_response, so the client's pending
// receives fail with [ErrServerGone] once the answered responses are read,
// drops the client's remaining requests until that client goes away, and
// then waits for the next client. A foreign client sees the same thing as a
// server that stopped. The handler's error is reported either way
// ([WithErrorLog]).
//
// # Peers that die, and shutdown
//
// A client notices a dead or stopped server while it waits for a response
// (within the ring's liveness interval, 100 ms by default) and while it
// sends: both fail with [ErrServerGone], which also matches the ring error
// underneath (ring.ErrWriterDead, ring.ErrWriterClosed, ring.ErrReaderDead).
// A server notices a dead client when its handler writes the response
// ([ErrClientGone]) or when the request ring goes quiet; it drops what the
// dead client left, then waits for a new client and carries on.
//
// Between clients the last one's response ring may still be there, under
// the name, while that client closes. The server tells it from the next
// client's by the segment's identity (its inode, not its name) and does not
// take it for a new client. A request the server cannot attribute for sure
// (the first one read in a session whose client is already gone, while a
// newer client is connected) is kept for the next session, never dropped.
//
// [Server.Close] stops Serve (waiting for a running handler: handlers should
// watch their context) and removes NAME_request; [Client.Close] removes
// NAME_response. Nothing is left in /dev/shm, and the name can be listened
// on again at once. The files a killed process leaves are removed by the
// next reader of any buffer (see ring.CleanupStale).
//
// # Notifiers
//
// By default both rings use POSIX semaphores, as the other implementations
// do. [WithNotifier] chooses another wait strategy by name (ring.NotifierNames)
// for the ring the caller creates; the writer of each ring adopts it, so in
// a Go-only pair the server picks the request ring's notifier and the
// client the response ring's. The futex and spin notifiers are Go-only: a
// foreign peer cannot connect to a ring that uses them.
package duplex
