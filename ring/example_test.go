package ring_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/zerobuffer/zerobuffer-go/ring"
	"github.com/zerobuffer/zerobuffer-go/sync/futex"
)

// exampleName is a buffer name no other process uses.
func exampleName(what string) string { return fmt.Sprintf("example-%s-%d", what, os.Getpid()) }

// A reader creates the buffer; a writer connects to it by name and sends
// frames, which the reader receives as slices of the shared memory.
func Example() {
	name := exampleName("pair")
	r, err := ring.NewReader(name, ring.Config{MetadataSize: 1024, PayloadSize: 64 << 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()

	w, err := ring.Connect(name) // adopts the reader's notifier
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	if err := w.SetMetadata([]byte("camera 0, 640x480")); err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []string{"first", "second"} {
		if err := w.WriteFrame([]byte(s)); err != nil {
			fmt.Println(err)
			return
		}
	}

	meta, _ := r.Metadata()
	fmt.Printf("metadata %q\n", meta)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 2 {
		f, err := r.ReadFrame(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("frame %d: %s\n", f.Seq(), f.Bytes())
		f.Release() // gives the space back to the writer
	}
	// Output:
	// metadata "camera 0, 640x480"
	// frame 1: first
	// frame 2: second
}

// Reserve hands out the frame's place in the ring: the writer fills it in
// place, and Commit publishes it. Nothing is copied on either side.
func ExampleWriter_Reserve() {
	name := exampleName("reserve")
	r, err := ring.NewReader(name, ring.Config{PayloadSize: 64 << 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	w, err := ring.Connect(name)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()

	buf, err := w.Reserve(8)
	if err != nil {
		fmt.Println(err)
		return
	}
	copy(buf, "in place") // e.g. a decoder writing straight into the ring
	if err := w.Commit(); err != nil {
		fmt.Println(err)
		return
	}

	f, err := r.ReadFrame(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Release()
	fmt.Printf("%s (%d bytes)\n", f.Bytes(), f.Len())
	// Output: in place (8 bytes)
}

// The reader chooses the wait strategy and records it in the buffer; a
// writer adopts it, provided the strategy's package is linked into the
// writer's program (here by use; a blank import does as well).
func ExampleWithNotifier() {
	name := exampleName("notifier")
	r, err := ring.NewReader(name, ring.Config{PayloadSize: 64 << 10},
		ring.WithNotifier(futex.NewHybrid(20*time.Microsecond)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	w, err := ring.Connect(name)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	fmt.Println("reader:", r.NotifierName())
	fmt.Println("writer:", w.NotifierName())

	// By name, as a command line takes it:
	n, err := ring.NewNotifier("spin")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("by name:", ring.NotifierName(n.Word()))
	// Output:
	// reader: hybrid
	// writer: hybrid
	// by name: spin
}
