package shm

// Linux only: on any other GOOS the build stops at package platform, with
// a message that says so.
import _ "github.com/zerobuffer/zerobuffer-go/internal/platform"
