package bodyreplace

import (
	"reflect"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

func TestParseReplaceSplitsAtTheFirstEquals(t *testing.T) {
	cases := []struct {
		in       string
		from, to string
		ok       bool
	}{{"a=b", "a", "b", true}, {"a=b=c", "a", "b=c", true}, {"a=", "a", "", true}, {"=b", "", "", false}, {"ab", "", "", false}}
	for _, c := range cases {
		from, to, ok := ParseReplace(c.in)
		if ok != c.ok || string(from) != c.from || string(to) != c.to {
			t.Errorf("ParseReplace(%q) = %q, %q, %v", c.in, from, to, ok)
		}
	}
}

func TestLocateInEitherPartOrAcrossBoth(t *testing.T) {
	whole := []byte("hello, cruel world") // buffered "hello, cr" (9 bytes), received "uel world"
	cases := []struct {
		needle   string
		buffered int
		want     Occurrence
		found    bool
	}{
		{"hello", 9, Occurrence{Buffered: &Range{0, 5}}, true},
		{"world", 9, Occurrence{Received: &Range{4, 9}}, true},
		{"cruel", 9, Occurrence{Buffered: &Range{7, 9}, Received: &Range{0, 3}}, true},
		{"cruel", 0, Occurrence{Received: &Range{7, 12}}, true},
		{"kind", 9, Occurrence{}, false},
		{"", 9, Occurrence{}, false},
	}
	for _, c := range cases {
		got, found := Locate(whole, []byte(c.needle), c.buffered)
		if found != c.found || !reflect.DeepEqual(got, c.want) {
			t.Errorf("Locate(%q, %d) = %+v, %v", c.needle, c.buffered, got, found)
		}
	}
}

func TestAReplacementStraddlingBufferedAndReceived(t *testing.T) {
	host := envoyxtest.New(t, "body-replace", "")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/", "content-length", "18", "x-envoyx-prepend", "<<", "x-envoyx-append", ">>", "x-envoyx-replace", "cruel=kind"), false)
	if _, ok := s.UpstreamRequestHeaders().Get("content-length"); ok {
		t.Error("content-length is removed before the length changes")
	}
	if status := s.RequestBody(false, "hello, ", "cr"); status != envoyx.BodyStopAndBuffer {
		t.Fatalf("buffering: %v", status)
	}
	s.RequestBody(true, "uel world")
	if got := string(s.UpstreamRequestBody()); got != "<<hello, kind world>>" {
		t.Errorf("got %q", got)
	}
}

func TestNoEditsPassesThroughUnbuffered(t *testing.T) {
	host := envoyxtest.New(t, "body-replace", "")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/"), false)
	if status := s.RequestBody(false, "as is"); status != envoyx.BodyContinue {
		t.Errorf("status %v", status)
	}
	if got := string(s.UpstreamRequestBody()); got != "as is" {
		t.Errorf("got %q", got)
	}
}
