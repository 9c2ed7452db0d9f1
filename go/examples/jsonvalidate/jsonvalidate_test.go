package jsonvalidate

import (
	"strings"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

func TestCheckBody(t *testing.T) {
	cases := map[string]string{
		`{"user": "ada"}`: "",
		`{}`:              `missing field "user"`,
		`[1, 2]`:          "body is not a JSON object",
		`{"user": `:       "body is not JSON: ",
	}
	for body, want := range cases {
		err := CheckBody(strings.NewReader(body), "user")
		if (want == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), want)) {
			t.Errorf("CheckBody(%q) = %v; want %q", body, err, want)
		}
	}
}

func TestErrorBodyIsTheRustExamplesBody(t *testing.T) {
	if got := string(ErrorBody(`missing field "user"`)); got != "{\"error\":\"missing field \\\"user\\\"\"}\n" {
		t.Errorf("got %q", got)
	}
}

func TestInvalidBodiesGet400AndNeverGoUpstream(t *testing.T) {
	host := envoyxtest.New(t, "json-validate", "user")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/"), false)
	s.RequestBody(false, `{"na`, `me": `)
	s.RequestBody(true, `"ada"}`)
	reply := s.LocalReply()
	if reply == nil || reply.Status != 400 || string(reply.Body) != "{\"error\":\"missing field \\\"user\\\"\"}\n" {
		t.Fatalf("reply %+v", reply)
	}
	if ct, _ := reply.Headers.Get("content-type"); ct != "application/json" {
		t.Errorf("content-type %q", ct)
	}
	if s.Forwarded(envoyx.Request) {
		t.Error("an invalid request went upstream")
	}
}

func TestAValidBodyReadAcrossSlicesPasses(t *testing.T) {
	host := envoyxtest.New(t, "json-validate", "user")
	s := host.Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/"), false)
	s.RequestBody(false, `{"us`, `er": `)
	if status := s.RequestBody(true, `"ada"}`); status != envoyx.BodyContinue {
		t.Fatalf("status %v, reply %+v", status, s.LocalReply())
	}
	if got := string(s.UpstreamRequestBody()); got != `{"user": "ada"}` || !s.Forwarded(envoyx.Request) {
		t.Errorf("upstream got %q", got)
	}
}

func TestAnEmptyFieldNameIsRefused(t *testing.T) {
	if _, err := envoyxtest.Load("json-validate", "  "); err == nil || !strings.Contains(err.Error(), "filter_config must name the required top-level JSON field") {
		t.Errorf("got %v", err)
	}
}
