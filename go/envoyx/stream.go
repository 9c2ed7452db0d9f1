package envoyx

/*
#include "host.h"

static inline bool envoyxgo_send_local_reply(envoyx_stream* stream, uint32_t status,
    const char* buf, const size_t* lens, size_t count, const char* body, size_t body_len,
    const char* details, size_t details_len) {
  bool sent;
  ENVOYXGO_WITH_HEADERS(sent, buf, lens, count,
      envoyxgo_host->send_local_reply(stream, status, headers, count, envoyxgo_bytes(body, body_len), envoyxgo_bytes(details, details_len)));
  return sent;
}

static inline void envoyxgo_reset(envoyx_stream* stream) { envoyxgo_host->reset_stream(stream); }

static inline bool envoyxgo_recreate_stream(envoyx_stream* stream, const char* buf, const size_t* lens,
    size_t count) {
  bool started;
  ENVOYXGO_WITH_HEADERS(started, buf, lens, count,
      envoyxgo_host->recreate_stream(stream, headers, count));
  return started;
}

static inline bool envoyxgo_reset_with_reason(envoyx_stream* stream, uint32_t reason,
    const char* details, size_t details_len) {
  return envoyxgo_host->reset_stream_with_reason(stream, reason, envoyxgo_bytes(details, details_len));
}

static inline envoyx_stream_handle* envoyxgo_stream_handle_new(envoyx_stream* stream) {
  return envoyxgo_host->stream_handle_new(stream);
}

static inline bool envoyxgo_stream_handle_continue(envoyx_stream_handle* handle,
    uint32_t direction) {
  return envoyxgo_host->stream_handle_continue(handle, direction);
}

static inline bool envoyxgo_stream_handle_schedule(envoyx_stream_handle* handle,
    uint64_t event_id) {
  return envoyxgo_host->stream_handle_schedule(handle, event_id);
}

static inline void envoyxgo_stream_handle_release(envoyx_stream_handle* handle) {
  envoyxgo_host->stream_handle_release(handle);
}

static inline bool envoyxgo_continue_stream(envoyx_stream* stream, uint32_t direction) {
  return envoyxgo_host->continue_stream(stream, direction);
}
*/
import "C"

import (
	"runtime"
	"sync"
)

// Stream is the stream a hook runs for; valid during that hook only.
type Stream struct {
	raw   *C.envoyx_stream
	state uintptr // the stream's handle in `streams`
}

// RequestHeaders, ResponseHeaders, RequestTrailers and ResponseTrailers are the stream's header
// maps (available from the hook of that map on).
func (s *Stream) RequestHeaders() Headers   { return Headers{s, 0} }
func (s *Stream) RequestTrailers() Headers  { return Headers{s, 1} }
func (s *Stream) ResponseHeaders() Headers  { return Headers{s, 2} }
func (s *Stream) ResponseTrailers() Headers { return Headers{s, 3} }

// SendLocalReply answers the stream from the filter; false when refused (the host logs why):
// the response already started, the status is outside 200-599, `details` holds whitespace, or a
// header is refused. The hook should then return a Stop status.
func (s *Stream) SendLocalReply(status int, headers [][2]string, body []byte, details string) bool {
	p := packHeaders(headers)
	return bool(C.envoyxgo_send_local_reply(s.raw, C.uint32_t(status), p.buf(), p.lens(), C.size_t(len(headers)),
		cbytes(body), C.size_t(len(body)), cstr(details), C.size_t(len(details))))
}

// Reset resets the stream: the client and the upstream see it aborted, after the hook returns.
func (s *Stream) Reset() { C.envoyxgo_reset(s.raw) }

