package envoyx

import (
	"slices"
	"testing"
)

// processorsFor: one more P than the proxy's workers, never fewer than the runtime had, and the
// operator's GOMAXPROCS or an unknown worker count left alone.
func TestProcessorsAreSizedForTheProxysWorkers(t *testing.T) {
	for _, c := range []struct {
		have     int
		workers  uint32
		operator bool
		want     int
	}{
		{have: 1, workers: 1, want: 2}, // Envoy pinned to one CPU, one worker: the bench's case
		{have: 2, workers: 4, want: 5}, // a 2-CPU pod running 4 workers
		{have: 8, workers: 4, want: 8}, // already a spare
		{have: 4, workers: 4, want: 5}, // as many as workers: no spare yet
		{have: 1, workers: 1, operator: true, want: 1},
		{have: 1, workers: 0, want: 1}, // the host does not say
	} {
		if got := processorsFor(c.have, c.workers, c.operator); got != c.want {
			t.Errorf("processorsFor(%d, %d, %t) = %d, want %d", c.have, c.workers, c.operator, got, c.want)
		}
	}
}

// yieldDue (processors.h): a thread calling in steadily yields once every 9 ms, on the first
// call at or past the mark; a thread that calls after a gap of 5 ms or more does not yield then,
// and starts a new 9 ms from that call.
func TestASteadyWorkerYieldsEveryNineMilliseconds(t *testing.T) {
	const ms = int64(1_000_000)
	var cadence yieldCadence
	var yields []int64
	call := func(at int64) {
		if yieldDue(&cadence, at) {
			yields = append(yields, at)
		}
	}
	start := 1000 * ms // a monotonic clock is far from zero
	call(start)        // the first call follows a "gap" since boot: no yield
	for at := start + ms/2; at <= start+30*ms; at += ms / 2 {
		call(at) // every 0.5 ms, as at 2,000 requests a second
	}
	if want := []int64{start + 9*ms, start + 18*ms, start + 27*ms}; !slices.Equal(yields, want) {
		t.Fatalf("steady calls yielded at %v, want %v", yields, want)
	}

	yields = nil
	for at := start + 40*ms; at <= start+100*ms; at += 6 * ms {
		call(at) // every 6 ms: the P is the runtime's to take between calls
	}
	if len(yields) != 0 {
		t.Fatalf("calls 6 ms apart yielded at %v, want none", yields)
	}

	call(start + 101*ms) // steady again: 9 ms from the last gapped call (at 100 ms)
	call(start + 108*ms)
	call(start + 109*ms)
	if want := []int64{start + 109*ms}; !slices.Equal(yields, want) {
		t.Fatalf("after the gaps yielded at %v, want %v", yields, want)
	}
}
