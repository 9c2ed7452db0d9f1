package envoyx

/*
#include "host.h"

static inline size_t envoyxgo_body_length(envoyx_stream* stream, uint32_t body) {
  return envoyxgo_host->body_length(stream, body);
}

static inline size_t envoyxgo_body_slices(envoyx_stream* stream, uint32_t body,
    envoyx_slice* slices, size_t cap) {
  return envoyxgo_host->body_slices(stream, body, slices, cap);
}

static inline bool envoyxgo_body_drain(envoyx_stream* stream, uint32_t body, size_t len) {
  return envoyxgo_host->body_drain(stream, body, len);
}

static inline bool envoyxgo_body_add(envoyx_stream* stream, uint32_t body, const char* data,
    size_t len, int where) {
  return where == 0 ? envoyxgo_host->body_prepend(stream, body, envoyxgo_bytes(data, len))
                    : envoyxgo_host->body_append(stream, body, envoyxgo_bytes(data, len));
}

static inline bool envoyxgo_body_replace(envoyx_stream* stream, uint32_t body, size_t offset,
    size_t len, const char* data, size_t data_len) {
  return envoyxgo_host->body_replace(stream, body, offset, len, envoyxgo_bytes(data, data_len));
}
*/
import "C"

import (
	"io"
	"unsafe"
)

// Body is one of the stream's bodies: a list of slices in Envoy's memory.
//
// Invariants: the slices [Body.Slices] returns are views straight into Envoy's buffers (zero
// copy), in order, never empty, writable in place; they are valid until this body is changed
// (Drain, Prepend, Append, Replace) or the hook returns, and must not be kept past that. They
// are not Go memory: the garbage collector does not see them, and bytes written past a slice's
// length corrupt Envoy. Copy ([Body.Bytes]) what must outlive the hook.
//
// Length and framing: a change of length is refused (false, one warning naming the fix) once
// that direction's headers went on carrying content-length; while the headers are held (a Stop
// status), Envoy's host keeps content-length right itself. See x/abi.h.
type Body struct {
	s    *Stream
	kind uint32
}

// RequestBody is the chunk the current request body hook carries; RequestBufferedBody is what
// earlier hooks buffered (BodyStopAndBuffer). At the end of a buffered stream the whole body is
// the buffered body followed by the received one: see WholeRequestBody.
func (s *Stream) RequestBody() Body          { return Body{s, 0} }
func (s *Stream) RequestBufferedBody() Body  { return Body{s, 1} }
func (s *Stream) ResponseBody() Body         { return Body{s, 2} }
func (s *Stream) ResponseBufferedBody() Body { return Body{s, 3} }

// WholeRequestBody reads the buffered request body followed by the received chunk.
func (s *Stream) WholeRequestBody() io.Reader {
	return io.MultiReader(s.RequestBufferedBody().Reader(), s.RequestBody().Reader())
}

// WholeResponseBody reads the buffered response body followed by the received chunk.
func (s *Stream) WholeResponseBody() io.Reader {
	return io.MultiReader(s.ResponseBufferedBody().Reader(), s.ResponseBody().Reader())
}

// Len is the body's length in bytes (0 when it is not available).
func (b Body) Len() int { return int(C.envoyxgo_body_length(b.s.raw, C.uint32_t(b.kind))) }

// Slices returns the body as views into Envoy's memory (see Body's invariants).
func (b Body) Slices() [][]byte {
	var first [16]C.envoyx_slice
	total := int(C.envoyxgo_body_slices(b.s.raw, C.uint32_t(b.kind), &first[0], 16))
	buf := first[:]
	if total > len(first) {
		buf = make([]C.envoyx_slice, total)
		total = int(C.envoyxgo_body_slices(b.s.raw, C.uint32_t(b.kind), &buf[0], C.size_t(total)))
	}
	slices := make([][]byte, 0, total)
	for _, s := range buf[:min(total, len(buf))] {
		slices = append(slices, unsafe.Slice((*byte)(unsafe.Pointer(s.ptr)), int(s.len)))
	}
	return slices
}

// Bytes returns a copy of the body, in one Go slice.
func (b Body) Bytes() []byte {
	out := make([]byte, 0, b.Len())
	for _, s := range b.Slices() {
		out = append(out, s...)
	}
	return out
}

// Reader reads the body across its slices without copying it first; it is valid as long as
// the slices are.
func (b Body) Reader() io.Reader { return &slicesReader{slices: b.Slices()} }

// Drain removes the first `n` bytes (all of them when n exceeds the length).
func (b Body) Drain(n int) bool {
	return n >= 0 && bool(C.envoyxgo_body_drain(b.s.raw, C.uint32_t(b.kind), C.size_t(n)))
}

// Prepend inserts a copy of `data` before the first byte.
func (b Body) Prepend(data []byte) bool {
	return bool(C.envoyxgo_body_add(b.s.raw, C.uint32_t(b.kind), cbytes(data), C.size_t(len(data)), 0))
}

// Append adds a copy of `data` after the last byte.
func (b Body) Append(data []byte) bool {
	return bool(C.envoyxgo_body_add(b.s.raw, C.uint32_t(b.kind), cbytes(data), C.size_t(len(data)), 1))
}

// Replace replaces the `n` bytes at `offset` with a copy of `data` (longer or shorter); false,
// and nothing changes, when the range is not within the body.
func (b Body) Replace(offset, n int, data []byte) bool {
	return offset >= 0 && n >= 0 && bool(C.envoyxgo_body_replace(b.s.raw, C.uint32_t(b.kind),
		C.size_t(offset), C.size_t(n), cbytes(data), C.size_t(len(data))))
}

// slicesReader is an io.Reader across a list of slices.
type slicesReader struct{ slices [][]byte }

func (r *slicesReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && len(r.slices) > 0 {
		copied := copy(p[n:], r.slices[0])
		n += copied
		if r.slices[0] = r.slices[0][copied:]; len(r.slices[0]) == 0 {
			r.slices = r.slices[1:]
		}
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// WillChangeRequestBodyLength removes the request's content-length so that the request body's
// length may change while the headers go on at once (call it in OnRequestHeaders); true when
// there was one. Envoy then sends the request chunked (HTTP/1.1) or as is (HTTP/2).
func (s *Stream) WillChangeRequestBodyLength() bool {
	return s.RequestHeaders().Remove("content-length") > 0
}

// WillChangeResponseBodyLength is WillChangeRequestBodyLength for the response (call it in
// OnResponseHeaders).
func (s *Stream) WillChangeResponseBodyLength() bool {
	return s.ResponseHeaders().Remove("content-length") > 0
}
