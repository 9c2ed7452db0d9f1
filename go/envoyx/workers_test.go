package envoyx_test

// WorkerCount and WorkerIndex (ABI 1.2) through the real core: the test host runs one worker,
// the test's thread.

import (
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

type workersConfig struct{}

func (workersConfig) NewFilter() envoyx.Filter { return &workersFilter{} }

type workersFilter struct {
	envoyx.DefaultFilter
}

var seenIndex, seenKnown = ^uint32(0), false

func (workersFilter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	seenIndex, seenKnown = s.WorkerIndex()
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("workers", func(string, []byte) (envoyx.FilterConfig, error) { return workersConfig{}, nil })
}

func TestWorkerCountAndIndex(t *testing.T) {
	host := envoyxtest.New(t, "workers", "")
	if count, known := envoyx.WorkerCount(); !known || count != 1 {
		t.Fatalf("WorkerCount() = %d, %v; the test host runs one worker", count, known)
	}
	stream := host.Stream()
	stream.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/"), true)
	if !seenKnown || seenIndex != 0 {
		t.Fatalf("WorkerIndex() = %d, %v; want 0, true", seenIndex, seenKnown)
	}
	stream.Complete()
}
