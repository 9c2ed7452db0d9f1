/* The EnvoyX exports of a Go module, and the calls into the host's table: in C, because cgo can
 * neither declare functions with x/abi.h's exact types (const pointers) nor call through a
 * function-pointer table. Each export hands Go plain values (pointers the host owns, lengths,
 * handles); Go's side is envoyx.go. Nothing here keeps a Go pointer. */
#include <stdlib.h>

#include "_cgo_export.h"
#include "abi.h"
#include "host.h"

static const envoyx_host_api* host;

envoyx_abi_version envoyx_module_abi_version(void) {
  envoyx_abi_version version = {ENVOYX_ABI_VERSION_MAJOR, 1};
  return version;
}

bool envoyx_on_program_init(const envoyx_host_api* api, envoyx_error* error) {
  (void)error;
  host = api;
  return true;
}

envoyx_module_config* envoyx_on_filter_config_new(envoyx_bytes name, envoyx_bytes config,
                                                  envoyx_error* error) {
  return (envoyx_module_config*)envoyxGoConfigNew((char*)name.ptr, name.len, (char*)config.ptr,
                                                  config.len, error);
}

void envoyx_on_filter_config_destroy(envoyx_module_config* config) {
  envoyxGoConfigDestroy((uintptr_t)config);
}

envoyx_module_stream* envoyx_on_stream_new(envoyx_module_config* config, envoyx_stream* stream) {
  return (envoyx_module_stream*)envoyxGoStreamNew((uintptr_t)config, stream);
}

envoyx_headers_status envoyx_on_request_headers(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  return envoyxGoHeaders(s, (uintptr_t)m, 0, end);
}
envoyx_body_status envoyx_on_request_body(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  return envoyxGoBody(s, (uintptr_t)m, 0, end);
}
envoyx_trailers_status envoyx_on_request_trailers(envoyx_stream* s, envoyx_module_stream* m) {
  return envoyxGoTrailers(s, (uintptr_t)m, 0);
}
envoyx_headers_status envoyx_on_response_headers(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  return envoyxGoHeaders(s, (uintptr_t)m, 1, end);
}
envoyx_body_status envoyx_on_response_body(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  return envoyxGoBody(s, (uintptr_t)m, 1, end);
}
envoyx_trailers_status envoyx_on_response_trailers(envoyx_stream* s, envoyx_module_stream* m) {
  return envoyxGoTrailers(s, (uintptr_t)m, 1);
}
void envoyx_on_stream_complete(envoyx_stream* s, envoyx_module_stream* m) {
  envoyxGoComplete(s, (uintptr_t)m);
}
void envoyx_on_stream_destroy(envoyx_module_stream* m) { envoyxGoStreamDestroy((uintptr_t)m); }
void envoyx_on_stream_scheduled(envoyx_stream* s, envoyx_module_stream* m, uint64_t event_id) {
  envoyxGoScheduled(s, (uintptr_t)m, event_id);
}

/* ---- the host's table, for Go ---------------------------------------------------------- */

static envoyx_bytes bytes(const char* ptr, size_t len) {
  envoyx_bytes b = {(const uint8_t*)ptr, len};
  return b;
}

void envoyxgo_error_set(envoyx_error* error, const char* message, size_t len) {
  host->error_set(error, bytes(message, len));
}

bool envoyxgo_log_enabled(uint32_t level) { return host != NULL && host->log_enabled(level); }

void envoyxgo_log(uint32_t level, const char* message, size_t len) {
  if (host != NULL) host->log(level, bytes(message, len));
}

size_t envoyxgo_header_get(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len,
                            envoyx_bytes* values, size_t cap) {
  return host->header_get(stream, map, bytes(key, key_len), values, cap);
}

size_t envoyxgo_header_all(envoyx_stream* stream, uint32_t map, envoyx_header* headers, size_t cap) {
  return host->header_all(stream, map, headers, cap);
}

bool envoyxgo_header_set(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len,
                          const char* value, size_t value_len, bool add) {
  envoyx_bytes k = bytes(key, key_len), v = bytes(value, value_len);
  return add ? host->header_add(stream, map, k, v) : host->header_set(stream, map, k, v);
}

