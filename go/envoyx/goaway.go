package envoyx

/*
#include "host.h"

static inline bool envoyxgo_send_goaway_and_close(envoyx_stream* stream, bool graceful) {
  return envoyxgo_host->send_goaway_and_close(stream, graceful);
}
*/
import "C"

// SendGoAwayAndClose ends the stream as Reset does and closes the client's connection (ABI
// 1.2): HTTP/2 and HTTP/3 send GOAWAY first, so the client opens a new connection for what it
// sends next; `graceful` lets the connection's other streams finish. Return a Stop status from
// the hook. false when refused (logged), where a reset would be.
func (s *Stream) SendGoAwayAndClose(graceful bool) bool {
	return bool(C.envoyxgo_send_goaway_and_close(s.raw, C.bool(graceful)))
}
