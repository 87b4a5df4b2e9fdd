package bench

// The relay's two variants. The copying relay (process 1 writes the whole
// frame into buffer A, the relay copies it into B) makes two copies of a
// frame per round trip, as the reference's benchmark_roundtrip_copy does;
// the zero-copy relay (process 1 reserves the frame in A and stamps it in
// place, Reserve then Commit, never writing its payload) makes one, the
// relay's, as the reference's headline benchmark_roundtrip does. Each has
// its own floor: its copies plus two wake-ups.

import (
	"fmt"
	"io"
	"strconv"
)

// relayCopies is how many copies of the frame a round trip of the relay
// makes.
func relayCopies(zeroCopy bool) float64 {
	if zeroCopy {
		return 1
	}
	return 2
}

// relayStage names a relay row's stage in the CSV and the goals: "relay"
// or "relay-zerocopy".
func relayStage(r relayResult) string {
	if r.ZeroCopy {
		return "relay-zerocopy"
	}
	return "relay"
}

// relayVariantName is the variant column of the relay tables.
func relayVariantName(r relayResult) string {
	if r.ZeroCopy {
		return "zero-copy"
	}
	return "copy"
}

// allRelays lists the copying relay's rows, then the zero-copy ones.
func allRelays(r *benchResults) []relayResult {
	return append(append([]relayResult(nil), r.Relay...), r.RelayZeroCopy...)
}

// printRelayVariants shows the two variants side by side, per notifier
// and rate.
func printRelayVariants(w io.Writer, r *benchResults) {
	if len(r.RelayZeroCopy) == 0 || len(r.Relay) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Copying and zero-copy side by side (p50 round trip, and over each one's own floor):")
	t := newTable("notifier", ">fps", ">copy p50", ">÷floor", ">zero-copy p50", ">÷floor", ">zero-copy÷copy")
	for _, c := range r.Relay {
		for _, z := range r.RelayZeroCopy {
			if z.Notifier != c.Notifier || z.FPS != c.FPS {
				continue
			}
			t.add(c.Notifier, strconv.Itoa(c.FPS), fmtNs(c.Latency.P50Ns), fmtRatio(c.P50OverFloor),
				fmtNs(z.Latency.P50Ns), fmtRatio(z.P50OverFloor), fmtRatio(ratio(z.Latency.P50Ns, c.Latency.P50Ns)))
		}
	}
	t.render(w)
	fmt.Fprintln(w, "copy: process 1 writes the whole frame into A (2 copies per round trip; the reference's")
	fmt.Fprintln(w, "benchmark_roundtrip_copy). zero-copy: it reserves the frame in A and stamps it in place (1 copy, the")
	fmt.Fprintln(w, "relay's; the reference's benchmark_roundtrip).")
}
