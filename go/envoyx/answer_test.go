package envoyx_test

// The filter's own response (ABI 1.2 SendResponse*) through the real core (envoyxtest): headers
// from the request headers hook, data from a function scheduled from a goroutine, trailers at
// the end; the request reaches no upstream although the hook returns Continue; a second start is
// refused.

import (
	"fmt"
	"testing"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

type eventsConfig struct{}

func (eventsConfig) NewFilter() envoyx.Filter { return &events{} }

type events struct{ envoyx.DefaultFilter }

func (events) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	s.SendResponseHeaders(200, [][2]string{{"content-type", "text/event-stream"}}, false)
	s.SendResponseData([]byte("data: 1\n\n"), false)
	again := s.SendResponseHeaders(200, nil, false)
	handle := s.Handle()
	go func() {
		defer handle.Release()
		time.Sleep(5 * time.Millisecond)
		handle.Schedule(func(s *envoyx.Stream) {
			s.SendResponseData([]byte("data: 2\n\n"), false)
			s.SendResponseTrailers([][2]string{{"x-again", fmt.Sprint(again)}})
		})
	}()
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("events", func(string, []byte) (envoyx.FilterConfig, error) { return eventsConfig{}, nil })
}

func TestAFilterStreamsItsOwnResponse(t *testing.T) {
	host := envoyxtest.New(t, "events", "")
	s := host.Stream()
	defer s.Close()
	if status := s.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/events"), true); status != envoyx.HeadersStopIteration {
		t.Fatalf("request headers status %v, want StopIteration: the request stays here", status)
	}
	if s.Forwarded(envoyx.Request) {
		t.Fatal("the request went on to an upstream")
	}
	if got := string(s.ClientResponseBody()); got != "data: 1\n\n" {
		t.Fatalf("body before the scheduled function: %q", got)
	}
	if n := s.RunScheduled(2 * time.Second); n != 1 {
		t.Fatalf("ran %d scheduled functions, want 1", n)
	}
	if got, _ := s.ClientResponseHeaders().Get("content-type"); got != "text/event-stream" {
		t.Fatalf("content-type %q", got)
	}
	if got := string(s.ClientResponseBody()); got != "data: 1\n\ndata: 2\n\n" {
		t.Fatalf("body %q", got)
	}
	if got, _ := s.ClientResponseTrailers().Get("x-again"); got != "false" {
		t.Fatalf("a second SendResponseHeaders returned %q, want false", got)
	}
}

// pacer answers with its own response and tells each watermark change in it.
type pacerConfig struct{}

func (pacerConfig) NewFilter() envoyx.Filter { return &pacer{} }

type pacer struct{ envoyx.DefaultFilter }

func (pacer) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	limit, _ := s.BufferLimit()
	s.SendResponseHeaders(200, [][2]string{{"x-limit", fmt.Sprint(limit)}}, false)
	return envoyx.HeadersStopIteration
}

func (pacer) OnWatermark(s *envoyx.Stream, d envoyx.Direction, above bool) {
	s.SendResponseData([]byte(fmt.Sprintf("%v:%t;", d == envoyx.Response, above)), !above)
}

func init() {
	envoyx.Register("pacer", func(string, []byte) (envoyx.FilterConfig, error) { return pacerConfig{}, nil })
}

func TestAFilterHearsEachWatermarkChangeOnce(t *testing.T) {
	host := envoyxtest.New(t, "pacer", "")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":method", "GET", ":path", "/"), true)
	if got, _ := s.ClientResponseHeaders().Get("x-limit"); got != "1048576" || s.BufferLimit() != 1<<20 {
		t.Fatalf("buffer limit %q / %d, want Envoy's default 1 MiB", got, s.BufferLimit())
	}
	s.Watermark(envoyx.Response, true)
	s.Watermark(envoyx.Response, true)
	s.Watermark(envoyx.Response, false)
	s.Watermark(envoyx.Response, false)
	if n := s.RunScheduled(time.Second); n != 2 {
		t.Fatalf("ran %d items, want 2 (one above, one below)", n)
	}
	if got := string(s.ClientResponseBody()); got != "true:true;true:false;" {
		t.Fatalf("body %q", got)
	}
}
