package envoyx

/*
#include "host.h"

static inline bool envoyxgo_send_response_headers(envoyx_stream* stream, uint32_t status,
    const char* buf, const size_t* lens, size_t count, bool end_of_stream) {
  bool sent;
  ENVOYXGO_WITH_HEADERS(sent, buf, lens, count,
      envoyxgo_host->send_response_headers(stream, status, headers, count, end_of_stream));
  return sent;
}

static inline bool envoyxgo_send_response_data(envoyx_stream* stream, const char* data, size_t len,
    bool end_of_stream) {
  return envoyxgo_host->send_response_data(stream, envoyxgo_bytes(data, len), end_of_stream);
}

static inline bool envoyxgo_send_response_trailers(envoyx_stream* stream, const char* buf,
    const size_t* lens, size_t count) {
  bool sent;
  ENVOYXGO_WITH_HEADERS(sent, buf, lens, count,
      envoyxgo_host->send_response_trailers(stream, headers, count));
  return sent;
}
*/
import "C"

// The filter's own response (ABI 1.2): a filter that answers its stream itself, as the last
// filter of a chain with no upstream cluster would (a terminal filter), streaming the response
// over time — server-sent events, chunked output, content served from memory — where
// SendLocalReply sends a response whole.
//
// The phases: send the headers while the request headers are still held (from OnRequestHeaders,
// or from a function run by StreamHandle.Schedule after it stopped them); then data, over as
// many hooks as you like (schedule more functions from a goroutine); then end with endOfStream or
// trailers. Once the headers went, the request goes nowhere else: its hooks still run (read the
// body as it arrives), whatever they return. What a hook sends goes out when it returns.
// x/abi.h (send_response_headers) has every rule.

// SendResponseHeaders starts the filter's own response: `status` (200-599) and `headers`
// (lower-case names, no pseudo-headers, at most 64; a content-length is held to), ending it at
// once when endOfStream. False when refused (the host logs why): the request already went on,
// a response already started or arrived, a bad header.
func (s *Stream) SendResponseHeaders(status int, headers [][2]string, endOfStream bool) bool {
	p := packHeaders(headers)
	return bool(C.envoyxgo_send_response_headers(s.raw, C.uint32_t(status), p.buf(), p.lens(),
		C.size_t(len(headers)), C.bool(endOfStream)))
}

// SendResponseData sends the next `data` of the filter's response (copied; at most 1 MiB per
// call, 16 MiB per hook; empty is fine, to end it), ending it when endOfStream. False when
// refused (logged): no headers sent yet, the response already ended, past its content-length.
func (s *Stream) SendResponseData(data []byte, endOfStream bool) bool {
	return bool(C.envoyxgo_send_response_data(s.raw, cbytes(data), C.size_t(len(data)), C.bool(endOfStream)))
}

// SendResponseTrailers ends the filter's response with `trailers` (1 to 64, checked as
// headers). False when refused (logged), as SendResponseData, or when `trailers` is empty.
func (s *Stream) SendResponseTrailers(trailers [][2]string) bool {
	p := packHeaders(trailers)
	return bool(C.envoyxgo_send_response_trailers(s.raw, p.buf(), p.lens(), C.size_t(len(trailers))))
}
