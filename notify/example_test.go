package notify_test

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/zerobuffer/zerobuffer-go/layout"
	"github.com/zerobuffer/zerobuffer-go/notify"
)

// yielder is a strategy as one defined outside this module would be: it
// polls the ring's condition, yielding the processor between polls, and a
// post is nothing at all (the ring's store to the OIEB is the signal).
type yielder struct{ attached bool }

// yielderKind is its number, from the range for notifiers defined
// outside this module.
const yielderKind notify.Kind = 201

var _ notify.Notifier = (*yielder)(nil)

var errDetached = errors.New("yielder: not attached")

func (y *yielder) Word() uint64 { return yielderKind.Word(0) }

func (y *yielder) Create(string, *layout.OIEB, os.FileMode) error { y.attached = true; return nil }
func (y *yielder) Open(string, *layout.OIEB) error                { y.attached = true; return nil }
func (y *yielder) Remove(string) error                            { return nil }
func (y *yielder) Close() error                                   { y.attached = false; return nil }
func (y *yielder) WriterWaiting() bool                            { return false }

func (y *yielder) PostData() error  { return y.check() }
func (y *yielder) PostSpace() error { return y.check() }

func (y *yielder) WaitData(ready func() bool, timeout time.Duration) (bool, error) {
	return y.wait(ready, timeout)
}

func (y *yielder) WaitSpace(ready func() bool, timeout time.Duration) (bool, error) {
	return y.wait(ready, timeout)
}

func (y *yielder) check() error {
	if !y.attached {
		return errDetached
	}
	return nil
}

func (y *yielder) wait(ready func() bool, timeout time.Duration) (bool, error) {
	if err := y.check(); err != nil {
		return false, err
	}
	deadline := time.Now().Add(timeout)
	for !ready() {
		if !time.Now().Before(deadline) {
			return false, nil
		}
		runtime.Gosched()
	}
	return true, nil
}

// A strategy registers from its package's init, as database/sql drivers
// do.
func init() {
	notify.Register(notify.Strategy{
		Kind: yielderKind,
		Name: "yielder",
		New:  func() notify.Notifier { return new(yielder) },
		FromWord: func(w uint64) (notify.Notifier, error) {
			if _, param, _ := notify.ParseWord(w); param != 0 {
				return nil, fmt.Errorf("yielder has no parameter, the word says %d", param)
			}
			return new(yielder), nil
		},
	})
}

// Once registered, a reader can use the strategy by name, and a writer
// adopts it from the word the reader recorded in the buffer.
func Example_register() {
	reader, err := notify.New("yielder")
	if err != nil {
		fmt.Println(err)
		return
	}
	word := reader.Word() // what a ring reader records in the OIEB
	fmt.Println(notify.Describe(word))

	writer, err := notify.FromWord(word) // how a ring writer adopts it
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(notify.Name(writer.Word()))
	// Output:
	// yielder (kind 201, word 0x5a000000000000c9)
	// yielder
}
