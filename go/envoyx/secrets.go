package envoyx

/*
#include "host.h"

static inline bool envoyxgo_secret_get(envoyx_stream* stream, const char* name, size_t name_len,
    envoyx_bytes* value) {
  return envoyxgo_host->secret_get(stream, envoyxgo_bytes(name, name_len), value);
}
*/
import "C"

import "unsafe"

// Secret is the generic secret `name` the filter configuration declares (its `secrets`; ABI
// 1.2), copied out of the proxy (SDS may rotate it between hooks); empty while SDS has not
// delivered it. false, with a warning in the proxy's log, for a name the configuration does
// not declare.
func (s *Stream) Secret(name string) ([]byte, bool) {
	var value C.envoyx_bytes
	if !bool(C.envoyxgo_secret_get(s.raw, cstr(name), C.size_t(len(name)), &value)) {
		return nil, false
	}
	return C.GoBytes(unsafe.Pointer(value.ptr), C.int(value.len)), true
}
