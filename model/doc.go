// Package model is an explicit-state model checker and the models of
// ZeroBuffer's ring and wake-up protocols that it checks exhaustively for
// small bounds.
//
// Check explores a System breadth first, hashing each state whole and
// keeping parent pointers, so a violated property comes with a shortest
// counterexample: a numbered interleaving of who did what, with the shared
// state after each step (Result.Format).
//
// The models mirror the repository's code step by step — the Go writer and
// reader of package ring, each notifier's wait and post at the level of its
// atomic operations and system calls, and the C++ peers the ring defends
// against — and every step names the function it mirrors (mirrors.go).
// Mutation switches remove one subtlety each; the tests assert that the
// real protocols pass and that every mutant fails, for the reason claimed.
// README.md, "What is checked, and under which bounds", has the details.
//
// The package imports nothing of this module: a test parses the sources of
// ring, sync/... and examples/unixgram (the out-of-tree notifier, a module
// of its own) to check that the mirrored functions still exist.
package model
