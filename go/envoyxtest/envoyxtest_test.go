package envoyxtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
)

// tagger adds `x-tag: <filter_config>` to the request and answers 418 to `x-teapot`.
type tagger struct {
	envoyx.DefaultFilter
	tag string
}

type taggerConfig string

func (c taggerConfig) NewFilter() envoyx.Filter { return &tagger{tag: string(c)} }

func (f *tagger) OnRequestHeaders(s *envoyx.Stream, _ bool) envoyx.HeadersStatus {
	if _, ok := s.RequestHeaders().Get("x-teapot"); ok {
		s.SendLocalReply(418, [][2]string{{"x-short", "stout"}}, []byte("teapot"), "envoyx_teapot")
		return envoyx.HeadersStopIteration
	}
	s.RequestHeaders().Set("x-tag", f.tag)
	envoyx.Log(envoyx.LevelWarn, "tagger: tagged with "+f.tag)
	return envoyx.HeadersContinue
}

func init() {
	envoyx.Register("tagger", func(_ string, cfg []byte) (envoyx.FilterConfig, error) {
		if len(cfg) == 0 {
			return nil, errors.New("tagger: filter_config (the tag) is empty")
		}
		return taggerConfig(cfg), nil
	})
	envoyx.Register("other", func(string, []byte) (envoyx.FilterConfig, error) { return taggerConfig("other"), nil })
}

func TestTheFilterRunsThroughTheRealCore(t *testing.T) {
	s := New(t, "tagger", "blue").Stream()
	defer s.Close()
	if status := s.RequestHeaders(H(":path", "/"), true); status != envoyx.HeadersContinue {
		t.Fatalf("status %v", status)
	}
	if tag, _ := s.UpstreamRequestHeaders().Get("X-Tag"); tag != "blue" || !s.Forwarded(envoyx.Request) {
		t.Errorf("x-tag %q", tag)
	}
	found := false
	for _, line := range Logs() {
		found = found || (line.Level == envoyx.LevelWarn && line.Message == "tagger: tagged with blue")
	}
	if !found {
		t.Errorf("the log line with its level: %v", Logs())
	}
}

func TestALocalReplyIsRecorded(t *testing.T) {
	s := New(t, "tagger", "blue").Stream()
	defer s.Close()
	s.RequestHeaders(H(":path", "/", "x-teapot", "1"), true)
	reply := s.LocalReply()
	if reply == nil || reply.Status != 418 || string(reply.Body) != "teapot" || reply.Details != "envoyx_teapot" {
		t.Fatalf("reply %+v", reply)
	}
	if v, _ := reply.Headers.Get("x-short"); v != "stout" {
		t.Errorf("reply header %q", v)
	}
}

func TestRefusalsComeBackAsErrors(t *testing.T) {
	if _, err := Load("tagger", ""); err == nil || !strings.Contains(err.Error(), "tagger: filter_config (the tag) is empty") {
		t.Errorf("the factory's error: %v", err)
	}
	if _, err := Load("nosuch", "x"); err == nil || !strings.Contains(err.Error(), `the Go module has no filter named "nosuch" (it has other, tagger)`) {
		t.Errorf("an unknown filter: %v", err)
	}
}
