package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig("auth", []byte("cluster=idp timeout_ms=250 failure=open"))
	if err != nil || c.Cluster != "idp" || c.Timeout != 250*time.Millisecond || !c.FailOpen {
		t.Fatalf("got %+v, %v", c, err)
	}
	for config, want := range map[string]string{
		"timeout_ms=0":  "timeout_ms must be above 0",
		"failure=maybe": "failure must be `closed` or `open`, not `maybe`",
		"color=red":     "unknown or empty setting `color=red`",
		"cluster":       "`cluster` is not key=value",
	} {
		if _, err := ParseConfig("auth", []byte(config)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v", config, err)
		}
	}
}

// request starts a stream on `route` ("" for none) and checks that it is held for the callout.
func request(t *testing.T, host *envoyxtest.Host, route string, headers ...string) (*envoyxtest.Stream, envoyxtest.Callout) {
	t.Helper()
	s := host.Stream()
	if route != "" {
		var err error
		if s, err = host.StreamOnRoute("auth", route); err != nil {
			t.Fatal(err)
		}
	}
	if status := s.RequestHeaders(envoyxtest.H(append([]string{":path", "/", "x-auth-user", "mallory"}, headers...)...), true); status != envoyx.HeadersStopIteration {
		t.Fatalf("the request is held for the callout, got %v", status)
	}
	callouts := s.PendingCallouts()
	if len(callouts) != 1 {
		t.Fatalf("one callout, got %+v", callouts)
	}
	return s, callouts[0]
}

func TestAnAllowedRequestGoesOnWithTheServicesIdentity(t *testing.T) {
	host := envoyxtest.New(t, "auth", "cluster=idp timeout_ms=300")
	s, callout := request(t, host, "", "authorization", "Bearer ann")
	defer s.Close()
	if callout.Cluster != "idp" || callout.TimeoutMs != 300 {
		t.Errorf("callout %+v", callout)
	}
	if v, _ := callout.Headers.Get("authorization"); v != "Bearer ann" {
		t.Errorf("the service gets the authorization header: %q", v)
	}
	if v, _ := callout.Headers.Get(":path"); v != "/check" {
		t.Errorf(":path %q", v)
	}
	s.AnswerCallout(callout.ID, 200, envoyxtest.H("x-auth-user", "ann"))
	if !s.Forwarded(envoyx.Request) {
		t.Fatal("the request went on")
	}
	if users := s.UpstreamRequestHeaders().Values("x-auth-user"); len(users) != 1 || users[0] != "ann" {
		t.Errorf("x-auth-user %q: the client's value is replaced by the service's", users)
	}
}

func TestDeniedByTheService(t *testing.T) {
	host := envoyxtest.New(t, "auth", "")
	s, callout := request(t, host, "")
	defer s.Close()
	s.AnswerCallout(callout.ID, 401, envoyxtest.H("www-authenticate", "Bearer realm=x"))
	reply := s.LocalReply()
	if reply == nil || reply.Status != 401 || string(reply.Body) != "unauthorized\n" {
		t.Fatalf("reply %+v", reply)
	}
	if v, _ := reply.Headers.Get("www-authenticate"); v != "Bearer realm=x" {
		t.Errorf("challenge %q", v)
	}
}

func TestFailureClosedAndOpen(t *testing.T) {
	closed := envoyxtest.New(t, "auth", "")
	s, callout := request(t, closed, "")
	s.FailCallout(callout.ID, envoyx.CalloutNoCluster)
	if reply := s.LocalReply(); reply == nil || reply.Status != 503 {
		t.Fatalf("fail closed: %+v", reply)
	} else if v, _ := reply.Headers.Get("x-auth-error"); v != "no_cluster" {
		t.Errorf("x-auth-error %q", v)
	}
	s.Close()

	open := envoyxtest.New(t, "auth", "failure=open")
	s, callout = request(t, open, "")
	defer s.Close()
	s.AnswerCallout(callout.ID, 504, nil)
	if !s.Forwarded(envoyx.Request) {
		t.Fatal("fail open lets the request go on")
	}
	if v, _ := s.UpstreamRequestHeaders().Get("x-auth-skipped"); v != "status_504" {
		t.Errorf("x-auth-skipped %q", v)
	}
}

func TestPerRouteOffAndRole(t *testing.T) {
	host := envoyxtest.New(t, "auth", "")
	s, err := host.StreamOnRoute("public", "off")
	if err != nil {
		t.Fatal(err)
	}
	if status := s.RequestHeaders(envoyxtest.H(":path", "/public"), true); status != envoyx.HeadersContinue || len(s.PendingCallouts()) != 0 {
		t.Errorf("auth off: status %v, callouts %v", status, s.PendingCallouts())
	}
	s.Close()

	s, callout := request(t, host, "role=admin")
	defer s.Close()
	s.AnswerCallout(callout.ID, 200, envoyxtest.H("x-auth-user", "ann", "x-auth-roles", "dev, ops"))
	if reply := s.LocalReply(); reply == nil || reply.Status != 403 || string(reply.Body) != "role admin required\n" {
		t.Fatalf("reply %+v", reply)
	}

	if _, err := host.StreamOnRoute("bad", "sometimes"); err == nil || !strings.Contains(err.Error(), "per-route auth config must be `off` or `role=<role>`, not `sometimes`") {
		t.Errorf("a bad per-route config is refused: %v", err)
	}
}

// cluster_alias: the callout goes to the cluster the route's metadata names for the alias (as
// Envoy Gateway v1.10 writes it for an EnvoyExtensionPolicy's backends), looked up per request; a
// route without it gets 503 no_backend, or, failing open, goes on marked.
func TestClusterAliasTakesTheClusterFromTheRoutesMetadata(t *testing.T) {
	const generated = "envoyextensionpolicy/default/auth-policy/backend/0"
	host := envoyxtest.New(t, "auth", "cluster_alias=authsvc")
	s := host.Stream()
	if err := s.SetMetadata(envoyx.MetadataRoute, ExtensionBackends, "authsvc", generated); err != nil {
		t.Fatal(err)
	}
	if status := s.RequestHeaders(envoyxtest.H(":path", "/", "authorization", "Bearer ann"), true); status != envoyx.HeadersStopIteration {
		t.Fatalf("held for the callout, got %v", status)
	}
	callouts := s.PendingCallouts()
	if len(callouts) != 1 || callouts[0].Cluster != generated {
		t.Fatalf("one callout to %s, got %+v", generated, callouts)
	}
	s.Close()

	s = host.Stream()
	if status := s.RequestHeaders(envoyxtest.H(":path", "/"), true); status != envoyx.HeadersStopIteration {
		t.Fatalf("answered, got %v", status)
	}
	if reply := s.LocalReply(); reply == nil || reply.Status != 503 {
		t.Fatalf("no backend: %+v", reply)
	} else if v, _ := reply.Headers.Get("x-auth-error"); v != "no_backend" {
		t.Errorf("x-auth-error %q", v)
	}
	s.Close()

	open := envoyxtest.New(t, "auth", "cluster_alias=authsvc failure=open")
	s = open.Stream()
	defer s.Close()
	if status := s.RequestHeaders(envoyxtest.H(":path", "/"), true); status != envoyx.HeadersContinue {
		t.Fatalf("fail open goes on, got %v", status)
	}
	if v, _ := s.UpstreamRequestHeaders().Get("x-auth-skipped"); v != "no_backend" {
		t.Errorf("x-auth-skipped %q", v)
	}
}
