// The Go SDK's test module (rust/testhost/tests/go_sdk.rs drives it through the real core):
// behaviour by the request header `x-case`.
//
//   - headers: reads every `x-multi` value and all request headers; sets, adds and removes
//     request headers; tells what it saw in response headers.
//   - reply: answers 403 locally with a header and a body.
//   - panic-request / panic-response: panics in that hook.
//   - bad-header: tries a header value with CR LF (refused by the host).
package main

import (
	"errors"
	"fmt"
	"strings"

	"envoyx.dev/sdk/envoyx"
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
	}
	envoyx.Log(envoyx.LevelInfo, fmt.Sprintf("go testmodule[%s]: request headers, case %q", f.name, f.c))
	return envoyx.HeadersContinue
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
