// Package bench is the benchmarks' Go module (the Go twin of rust/bench/module and the
// body-rewrite example): the filter `bench` does the job its filter_config names.
//
//   - header: adds `x-bench-added: 1` to every response;
//   - pass: changes nothing;
//   - upper: upper-cases the ASCII letters of the request body in place, in Envoy's buffers, with
//     the SDK's helper (Body.UpperASCII: eight bytes at a time);
//   - upper-loop: the same with the plain per-byte loop a Go author writes first (kept so that
//     the bench shows what the helper saves);
//   - observe: the header, the labelled counter `responses{class="2xx"}` and the dynamic
//     metadata `bench.decision: seen`;
//   - respond: answers the request itself, no upstream asked: status 200 and a 64 KiB body
//     streamed as 16 data frames of 4 KiB (chunk i is the letter 'a' + i), SendResponseHeaders
//     then SendResponseData from OnRequestHeaders;
//   - allocs: answers every request itself with what the Go runtime of the process allocated
//     so far, `objects=N bytes=M` (the bench reads it on a listener of its own before and after
//     a measurement: Go's allocations per request in Envoy, with nothing added to the measured
//     path).
//
// bench_test.go measures the same jobs through the real core with `go test -bench` (Go's
// allocations per request) and what one crossing between Go and C costs.
package bench

import (
	"bytes"
	"fmt"
	"runtime/metrics"
	"strings"

	"github.com/envoyx/envoyx/go/envoyx"
)

// Job is what the filter does.
type Job string

// ParseJob reads the filter_config.
func ParseJob(config []byte) (Job, error) {
	switch job := Job(strings.TrimSpace(string(config))); job {
	case "header", "pass", "upper", "upper-loop", "observe", "respond", "allocs":
		return job, nil
	default:
		return "", fmt.Errorf("the Go bench module: filter_config must be header, pass, upper, upper-loop, observe, respond or allocs, got %q", config)
	}
}

type config struct {
	job       Job
	responses envoyx.Counter
}

func (c *config) NewFilter() envoyx.Filter {
	switch c.job {
	case "header":
		return headerFilter{}
	case "upper":
		return upperFilter{}
	case "upper-loop":
		return upperLoopFilter{}
	case "observe":
		return observeFilter{c: c}
	case "respond":
		return respondFilter{}
	case "allocs":
		return allocsFilter{}
	}
	return envoyx.DefaultFilter{}
}

// The filters hold no per-stream state: values, not pointers, so NewFilter allocates nothing.
type headerFilter struct{ envoyx.DefaultFilter }

func (headerFilter) OnResponseHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	s.ResponseHeaders().Add("x-bench-added", "1")
	return envoyx.HeadersContinue
}

type upperFilter struct{ envoyx.DefaultFilter }

func (upperFilter) OnRequestBody(s *envoyx.Stream, _ bool) envoyx.BodyStatus {
	s.RequestBody().UpperASCII()
	return envoyx.BodyContinue
}

type upperLoopFilter struct{ envoyx.DefaultFilter }

func (upperLoopFilter) OnRequestBody(s *envoyx.Stream, _ bool) envoyx.BodyStatus {
	for _, slice := range s.RequestBody().Slices() {
		for i, c := range slice {
			if 'a' <= c && c <= 'z' {
				slice[i] = c - ('a' - 'A')
			}
		}
	}
	return envoyx.BodyContinue
}

type observeFilter struct {
	envoyx.DefaultFilter
	c *config
}

func (f observeFilter) OnResponseHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	s.ResponseHeaders().Add("x-bench-added", "1")
	f.c.responses.Add(s, 1, "2xx")
	s.SetMetadataString("bench", "decision", "seen")
	return envoyx.HeadersContinue
}

// The respond job's data frames and the bytes in each.
const (
	ResponseChunks     = 16
	ResponseChunkBytes = 4 << 10
)

// responseChunks is the respond job's body: chunk i is ResponseChunkBytes of the letter 'a' + i
// (the Rust bench's pattern::response_body), made once.
var responseChunks = func() (chunks [ResponseChunks][]byte) {
	for i := range chunks {
		chunks[i] = bytes.Repeat([]byte{byte('a' + i)}, ResponseChunkBytes)
	}
	return chunks
}()

// ResponseChunk is chunk i of the respond job's body.
func ResponseChunk(i int) []byte { return responseChunks[i] }

type respondFilter struct{ envoyx.DefaultFilter }

func (respondFilter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	// Each call is a data frame of its own; the host sends them when this hook returns.
	if s.SendResponseHeaders(200, nil, false) {
		for i, chunk := range responseChunks {
			s.SendResponseData(chunk, i == ResponseChunks-1)
		}
	}
	// The request stays here: this filter answered it.
	return envoyx.HeadersStopIteration
}

type allocsFilter struct{ envoyx.DefaultFilter }

func (allocsFilter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	s.SendLocalReply(200, nil, []byte(Allocations()), "bench_go_allocations")
	return envoyx.HeadersStopIteration
}

// Allocations is what the Go runtime allocated so far: `objects=N bytes=M`.
func Allocations() string {
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(samples)
	return fmt.Sprintf("objects=%d bytes=%d", samples[0].Value.Uint64(), samples[1].Value.Uint64())
}

func init() {
	envoyx.Register("bench", func(_ string, cfg []byte) (envoyx.FilterConfig, error) {
		job, err := ParseJob(cfg)
		if err != nil {
			return nil, err
		}
		c := &config{job: job}
		if job == "observe" {
			if c.responses, err = envoyx.DefineCounter("responses", "class"); err != nil {
				return nil, err
			}
		}
		return c, nil
	})
}
