// Package envoyxtest runs a Go module's filters in `go test` through the real EnvoyX core, the
// same rules and validation Envoy's hosts apply, without building a shared object or starting
// Envoy: the filters registered in the test program are driven with in-memory headers and
// multi-slice bodies, and the test reads what the proxy would have forwarded.
//
//	func TestDeny(t *testing.T) {
//		host := envoyxtest.New(t, "my_filter", "config")
//		s := host.Stream()
//		s.RequestHeaders(envoyxtest.H(":path", "/", "x-user", "ada"), true)
//		if reply := s.LocalReply(); reply == nil || reply.Status != 403 { t.Fatal(...) }
//	}
//
// The core is the EnvoyX test host's C library (libenvoyx_testhost_c.so), loaded from the path in
// ENVOYX_TESTHOST_LIB: `envoyx go test ./...` builds it and sets the variable (so does the
// repository's cargo test). For plain `go test` (an editor's or IDE's test runner), set the
// variables `envoyx go test-env` prints: `eval "$(envoyx go test-env)"`. A host and its streams belong to the test's goroutine, which New locks to its OS
// thread; modules may continue or schedule from any goroutine, and Stream.RunScheduled runs that
// work on the test's thread.
package envoyxtest

/*
// abi.h comes from the envoyx package; envoyx_testhost.h is rust/testhost-c/include/envoyx_testhost.h,
// copied into the module by `cargo run -p envoyx-codegen` (its test checks the copy).
#cgo CFLAGS: -I${SRCDIR}/../envoyx
#cgo LDFLAGS: -ldl
#include "testhost.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/envoyx/envoyx/go/envoyx"
	"github.com/envoyx/envoyx/go/internal/pack"
)

// LibraryEnv names the environment variable holding the test host library's path.
const LibraryEnv = "ENVOYX_TESTHOST_LIB"

var opened struct {
	once sync.Once
	err  error
}

func open() error {
	opened.once.Do(func() {
		path := os.Getenv(LibraryEnv)
		if path == "" {
			opened.err = fmt.Errorf("envoyxtest: %s is not set: run the tests with `envoyx go test ./...` (it builds the EnvoyX test host and sets it), or set what `envoyx go test-env` prints for plain `go test`", LibraryEnv)
			return
		}
		var message [512]C.char
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		if !C.envoyxtest_open(cpath, &message[0], C.size_t(len(message))) {
			opened.err = fmt.Errorf("envoyxtest: %s", C.GoString(&message[0]))
		}
	})
	return opened.err
}

// Host is one filter configuration of the module under test.
type Host struct{ raw *C.envoyx_testhost }

// Load creates the filter configuration `name` with `filterConfig`, as Envoy would; the error
// is the refusal the host would report (a factory's error among them).
func Load(name, filterConfig string) (*Host, error) {
	if err := open(); err != nil {
		return nil, err
	}
	runtime.LockOSThread() // the host and its streams stay on this thread (see the package doc)
	var failure C.envoyx_testhost_owned
	raw := C.envoyxtest_new(cstr(name), C.size_t(len(name)), cstr(filterConfig), C.size_t(len(filterConfig)), &failure)
	if raw == nil {
		return nil, fmt.Errorf("%s", take(failure))
	}
	return &Host{raw: raw}, nil
}

// LoadDeclaring is Load for a configuration that declares the static secrets `secrets` (its
// `secrets`; the filter reads them with Stream.Secret): set each with SetSecret first, as a
// proxy has its static secrets before a configuration names them.
func LoadDeclaring(name, filterConfig string, secrets ...string) (*Host, error) {
	if err := open(); err != nil {
		return nil, err
	}
	runtime.LockOSThread() // the host and its streams stay on this thread (see the package doc)
	buf, lens := pack.Strings(secrets...)
	var failure C.envoyx_testhost_owned
	raw := C.envoyxtest_new_declaring(cstr(name), C.size_t(len(name)), cstr(filterConfig), C.size_t(len(filterConfig)),
		cbuf(buf), clens(lens), C.size_t(len(secrets)), &failure)
	if raw == nil {
		return nil, fmt.Errorf("%s", take(failure))
	}
	return &Host{raw: raw}, nil
}

// SetSecret sets the process's generic secret `name` (a proxy's static secret, or what SDS
// delivers or rotates to) for every configuration that declares it. Tests share the process:
// give each test its own names.
func SetSecret(name, value string) {
	C.envoyxtest_set_secret(cstr(name), C.size_t(len(name)), cstr(value), C.size_t(len(value)))
}

// New is Load for a configuration that must be accepted: it fails the test otherwise, and frees
// the host when the test ends.
func New(t testing.TB, name, filterConfig string) *Host {
	t.Helper()
	h, err := Load(name, filterConfig)
	if err != nil {
		t.Fatalf("envoyxtest.New(%q, %q): %v", name, filterConfig, err)
	}
	t.Cleanup(h.Close)
	return h
}

// Close destroys the configuration (close its streams first). Calling it again does nothing.
func (h *Host) Close() {
	if h.raw != nil {
		C.envoyxtest_free(h.raw)
		h.raw = nil
	}
}

// Stream starts a stream (the filter's NewFilter runs).
func (h *Host) Stream() *Stream { return &Stream{raw: C.envoyxtest_stream(h.raw)} }

// StreamOnRoute starts a stream on a route whose per-route configuration (name and
// filter_config) the module parses first; the error is its refusal.
func (h *Host) StreamOnRoute(name, filterConfig string) (*Stream, error) {
	var failure C.envoyx_testhost_owned
	raw := C.envoyxtest_stream_on_route(h.raw, cstr(name), C.size_t(len(name)), cstr(filterConfig), C.size_t(len(filterConfig)), &failure)
	if raw == nil {
		return nil, fmt.Errorf("%s", take(failure))
	}
	return &Stream{raw: raw}, nil
}

// MetricValue is what a module recorded on one metric for one label combination: Counter,
// Gauge or the Histogram's values in order (the field of the metric's kind is set).
type MetricValue struct {
	Counter   *uint64
	Gauge     *int64
	Histogram []uint64
}

// Metric returns what the module recorded on its metric `name` for `labelValues`; false when
// nothing was recorded.
func (h *Host) Metric(name string, labelValues ...string) (MetricValue, bool) {
	buf, lens := pack.Strings(labelValues...)
	var out C.envoyx_testhost_owned
	if !C.envoyxtest_metric(h.raw, cstr(name), C.size_t(len(name)), cbuf(buf), clens(lens), C.size_t(len(labelValues)), &out) {
		return MetricValue{}, false
	}
	var v MetricValue
	if err := json.Unmarshal(take(out), &v); err != nil {
		panic("envoyxtest: the test host's metric JSON: " + err.Error())
	}
	return v, true
}

// Stream is one stream through the filter.
type Stream struct{ raw *C.envoyx_teststream }

// Header maps and directions, as x/abi.h numbers them.
const (
	requestHeaders   = 0
	requestTrailers  = 1
	responseHeaders  = 2
	responseTrailers = 3
)

// H builds a header list from alternating names and values.
func H(namesAndValues ...string) [][2]string {
	if len(namesAndValues)%2 != 0 {
		panic("envoyxtest.H: an odd number of strings")
	}
	out := make([][2]string, 0, len(namesAndValues)/2)
	for i := 0; i < len(namesAndValues); i += 2 {
		out = append(out, [2]string{namesAndValues[i], namesAndValues[i+1]})
	}
	return out
}

func (s *Stream) headers(which uint32, headers [][2]string, end bool) uint32 {
	buf, lens := pack.Headers(headers)
	return uint32(C.envoyxtest_headers(s.raw, C.uint32_t(which), cbuf(buf), clens(lens), C.size_t(len(headers)), C.bool(end)))
}

func (s *Stream) body(d envoyx.Direction, end bool, slices []string) uint32 {
	buf, lens := pack.Strings(slices...)
	return uint32(C.envoyxtest_body(s.raw, C.uint32_t(d), cbuf(buf), clens(lens), C.size_t(len(slices)), C.bool(end)))
}

// cbuf and clens hand packed lists (github.com/envoyx/envoyx/go/internal/pack) to C for one call.
func cbuf(b []byte) *C.char      { return (*C.char)(unsafe.Pointer(unsafe.SliceData(b))) }
func clens(l []uint64) *C.size_t { return (*C.size_t)(unsafe.Pointer(unsafe.SliceData(l))) }

// RequestHeaders delivers the request headers and returns the filter's status.
func (s *Stream) RequestHeaders(headers [][2]string, endOfStream bool) envoyx.HeadersStatus {
	return envoyx.HeadersStatus(s.headers(requestHeaders, headers, endOfStream))
}

// RequestBody delivers one request body chunk made of `slices` (each one slice of the buffer).
func (s *Stream) RequestBody(endOfStream bool, slices ...string) envoyx.BodyStatus {
	return envoyx.BodyStatus(s.body(envoyx.Request, endOfStream, slices))
}

// RequestTrailers delivers the request trailers.
func (s *Stream) RequestTrailers(trailers [][2]string) envoyx.TrailersStatus {
	return envoyx.TrailersStatus(s.headers(requestTrailers, trailers, true))
}

// ResponseHeaders delivers the response headers.
func (s *Stream) ResponseHeaders(headers [][2]string, endOfStream bool) envoyx.HeadersStatus {
	return envoyx.HeadersStatus(s.headers(responseHeaders, headers, endOfStream))
}

// ResponseBody delivers one response body chunk made of `slices`.
func (s *Stream) ResponseBody(endOfStream bool, slices ...string) envoyx.BodyStatus {
	return envoyx.BodyStatus(s.body(envoyx.Response, endOfStream, slices))
}

// ResponseTrailers delivers the response trailers.
func (s *Stream) ResponseTrailers(trailers [][2]string) envoyx.TrailersStatus {
	return envoyx.TrailersStatus(s.headers(responseTrailers, trailers, true))
}

// Callout is a callout the filter started that is not answered yet.
type Callout struct {
	ID        uint64  `json:"id"`
	Cluster   string  `json:"cluster"`
	Headers   Headers `json:"headers"`
	Body      string  `json:"body"` // for a streaming callout: what was sent so far
	TimeoutMs uint64  `json:"timeout_ms"`
	Streaming bool    `json:"streaming"`
	// RequestEnded: the filter ended the streaming callout's request.
	RequestEnded bool    `json:"request_ended"`
	Trailers     Headers `json:"trailers"`
}

func callouts(out C.envoyx_testhost_owned) []Callout {
	var list []Callout
	if err := json.Unmarshal(take(out), &list); err != nil {
		panic("envoyxtest: the test host's callout JSON: " + err.Error())
	}
	return list
}

// PendingCallouts lists the stream's callouts waiting for an answer, in the order started.
func (s *Stream) PendingCallouts() []Callout {
	var out C.envoyx_testhost_owned
	C.envoyxtest_pending_callouts(s.raw, &out)
	return callouts(out)
}

// AnswerCallout answers callout `id` with a response (the filter's CalloutDone runs now).
func (s *Stream) AnswerCallout(id uint64, status int, headers [][2]string, body ...string) {
	answer(nil, s.raw, id, 0, status, headers, body)
}

// FailCallout ends callout `id` without a response, for `reason`.
func (s *Stream) FailCallout(id uint64, reason envoyx.CalloutError) {
	answer(nil, s.raw, id, uint32(reason), 0, nil, nil)
}

// CalloutEvent plays one event of the cluster's side of the streaming callout `id` (the
// filter's CalloutEvents runs now): Headers with Status, Headers and EndOfStream; Data with Data
// and EndOfStream; Trailers with Headers; Complete; Failed with Err (a CalloutError).
func (s *Stream) CalloutEvent(id uint64, e envoyx.CalloutEvent) { event(nil, s.raw, id, e) }

// RunConfigScheduled runs the functions the configuration's ConfigHandle scheduled, on this
// thread as Envoy's main thread, waiting up to `wait` for the first; returns how many ran.
func (h *Host) RunConfigScheduled(wait time.Duration) int {
	return int(C.envoyxtest_run_config_scheduled(h.raw, C.uint64_t(wait.Milliseconds())))
}

// PendingConfigCallouts lists the configuration's callouts waiting for an answer.
func (h *Host) PendingConfigCallouts() []Callout {
	var out C.envoyx_testhost_owned
	C.envoyxtest_pending_config_callouts(h.raw, &out)
	return callouts(out)
}

// AnswerConfigCallout answers the configuration's callout `id` with a response.
func (h *Host) AnswerConfigCallout(id uint64, status int, headers [][2]string, body ...string) {
	answer(h.raw, nil, id, 0, status, headers, body)
}

// FailConfigCallout ends the configuration's callout `id` without a response.
func (h *Host) FailConfigCallout(id uint64, reason envoyx.CalloutError) {
	answer(h.raw, nil, id, uint32(reason), 0, nil, nil)
}

// ConfigCalloutEvent plays one event of the configuration's streaming callout `id`.
func (h *Host) ConfigCalloutEvent(id uint64, e envoyx.CalloutEvent) { event(h.raw, nil, id, e) }

// packAnswer packs headers then body chunks, as testhost.c's deliver reads them.
func packAnswer(headers [][2]string, chunks []string) ([]byte, []uint64) {
	strs := make([]string, 0, 2*len(headers)+len(chunks))
	for _, h := range headers {
		strs = append(strs, h[0], h[1])
	}
	return pack.Strings(append(strs, chunks...)...)
}

func answer(host *C.envoyx_testhost, s *C.envoyx_teststream, id uint64, failed uint32, status int, headers [][2]string, chunks []string) {
	buf, lens := packAnswer(headers, chunks)
	C.envoyxtest_answer_callout(host, s, C.uint64_t(id), C.uint32_t(failed), C.uint32_t(status), cbuf(buf), clens(lens), C.size_t(len(headers)), C.size_t(len(chunks)))
}

func event(host *C.envoyx_testhost, s *C.envoyx_teststream, id uint64, e envoyx.CalloutEvent) {
	var failed uint32
	var reason envoyx.CalloutError
	if errors.As(e.Err, &reason) {
		failed = uint32(reason)
	}
	var chunks []string
	if len(e.Data) > 0 {
		chunks = []string{string(e.Data)}
	}
	buf, lens := packAnswer(e.Headers, chunks)
	C.envoyxtest_callout_event(host, s, C.uint64_t(id), C.uint32_t(e.Kind), C.uint32_t(failed), C.uint32_t(e.Status), cbuf(buf), clens(lens),
		C.size_t(len(e.Headers)), C.size_t(len(chunks)), C.bool(e.EndOfStream))
}

// Complete ends the stream (the filter's OnComplete).
func (s *Stream) Complete() { C.envoyxtest_complete(s.raw) }

// Close completes the stream if needed and destroys it.
func (s *Stream) Close() {
	if s.raw != nil {
		C.envoyxtest_stream_free(s.raw)
		s.raw = nil
	}
}

// RunScheduled waits up to `wait` for work the filter queued from other goroutines (continues,
// scheduled functions) and runs all of it on this thread; returns how many items ran.
func (s *Stream) RunScheduled(wait time.Duration) int {
	return int(C.envoyxtest_run_scheduled(s.raw, C.uint64_t(wait.Milliseconds())))
}

// Headers is a header list as the next hop got it.
type Headers [][2]string

// Values returns every value of `key` (case-insensitive), in order.
func (h Headers) Values(key string) []string {
	var out []string
	for _, e := range h {
		if strings.EqualFold(e[0], key) {
			out = append(out, e[1])
		}
	}
	return out
}

// Get returns the first value of `key`.
func (h Headers) Get(key string) (string, bool) {
	if values := h.Values(key); len(values) > 0 {
		return values[0], true
	}
	return "", false
}

func (s *Stream) seen(which uint32) Headers {
	var out C.envoyx_testhost_owned
	if !C.envoyxtest_seen_headers(s.raw, C.uint32_t(which), &out) {
		return nil
	}
	return pairs(take(out))
}

// UpstreamRequestHeaders are the request headers upstream got (or, while the filter holds them,
// as they are now); UpstreamRequestTrailers, ClientResponseHeaders and ClientResponseTrailers
// likewise. Trailers are nil when there were none.
func (s *Stream) UpstreamRequestHeaders() Headers  { return s.seen(requestHeaders) }
func (s *Stream) UpstreamRequestTrailers() Headers { return s.seen(requestTrailers) }
func (s *Stream) ClientResponseHeaders() Headers   { return s.seen(responseHeaders) }
func (s *Stream) ClientResponseTrailers() Headers  { return s.seen(responseTrailers) }

func (s *Stream) seenBody(d envoyx.Direction) []byte {
	var out C.envoyx_testhost_owned
	C.envoyxtest_seen_body(s.raw, C.uint32_t(d), &out)
	return take(out)
}

// UpstreamRequestBody is the request body upstream got so far.
func (s *Stream) UpstreamRequestBody() []byte { return s.seenBody(envoyx.Request) }

// ClientResponseBody is the response body the client got so far.
func (s *Stream) ClientResponseBody() []byte { return s.seenBody(envoyx.Response) }

// Forwarded tells whether the headers of `d` went on past the filter.
func (s *Stream) Forwarded(d envoyx.Direction) bool {
	return bool(C.envoyxtest_forwarded(s.raw, C.uint32_t(d)))
}

// LocalReply is a reply the filter sent itself.
type LocalReply struct {
	Status  int
	Headers Headers
	Body    []byte
	Details string
}

// LocalReply returns the filter's local reply, or nil.
func (s *Stream) LocalReply() *LocalReply {
	var status C.uint32_t
	var headers, body, details C.envoyx_testhost_owned
	if !C.envoyxtest_local_reply(s.raw, &status, &headers, &body, &details) {
		return nil
	}
	return &LocalReply{Status: int(status), Headers: pairs(take(headers)), Body: take(body), Details: string(take(details))}
}

// WasReset tells whether the filter reset the stream.
func (s *Stream) WasReset() bool { return bool(C.envoyxtest_was_reset(s.raw)) }

// ResetRefused tells whether the filter reset the stream with envoyx.ResetRefused.
func (s *Stream) ResetRefused() bool { return bool(C.envoyxtest_reset_refused(s.raw)) }

// Watermark plays the proxy's flow-control news (ABI 1.2): its buffer towards `d`'s peer (the
// client, for envoyx.Response) went above its high watermark (`above`) or below its low one. The
// filter's OnWatermark hears of a change when RunScheduled runs.
func (s *Stream) Watermark(d envoyx.Direction, above bool) {
	C.envoyxtest_watermark(s.raw, C.uint32_t(d), C.bool(above))
}

// ProxyLocalReply plays a local reply made after the filter (Envoy's router: 503
// "no_healthy_upstream", a later filter): the filter's OnLocalReply hears of it first and may
// have the stream reset instead (false); otherwise the reply passes the filter's response hooks
// to the client (true).
func (s *Stream) ProxyLocalReply(status int, details, body string) bool {
	return bool(C.envoyxtest_proxy_local_reply(s.raw, C.uint32_t(status), cstr(details), C.size_t(len(details)),
		cstr(body), C.size_t(len(body))))
}

// SetRuntimeBool sets runtime `key` to a boolean for every filter of this process (what Envoy's
// bootstrap layers or RTDS would hold; envoyx.RuntimeBool reads it). Tests share the process:
// give each test its own keys.
func SetRuntimeBool(key string, value bool) {
	v := C.envoyx_value{kind: C.ENVOYX_VALUE_BOOL, boolean: C.bool(value)}
	C.envoyxtest_set_runtime(cstr(key), C.size_t(len(key)), &v)
}

// SetRuntimeNumber sets runtime `key` to a number, as SetRuntimeBool.
func SetRuntimeNumber(key string, value float64) {
	v := C.envoyx_value{kind: C.ENVOYX_VALUE_NUMBER, number: C.double(value)}
	C.envoyxtest_set_runtime(cstr(key), C.size_t(len(key)), &v)
}

// UnsetRuntime removes runtime `key`.
func UnsetRuntime(key string) { C.envoyxtest_set_runtime(cstr(key), C.size_t(len(key)), nil) }

// BufferLimit is the stream's buffer limit: what the filter set (SetBufferLimit), else Envoy's
// default 1 MiB.
func (s *Stream) BufferLimit() uint64 { return uint64(C.envoyxtest_buffer_limit(s.raw)) }

// LogLine is one line a module logged.
type LogLine struct {
	Level   envoyx.Level
	Message string
}

// Logs returns every line the modules of this test program logged so far.
func Logs() []LogLine {
	var out C.envoyx_testhost_owned
	C.envoyxtest_logs(&out)
	fields := bytes.Split(take(out), []byte{0})
	var lines []LogLine
	for i := 0; i+1 < len(fields); i += 2 {
		level, _ := strconv.Atoi(string(fields[i]))
		lines = append(lines, LogLine{envoyx.Level(level), string(fields[i+1])})
	}
	return lines
}

// Logged tells whether any logged line contains `needle`.
func Logged(needle string) bool {
	for _, line := range Logs() {
		if strings.Contains(line.Message, needle) {
			return true
		}
	}
	return false
}

// take copies bytes the host allocated and frees them.
func take(owned C.envoyx_testhost_owned) []byte {
	defer C.envoyxtest_owned_free(owned)
	return C.GoBytes(unsafe.Pointer(owned.ptr), C.int(owned.len))
}

// pairs reads "key\0value\0" pairs.
func pairs(b []byte) Headers {
	fields := bytes.Split(b, []byte{0})
	var out Headers
	for i := 0; i+1 < len(fields); i += 2 {
		out = append(out, [2]string{string(fields[i]), string(fields[i+1])})
	}
	return out
}

// cstr points C at a Go string's bytes for the duration of one call.
func cstr(s string) *C.char { return (*C.char)(unsafe.Pointer(unsafe.StringData(s))) }
