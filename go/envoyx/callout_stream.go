package envoyx

/*
#include "host.h"

static inline uint64_t envoyxgo_callout_stream_start(envoyx_stream* stream, const char* cluster,
    size_t cluster_len, const char* buf, const size_t* lens, size_t count, const char* body,
    size_t body_len, bool end, uint64_t timeout_ms) {
  uint64_t id;
  ENVOYXGO_WITH_HEADERS(id, buf, lens, count,
      envoyxgo_host->callout_stream_start(stream, envoyxgo_bytes(cluster, cluster_len), headers, count, envoyxgo_bytes(body, body_len), end, timeout_ms));
  return id;
}

static inline bool envoyxgo_callout_stream_send(envoyx_stream* stream, uint64_t id,
    const char* data, size_t len, bool end) {
  return envoyxgo_host->callout_stream_send(stream, id, envoyxgo_bytes(data, len), end);
}

static inline bool envoyxgo_callout_stream_send_trailers(envoyx_stream* stream, uint64_t id,
    const char* buf, const size_t* lens, size_t count) {
  bool sent;
  ENVOYXGO_WITH_HEADERS(sent, buf, lens, count,
      envoyxgo_host->callout_stream_send_trailers(stream, id, headers, count));
  return sent;
}

static inline bool envoyxgo_callout_stream_reset(envoyx_stream* stream, uint64_t id) {
  return envoyxgo_host->callout_stream_reset(stream, id);
}
*/
import "C"

import (
	"strconv"
	"time"
)

// CalloutEventKind says what happened on a streaming callout, in this order: Headers once, Data
// zero or more times, Trailers at most once, then exactly one of Complete or Failed, the last
// event of that callout. A callout that fails before a response arrives gets only Failed.
type CalloutEventKind uint32

const (
	CalloutEventHeaders  CalloutEventKind = 0
	CalloutEventData     CalloutEventKind = 1
	CalloutEventTrailers CalloutEventKind = 2
	CalloutEventComplete CalloutEventKind = 3
	CalloutEventFailed   CalloutEventKind = 4
)

// CalloutEvent is one event of a streaming callout, copied out of Envoy's memory.
type CalloutEvent struct {
	Kind CalloutEventKind
	// Status is the response's :status (Headers; a timeout is Envoy's own 504).
	Status int
	// Headers are the response headers (Headers, :status among them) or trailers (Trailers).
	Headers [][2]string
	// Data is the body chunks of a Data event.
	Data []byte
	// EndOfStream: nothing but Complete follows (Headers, Data).
	EndOfStream bool
	// Err is why the callout ended early (Failed): a CalloutError.
	Err error
}

// CalloutEvents receives a streaming callout's events on the stream's thread, with the stream
// (every hook function works there, Continue and the Callout* functions included).
type CalloutEvents func(s *Stream, id uint64, e CalloutEvent)

// StartCalloutStream opens a request to Envoy's cluster `cluster` whose body the filter sends in
// chunks (CalloutSend, CalloutSendTrailers) and whose response arrives in events. `headers`,
// `body` and `timeout` as for HTTPCallout; `endOfStream` sends the whole request now. Returns the
// callout's id, or 0 when refused (the reason in Envoy's log). Events come later, never after the
// stream completes or after CalloutReset.
func (s *Stream) StartCalloutStream(cluster string, headers [][2]string, body []byte, endOfStream bool, timeout time.Duration, events CalloutEvents) uint64 {
	state, ok := streams.get(s.state)
	if !ok || events == nil {
		return 0
	}
	p := packHeaders(headers)
	id := uint64(C.envoyxgo_callout_stream_start(s.raw, cstr(cluster), C.size_t(len(cluster)), p.buf(), p.lens(),
		C.size_t(len(headers)), cbytes(body), C.size_t(len(body)), C.bool(endOfStream), C.uint64_t(timeout.Milliseconds())))
	if id != 0 {
		state.mu.Lock()
		defer state.mu.Unlock()
		if state.calloutStreams == nil {
			state.calloutStreams = map[uint64]CalloutEvents{}
		}
		state.calloutStreams[id] = events
	}
	return id
}

// CalloutSend sends the next request body chunk on the streaming callout `id`; `endOfStream`
// ends the request. False (logged) when `id` is not open or its request already ended.
func (s *Stream) CalloutSend(id uint64, data []byte, endOfStream bool) bool {
	return bool(C.envoyxgo_callout_stream_send(s.raw, C.uint64_t(id), cbytes(data), C.size_t(len(data)), C.bool(endOfStream)))
}

// CalloutSendTrailers ends the request of the streaming callout `id` with `trailers`.
func (s *Stream) CalloutSendTrailers(id uint64, trailers [][2]string) bool {
	p := packHeaders(trailers)
	return bool(C.envoyxgo_callout_stream_send_trailers(s.raw, C.uint64_t(id), p.buf(), p.lens(), C.size_t(len(trailers))))
}

// CalloutReset abandons the streaming callout `id`: Envoy resets it and no further event comes.
func (s *Stream) CalloutReset(id uint64) bool {
	state, _ := streams.get(s.state)
	if state != nil {
		state.mu.Lock()
		delete(state.calloutStreams, id)
		state.mu.Unlock()
	}
	return bool(C.envoyxgo_callout_stream_reset(s.raw, C.uint64_t(id)))
}

//export envoyxGoCalloutEvent
func envoyxGoCalloutEvent(s *C.envoyx_stream, handle C.uintptr_t, id C.uint64_t, kind C.uint32_t, status C.uint32_t,
	headers *C.envoyx_header, headersLen C.size_t, data *C.envoyx_bytes, dataLen C.size_t, end C.bool) {
	run(s, handle, "a streaming callout's CalloutEvents", uint32(0), func(st *streamState, stream *Stream) uint32 {
		e := calloutEvent(kind, status, headers, headersLen, data, dataLen, end)
		st.mu.Lock()
		events := st.calloutStreams[uint64(id)]
		if e.Kind == CalloutEventComplete || e.Kind == CalloutEventFailed {
			delete(st.calloutStreams, uint64(id))
		}
		st.mu.Unlock()
		if events != nil {
			events(stream, uint64(id), e)
		}
		return 0
	})
}

// calloutEvent copies a streaming callout's event out of the host's views.
func calloutEvent(kind, status C.uint32_t, headers *C.envoyx_header, headersLen C.size_t, data *C.envoyx_bytes, dataLen C.size_t, end C.bool) CalloutEvent {
	e := CalloutEvent{Kind: CalloutEventKind(kind), EndOfStream: bool(end)}
	switch e.Kind {
	case CalloutEventHeaders, CalloutEventTrailers:
		e.Headers = copyHeaders(headers, headersLen)
		for _, h := range e.Headers {
			if h[0] == ":status" {
				e.Status, _ = strconv.Atoi(h[1])
			}
		}
	case CalloutEventData:
		e.Data = copyChunks(data, dataLen)
	case CalloutEventFailed:
		e.Err = CalloutError(status)
	}
	return e
}
