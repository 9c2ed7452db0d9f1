package bodyrewrite

import (
	"strings"
	"testing"

	"github.com/envoyx/envoyx/go/envoyxtest"
)

func TestParseDirections(t *testing.T) {
	cases := map[string]Directions{"": {true, true}, " both\n": {true, true}, "request": {Request: true}, "response": {Response: true}}
	for text, want := range cases {
		got, err := ParseDirections([]byte(text))
		if err != nil || got != want {
			t.Errorf("ParseDirections(%q) = %v, %v; want %v", text, got, err, want)
		}
	}
	_, err := ParseDirections([]byte("sideways"))
	if err == nil || !strings.Contains(err.Error(), `got "sideways"`) {
		t.Errorf("a bad config is refused naming what it got: %v", err)
	}
}

func TestUpperCaseInPlaceAcrossSlices(t *testing.T) {
	slices := [][]byte{[]byte("héllo, "), []byte("world 42")}
	UpperCaseInPlace(slices)
	if got := string(slices[0]) + string(slices[1]); got != "HéLLO, WORLD 42" {
		t.Errorf("got %q", got)
	}
}

func TestTheResponseIsUpperCasedInPlaceAcrossSlices(t *testing.T) {
	host := envoyxtest.New(t, "body-rewrite", "response")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/"), false)
	s.RequestBody(true, "left ", "alone")
	s.ResponseHeaders(envoyxtest.H(":status", "200"), false)
	s.ResponseBody(false, "hello, ", "wor")
	s.ResponseBody(true, "ld")
	if got := string(s.UpstreamRequestBody()); got != "left alone" {
		t.Errorf("request body: %q", got)
	}
	if got := string(s.ClientResponseBody()); got != "HELLO, WORLD" {
		t.Errorf("response body: %q", got)
	}
}
