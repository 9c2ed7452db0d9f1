package envoyx

/*
#include "host.h"

static inline size_t envoyxgo_upstream_hosts_attempted(envoyx_stream* stream, envoyx_bytes* out,
    size_t cap) {
  return envoyxgo_host->upstream_hosts_attempted(stream, out, cap);
}

static inline bool envoyxgo_timing_get(envoyx_stream* stream, uint32_t timing, int64_t* ns) {
  return envoyxgo_host->timing_get(stream, timing, ns);
}
*/
import "C"

import "time"

// Timing is a moment of a stream (ABI 1.2). TimingStartUnix is the request's start as
// wall-clock time; every other one is an offset from that start on a monotonic clock (zero or
// negative are valid: a connection began before its request). Mirrors envoyx_timing.
type Timing uint32

const (
	TimingStartUnix                   Timing = 0  // the request's start, ns since the Unix epoch
	TimingDownstreamConnectionBegin   Timing = 1  // the client's connection accepted
	TimingDownstreamHandshakeStart    Timing = 2  // the client's TLS ClientHello
	TimingDownstreamHandshakeComplete Timing = 3  // the client's TLS handshake done
	TimingLastDownstreamHeaderRx      Timing = 4  // the request headers received
	TimingLastDownstreamRx            Timing = 5  // the whole request received
	TimingUpstreamConnectStart        Timing = 6  // the upstream connection started
	TimingUpstreamConnectComplete     Timing = 7  // the upstream connection made
	TimingUpstreamHandshakeComplete   Timing = 8  // the upstream TLS handshake done
	TimingFirstUpstreamTx             Timing = 9  // the request's first byte sent upstream
	TimingLastUpstreamTx              Timing = 10 // the request's last byte sent upstream
	TimingFirstUpstreamRx             Timing = 11 // the response's first byte from upstream
	TimingFirstUpstreamRxBody         Timing = 12 // the response body's first byte from upstream
	TimingLastUpstreamRx              Timing = 13 // the response's last byte from upstream
	TimingFirstDownstreamTx           Timing = 14 // the response's first byte sent to the client
	TimingLastDownstreamTx            Timing = 15 // the response's last byte sent to the client
	TimingLastDownstreamAck           Timing = 16 // QUIC: the client's last ACK
	TimingRequestComplete             Timing = 17 // the stream done
	TimingDownstreamConnectionEnd     Timing = 18 // the client's connection closed during the request
)

// Timing is the moment `t` in nanoseconds, if the proxy knows it by now; false too where the
// proxy serves no timing to modules (stock Envoy before 1.40; logged once).
func (s *Stream) Timing(t Timing) (int64, bool) {
	var ns C.int64_t
	ok := bool(C.envoyxgo_timing_get(s.raw, C.uint32_t(t), &ns))
	return int64(ns), ok
}

// StartTime is when the request started, as wall-clock time (TimingStartUnix).
func (s *Stream) StartTime() (time.Time, bool) {
	ns, ok := s.Timing(TimingStartUnix)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// UpstreamHostsAttempted is the addresses ("10.0.0.7:8080") of the upstream hosts the request was
// sent to so far, in attempt order: retries and hedged requests add one each. Empty before the
// request went upstream, and where the proxy serves no such list (stock Envoy before 1.40;
// logged once).
func (s *Stream) UpstreamHostsAttempted() []string {
	var stack [4]C.envoyx_bytes
	views := stack[:]
	total := int(C.envoyxgo_upstream_hosts_attempted(s.raw, &views[0], C.size_t(len(views))))
	if total > len(views) {
		views = make([]C.envoyx_bytes, total)
		total = min(int(C.envoyxgo_upstream_hosts_attempted(s.raw, &views[0], C.size_t(total))), total)
	}
	hosts := make([]string, 0, total)
	for _, v := range views[:total] {
		hosts = append(hosts, goString(v.ptr, v.len))
	}
	return hosts
}
