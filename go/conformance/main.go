// The Go conformance module: the cases of the conformance suite (rust/conformance) marked
// `go()`, written with the Go SDK as rust/test-modules/conformance writes them with the Rust one,
// so that both SDKs are held to the same list on every host.
//
// Filter config: "" passes every request through; `panic=<hook>` panics in that hook with
// "conformance: boom in <hook>" (config_new, new_filter, request_headers, request_body,
// request_trailers, response_headers, response_body, response_trailers, scheduled,
// stream_complete); `reject` (or anything else) is refused. A panic in a later request hook or
// the scheduled function holds the request, so nothing reaches the upstream.
package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
)

type config struct{ panicIn string }

func (c *config) NewFilter() envoyx.Filter {
	if c.panicIn == "new_filter" {
		panic("conformance: boom in new_filter")
	}
	return &filter{panicIn: c.panicIn}
}

type filter struct {
	envoyx.DefaultFilter
	panicIn string
}

func (f *filter) maybePanic(hook string) {
	if f.panicIn == hook {
		panic("conformance: boom in " + hook)
	}
}

// holdsRequest: the request must not reach the upstream before the hook that panics.
func (f *filter) holdsRequest() bool {
	return f.panicIn == "request_body" || f.panicIn == "request_trailers" || f.panicIn == "scheduled"
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, end bool) envoyx.HeadersStatus {
	f.maybePanic("request_headers")
	if f.holdsRequest() {
		return envoyx.HeadersStopIteration
	}
	return envoyx.HeadersContinue
}

func (f *filter) OnRequestBody(s *envoyx.Stream, end bool) envoyx.BodyStatus {
	f.maybePanic("request_body")
	if !f.holdsRequest() {
		return envoyx.BodyContinue
	}
	if end && f.panicIn == "scheduled" {
		handle := s.Handle()
		go func() {
			defer handle.Release()
			time.Sleep(10 * time.Millisecond)
			handle.Schedule(func(*envoyx.Stream) { f.maybePanic("scheduled") })
		}()
	}
	return envoyx.BodyStopAndBuffer
}

func (f *filter) OnRequestTrailers(s *envoyx.Stream) envoyx.TrailersStatus {
	f.maybePanic("request_trailers")
	return envoyx.TrailersContinue
}

func (f *filter) OnResponseHeaders(s *envoyx.Stream, end bool) envoyx.HeadersStatus {
	f.maybePanic("response_headers")
	return envoyx.HeadersContinue
}

func (f *filter) OnResponseBody(s *envoyx.Stream, end bool) envoyx.BodyStatus {
	f.maybePanic("response_body")
	return envoyx.BodyContinue
}

func (f *filter) OnResponseTrailers(s *envoyx.Stream) envoyx.TrailersStatus {
	f.maybePanic("response_trailers")
	return envoyx.TrailersContinue
}

func (f *filter) OnComplete(s *envoyx.Stream) { f.maybePanic("stream_complete") }

func init() {
	envoyx.Register("conformance", func(name string, cfg []byte) (envoyx.FilterConfig, error) {
		text := string(cfg)
		if text == "" {
			return &config{}, nil
		}
		if hook, ok := strings.CutPrefix(text, "panic="); ok {
			if hook == "config_new" {
				panic("conformance: boom in config_new")
			}
			return &config{panicIn: hook}, nil
		}
		return nil, fmt.Errorf("conformance: filter config `%s` is refused (use \"\" or panic=<hook>)", text)
	})
}

func main() {}