size_t envoyxgo_header_remove(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len) {
  return host->header_remove(stream, map, bytes(key, key_len));
}

size_t envoyxgo_body_length(envoyx_stream* stream, uint32_t body) {
  return host->body_length(stream, body);
}

size_t envoyxgo_body_slices(envoyx_stream* stream, uint32_t body, envoyx_slice* slices, size_t cap) {
  return host->body_slices(stream, body, slices, cap);
}

bool envoyxgo_body_drain(envoyx_stream* stream, uint32_t body, size_t len) {
  return host->body_drain(stream, body, len);
}

bool envoyxgo_body_add(envoyx_stream* stream, uint32_t body, const char* data, size_t len, int where) {
  return where == 0 ? host->body_prepend(stream, body, bytes(data, len))
                    : host->body_append(stream, body, bytes(data, len));
}

bool envoyxgo_body_replace(envoyx_stream* stream, uint32_t body, size_t offset, size_t len,
                            const char* data, size_t data_len) {
  return host->body_replace(stream, body, offset, len, bytes(data, data_len));
}

/* `strings` holds `count` keys then `count` values, each with its length in `lens`. */
bool envoyxgo_send_local_reply(envoyx_stream* stream, uint32_t status, const char** strings,
                                const size_t* lens, size_t count, const char* body, size_t body_len,
                                const char* details, size_t details_len) {
  envoyx_header* headers = count ? malloc(count * sizeof(envoyx_header)) : NULL;
  for (size_t i = 0; i < count; i++) {
    headers[i].key = bytes(strings[i], lens[i]);
    headers[i].value = bytes(strings[count + i], lens[count + i]);
  }
  bool sent = host->send_local_reply(stream, status, headers, count, bytes(body, body_len),
                                     bytes(details, details_len));
  free(headers);
  return sent;
}

void envoyxgo_reset(envoyx_stream* stream) { host->reset_stream(stream); }

envoyx_stream_handle* envoyxgo_stream_handle_new(envoyx_stream* stream) {
  return host->stream_handle_new(stream);
}

bool envoyxgo_stream_handle_continue(envoyx_stream_handle* handle, uint32_t direction) {
  return host->stream_handle_continue(handle, direction);
}

bool envoyxgo_stream_handle_schedule(envoyx_stream_handle* handle, uint64_t event_id) {
  return host->stream_handle_schedule(handle, event_id);
}

void envoyxgo_stream_handle_release(envoyx_stream_handle* handle) {
  host->stream_handle_release(handle);
}

bool envoyxgo_continue_stream(envoyx_stream* stream, uint32_t direction) {
  return host->continue_stream(stream, direction);
}

/* ---- the export table, for a test host in the same program (envoyxtest) ---------------------- */

static const char* const export_names[] = {
    "envoyx_module_abi_version", "envoyx_on_program_init",    "envoyx_on_filter_config_new",
    "envoyx_on_filter_config_destroy", "envoyx_on_stream_new", "envoyx_on_request_headers",
    "envoyx_on_request_body",    "envoyx_on_request_trailers", "envoyx_on_response_headers",
    "envoyx_on_response_body",   "envoyx_on_response_trailers", "envoyx_on_stream_complete",
    "envoyx_on_stream_destroy",  "envoyx_on_stream_scheduled",
};
static const void* const export_functions[] = {
    (const void*)envoyx_module_abi_version, (const void*)envoyx_on_program_init,
    (const void*)envoyx_on_filter_config_new, (const void*)envoyx_on_filter_config_destroy,
    (const void*)envoyx_on_stream_new,      (const void*)envoyx_on_request_headers,
    (const void*)envoyx_on_request_body,    (const void*)envoyx_on_request_trailers,
    (const void*)envoyx_on_response_headers, (const void*)envoyx_on_response_body,
    (const void*)envoyx_on_response_trailers, (const void*)envoyx_on_stream_complete,
    (const void*)envoyx_on_stream_destroy,  (const void*)envoyx_on_stream_scheduled,
};

size_t envoyxgo_export_table(const char* const** names, const void* const** functions) {
  *names = export_names;
  *functions = export_functions;
  return sizeof(export_names) / sizeof(export_names[0]);
}
