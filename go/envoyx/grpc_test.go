package envoyx

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// answer feeds a whole answer (headers, body chunks, trailers) as the host's events would come.
func answer(t *testing.T, status int, headers [][2]string, chunks [][]byte, trailers [][2]string) ([]byte, *GrpcError) {
	t.Helper()
	u := newGrpcUnary(GrpcCall{Timeout: time.Minute}, time.Now())
	onlyHeaders := len(chunks) == 0 && len(trailers) == 0
	if r, err, done := u.onEvent(CalloutEvent{Kind: CalloutEventHeaders, Status: status, Headers: headers, EndOfStream: onlyHeaders}); done {
		return r, err
	}
	for i, chunk := range chunks {
		end := len(trailers) == 0 && i == len(chunks)-1
		if r, err, done := u.onEvent(CalloutEvent{Kind: CalloutEventData, Data: chunk, EndOfStream: end}); done {
			return r, err
		}
	}
	r, err, done := u.onEvent(CalloutEvent{Kind: CalloutEventTrailers, Headers: trailers})
	if !done {
		t.Fatal("the trailers end the answer")
	}
	if _, _, again := u.onEvent(CalloutEvent{Kind: CalloutEventComplete}); again {
		t.Fatal("one result per call")
	}
	return r, err
}

func TestGrpcFramesRoundTrip(t *testing.T) {
	if got := GrpcFrame([]byte("hi")); !bytes.Equal(got, []byte{0, 0, 0, 0, 2, 'h', 'i'}) {
		t.Fatalf("frame: %v", got)
	}
	if got, err := grpcUnframe(GrpcFrame([]byte("hello"))); err != nil || string(got) != "hello" {
		t.Fatalf("unframe: %q %v", got, err)
	}
	for body, want := range map[string]string{
		"\x00\x00\x00":                               "3 bytes",
		"\x00\x00\x00\x00\x05\x01":                   "cut short: 1 of 5",
		"\x01\x00\x00\x00\x00":                       "compressed",
		"\x00\x00\x00\x00\x01a\x00\x00\x00\x00\x01b": "more than one message",
	} {
		if _, err := grpcUnframe([]byte(body)); err == nil || err.Code != GrpcInternal || !strings.Contains(err.Message, want) {
			t.Errorf("%q: %v, want INTERNAL with %q", body, err, want)
		}
	}
}

func TestGrpcAnswers(t *testing.T) {
	framed := GrpcFrame([]byte("response"))
	got, err := answer(t, 200, [][2]string{{"content-type", "application/grpc"}}, [][]byte{framed[:3], framed[3:]}, [][2]string{{"grpc-status", "0"}})
	if err != nil || string(got) != "response" {
		t.Fatalf("ok answer: %q %v", got, err)
	}
	_, err = answer(t, 200, nil, nil, [][2]string{{"grpc-status", "5"}, {"grpc-message", "no%20such%20service"}})
	if err == nil || err.Code != GrpcNotFound || err.Message != "no such service" || err.Error() != "NOT_FOUND: no such service" {
		t.Fatalf("status in the trailers: %v", err)
	}
	_, err = answer(t, 200, [][2]string{{"grpc-status", "12"}, {"grpc-message", "unknown method"}}, nil, nil)
	if err == nil || err.Code != GrpcUnimplemented {
		t.Fatalf("trailers-only: %v", err)
	}
	if _, err = answer(t, 200, nil, nil, [][2]string{{"grpc-status", "x"}}); err == nil || err.Code != GrpcUnknown {
		t.Fatalf("garbled status: %v", err)
	}
	_, err = answer(t, 504, nil, [][]byte{[]byte("upstream request timeout")}, nil)
	if err == nil || err.Code != GrpcDeadlineExceeded || !strings.Contains(err.Message, "504: upstream request timeout") {
		t.Fatalf("504: %v", err)
	}
	if _, err = answer(t, 200, nil, nil, [][2]string{{"x", "y"}}); err == nil || err.Code != GrpcInternal {
		t.Fatalf("no grpc-status: %v", err)
	}
	u := newGrpcUnary(GrpcCall{Timeout: time.Minute}, time.Now())
	if _, err, _ = u.onEvent(CalloutEvent{Kind: CalloutEventFailed, Err: CalloutNoCluster}); err == nil || err.Code != GrpcUnavailable || !strings.Contains(err.Message, "no_cluster") {
		t.Fatalf("failed callout: %v", err)
	}
	if GrpcCode(42).String() != "CODE_42" || GrpcUnauthenticated.String() != "UNAUTHENTICATED" {
		t.Fatal("code names")
	}
}

func TestGrpcUnavailablePastTheDeadlineIsDeadlineExceeded(t *testing.T) {
	reply := CalloutEvent{Kind: CalloutEventHeaders, Status: 200, EndOfStream: true,
		Headers: [][2]string{{"grpc-status", "14"}, {"grpc-message", "upstream request timeout"}}}
	late := newGrpcUnary(GrpcCall{Timeout: time.Millisecond}, time.Now())
	time.Sleep(5 * time.Millisecond)
	if _, err, _ := late.onEvent(reply); err == nil || err.Code != GrpcDeadlineExceeded || err.Message != "the deadline passed (upstream request timeout)" {
		t.Fatalf("late: %v", err)
	}
	early := newGrpcUnary(GrpcCall{Timeout: time.Minute}, time.Now())
	if _, err, _ := early.onEvent(reply); err == nil || err.Code != GrpcUnavailable {
		t.Fatalf("early: %v", err)
	}
}

func TestGrpcRequest(t *testing.T) {
	call := GrpcCall{Path: "/pkg.Svc/Do", Message: []byte("m"), Timeout: 250 * time.Millisecond, Metadata: [][2]string{{"x-tenant", "a"}}}
	headers, body := call.request("backend")
	want := map[string]string{":path": "/pkg.Svc/Do", ":authority": "backend", "content-type": "application/grpc",
		"te": "trailers", "grpc-timeout": "250m", "x-tenant": "a"}
	for _, h := range headers {
		if v, ok := want[h[0]]; ok && v == h[1] {
			delete(want, h[0])
		}
	}
	if len(want) != 0 || !bytes.Equal(body, GrpcFrame([]byte("m"))) {
		t.Fatalf("missing %v; body %v", want, body)
	}
}

func TestGrpcPathsThatAreNotMethodsAreRefused(t *testing.T) {
	for _, path := range []string{"pkg.Svc/Do", "/pkg.Svc", "//Do", "/pkg.Svc/", "/a/b/c"} {
		if r := (GrpcCall{Path: path}).refusal(); !strings.Contains(r, fmt.Sprintf("the path %q is not /package.Service/Method", path)) {
			t.Errorf("%s: %q", path, r)
		}
	}
	if r := (GrpcCall{Path: "/pkg.Svc/Do"}).refusal(); r != "" {
		t.Fatal(r)
	}
}
