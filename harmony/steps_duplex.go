package harmony

import (
	"context"
	"errors"
)

// errDuplexPending is every duplex step's answer until the Go duplex package
// (request/response over two rings) lands and these steps drive it. It is a
// failure, not "not applicable": the duplex channel does apply on Linux.
var errDuplexPending = errors.New("duplex steps are not implemented yet in the Go serve: the duplex package has not landed")

// duplexPhrasings are feature 13's step phrasings (q marks a quoted value).
var duplexPhrasings = []string{
	`a new ` + q + ` process creates immutable duplex channel ` + q,
	`all ` + q + ` responses match their requests`,
	`all shared memory should be cleaned up`,
	`an appropriate exception should be thrown`,
	`no memory allocations in send path`,
	`no responses should be lost or duplicated`,
	`response should contain XOR transformed data`,
	`response should contain same test pattern`,
	`response should match request with size ` + q,
	`responses should arrive in order`,
	`responses should match requests by content`,
	`the ` + q + ` process acquires zero-copy request buffer of size ` + q,
	`the ` + q + ` process attempts to receive pending responses`,
	`the ` + q + ` process attempts to send response`,
	`the ` + q + ` process attempts to send response of ` + q + ` bytes`,
	`the ` + q + ` process commits request`,
	`the ` + q + ` process completes processing after ` + q + ` seconds`,
	`the ` + q + ` process continues processing other requests`,
	`the ` + q + ` process creates duplex channel client ` + q,
	`the ` + q + ` process creates immutable duplex channel ` + q + ` with default config`,
	`the ` + q + ` process creates immutable duplex channel ` + q + ` with metadata size ` + q + ` and payload size ` + q,
	`the ` + q + ` process creates immutable duplex channel ` + q + ` with processing mode ` + q,
	`the ` + q + ` process detects client death when writing`,
	`the ` + q + ` process disposes server while ` + q + ` responses pending`,
	`the ` + q + ` process does not read responses`,
	`the ` + q + ` process fills buffer with test pattern`,
	`the ` + q + ` process measures total response time`,
	`the ` + q + ` process reads one response`,
	`the ` + q + ` process receives ` + q + ` responses`,
	`the ` + q + ` process receives ` + q + ` responses in order`,
	`the ` + q + ` process receives exactly ` + q + ` responses`,
	`the ` + q + ` process sends ` + q + ` byte frame with test pattern`,
	`the ` + q + ` process sends ` + q + ` requests`,
	`the ` + q + ` process sends ` + q + ` requests from single thread`,
	`the ` + q + ` process sends ` + q + ` requests sequentially`,
	`the ` + q + ` process sends request`,
	`the ` + q + ` process sends request of ` + q + ` bytes`,
	`the ` + q + ` process sends request with size ` + q,
	`the ` + q + ` process should block on response write`,
	`the ` + q + ` process should detect server death`,
	`the ` + q + ` process should receive exception on pending`,
	`the ` + q + ` process should unblock and complete write`,
	`the ` + q + ` process simulates crash after ` + q + ` second`,
	`the ` + q + ` process simulates crash during processing`,
	`the ` + q + ` process starts echo handler`,
	`the ` + q + ` process starts handler that crashes after ` + q + ` ms`,
	`the ` + q + ` process starts handler that doubles request size`,
	`the ` + q + ` process starts handler that implements XOR with key ` + q,
	`the ` + q + ` process starts handler with ` + q + ` ms processing time`,
	`the ` + q + ` process starts handler with ` + q + ` second processing delay`,
	`the ` + q + ` process waits for response with timeout ` + q + ` seconds`,
	`the new server should reuse same channel name successfully`,
	`the server handler receives immutable request frame`,
	`the server handler returns new response data`,
	`total time should be at least ` + q + ` ms`,
}

// registerDuplex: feature 13, the duplex channel.
func registerDuplex(r *Registry) {
	for _, p := range duplexPhrasings {
		r.add(When, p, func(context.Context, *world, []string) error { return errDuplexPending })
	}
}
