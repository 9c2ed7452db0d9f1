// The Go SDK's test module (rust/testhost/tests/go_sdk.rs drives it through the real core):
// behaviour by the request header `x-case`.
//
//   - headers: reads every `x-multi` value and all request headers; sets, adds and removes
//     request headers; tells what it saw in response headers.
//   - reply: answers 403 locally with a header and a body.
//   - panic-request / panic-response: panics in that hook.
//   - bad-header: tries a header value with CR LF (refused by the host).
//   - body: holds the headers and buffers the request body; at its end upper-cases every slice
//     in place, wraps the whole body in "<" ">" (prepend to the buffered part, append to the
//     received chunk), replaces "FOX" with "cat", and tells what it saw in `x-go-seen`.
//   - continue: holds the headers; another goroutine continues the request.
//   - schedule: holds the headers; another goroutine schedules a function that sets
//     `x-scheduled` and continues the request.
//   - schedule-reply / schedule-panic: the scheduled function answers 429 / panics.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/envoyx/envoyx/go/envoyx"
)

type config struct{ name string }

func (c *config) NewFilter() envoyx.Filter { return &filter{name: c.name} }

type filter struct {
	envoyx.DefaultFilter
	name string
	c    string
	seen []string
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, end bool) envoyx.HeadersStatus {
	h := s.RequestHeaders()
	f.c, _ = h.Get("x-case")
	switch f.c {
	case "headers":
		f.seen = append(f.seen, "multi="+strings.Join(h.Values("x-multi"), "|"))
		f.seen = append(f.seen, fmt.Sprintf("entries=%d", len(h.All())))
		h.Set("x-set", "set by go")
		h.Add("x-multi", "added by go")
		f.seen = append(f.seen, fmt.Sprintf("removed=%d", h.Remove("x-remove-me")))
	case "reply":
		s.SendLocalReply(403, [][2]string{{"x-go-reply", "yes"}}, []byte("forbidden by go"), "go_denied")
		return envoyx.HeadersStopIteration
	case "panic-request":
		panic("boom in go request headers")
	case "bad-header":
		f.seen = append(f.seen, fmt.Sprintf("crlf-accepted=%v", h.Set("x-bad", "a\r\nb")))
	case "body":
		return envoyx.HeadersStopIteration
	case "continue":
		handle := s.Handle()
		go func() {
			defer handle.Release()
			handle.Continue(envoyx.Request)
		}()
		return envoyx.HeadersStopIteration
	case "schedule", "schedule-reply", "schedule-panic":
		handle, which := s.Handle(), f.c
		go func() {
			defer handle.Release()
			handle.Schedule(func(s *envoyx.Stream) {
				switch which {
				case "schedule-reply":
					s.SendLocalReply(429, nil, []byte("slow down"), "go_scheduled_reply")
				case "schedule-panic":
					panic("boom in a scheduled function")
				default:
					s.RequestHeaders().Set("x-scheduled", "yes")
					f.seen = append(f.seen, fmt.Sprintf("continued=%v", s.Continue(envoyx.Request)))
				}
			})
		}()
		return envoyx.HeadersStopIteration
	}
	envoyx.Log(envoyx.LevelInfo, fmt.Sprintf("go testmodule[%s]: request headers, case %q", f.name, f.c))
	return envoyx.HeadersContinue
}

func (f *filter) OnRequestBody(s *envoyx.Stream, end bool) envoyx.BodyStatus {
	if f.c != "body" {
		return envoyx.BodyContinue
	}
	if !end {
		return envoyx.BodyStopAndBuffer
	}
	buffered, received := s.RequestBufferedBody(), s.RequestBody()
	slices := len(buffered.Slices()) + len(received.Slices())
	for _, b := range []envoyx.Body{buffered, received} {
		for _, slice := range b.Slices() {
			copy(slice, bytes.ToUpper(slice)) // in place, in Envoy's memory
		}
	}
	whole, _ := io.ReadAll(s.WholeRequestBody())
	f.seen = append(f.seen, fmt.Sprintf("slices=%d,len=%d,whole=%s", slices, buffered.Len()+received.Len(), whole))
	buffered.Prepend([]byte("<"))
	received.Append([]byte(">"))
	if at := bytes.Index(buffered.Bytes(), []byte("FOX")); at >= 0 {
		buffered.Replace(at, 3, []byte("cat"))
	}
	f.seen = append(f.seen, fmt.Sprintf("bad-range=%v", buffered.Replace(buffered.Len(), 1, nil)))
	return envoyx.BodyContinue
}

func (f *filter) OnResponseHeaders(s *envoyx.Stream, end bool) envoyx.HeadersStatus {
	if f.c == "panic-response" {
		panic("boom in go response headers")
	}
	if len(f.seen) > 0 {
		s.ResponseHeaders().Set("x-go-seen", strings.Join(f.seen, ","))
	}
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("gotest", func(name string, cfg []byte) (envoyx.FilterConfig, error) {
		if string(cfg) == "reject" {
			return nil, errors.New("the go test module refuses filter_config \"reject\"")
		}
		return &config{name: name}, nil
	})
}

func main() {}
