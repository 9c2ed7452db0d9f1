package envoyx

/*
#include "host.h"

static inline uint64_t envoyxgo_span_start_child(envoyx_stream* s, uint64_t parent, const char* op, size_t op_len) {
  return envoyxgo_host->span_start_child(s, parent, envoyxgo_bytes(op, op_len));
}
static inline bool envoyxgo_span_tag(envoyx_stream* s, uint64_t span, const char* k, size_t kl, const char* v, size_t vl) {
  return envoyxgo_host->span_tag(s, span, envoyxgo_bytes(k, kl), envoyxgo_bytes(v, vl));
}
static inline bool envoyxgo_span_log(envoyx_stream* s, uint64_t span, const char* e, size_t el) {
  return envoyxgo_host->span_log(s, span, envoyxgo_bytes(e, el));
}
static inline bool envoyxgo_span_set_sampled(envoyx_stream* s, uint64_t span, bool sampled) {
  return envoyxgo_host->span_set_sampled(s, span, sampled);
}
static inline bool envoyxgo_span_finish(envoyx_stream* s, uint64_t span) {
  return envoyxgo_host->span_finish(s, span);
}
static inline bool envoyxgo_span_baggage_set(envoyx_stream* s, const char* k, size_t kl, const char* v, size_t vl) {
  return envoyxgo_host->span_baggage_set(s, envoyxgo_bytes(k, kl), envoyxgo_bytes(v, vl));
}
static inline bool envoyxgo_span_baggage_get(envoyx_stream* s, const char* k, size_t kl, envoyx_bytes* out) {
  return envoyxgo_host->span_baggage_get(s, envoyxgo_bytes(k, kl), out);
}
static inline bool envoyxgo_span_trace_id(envoyx_stream* s, envoyx_bytes* out) {
  return envoyxgo_host->span_trace_id(s, out);
}
*/
import "C"

import "unsafe"

// Tracing beyond a tag on the active span (ABI 1.2): child spans that live across hooks, their
// tags, logs and sampling, baggage, and the trace id. Every call works inside any hook but
// OnComplete, and does nothing (false) without a tracer in the proxy. Spans a filter leaves
// open are finished when the stream ends.

// SpanID names a span of the stream: ActiveSpan (the proxy's span of this request) or a child
// span the filter started, valid until finished.
type SpanID uint64

// ActiveSpan is the stream's active span.
const ActiveSpan SpanID = 0

// StartChildSpan starts a child span of `parent` named `operation`, timed from now (at most 64
// open per stream); ok is false without a tracer or when refused (logged).
func (s *Stream) StartChildSpan(parent SpanID, operation string) (span SpanID, ok bool) {
	id := C.envoyxgo_span_start_child(s.raw, C.uint64_t(parent), cstr(operation), C.size_t(len(operation)))
	return SpanID(id), id != 0
}

// SpanTag tags `span` with key: value.
func (s *Stream) SpanTag(span SpanID, key, value string) bool {
	return bool(C.envoyxgo_span_tag(s.raw, C.uint64_t(span), cstr(key), C.size_t(len(key)), cstr(value), C.size_t(len(value))))
}

// SpanLog logs `event` on `span`, timed now.
func (s *Stream) SpanLog(span SpanID, event string) bool {
	return bool(C.envoyxgo_span_log(s.raw, C.uint64_t(span), cstr(event), C.size_t(len(event))))
}

// SpanSetSampled overrides the sampling decision of `span` (and of what it starts later).
func (s *Stream) SpanSetSampled(span SpanID, sampled bool) bool {
	return bool(C.envoyxgo_span_set_sampled(s.raw, C.uint64_t(span), C.bool(sampled)))
}

// FinishSpan finishes a child span: the tracer reports it. The active span is the proxy's.
func (s *Stream) FinishSpan(span SpanID) bool {
	return bool(C.envoyxgo_span_finish(s.raw, C.uint64_t(span)))
}

// SetBaggage sets baggage key: value on the active span, which carries it to the upstream and
// to every span after.
func (s *Stream) SetBaggage(key, value string) bool {
	return bool(C.envoyxgo_span_baggage_set(s.raw, cstr(key), C.size_t(len(key)), cstr(value), C.size_t(len(value))))
}

// Baggage reads baggage `key` of the active span.
func (s *Stream) Baggage(key string) (string, bool) {
	var out C.envoyx_bytes
	if !bool(C.envoyxgo_span_baggage_get(s.raw, cstr(key), C.size_t(len(key)), &out)) {
		return "", false
	}
	return C.GoStringN((*C.char)(unsafe.Pointer(out.ptr)), C.int(out.len)), true
}

// TraceID is the trace id of the active span (the tracer's form, e.g. 32 hex digits).
func (s *Stream) TraceID() (string, bool) {
	var out C.envoyx_bytes
	if !bool(C.envoyxgo_span_trace_id(s.raw, &out)) {
		return "", false
	}
	return C.GoStringN((*C.char)(unsafe.Pointer(out.ptr)), C.int(out.len)), true
}
