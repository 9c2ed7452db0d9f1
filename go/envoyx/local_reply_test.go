package envoyx_test

// OnLocalReply (ABI 1.2) through the real core (envoyxtest): a reply made after the filter is
// heard, then passes the response hooks; LocalReplyReset has the stream reset instead.

import (
	"fmt"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

type listenerConfig struct{ reset bool }

func (c listenerConfig) NewFilter() envoyx.Filter { return &listener{reset: c.reset} }

type listener struct {
	envoyx.DefaultFilter
	reset bool
	heard string
}

func (l *listener) OnLocalReply(_ *envoyx.Stream, status int, details string, resetImminent bool) envoyx.LocalReplyStatus {
	l.heard = fmt.Sprintf("%d %s %t", status, details, resetImminent)
	if l.reset {
		return envoyx.LocalReplyReset
	}
	return envoyx.LocalReplyContinue
}

func (l *listener) OnResponseHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	s.ResponseHeaders().Set("x-heard", l.heard)
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("listener", func(_ string, cfg []byte) (envoyx.FilterConfig, error) {
		return listenerConfig{reset: string(cfg) == "reset"}, nil
	})
}

func TestAFilterHearsALocalReplyAndMayResetInstead(t *testing.T) {
	host := envoyxtest.New(t, "listener", "")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/"), true)
	if !s.ProxyLocalReply(503, "no_healthy_upstream", "no healthy upstream") {
		t.Fatal("the reply did not go out")
	}
	if got, _ := s.ClientResponseHeaders().Get("x-heard"); got != "503 no_healthy_upstream false" {
		t.Fatalf("x-heard %q", got)
	}

	resetting := envoyxtest.New(t, "listener", "reset")
	r := resetting.Stream()
	defer r.Close()
	r.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/"), true)
	if r.ProxyLocalReply(504, "upstream_response_timeout", "") || !r.WasReset() {
		t.Fatal("LocalReplyReset did not reset the stream")
	}
}

// lineReader tells the request line's attributes (ABI 1.2) in a request header.
type lineReaderConfig struct{}

func (lineReaderConfig) NewFilter() envoyx.Filter { return &lineReader{} }

type lineReader struct{ envoyx.DefaultFilter }

func (lineReader) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	method, _ := s.AttributeString(envoyx.AttributeRequestMethod)
	query, _ := s.AttributeString(envoyx.AttributeRequestQuery)
	_, healthKnown := s.AttributeBool(envoyx.AttributeHealthCheck)
	s.RequestHeaders().Set("x-line", fmt.Sprintf("%s ?%s health-known=%t", method, query, healthKnown))
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("line-reader", func(string, []byte) (envoyx.FilterConfig, error) { return lineReaderConfig{}, nil })
}

func TestTheRequestLinesAttributes(t *testing.T) {
	host := envoyxtest.New(t, "line-reader", "")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":method", "DELETE", ":path", "/items/7?force=1"), true)
	if got, _ := s.UpstreamRequestHeaders().Get("x-line"); got != "DELETE ?force=1 health-known=false" {
		t.Fatalf("x-line %q", got)
	}
}
