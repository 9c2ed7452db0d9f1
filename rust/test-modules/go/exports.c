/* The EnvoyX exports of the Go test module, in C: cgo cannot declare them with x/abi.h's exact
 * types (const pointers, function-pointer tables), so C takes the calls and hands Go what it
 * needs. Go's side is hello.go. */
#include <stdlib.h>

#include "abi.h"
#include "_cgo_export.h"

static const envoyx_host_api* host;

envoyx_abi_version envoyx_module_abi_version(void) {
  envoyx_abi_version v = {ENVOYX_ABI_VERSION_MAJOR, ENVOYX_ABI_VERSION_MINOR};
  return v;
}

bool envoyx_on_program_init(const envoyx_host_api* api, envoyx_error* error) {
  (void)error;
  host = api;
  return true;
}

envoyx_module_config* envoyx_on_filter_config_new(envoyx_bytes name, envoyx_bytes config,
                                                  envoyx_error* error) {
  (void)name;
  (void)error;
  /* The configuration lives in Go, found by this handle (never a Go pointer: cgo's rules). */
  uintptr_t handle = goConfigNew((char*)config.ptr, (GoInt)config.len);
  return (envoyx_module_config*)handle;
}

void envoyx_on_filter_config_destroy(envoyx_module_config* config) { goConfigDestroy((uintptr_t)config); }

envoyx_module_stream* envoyx_on_stream_new(envoyx_module_config* config, envoyx_stream* stream) {
  (void)stream;
  return (envoyx_module_stream*)config; /* no per-stream state: the config's handle */
}

envoyx_headers_status envoyx_on_request_headers(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  (void)s, (void)m, (void)end;
  return ENVOYX_HEADERS_CONTINUE;
}
envoyx_body_status envoyx_on_request_body(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  (void)s, (void)m, (void)end;
  return ENVOYX_BODY_CONTINUE;
}
envoyx_trailers_status envoyx_on_request_trailers(envoyx_stream* s, envoyx_module_stream* m) {
  (void)s, (void)m;
  return ENVOYX_TRAILERS_CONTINUE;
}
envoyx_headers_status envoyx_on_response_headers(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  (void)end;
  goResponseHeaders(s, (uintptr_t)m);
  return ENVOYX_HEADERS_CONTINUE;
}
envoyx_body_status envoyx_on_response_body(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  (void)s, (void)m, (void)end;
  return ENVOYX_BODY_CONTINUE;
}
envoyx_trailers_status envoyx_on_response_trailers(envoyx_stream* s, envoyx_module_stream* m) {
  (void)s, (void)m;
  return ENVOYX_TRAILERS_CONTINUE;
}
void envoyx_on_stream_complete(envoyx_stream* s, envoyx_module_stream* m) { (void)s, (void)m; }
void envoyx_on_stream_destroy(envoyx_module_stream* m) { (void)m; }

/* Called from Go: sets a response header through the host's table. */
void gohello_set_response_header(envoyx_stream* stream, char* key, size_t key_len, char* value,
                                 size_t value_len) {
  envoyx_bytes k = {(const uint8_t*)key, key_len};
  envoyx_bytes v = {(const uint8_t*)value, value_len};
  host->header_set(stream, ENVOYX_RESPONSE_HEADERS, k, v);
}
