package envoyx_test

// Streaming callouts from a stream, and a configuration's background work (ConfigHandle:
// functions scheduled on the main thread, plain and streaming callouts there), through the real
// core (envoyxtest).

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

// streamer sends the request to the cluster `echo` in two chunks and holds it; the response's
// body goes upstream as `x-streamed`, a failure answers 503 naming it.
type streamer struct {
	envoyx.DefaultFilter
	status int
	body   []byte
}

func (f *streamer) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	headers := [][2]string{{":method", "POST"}, {":path", "/"}, {":authority", "echo"}}
	id := s.StartCalloutStream("echo", headers, []byte("part1"), false, time.Second, f.event)
	if id == 0 || !s.CalloutSend(id, []byte("part2"), true) {
		s.SendLocalReply(500, nil, []byte("not started"), "streamer_refused")
	}
	return envoyx.HeadersStopIteration
}

func (f *streamer) event(s *envoyx.Stream, _ uint64, e envoyx.CalloutEvent) {
	switch e.Kind {
	case envoyx.CalloutEventHeaders:
		f.status = e.Status
	case envoyx.CalloutEventData:
		f.body = append(f.body, e.Data...)
	case envoyx.CalloutEventComplete:
		s.RequestHeaders().Set("x-streamed", strconv.Itoa(f.status)+" "+string(f.body))
		s.Continue(envoyx.Request)
	case envoyx.CalloutEventFailed:
		s.SendLocalReply(503, [][2]string{{"x-failure", e.Err.Error()}}, nil, "streamer_failed")
	}
}

// keys keeps a key fetched in the background: first by a callout to `keys`, then updated by a
// streaming callout's data; every request gets it as `x-key`.
type keys struct {
	handle *envoyx.ConfigHandle
	key    atomic.Value
}

func (k *keys) NewFilter() envoyx.Filter { return keyFilter{k: k} }

type keyFilter struct {
	envoyx.DefaultFilter
	k *keys
}

func (f keyFilter) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	key, _ := f.k.key.Load().(string)
	s.RequestHeaders().Set("x-key", key)
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("streamer", func(string, []byte) (envoyx.FilterConfig, error) {
		return streamerConfig{}, nil
	})
	envoyx.Register("keys", func(string, []byte) (envoyx.FilterConfig, error) {
		h, err := envoyx.NewConfigHandle()
		if err != nil {
			return nil, err
		}
		if again, _ := envoyx.NewConfigHandle(); again != h {
			return nil, errors.New("a second NewConfigHandle must return the same handle")
		}
		k := &keys{handle: h}
		k.key.Store("none")
		go h.Schedule(func(c *envoyx.ConfigContext) {
			headers := [][2]string{{":method", "GET"}, {":path", "/key"}, {":authority", "keys"}}
			c.HTTPCallout("keys", headers, nil, time.Second, func(c *envoyx.ConfigContext, r *envoyx.CalloutResponse, err error) {
				if err == nil {
					k.key.Store(string(r.Body))
				}
				c.StartCalloutStream("keys", [][2]string{{":method", "GET"}, {":path", "/watch"}, {":authority", "keys"}}, nil, true, time.Minute,
					func(_ *envoyx.ConfigContext, _ uint64, e envoyx.CalloutEvent) {
						if e.Kind == envoyx.CalloutEventData {
							k.key.Store(strings.TrimSpace(string(e.Data)))
						}
					})
			})
		})
		return k, nil
	})
}

type streamerConfig struct{}

func (streamerConfig) NewFilter() envoyx.Filter { return &streamer{} }

func TestAStreamingCalloutFromAStream(t *testing.T) {
	host := envoyxtest.New(t, "streamer", "")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/"), true)
	callouts := s.PendingCallouts()
	if len(callouts) != 1 || !callouts[0].Streaming || !callouts[0].RequestEnded || callouts[0].Body != "part1part2" {
		t.Fatalf("callouts %+v", callouts)
	}
	id := callouts[0].ID
	s.CalloutEvent(id, envoyx.CalloutEvent{Kind: envoyx.CalloutEventHeaders, Status: 200, Headers: [][2]string{{"x-a", "1"}}})
	s.CalloutEvent(id, envoyx.CalloutEvent{Kind: envoyx.CalloutEventData, Data: []byte("hello ")})
	s.CalloutEvent(id, envoyx.CalloutEvent{Kind: envoyx.CalloutEventData, Data: []byte("world"), EndOfStream: true})
	s.CalloutEvent(id, envoyx.CalloutEvent{Kind: envoyx.CalloutEventComplete})
	if !s.Forwarded(envoyx.Request) {
		t.Fatal("continued on Complete")
	}
	if v, _ := s.UpstreamRequestHeaders().Get("x-streamed"); v != "200 hello world" {
		t.Errorf("x-streamed %q", v)
	}

	s2 := host.Stream()
	defer s2.Close()
	s2.RequestHeaders(envoyxtest.H(":path", "/"), true)
	s2.CalloutEvent(s2.PendingCallouts()[0].ID, envoyx.CalloutEvent{Kind: envoyx.CalloutEventFailed, Err: envoyx.CalloutReset})
	if r := s2.LocalReply(); r == nil || r.Status != 503 {
		t.Fatalf("reply %+v", r)
	} else if v, _ := r.Headers.Get("x-failure"); v != "reset" {
		t.Errorf("x-failure %q", v)
	}
}

func TestAConfigurationsBackgroundWork(t *testing.T) {
	host := envoyxtest.New(t, "keys", "")
	key := func() string {
		s := host.Stream()
		defer s.Close()
		s.RequestHeaders(envoyxtest.H(":path", "/"), true)
		v, _ := s.UpstreamRequestHeaders().Get("x-key")
		return v
	}
	if got := key(); got != "none" {
		t.Errorf("before the fetch: %q", got)
	}
	if ran := host.RunConfigScheduled(5 * time.Second); ran != 1 {
		t.Fatalf("the scheduled function ran %d times", ran)
	}
	callouts := host.PendingConfigCallouts()
	if len(callouts) != 1 || callouts[0].Cluster != "keys" {
		t.Fatalf("config callouts %+v", callouts)
	}
	host.AnswerConfigCallout(callouts[0].ID, 200, nil, "k1")
	if got := key(); got != "k1" {
		t.Errorf("after the callout: %q", got)
	}
	watch := host.PendingConfigCallouts()
	if len(watch) != 1 || !watch[0].Streaming || watch[0].Headers[1][1] != "/watch" {
		t.Fatalf("the watch %+v", watch)
	}
	host.ConfigCalloutEvent(watch[0].ID, envoyx.CalloutEvent{Kind: envoyx.CalloutEventHeaders, Status: 200})
	host.ConfigCalloutEvent(watch[0].ID, envoyx.CalloutEvent{Kind: envoyx.CalloutEventData, Data: []byte("k2\n")})
	if got := key(); got != "k2" {
		t.Errorf("after the watch's data: %q", got)
	}
	if _, err := envoyx.NewConfigHandle(); err == nil || !strings.Contains(err.Error(), "inside a Factory only") {
		t.Errorf("outside a factory: %v", err)
	}
}
