package unixgram_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/examples/unixgram"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// A reader chooses the strategy; a writer in a program that imports the
// package adopts it from the reader's record. (Here both sides are in one
// process; normally they are two.)
func ExampleNew() {
	name := fmt.Sprintf("zbtest-unixgram-example-%d", os.Getpid())
	r, err := ring.NewReader(name, ring.Config{PayloadSize: 64 << 10}, ring.WithNotifier(unixgram.New()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()

	w, err := ring.Connect(name) // no WithNotifier: adopts the reader's
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()

	done := make(chan error, 1)
	go func() { done <- w.WriteFrame([]byte("hello over a datagram wake-up")) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f, err := r.ReadFrame(ctx) // parks in the netpoller until the frame is there
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(f.Bytes()))
	f.Release()
	if err := <-done; err != nil {
		fmt.Println(err)
	}
	// Output:
	// hello over a datagram wake-up
}
