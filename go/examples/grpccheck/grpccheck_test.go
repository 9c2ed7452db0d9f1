package grpccheck

import (
	"strings"
	"testing"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/envoyxtest"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig("grpc-check", []byte("cluster=health service=orders timeout_ms=250"))
	if err != nil || c.Cluster != "health" || c.Service != "orders" || c.Timeout.Milliseconds() != 250 {
		t.Fatalf("got %+v, %v", c, err)
	}
	for config, want := range map[string]string{
		"timeout_ms=0":    "timeout_ms must be above 0",
		"timeout_ms=soon": "timeout_ms `soon` is not a number",
		"color=red":       "unknown or empty setting `color=red`",
		"cluster":         "`cluster` is not key=value",
	} {
		if _, err := ParseConfig("grpc-check", []byte(config)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v", config, err)
		}
	}
}

// ask sends request headers (asking for `service`, if any) and returns the one gRPC call made.
func ask(t *testing.T, s *envoyxtest.Stream, service string) envoyxtest.Callout {
	t.Helper()
	headers := []string{":method", "POST", ":path", "/orders"}
	if service != "" {
		headers = append(headers, "x-check-service", service)
	}
	if status := s.RequestHeaders(envoyxtest.H(headers...), false); status != envoyx.HeadersStopIteration {
		t.Fatalf("the request is held for the call, got %v", status)
	}
	calls := s.PendingCallouts()
	if len(calls) != 1 || !calls[0].Streaming || !calls[0].RequestEnded {
		t.Fatalf("one unary call, got %+v", calls)
	}
	if path, _ := calls[0].Headers.Get(":path"); path != Check {
		t.Errorf(":path %q", path)
	}
	if timeout, _ := calls[0].Headers.Get("grpc-timeout"); timeout != "250m" {
		t.Errorf("grpc-timeout %q", timeout)
	}
	return calls[0]
}

// answer plays the health service's answer: `status` in a HealthCheckResponse, grpc-status 0.
func answer(s *envoyxtest.Stream, id uint64, status byte) {
	s.CalloutEvent(id, envoyx.CalloutEvent{Kind: envoyx.CalloutEventHeaders, Status: 200,
		Headers: [][2]string{{":status", "200"}, {"content-type", "application/grpc"}}})
	s.CalloutEvent(id, envoyx.CalloutEvent{Kind: envoyx.CalloutEventData, Data: envoyx.GrpcFrame([]byte{0x08, status})})
	s.CalloutEvent(id, envoyx.CalloutEvent{Kind: envoyx.CalloutEventTrailers, Headers: [][2]string{{"grpc-status", "0"}}})
	s.CalloutEvent(id, envoyx.CalloutEvent{Kind: envoyx.CalloutEventComplete})
}

func TestAServingBackendLetsTheRequestThrough(t *testing.T) {
	host := envoyxtest.New(t, "grpc-check", "cluster=health service=orders timeout_ms=250")
	s := host.Stream()
	defer s.Close()
	call := ask(t, s, "")
	if call.Cluster != "health" || call.Body != string(envoyx.GrpcFrame(HealthCheckRequest("orders"))) {
		t.Errorf("call %+v", call)
	}
	if status := s.RequestBody(true, "held"); status != envoyx.BodyStopAndBuffer {
		t.Errorf("the body is held with the headers, got %v", status)
	}
	answer(s, call.ID, Serving)
	if !s.Forwarded(envoyx.Request) {
		t.Fatal("the request went on")
	}
	if v, _ := s.UpstreamRequestHeaders().Get("x-backend-health"); v != "serving" {
		t.Errorf("x-backend-health %q", v)
	}
}

func TestABackendNotServingIsAnswered503(t *testing.T) {
	host := envoyxtest.New(t, "grpc-check", "timeout_ms=250")
	s := host.Stream()
	defer s.Close()
	call := ask(t, s, "draining")
	answer(s, call.ID, 2)
	reply := s.LocalReply()
	if reply == nil || reply.Status != 503 || string(reply.Body) != "backend not serving (health status 2)\n" {
		t.Fatalf("reply %+v", reply)
	}
	if v, _ := reply.Headers.Get("x-backend-health"); v != "not_serving" {
		t.Errorf("x-backend-health %q", v)
	}
}

func TestAGrpcErrorIsAnswered503WithItsCode(t *testing.T) {
	host := envoyxtest.New(t, "grpc-check", "timeout_ms=250")
	s := host.Stream()
	defer s.Close()
	call := ask(t, s, "nobody")
	// The server does not know the service: a trailers-only answer.
	s.CalloutEvent(call.ID, envoyx.CalloutEvent{Kind: envoyx.CalloutEventHeaders, Status: 200, EndOfStream: true,
		Headers: [][2]string{{":status", "200"}, {"grpc-status", "5"}, {"grpc-message", "unknown%20service"}}})
	s.CalloutEvent(call.ID, envoyx.CalloutEvent{Kind: envoyx.CalloutEventComplete})
	reply := s.LocalReply()
	if reply == nil || reply.Status != 503 || string(reply.Body) != "health check failed: NOT_FOUND: unknown service\n" {
		t.Fatalf("reply %+v", reply)
	}
	if v, _ := reply.Headers.Get("x-grpc-error"); v != "NOT_FOUND" {
		t.Errorf("x-grpc-error %q", v)
	}
}

func TestAClusterEnvoyLacksIsUnavailable(t *testing.T) {
	host := envoyxtest.New(t, "grpc-check", "cluster=nowhere timeout_ms=250")
	s := host.Stream()
	defer s.Close()
	call := ask(t, s, "")
	s.CalloutEvent(call.ID, envoyx.CalloutEvent{Kind: envoyx.CalloutEventFailed, Err: envoyx.CalloutNoCluster})
	if reply := s.LocalReply(); reply == nil || reply.Status != 503 {
		t.Fatalf("reply %+v", reply)
	} else if v, _ := reply.Headers.Get("x-grpc-error"); v != "UNAVAILABLE" {
		t.Errorf("x-grpc-error %q", v)
	}
}