// RecreateStream starts the request over once the current function returns (ABI 1.2; what an
// internal redirect does): the proxy ends this stream (the filter gets OnComplete) and runs the
// request again from the start of the filter chain, with its headers as they are then — change
// :path or :authority first to send it elsewhere; every filter, this one included, sees a new
// stream. responseHeaders are the response that made the filter start over (a 3xx's headers,
// :status allowed), kept for the access log; may be nil. Only a request whose headers ended it
// (no body to replay) may start over, only while no response started; false when refused
// (logged). Return a Stop status from the hook.
func (s *Stream) RecreateStream(responseHeaders [][2]string) bool {
	p := packHeaders(responseHeaders)
	return bool(C.envoyxgo_recreate_stream(s.raw, p.buf(), p.lens(), C.size_t(len(responseHeaders))))
}

// ResetReason is what ResetWithReason tells the client (ABI 1.2, x/abi.h envoyx_reset_reason).
type ResetReason uint32

const (
	// ResetLocal aborts the stream, as Reset does (HTTP/2 INTERNAL_ERROR).
	ResetLocal ResetReason = C.ENVOYX_RESET_LOCAL
	// ResetRefused says the request was refused before any of it was processed (HTTP/2
	// REFUSED_STREAM), so a client may safely retry it elsewhere: for load shedding.
	ResetRefused ResetReason = C.ENVOYX_RESET_REFUSED
)

// ResetWithReason resets the stream like Reset, telling the client `reason` (Envoy 1.38-1.40
// reset alike whatever the reason, as x/abi.h says). `details` says why
// for the operator: one token (no whitespace or control characters), at most 256 bytes, may be
// empty; the proxy writes it to its debug log with the module and filter. False when refused
// (logged): details that are not one token, or a hook that may not reset.
func (s *Stream) ResetWithReason(reason ResetReason, details string) bool {
	return bool(C.envoyxgo_reset_with_reason(s.raw, C.uint32_t(reason), cstr(details), C.size_t(len(details))))
}

// Continue resumes `d`, which an earlier hook stopped, after the current function returns. Only
// where the stream runs on work the module started: a function run by StreamHandle.Schedule, a
// callout's done function or a streaming callout's event, OnWatermark (in a stream event hook,
// return a Continue status instead); false when `d` is not stopped, the stream was answered or
// reset, or it is called elsewhere.
func (s *Stream) Continue(d Direction) bool {
	return bool(C.envoyxgo_continue_stream(s.raw, C.uint32_t(d)))
}

// Handle returns a handle to the stream for another goroutine: to continue it, or to run a
// function on the stream's thread, after a hook returned a Stop status. Release it when done
// (it is released by the garbage collector otherwise). Safe to use after the stream is gone:
// its methods then return false.
func (s *Stream) Handle() *StreamHandle {
	h := &StreamHandle{raw: C.envoyxgo_stream_handle_new(s.raw), state: s.state}
	runtime.SetFinalizer(h, (*StreamHandle).Release)
	return h
}

// StreamHandle continues a stream, or acts on it, from any goroutine.
type StreamHandle struct {
	mu    sync.Mutex // guards raw against Release racing a call
	raw   *C.envoyx_stream_handle
	state uintptr
}

// Continue asks Envoy to resume `d` of the stream on its thread, later. False when the stream is
// gone; resuming a direction that is not stopped is ignored safely.
func (h *StreamHandle) Continue(d Direction) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.raw != nil && bool(C.envoyxgo_stream_handle_continue(h.raw, C.uint32_t(d)))
}

// Schedule runs `fn` on the stream's thread, later, with the stream: there it may read and
// change headers and bodies, reply, reset, and Continue. Functions and continues of one stream
// run one at a time, in the order asked for. False (and `fn` never runs) when the stream is gone;
// a function still queued when the stream completes is dropped.
func (h *StreamHandle) Schedule(fn func(s *Stream)) bool {
	state, ok := streams.get(h.state)
	if !ok {
		return false
	}
	event := state.queue(fn)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.raw == nil || !bool(C.envoyxgo_stream_handle_schedule(h.raw, C.uint64_t(event))) {
		state.take(event)
		return false
	}
	return true
}

// Release gives the handle back; later calls return false. Calling it again does nothing.
func (h *StreamHandle) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.raw != nil {
		C.envoyxgo_stream_handle_release(h.raw)
		h.raw = nil
	}
}
