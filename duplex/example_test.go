package duplex_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	"github.com/zerobuffer/zerobuffer-go/duplex"
	"github.com/zerobuffer/zerobuffer-go/ring"
)

// A server that upper-cases its requests, and a client that calls it.
// Server and client would normally be two processes.
func Example() {
	name := fmt.Sprintf("upper-%d", os.Getpid())

	srv, err := duplex.Listen(name, ring.Config{MetadataSize: 4 << 10, PayloadSize: 1 << 20})
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- srv.Serve(context.Background(), func(ctx context.Context, req duplex.Request, resp *duplex.ResponseWriter) error {
			buf, err := resp.Reserve(req.Len()) // the response, in place
			if err != nil {
				return err
			}
			copy(buf, bytes.ToUpper(req.Bytes()))
			return resp.Commit()
		})
	}()

	c, err := duplex.Dial(name, duplex.WithResponseConfig(ring.Config{PayloadSize: 1 << 20}))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	answer, err := c.Call(ctx, []byte("hello, duplex"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", answer)

	c.Close()
	srv.Close()
	fmt.Println(<-served)
	// Output:
	// HELLO, DUPLEX
	// duplex: server closed
}

// Concurrent calls are pipelined: each gets its own response.
func ExampleClient_Call() {
	name := fmt.Sprintf("square-%d", os.Getpid())
	srv, err := duplex.Listen(name, ring.Config{PayloadSize: 1 << 16})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	go srv.Serve(context.Background(), func(ctx context.Context, req duplex.Request, resp *duplex.ResponseWriter) error {
		n := int(req.Bytes()[0])
		return resp.Write([]byte{byte(n * n)})
	})

	c, err := duplex.Dial(name, duplex.WithResponseConfig(ring.Config{PayloadSize: 1 << 16}))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	squares := make([]int, 10)
	var wg sync.WaitGroup
	for n := range squares {
		wg.Go(func() {
			resp, err := c.Call(context.Background(), []byte{byte(n)})
			if err != nil {
				log.Fatal(err)
			}
			squares[n] = int(resp[0])
		})
	}
	wg.Wait()
	fmt.Println(squares)
	// Output: [0 1 4 9 16 25 36 49 64 81]
}

// The low-level calls of the other implementations: a request written in
// place, then its response read in place.
func ExampleClient_Reserve() {
	name := fmt.Sprintf("length-%d", os.Getpid())
	srv, err := duplex.Listen(name, ring.Config{PayloadSize: 1 << 16})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	go srv.Serve(context.Background(), func(ctx context.Context, req duplex.Request, resp *duplex.ResponseWriter) error {
		return resp.Write(fmt.Appendf(nil, "request %d had %d bytes", req.Seq(), req.Len()))
	})

	c, err := duplex.Dial(name, duplex.WithResponseConfig(ring.Config{PayloadSize: 1 << 16}))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	buf, err := c.Reserve(1000) // in the request ring
	if err != nil {
		log.Fatal(err)
	}
	for i := range buf {
		buf[i] = byte(i)
	}
	seq, err := c.Commit()
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.Receive(ctx) // in the response ring
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sent %d, got %q as response %d\n", seq, resp.Bytes(), resp.Seq())
	resp.Release()
	// Output: sent 1, got "request 1 had 1000 bytes" as response 1
}
