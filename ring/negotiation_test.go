package ring

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zerobuffer/zerobuffer-go/notify"
	"github.com/zerobuffer/zerobuffer-go/sync/futex"
	"github.com/zerobuffer/zerobuffer-go/sync/spin"
)

func TestWriterAdoptsTheReadersNotifier(t *testing.T) {
	for _, name := range NotifierNames() {
		t.Run(name, func(t *testing.T) {
			n, err := NewNotifier(name)
			require.NoError(t, err)
			buf := uniqueName(t)
			r, err := NewReader(buf, Config{PayloadSize: 4096}, WithNotifier(n))
			require.NoError(t, err)
			defer r.Close()
			assert.Equal(t, n.Word(), r.OIEB().Reserved[0].Load(), "the reader records its notifier")
			assert.Equal(t, name, NotifierName(r.OIEB().Reserved[0].Load()))
			assert.Equal(t, name, r.NotifierName())
			assert.Equal(t, n.Word(), r.Snapshot().Reserved[0])
			_, semErr := os.Stat(BufferFiles(buf).DataSemaphore)
			if name == "semaphore" {
				assert.NoError(t, semErr)
			} else {
				assert.ErrorIs(t, semErr, os.ErrNotExist, "only the semaphore notifier creates semaphores")
			}

			w, err := Connect(buf)
			require.NoError(t, err)
			assert.Equal(t, n.Word(), w.notifier.Word(), "the writer adopted kind and parameters")
			assert.Equal(t, name, w.NotifierName())
			assert.Equal(t, n.Word(), w.Snapshot().Reserved[0])
			done := make(chan error, 1)
			go func() { done <- errors.Join(writeFrames(w, 50, cycleSizes(10, 1000, 3000)), w.Close()) }()
			require.NoError(t, readAll(50, cycleSizes(10, 1000, 3000))(r))
			require.NoError(t, <-done)
		})
	}
}

func TestNotifierParametersTravel(t *testing.T) {
	for _, n := range []Notifier{futex.NewHybrid(123 * time.Microsecond), spin.NewYield(77), spin.NewBackoff(0, 0, 0, 5*time.Millisecond)} {
		got, err := NotifierFromWord(n.Word())
		require.NoError(t, err)
		assert.Equal(t, n.Word(), got.Word())
	}
}

func TestForcedNotifierMismatch(t *testing.T) {
	for _, c := range []struct{ reader, writer string }{
		{"futex", "semaphore"}, {"semaphore", "futex"}, {"spin", "hybrid"}, {"backoff", "yield"},
	} {
		t.Run(c.reader+"-vs-"+c.writer, func(t *testing.T) {
			rn, _ := NewNotifier(c.reader)
			wn, _ := NewNotifier(c.writer)
			buf := uniqueName(t)
			r, err := NewReader(buf, Config{PayloadSize: 4096}, WithNotifier(rn))
			require.NoError(t, err)
			defer r.Close()
			_, err = Connect(buf, WithNotifier(wn))
			require.ErrorIs(t, err, ErrNotifierMismatch)
			assert.Contains(t, err.Error(), "uses notifier "+notify.Describe(rn.Word())+", this writer "+notify.Describe(wn.Word()),
				"the error names both sides' kinds")
			assert.Zero(t, r.OIEB().WriterPID.Load(), "a refused writer leaves no PID")
		})
	}
	// The same kind with other parameters is fine: each side spins its own.
	buf := uniqueName(t)
	r, err := NewReader(buf, Config{PayloadSize: 4096}, WithNotifier(futex.NewHybrid(10*time.Microsecond)))
	require.NoError(t, err)
	defer r.Close()
	w, err := Connect(buf, WithNotifier(futex.NewHybrid(80*time.Microsecond)))
	require.NoError(t, err)
	require.NoError(t, w.Close())
}

func TestUnknownNotifierWords(t *testing.T) {
	buf := uniqueName(t)
	r, err := NewReader(buf, Config{PayloadSize: 4096})
	require.NoError(t, err)
	defer r.Close()
	r.OIEB().Reserved[0].Store(7)
	_, err = Connect(buf)
	require.ErrorIs(t, err, ErrCorrupt)
	r.OIEB().Reserved[0].Store(notify.Kind(0).Word(0) | 0x5a<<56)
	_, err = Connect(buf)
	require.ErrorIs(t, err, ErrCorrupt, "the magic with kind 0")
	r.OIEB().Reserved[0].Store(notify.Kind(99).Word(0))
	_, err = Connect(buf)
	require.ErrorIs(t, err, ErrNotifierUnavailable, "well formed, but of a kind this build does not know")
	_, err = NewNotifier("carrier-pigeon")
	require.ErrorIs(t, err, ErrNotifierMismatch)
}

// A C writer (glibc's sem_open, as the C++/C#/Python writers use) meets a
// Go reader in a futex or spin mode: no semaphores exist, so it fails to
// connect with an error instead of waiting forever for posts that never
// come.
func TestForeignWriterRefusedByGoOnlyNotifiers(t *testing.T) {
	for _, name := range NotifierNames()[1:] {
		t.Run(name, func(t *testing.T) {
			n, _ := NewNotifier(name)
			buf := cPeerBufferName(t, "zbtest-interop-")
			r, err := NewReader(buf, Config{PayloadSize: 4096}, WithNotifier(n))
			require.NoError(t, err)
			defer r.Close()
			res := startCWriter(t, buf, "--frames", "1", "--sizes", "10", "--timeout-ms", "60000").Wait()
			assert.Equal(t, 2, res.Code, "%s", res)
			assert.Contains(t, res.Stdout, "ERROR sem_open")
		})
	}
}
