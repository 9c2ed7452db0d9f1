package envoyx

import "testing"

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
