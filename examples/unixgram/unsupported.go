//go:build !linux

package unixgram

// This declaration fails to compile on purpose, so that a build for
// another system stops here with the reason quoted: the addresses are in
// Linux's abstract socket namespace (elsewhere an '@' address would be a
// file in the working directory), as the ring itself is Linux's.
var _ int = message

const message = "unixgram builds only for GOOS=linux (abstract Unix socket addresses)"
