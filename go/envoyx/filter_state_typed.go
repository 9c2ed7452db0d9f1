package envoyx

/*
#include "host.h"

static inline bool envoyxgo_filter_state_get_serialized(envoyx_stream* stream, const char* key,
    size_t key_len, envoyx_bytes* out) {
  return envoyxgo_host->filter_state_get_serialized(stream, envoyxgo_bytes(key, key_len), out);
}

static inline bool envoyxgo_filter_state_set_typed(envoyx_stream* stream, const char* key,
    size_t key_len, const char* value, size_t value_len) {
  return envoyxgo_host->filter_state_set_typed(stream, envoyxgo_bytes(key, key_len), envoyxgo_bytes(value, value_len));
}
*/
import "C"

// FilterStateSerialized is the serialized form of the filter-state object at `key`, whoever set
// it and whatever its type (ABI 1.2): a string's bytes, or an Envoy object's string form (the
// upstream SNI object's server name); false when absent or without one. FilterState reads
// strings only.
func (s *Stream) FilterStateSerialized(key string) (string, bool) {
	var out C.envoyx_bytes
	if !bool(C.envoyxgo_filter_state_get_serialized(s.raw, cstr(key), C.size_t(len(key)), &out)) {
		return "", false
	}
	return goString(out.ptr, out.len), true
}

// SetFilterStateTyped sets filter state `key` to the object the proxy's factory of that name
// makes from `value` (ABI 1.2), read-only, for the request: e.g.
// "envoy.network.upstream_server_name" (the upstream TLS SNI) or "envoy.tcp_proxy.cluster";
// "envoy.string" makes a plain string. false, with a warning in the proxy's log, when the key is
// taken or the proxy has no such factory or it refuses the value.
func (s *Stream) SetFilterStateTyped(key, value string) bool {
	return bool(C.envoyxgo_filter_state_set_typed(s.raw, cstr(key), C.size_t(len(key)), cstr(value), C.size_t(len(value))))
}
