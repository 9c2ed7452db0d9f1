package envoyx

/*
#include "host.h"

static inline bool envoyxgo_runtime_get(const char* key, size_t key_len, uint32_t kind,
    envoyx_value* value) {
  return envoyxgo_host != NULL &&
         envoyxgo_host->runtime_get(envoyxgo_bytes(key, key_len), kind, value);
}
*/
import "C"

// The proxy's runtime (ABI 1.2): feature flags and values an operator sets without a new filter
// configuration (Envoy's bootstrap layers, RTDS, the admin's /runtime_modify). Any goroutine,
// from the module's init on.

func runtimeGet(key string, kind uint32) (C.envoyx_value, bool) {
	var value C.envoyx_value
	found := bool(C.envoyxgo_runtime_get(cstr(key), C.size_t(len(key)), C.uint32_t(kind), &value))
	return value, found
}

// RuntimeBool is runtime `key` as a boolean (a feature flag); false when the runtime holds no
// boolean there, or the proxy lets modules read no runtime (stock Envoy before 1.40; logged once).
func RuntimeBool(key string) (value bool, ok bool) {
	v, ok := runtimeGet(key, C.ENVOYX_VALUE_BOOL)
	return ok && bool(v.boolean), ok
}

// RuntimeNumber is runtime `key` as a number (the runtime keeps integers as doubles), as
// RuntimeBool.
func RuntimeNumber(key string) (value float64, ok bool) {
	v, ok := runtimeGet(key, C.ENVOYX_VALUE_NUMBER)
	if !ok {
		return 0, false
	}
	return float64(v.number), true
}
