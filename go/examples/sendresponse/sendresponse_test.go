package sendresponse

import (
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

func TestARequestWithoutAuthorizationGets401(t *testing.T) {
	s := envoyxtest.New(t, "send-response", "").Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/private"), true)
	reply := s.LocalReply()
	if reply == nil || reply.Status != 401 || string(reply.Body) != "unauthorized\n" || reply.Details != "envoyx_unauthorized" {
		t.Fatalf("reply %+v", reply)
	}
	if v, _ := reply.Headers.Get("www-authenticate"); v != "Bearer" {
		t.Errorf("www-authenticate %q", v)
	}
	if s.Forwarded(envoyx.Request) {
		t.Error("the request went upstream")
	}
}

func TestTheResponsePathReplyReplacesTheUpstreamResponse(t *testing.T) {
	s := envoyxtest.New(t, "send-response", "").Stream()
	defer s.Close()
	s.RequestHeaders(envoyxtest.H(":path", "/fail-response", "authorization", "Bearer x"), true)
	if !s.Forwarded(envoyx.Request) {
		t.Fatal("an authorized request goes upstream")
	}
	s.ResponseHeaders(envoyxtest.H(":status", "200"), false)
	if reply := s.LocalReply(); reply == nil || reply.Status != 500 || string(reply.Body) != "failed on response path\n" {
		t.Fatalf("reply %+v", reply)
	}
}
