package unixgram

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// addrPrefix starts every address this package binds. The leading '@'
// selects Linux's abstract namespace (the kernel's NUL byte), in package
// net and in golang.org/x/sys/unix alike.
const addrPrefix = "@zerobuffer-go/unixgram/"

// maxAddrLen is the longest address a sockaddr_un holds: sun_path is 108
// bytes, and Go keeps one for the terminating NUL even for abstract names.
const maxAddrLen = 107

// DataAddr is the abstract socket address the reader of buffer name binds:
// the writer's data wake-ups go there. It is as `ss -xa` prints it, '@'
// standing for the leading NUL.
//
// A name short enough is kept readable, "@zerobuffer-go/unixgram/NAME.data";
// a longer one (buffer names go to 245 bytes) is replaced by its SHA-256
// in hex, "@zerobuffer-go/unixgram/h/HEX.data". Buffer names contain no
// '/', so the two forms never meet.
func DataAddr(name string) string { return addr(name, ".data") }

// SpaceAddr is the address a writer of buffer name binds, with the token
// it chose (never 0): the reader's space wake-ups go there. The token keeps
// writers apart: a writer of an earlier generation of the buffer may still
// hold its socket (until it notices its reader is gone and closes), and a
// writer that lost the race to connect holds its own until its Close.
// Names are shortened as in DataAddr.
func SpaceAddr(name string, token uint32) string {
	return addr(name, ".space."+strconv.FormatUint(uint64(token), 16))
}

func addr(name, suffix string) string {
	if a := addrPrefix + name + suffix; len(a) <= maxAddrLen {
		return a
	}
	sum := sha256.Sum256([]byte(name))
	return addrPrefix + "h/" + hex.EncodeToString(sum[:]) + suffix
}
