package bench

import (
	"bytes"
	"strings"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

func TestEachJobDoesItsWork(t *testing.T) {
	host := envoyxtest.New(t, "bench", "header")
	s := host.Stream()
	s.RequestHeaders(envoyxtest.H(":path", "/"), true)
	s.ResponseHeaders(envoyxtest.H(":status", "200"), true)
	if v, _ := s.ClientResponseHeaders().Get("x-bench-added"); v != "1" {
		t.Errorf("header: %q", v)
	}
	s.Close()

	for _, job := range []string{"upper", "upper-loop"} {
		s = envoyxtest.New(t, "bench", job).Stream()
		s.RequestHeaders(envoyxtest.H(":path", "/", ":method", "POST"), false)
		s.RequestBody(true, "hello wide ", "world: grüße")
		if got := string(s.UpstreamRequestBody()); got != "HELLO WIDE WORLD: GRüßE" {
			t.Errorf("%s: %q", job, got)
		}
		s.Close()
	}

	host = envoyxtest.New(t, "bench", "observe")
	s = host.Stream()
	s.RequestHeaders(envoyxtest.H(":path", "/"), true)
	s.ResponseHeaders(envoyxtest.H(":status", "200"), true)
	if v, ok := host.Metric("responses", "2xx"); !ok || *v.Counter != 1 {
		t.Errorf("observe: responses{2xx} = %+v", v)
	}
	s.Close()

	s = envoyxtest.New(t, "bench", "allocs").Stream()
	s.RequestHeaders(envoyxtest.H(":path", "/"), true)
	if r := s.LocalReply(); r == nil || !strings.HasPrefix(string(r.Body), "objects=") {
		t.Errorf("allocs: %+v", r)
	}
	s.Close()

	if _, err := envoyxtest.Load("bench", "sideways"); err == nil {
		t.Error("an unknown job is refused")
	}
}

// TestEachJobRespondStreamsItsOwnAnswer: the respond job answers the request itself, no
// upstream asked, with status 200 and the 64 KiB body (16 chunks of 4 KiB, chunk i the letter
// 'a' + i).
func TestEachJobRespondStreamsItsOwnAnswer(t *testing.T) {
	s := envoyxtest.New(t, "bench", "respond").Stream()
	defer s.Close()
	if status := s.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/bench"), true); status != envoyx.HeadersStopIteration {
		t.Fatalf("request headers: %v", status)
	}
	if s.Forwarded(envoyx.Request) {
		t.Fatal("the request went to an upstream")
	}
	if v, _ := s.ClientResponseHeaders().Get(":status"); v != "200" {
		t.Fatalf(":status %q", v)
	}
	var want []byte
	for i := range ResponseChunks {
		chunk := ResponseChunk(i)
		if len(chunk) != ResponseChunkBytes || chunk[0] != byte('a'+i) || chunk[len(chunk)-1] != byte('a'+i) {
			t.Fatalf("chunk %d: %d bytes of %q", i, len(chunk), chunk[:1])
		}
		want = append(want, chunk...)
	}
	if got := s.ClientResponseBody(); len(got) != 64<<10 || !bytes.Equal(got, want) {
		t.Fatalf("body: %d bytes, want %d", len(got), len(want))
	}
	if s.ClientResponseTrailers() != nil {
		t.Fatal("trailers")
	}
}

// BenchmarkCallC is one Go→C call (how a Go module reaches Envoy's host functions).
func BenchmarkCallC(b *testing.B) { CallC(b.N) }

// BenchmarkCallGoFromC is one C→Go call (how Envoy's host reaches a Go module's hooks).
func BenchmarkCallGoFromC(b *testing.B) { CallGoFromC(b.N) }

// benchmarkJob drives one request per iteration through the real core (the test host), as
// `envoyx go test` runs it: the figures include the test driver's own work and allocations,
// which BenchmarkJobPass shows alone with a filter that has no hooks of its own.
func benchmarkJob(b *testing.B, job string, body ...string) {
	host := envoyxtest.New(b, "bench", job)
	request := envoyxtest.H(":method", "GET", ":path", "/")
	response := envoyxtest.H(":status", "200")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s := host.Stream()
		if len(body) > 0 {
			s.RequestHeaders(request, false)
			s.RequestBody(true, body...)
		} else {
			s.RequestHeaders(request, true)
		}
		if status := s.ResponseHeaders(response, true); status != envoyx.HeadersContinue {
			b.Fatal(status)
		}
		s.Close()
	}
}

func BenchmarkJobPass(b *testing.B)   { benchmarkJob(b, "pass") }
func BenchmarkJobHeader(b *testing.B) { benchmarkJob(b, "header") }
func BenchmarkJobUpper64KiB(b *testing.B) {
	benchmarkJob(b, "upper", strings.Repeat("abcdefghij", 64<<10/10))
}
func BenchmarkJobUpperLoop64KiB(b *testing.B) {
	benchmarkJob(b, "upper-loop", strings.Repeat("abcdefghij", 64<<10/10))
}
