package envoyx

/*
#include "host.h"

static inline uint64_t envoyxgo_buffer_limit(envoyx_stream* stream) {
  return envoyxgo_host->buffer_limit(stream);
}

static inline bool envoyxgo_set_buffer_limit(envoyx_stream* stream, uint64_t limit) {
  return envoyxgo_host->set_buffer_limit(stream, limit);
}
*/
import "C"

// Flow control (ABI 1.2): the stream's buffer limit. The watermark news comes to a filter that
// implements WatermarkFilter.

// BufferLimit is the stream's buffer limit in bytes: how much the proxy holds of a direction a
// filter stopped (past it Envoy answers 413 for a request) and its high watermark towards each
// peer. Envoy keeps one limit for both directions (the listener's
// per_connection_buffer_limit_bytes, 1 MiB by default). ok is false when the host does not say.
func (s *Stream) BufferLimit() (limit uint64, ok bool) {
	limit = uint64(C.envoyxgo_buffer_limit(s.raw))
	return limit, limit > 0
}

// SetBufferLimit sets the stream's buffer limit, 1 byte to 1 GiB: raise it to buffer a larger
// body whole, lower it to pause a fast peer sooner. False when refused (logged) or when the host
// cannot.
func (s *Stream) SetBufferLimit(limit uint64) bool {
	return bool(C.envoyxgo_set_buffer_limit(s.raw, C.uint64_t(limit)))
}
