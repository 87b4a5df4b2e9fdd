// Package unixgram is a ZeroBuffer wait strategy over Unix datagram
// sockets, written outside the zerobuffer-go module against its public
// seam only (package notify): the worked example of the guide
// docs/writing-a-notifier.md, and a strategy worth measuring. A Unix
// datagram socket is the default event mechanism of iceoryx2 and the
// notification path of cloudwego/shmipc-go. In Go its waits park a
// goroutine in the runtime's netpoller (epoll) instead of blocking an OS
// thread in a system call, which matters for a program serving many rings:
// a thousand sleeping readers cost a thousand goroutines, not a thousand
// threads.
//
// Importing the package registers the strategy "unixgram", kind 200
// (notify.Register), so a writer adopts it from its reader's record:
//
//	r, err := ring.NewReader("cam0", cfg, ring.WithNotifier(unixgram.New()))
//	...
//	w, err := ring.Connect("cam0") // in a program that imports unixgram
//
// # Sockets
//
// Each side binds one datagram socket in Linux's abstract namespace, with
// an address derived from the buffer's name: the reader's (Create, at
// DataAddr) receives the writer's data wake-ups; the writer's (Open, at
// SpaceAddr with a random token) receives the reader's space wake-ups.
// Each side sends to the other's address from its own socket. Abstract
// addresses are not files: the kernel frees one when the last descriptor
// of its socket closes, so a crashed process leaves nothing behind, a
// stale address cannot exist, and Remove has nothing to remove.
//
// An address in use therefore means a live process holds it. For the
// reader's that is never another reader of this mount namespace (the
// ring's lock file admits one per name), so Create fails with an error
// naming the two possible culprits: a reader of the same name in another
// mount namespace that shares this network namespace, or an unrelated
// program that chose the same string. A writer whose token is taken draws
// another. The writer records its token in its sleeper word when it
// sleeps, so the reader wakes exactly the writer that sleeps, even while a
// writer of an earlier generation of the buffer, or one that lost the race
// to connect, still holds a socket. Names too long for a socket address
// (107 bytes) are hashed (SHA-256) into one.
//
// Abstract addresses belong to a network namespace, while the segment
// belongs to /dev/shm's mount namespace: two containers sharing /dev/shm
// but not their network cannot reach each other's sockets. The writer's
// Open therefore sends a first wake-up to the reader's address and fails
// when nobody is bound there, instead of leaving both sides to wake only
// at their liveness timeouts. The addresses carry no permissions: any
// process of the network namespace may send to them. Such a datagram is a
// spurious wake-up, which the waiter checks against the shared memory
// before it sleeps again: it can cost CPU, never a frame.
//
// # Words
//
// The OIEB's notifier area (layout.OIEB.NotifierWord32) holds:
//
//	word 0  data sleeper    1 while the reader is (about to be) asleep
//	word 1  space sleeper   the writer's token while it is (about to be) asleep
//	word 2  writer closes   bumped by each writer's Close
//	word 3  reader closes   bumped by the reader's Close
//
// # Why no wake-up is lost
//
// A waiter checks its condition first and returns at once when it holds;
// it sleeps only when it does not (a conditional notifier, like the futex
// one). To sleep it raises its sleeper word, checks the condition again,
// and only then reads its socket. A poster publishes (the OIEB store the
// condition reads), then loads the peer's sleeper word, and only if it is
// raised takes it (swaps it to 0) and sends one datagram. These are
// sequentially consistent atomics, so either the waiter's second check
// sees the publication, or the poster sees the raised word and sends; the
// datagram then waits in the socket's queue, and the read returns at once
// even if it starts after the send. While the peer is awake a post costs
// one atomic load and no system call, and however many posts arrive
// before a woken waiter runs, only the first sends.
//
// The read drains every datagram queued (a late wake-up meant for an
// earlier wait, the writer's first wake-up, a peer's close) before the
// waiter looks at the condition again, and sleeps again when it still
// does not hold. A Close bumps its side's close count, then takes the
// peer's sleeper word and wakes it if it was raised — the same argument
// makes the peer either see the bump before it sleeps or be woken — and
// the peer's wait returns false at once, so the ring looks at the closer's
// liveness instead of waiting out its interval. Closing a Notifier while
// another goroutine waits on it ends that wait with ErrClosed.
//
// Sends never block: a full queue at the peer (EAGAIN) already holds a
// wake-up, and a peer with no socket (ECONNREFUSED: gone since it raised
// its word) is the ring's liveness checks' business, so both count as
// delivered.
package unixgram
