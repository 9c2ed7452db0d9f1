package envoyx_test

// A thread calling a filter's hooks steadily lets the Go scheduler run from inside the call
// (processors.go, envoyxGoYield) every 9 ms, and the hooks go on answering as before: the yield
// happens inside a cgo callback, on a goroutine locked to its thread.

import (
	"testing"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

func TestASteadyCallerYieldsAndItsHooksStillAnswer(t *testing.T) {
	host := envoyxtest.New(t, "runtime", "")
	before := envoyx.Yields()
	deadline := time.Now().Add(10 * time.Second)
	requests := 0
	for envoyx.Yields() < before+3 && time.Now().Before(deadline) {
		stream := host.Stream()
		if status := stream.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/"), true); status != envoyx.HeadersContinue {
			t.Fatalf("request %d: status %v", requests, status)
		}
		if _, ok := stream.UpstreamRequestHeaders().Get("x-runtime"); !ok {
			t.Fatalf("request %d: the filter did not run", requests)
		}
		stream.Complete()
		stream.Close()
		requests++
	}
	if got := envoyx.Yields() - before; got < 3 {
		t.Fatalf("%d yields in %d requests over 10 s of steady calls, want at least 3 (one per 9 ms)", got, requests)
	}
}
