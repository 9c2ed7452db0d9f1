package envoyx

/*
#include "host.h"

static inline uint32_t envoyxgo_worker_count(void) {
  return envoyxgo_host != NULL ? envoyxgo_host->worker_count() : 0;
}

static inline uint32_t envoyxgo_worker_index(envoyx_stream* stream) {
  return envoyxgo_host->worker_index(stream);
}
*/
import "C"

// WorkerCount is how many worker threads the proxy runs streams on (Envoy's --concurrency), for
// per-worker state (ABI 1.2); false when the host does not know, or before it initialised the
// module. Any goroutine.
func WorkerCount() (uint32, bool) {
	n := uint32(C.envoyxgo_worker_count())
	return n, n > 0
}

// WorkerIndex is the index of the worker thread the stream runs on, from 0 to WorkerCount()-1
// (every hook of a stream runs on the same worker); false when the host does not say.
func (s *Stream) WorkerIndex() (uint32, bool) {
	i := uint32(C.envoyxgo_worker_index(s.raw))
	return i, i != ^uint32(0)
}
