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

static inline bool envoyxgo_metadata_set_struct(envoyx_stream* stream, const char* ns, size_t ns_len,
    const char* json, size_t json_len) {
  return envoyxgo_host->metadata_set_struct(stream, envoyxgo_bytes(ns, ns_len), envoyxgo_bytes(json, json_len));
}

static inline bool envoyxgo_metadata_get_typed(envoyx_stream* stream, uint32_t source, const char* ns,
    size_t ns_len, envoyx_bytes* type_url, envoyx_bytes* value) {
  return envoyxgo_host->metadata_get_typed(stream, source, envoyxgo_bytes(ns, ns_len), type_url, value);
}

static inline bool envoyxgo_metadata_set_typed(envoyx_stream* stream, const char* ns, size_t ns_len,
    const char* url, size_t url_len, const char* value, size_t value_len) {
  return envoyxgo_host->metadata_set_typed(stream, envoyxgo_bytes(ns, ns_len), envoyxgo_bytes(url, url_len),
                                           envoyxgo_bytes(value, value_len));
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

// MetadataTyped is the typed metadata of namespace `ns` of `source` (its typed_filter_metadata
// entry, a google.protobuf.Any; ABI 1.2): the type URL and the message's serialized protobuf
// bytes, copied. false when absent, and where the proxy serves no typed metadata (stock Envoy
// before 1.40; logged once).
func (s *Stream) MetadataTyped(source MetadataSource, ns string) (typeURL string, value []byte, ok bool) {
	var url, bytes C.envoyx_bytes
	if !bool(C.envoyxgo_metadata_get_typed(s.raw, C.uint32_t(source), cstr(ns), C.size_t(len(ns)), &url, &bytes)) {
		return "", nil, false
	}
	return goString(url.ptr, url.len), []byte(goString(bytes.ptr, bytes.len)), true
}

// SetMetadataStruct merges the JSON object `json` into namespace `ns` of the stream's dynamic
// metadata, as a google.protobuf.Struct (ABI 1.2): its keys replace those already there, the
// others stay. A flat object (strings, numbers, booleans) works on every host; a nested list or
// object, or a null, where the proxy takes a whole Struct (stock Envoy 1.40 and later). false,
// with a warning in the proxy's log, when refused.
func (s *Stream) SetMetadataStruct(ns, json string) bool {
	return bool(C.envoyxgo_metadata_set_struct(s.raw, cstr(ns), C.size_t(len(ns)), cstr(json), C.size_t(len(json))))
}

// SetMetadataTyped sets namespace `ns` of the stream's typed dynamic metadata to a
// google.protobuf.Any of `typeURL` ("type.googleapis.com/package.Message") holding `value`, the
// message's serialized protobuf bytes (at most 64 KiB; ABI 1.2), replacing what the namespace
// held: what Envoy's own consumers of typed metadata read (ext_authz's
// typed_metadata_context_namespaces). Read back with MetadataTyped(MetadataDynamic, ns). false,
// with a warning in the proxy's log, when refused: a bad namespace or type URL, and where the
// proxy takes no typed metadata from modules (stock Envoy before 1.40).
func (s *Stream) SetMetadataTyped(ns, typeURL string, value []byte) bool {
	return bool(C.envoyxgo_metadata_set_typed(s.raw, cstr(ns), C.size_t(len(ns)), cstr(typeURL),
		C.size_t(len(typeURL)), cbytes(value), C.size_t(len(value))))
}
