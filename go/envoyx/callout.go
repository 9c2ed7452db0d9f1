package envoyx

/*
#include "host.h"

static inline uint64_t envoyxgo_http_callout(envoyx_stream* stream, const char* cluster,
    size_t cluster_len, const char* buf, const size_t* lens, size_t count, const char* body,
    size_t body_len, uint64_t timeout_ms) {
  uint64_t id;
  ENVOYXGO_WITH_HEADERS(id, buf, lens, count,
      envoyxgo_host->http_callout(stream, envoyxgo_bytes(cluster, cluster_len), headers, count, envoyxgo_bytes(body, body_len), timeout_ms));
  return id;
}
*/
import "C"

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// CalloutResponse is the answer to an HTTP callout, copied out of Envoy's memory.
type CalloutResponse struct {
	// Status is the response's :status (a timeout is Envoy's own 504).
	Status int
	// Headers are every response header, :status among them, in order.
	Headers [][2]string
	Body    []byte
}

// Header returns the first value of `name` (case-insensitive).
func (r *CalloutResponse) Header(name string) (string, bool) {
	for _, h := range r.Headers {
		if strings.EqualFold(h[0], name) {
			return h[1], true
		}
	}
	return "", false
}

// CalloutError is why a callout got no response.
type CalloutError uint32

const (
	// CalloutNoCluster: Envoy has no cluster of that name.
	CalloutNoCluster CalloutError = 1
	// CalloutUnavailable: the request could not be sent (e.g. no healthy host).
	CalloutUnavailable CalloutError = 2
	// CalloutReset: the connection failed or was reset before a whole response arrived.
	CalloutReset CalloutError = 3
	// CalloutTooLarge: the response was larger than Envoy buffers for a callout.
	CalloutTooLarge CalloutError = 4
)

// Error names the failure as the Rust SDK does (no_cluster, unavailable, reset, too_large).
func (e CalloutError) Error() string {
	switch e {
	case CalloutNoCluster:
		return "no_cluster"
	case CalloutUnavailable:
		return "unavailable"
	case CalloutReset:
		return "reset"
	case CalloutTooLarge:
		return "too_large"
	}
	return fmt.Sprintf("callout_status_%d", uint32(e))
}

// CalloutDone receives a callout's outcome on the stream's thread, with the stream: there it may
// change headers and bodies, reply, reset and Continue. Exactly one of `response` and `err` is
// non-nil.
type CalloutDone func(s *Stream, response *CalloutResponse, err error)

// HTTPCallout sends a request to Envoy's cluster `cluster` (its TLS, load balancing, circuit
// breakers and stats): `headers` must hold :method, :path and :authority (or host); `body` may
// be empty; `timeout` must be at least a millisecond. `done` runs later, exactly once, unless the
// stream completes first (then the callout is cancelled). Only inside a hook, a scheduled
// function or a CalloutDone; false (and `done` never runs) when refused, with the reason in
// Envoy's log. Hold the request with a Stop status and Continue in `done`.
func (s *Stream) HTTPCallout(cluster string, headers [][2]string, body []byte, timeout time.Duration, done CalloutDone) bool {
	state, ok := streams.get(s.state)
	if !ok || done == nil {
		return false
	}
	p := packHeaders(headers)
	id := uint64(C.envoyxgo_http_callout(s.raw, cstr(cluster), C.size_t(len(cluster)), p.buf(), p.lens(),
		C.size_t(len(headers)), cbytes(body), C.size_t(len(body)), C.uint64_t(timeout.Milliseconds())))
	if id == 0 {
		return false
	}
	state.mu.Lock()
	defer state.mu.Unlock()
	if state.callouts == nil {
		state.callouts = map[uint64]CalloutDone{}
	}
	state.callouts[id] = done
	return true
}

// envoyxGoCalloutDone runs the CalloutDone of callout `id` (a panic in it is handled as in a
// scheduled function).
//
//export envoyxGoCalloutDone
func envoyxGoCalloutDone(s *C.envoyx_stream, handle C.uintptr_t, id C.uint64_t, status C.uint32_t,
	headers *C.envoyx_header, headersLen C.size_t, body *C.envoyx_bytes, bodyLen C.size_t) {
	run(s, handle, "a callout's CalloutDone", uint32(0), func(st *streamState, stream *Stream) uint32 {
		st.mu.Lock()
		done := st.callouts[uint64(id)]
		delete(st.callouts, uint64(id))
		st.mu.Unlock()
		if done != nil {
			response, err := calloutResponse(status, headers, headersLen, body, bodyLen)
			done(stream, response, err)
		}
		return 0
	})
}

// calloutResponse copies a callout's outcome out of the host's views: the response, or the
// CalloutError when `status` is not a response.
func calloutResponse(status C.uint32_t, headers *C.envoyx_header, headersLen C.size_t, body *C.envoyx_bytes, bodyLen C.size_t) (*CalloutResponse, error) {
	if status != 0 {
		return nil, CalloutError(status)
	}
	response := &CalloutResponse{Headers: copyHeaders(headers, headersLen), Body: copyChunks(body, bodyLen)}
	for _, h := range response.Headers {
		if h[0] == ":status" {
			response.Status, _ = strconv.Atoi(h[1])
		}
	}
	return response, nil
}

// copyHeaders copies `n` headers out of the host's views.
func copyHeaders(headers *C.envoyx_header, n C.size_t) [][2]string {
	var out [][2]string
	for _, h := range unsafe.Slice(headers, int(n)) {
		out = append(out, [2]string{goString(h.key.ptr, h.key.len), goString(h.value.ptr, h.value.len)})
	}
	return out
}

// copyChunks copies `n` chunks out of the host's views into one slice.
func copyChunks(chunks *C.envoyx_bytes, n C.size_t) []byte {
	var out []byte
	for _, chunk := range unsafe.Slice(chunks, int(n)) {
		out = append(out, unsafe.Slice((*byte)(unsafe.Pointer(chunk.ptr)), int(chunk.len))...)
	}
	return out
}
