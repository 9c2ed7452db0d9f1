package envoyx

/*
#include "host.h"
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

// Values returns every value of `key`, in order.
func (h Headers) Values(key string) []string {
	var views [8]C.envoyx_bytes
	total := int(C.envoyxgo_header_get(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), &views[0], 8))
	buf := views[:]
	if total > len(views) {
		buf = make([]C.envoyx_bytes, total)
		total = int(C.envoyxgo_header_get(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), &buf[0], C.size_t(total)))
	}
	values := make([]string, 0, total)
	for _, v := range buf[:min(total, len(buf))] {
		values = append(values, goString(v.ptr, v.len))
	}
	return values
}

// ValuesView calls `f` with each value of `key`, in order, as a view into Envoy's memory: valid
// only while `f` runs and the map is not changed (copy what you keep; do not write to it).
func (h Headers) ValuesView(key string, f func(value []byte)) {
	var views [8]C.envoyx_bytes
	total := int(C.envoyxgo_header_get(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), &views[0], 8))
	buf := views[:]
	if total > len(views) {
		buf = make([]C.envoyx_bytes, total)
		total = int(C.envoyxgo_header_get(h.s.raw, C.uint32_t(h.which), cstr(key), C.size_t(len(key)), &buf[0], C.size_t(total)))
	}
	for _, v := range buf[:min(total, len(buf))] {
		f(view(v.ptr, v.len))
	}
}

// Range calls `f` with every entry, in order, as views into Envoy's memory (valid as in
// ValuesView) until `f` returns false.
func (h Headers) Range(f func(key, value []byte) bool) {
	var first [32]C.envoyx_header
	total := int(C.envoyxgo_header_all(h.s.raw, C.uint32_t(h.which), &first[0], 32))
	buf := first[:]
	if total > len(first) {
		buf = make([]C.envoyx_header, total)
		total = int(C.envoyxgo_header_all(h.s.raw, C.uint32_t(h.which), &buf[0], C.size_t(total)))
	}
	for _, e := range buf[:min(total, len(buf))] {
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
	var first [32]C.envoyx_header
	total := int(C.envoyxgo_header_all(h.s.raw, C.uint32_t(h.which), &first[0], 32))
	buf := first[:]
	if total > len(first) {
		buf = make([]C.envoyx_header, total)
		total = int(C.envoyxgo_header_all(h.s.raw, C.uint32_t(h.which), &buf[0], C.size_t(total)))
	}
	all := make([][2]string, 0, total)
	for _, e := range buf[:min(total, len(buf))] {
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
