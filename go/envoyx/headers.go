package envoyx

/*
#include "host.h"

static inline size_t envoyxgo_header_get(envoyx_stream* stream, uint32_t map, const char* key,
    size_t key_len, envoyx_bytes* values, size_t cap) {
  return envoyxgo_host->header_get(stream, map, envoyxgo_bytes(key, key_len), values, cap);
}

static inline size_t envoyxgo_header_all(envoyx_stream* stream, uint32_t map,
    envoyx_header* headers, size_t cap) {
  return envoyxgo_host->header_all(stream, map, headers, cap);
}

static inline bool envoyxgo_header_set(envoyx_stream* stream, uint32_t map, const char* key,
    size_t key_len, const char* value, size_t value_len, bool add) {
  envoyx_bytes k = envoyxgo_bytes(key, key_len), v = envoyxgo_bytes(value, value_len);
  return add ? envoyxgo_host->header_add(stream, map, k, v) : envoyxgo_host->header_set(stream, map, k, v);
}

static inline bool envoyxgo_trailers_add(envoyx_stream* stream, uint32_t map) {
  return envoyxgo_host->trailers_add(stream, map);
}

static inline size_t envoyxgo_header_remove(envoyx_stream* stream, uint32_t map, const char* key,
    size_t key_len) {
  return envoyxgo_host->header_remove(stream, map, envoyxgo_bytes(key, key_len));
}
*/
import "C"

import "unsafe"

// Headers is one of the stream's header maps. Names are case-insensitive. Values, Get and All
// copy out of Envoy's memory into Go strings; ValuesView and Range hand out views instead (no
// copy, no allocation), valid only during the function they are passed to.
type Headers struct {
	s     *Stream
	which uint32
}

// AddRequestTrailers gives the request trailers when it had none (ABI 1.2) and returns them to
// fill: call it in the request body hook with the chunk that ends the request (endOfStream
// true); the request then ends with these trailers. false, with a warning in the proxy's log,
// anywhere else and on a proxy that cannot add trailers (stock Envoy: envoyproxy/envoy#42559;
// EnvoyX's custom Envoy build and the test hosts can).
func (s *Stream) AddRequestTrailers() (Headers, bool) { return s.addTrailers(1) }

// AddResponseTrailers gives the response trailers when it had none (ABI 1.2), as
// AddRequestTrailers does for the request: in the response body hook with the chunk that ends
// the response.
func (s *Stream) AddResponseTrailers() (Headers, bool) { return s.addTrailers(3) }

func (s *Stream) addTrailers(which uint32) (Headers, bool) {
	return Headers{s, which}, bool(C.envoyxgo_trailers_add(s.raw, C.uint32_t(which)))
}

// Values returns every value of `key`, in order.
func (h Headers) Values(key string) []string {
	var stack [8]C.envoyx_bytes
	views := h.valueViews(key, stack[:])
	values := make([]string, 0, len(views))
	for _, v := range views {
		values = append(values, goString(v.ptr, v.len))
	}
	return values
}

// valueViews is the host's views of every value of `key`, in `stack` when they fit.
func (h Headers) valueViews(key string, stack []C.envoyx_bytes) []C.envoyx_bytes {
	total := int(C.envoyxgo_header_get(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), &stack[0], C.size_t(len(stack))))
	buf := stack
	if total > len(stack) {
		buf = make([]C.envoyx_bytes, total)
		total = int(C.envoyxgo_header_get(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), &buf[0], C.size_t(total)))
	}
	return buf[:min(total, len(buf))]
}

// entryViews is the host's views of every entry, in `stack` when they fit.
func (h Headers) entryViews(stack []C.envoyx_header) []C.envoyx_header {
	total := int(C.envoyxgo_header_all(h.s.raw, C.uint32_t(h.which), &stack[0], C.size_t(len(stack))))
	buf := stack
	if total > len(stack) {
		buf = make([]C.envoyx_header, total)
		total = int(C.envoyxgo_header_all(h.s.raw, C.uint32_t(h.which), &buf[0], C.size_t(total)))
	}
	return buf[:min(total, len(buf))]
}

// ValuesView calls `f` with each value of `key`, in order, as a view into Envoy's memory: valid
// only while `f` runs and the map is not changed (copy what you keep; do not write to it).
func (h Headers) ValuesView(key string, f func(value []byte)) {
	var stack [8]C.envoyx_bytes
	for _, v := range h.valueViews(key, stack[:]) {
		f(view(v.ptr, v.len))
	}
}

// Range calls `f` with every entry, in order, as views into Envoy's memory (valid as in
// ValuesView) until `f` returns false.
func (h Headers) Range(f func(key, value []byte) bool) {
	var stack [32]C.envoyx_header
	for _, e := range h.entryViews(stack[:]) {
		if !f(view(e.key.ptr, e.key.len), view(e.value.ptr, e.value.len)) {
			return
		}
	}
}

// Get returns the first value of `key`.
func (h Headers) Get(key string) (string, bool) {
	values := h.Values(key)
	if len(values) == 0 {
		return "", false
	}
	return values[0], true
}

// Set replaces every value of `key`; false when the map is not available or the host refuses the
// header (and logs why: a bad name, CR/LF/NUL in the value, a pseudo-header it cannot change).
func (h Headers) Set(key, value string) bool {
	return bool(C.envoyxgo_header_set(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), cstr(value), C.size_t(len(value)), false))
}

// Add adds one more value of `key` (refused as Set).
func (h Headers) Add(key, value string) bool {
	return bool(C.envoyxgo_header_set(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), cstr(value), C.size_t(len(value)), true))
}

// Remove removes every value of `key`; returns how many there were.
func (h Headers) Remove(key string) int {
	return int(C.envoyxgo_header_remove(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key))))
}

// All returns every entry, in order (a key with two values appears twice).
func (h Headers) All() [][2]string {
	var stack [32]C.envoyx_header
	entries := h.entryViews(stack[:])
	all := make([][2]string, 0, len(entries))
	for _, e := range entries {
		all = append(all, [2]string{goString(e.key.ptr, e.key.len), goString(e.value.ptr, e.value.len)})
	}
	return all
}

// view is `n` bytes of host memory as a slice (not Go memory: the GC does not see it).
func view(p *C.uint8_t, n C.size_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

// goString copies `n` bytes of host memory into a Go string.
func goString(p *C.uint8_t, n C.size_t) string {
	return C.GoStringN((*C.char)(unsafe.Pointer(p)), C.int(n))
}
