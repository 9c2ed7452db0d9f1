// Package sendresponse is the Go port of rust/examples/send-response: it answers streams itself
// with local replies. The filter_config is ignored.
//
//   - Request path: a request without an `authorization` header gets 401 with
//     `www-authenticate: Bearer` and the body "unauthorized\n"; it never reaches upstream.
//   - Response path: when the request's :path starts with /fail-response, the upstream's
//     response is replaced by 500 with the body "failed on response path\n".
package sendresponse

import (
	"strings"

	"github.com/envoyx/envoyx/go/envoyx"
)

type config struct{}

func (config) NewFilter() envoyx.Filter { return &filter{} }

type filter struct {
	envoyx.DefaultFilter
	replied bool
}

func (f *filter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	if _, ok := s.RequestHeaders().Get("authorization"); ok {
		return envoyx.HeadersContinue
	}
	f.replied = true
	s.SendLocalReply(401, [][2]string{{"www-authenticate", "Bearer"}}, []byte("unauthorized\n"), "envoyx_unauthorized")
	return envoyx.HeadersStopIteration
}

func (f *filter) OnResponseHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	path, _ := s.RequestHeaders().Get(":path")
	if f.replied || !strings.HasPrefix(path, "/fail-response") {
		return envoyx.HeadersContinue
	}
	f.replied = true
	if !s.SendLocalReply(500, nil, []byte("failed on response path\n"), "envoyx_failed_on_response") {
		envoyx.Log(envoyx.LevelWarn, "send-response: response already started; resetting the stream")
		s.Reset()
	}
	return envoyx.HeadersStopIteration
}

func init() {
	envoyx.Register("send-response", func(string, []byte) (envoyx.FilterConfig, error) { return config{}, nil })
}
