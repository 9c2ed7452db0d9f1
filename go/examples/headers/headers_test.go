package headers

import (
	"reflect"
	"testing"

	"github.com/envoyx/envoyx/go/envoyxtest"
)

func TestHeadersInBothDirections(t *testing.T) {
	s := envoyxtest.New(t, "headers", "").Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/", "x-envoyx-multi", "original", "x-envoyx-remove-me", "1",
		"x-envoyx-echo", "one", "x-envoyx-echo", "two"), true)
	up := s.UpstreamRequestHeaders()
	if v, _ := up.Get("x-envoyx-seen"); v != "true" {
		t.Errorf("x-envoyx-seen %q", v)
	}
	if got := up.Values("x-envoyx-multi"); !reflect.DeepEqual(got, []string{"original", MultiValue}) {
		t.Errorf("x-envoyx-multi %q", got)
	}
	if _, ok := up.Get("x-envoyx-remove-me"); ok {
		t.Error("x-envoyx-remove-me kept")
	}
	s.ResponseHeaders(envoyxtest.H(":status", "200", "x-envoyx-secret", "hidden"), true)
	down := s.ClientResponseHeaders()
	if _, ok := down.Get("x-envoyx-secret"); ok {
		t.Error("x-envoyx-secret kept")
	}
	if got := down.Values("x-envoyx-echo"); !reflect.DeepEqual(got, []string{"one", "two"}) {
		t.Errorf("echo %q", got)
	}
}
