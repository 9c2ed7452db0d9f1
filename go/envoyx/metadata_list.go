package envoyx

/*
#include "host.h"

static inline size_t envoyxgo_metadata_names(envoyx_stream* stream, uint32_t source, bool keys,
    const char* ns, size_t ns_len, envoyx_bytes* out, size_t cap) {
  if (keys) {
    return envoyxgo_host->metadata_keys(stream, source, envoyxgo_bytes(ns, ns_len), out, cap);
  }
  return envoyxgo_host->metadata_namespaces(stream, source, out, cap);
}
*/
import "C"

// MetadataNamespaces is the namespaces of `source`'s metadata, in the proxy's order (ABI 1.2):
// what other filters, the proxy or the configuration put there; empty when it has none (yet).
func (s *Stream) MetadataNamespaces(source MetadataSource) []string {
	return s.metadataNames(source, false, "")
}

// MetadataKeys is the keys of namespace `ns` of `source`'s metadata, in the proxy's order (ABI
// 1.2); empty when the namespace is absent.
func (s *Stream) MetadataKeys(source MetadataSource, ns string) []string {
	return s.metadataNames(source, true, ns)
}

func (s *Stream) metadataNames(source MetadataSource, keys bool, ns string) []string {
	var stack [16]C.envoyx_bytes
	list := func(out []C.envoyx_bytes) int {
		return int(C.envoyxgo_metadata_names(s.raw, C.uint32_t(source), C.bool(keys), cstr(ns), C.size_t(len(ns)), &out[0], C.size_t(len(out))))
	}
	views := stack[:]
	total := list(views)
	if total > len(views) {
		views = make([]C.envoyx_bytes, total)
		total = min(list(views), total)
	}
	names := make([]string, 0, total)
	for _, v := range views[:total] {
		names = append(names, goString(v.ptr, v.len))
	}
	return names
}
