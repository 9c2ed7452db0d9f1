/* The EnvoyX exports of a Go module, and the calls into the host's table: in C, because cgo can
 * neither declare functions with x/abi.h's exact types (const pointers) nor call through a
 * function-pointer table. Each export hands Go plain values (pointers the host owns, lengths,
 * handles); Go's side is dispatch.go. Nothing here keeps a Go pointer.
 *
 * Lists of strings (headers, label values) come from Go packed: the bytes end to end in one Go
 * buffer and their lengths in another, turned into views here for the duration of one call, so
 * that no memory C is given holds a Go pointer (cgo's rule) and nothing is copied twice. */
#include <stdlib.h>

#include "_cgo_export.h"
#include "abi.h"
#include "host.h"

static const envoyx_host_api* host;

envoyx_abi_version envoyx_module_abi_version(void) {
  envoyx_abi_version version = {ENVOYX_ABI_VERSION_MAJOR, ENVOYX_ABI_VERSION_MINOR};
  return version;
}

/* The host table this SDK was compiled against: a host with a shorter one refuses the module
 * before program init (x/abi.h, envoyx_module_host_api_size). */
ENVOYX_DECLARE_HOST_API_SIZE()

bool envoyx_on_program_init(const envoyx_host_api* api, envoyx_error* error) {
  /* For a host that does not check the stated size itself: the SDK calls every function of its
   * table, so a shorter table, or another major version, is refused here. */
  if (api == NULL) return false;
  if (api->version.major != ENVOYX_ABI_VERSION_MAJOR || api->size < sizeof(envoyx_host_api)) {
    static const char message[] =
        "this Go module (envoyx.dev/sdk) needs the host function table of its EnvoyX ABI version or "
        "later; the host's is another major version or shorter";
    api->error_set(error, (envoyx_bytes){(const uint8_t*)message, sizeof message - 1});
    return false;
  }
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

envoyx_module_route_config* envoyx_on_route_config_new(envoyx_bytes name, envoyx_bytes config,
                                                        envoyx_error* error) {
  return (envoyx_module_route_config*)envoyxGoRouteConfigNew(
      (char*)name.ptr, name.len, (char*)config.ptr, config.len, error);
}
void envoyx_on_route_config_destroy(envoyx_module_route_config* config) {
  envoyxGoRouteConfigDestroy((uintptr_t)config);
}

void envoyx_on_stream_callout_done(envoyx_stream* s, envoyx_module_stream* m, uint64_t callout_id,
                                   envoyx_callout_status status, const envoyx_header* headers,
                                   size_t headers_len, const envoyx_bytes* body, size_t body_len) {
  envoyxGoCalloutDone(s, (uintptr_t)m, callout_id, status, (envoyx_header*)headers, headers_len,
                      (envoyx_bytes*)body, body_len);
}

void envoyx_on_stream_callout_event(envoyx_stream* s, envoyx_module_stream* m, uint64_t callout_id,
                                    envoyx_callout_event event, envoyx_callout_status status,
                                    const envoyx_header* headers, size_t headers_len,
                                    const envoyx_bytes* data, size_t data_len, bool end_of_stream) {
  envoyxGoCalloutEvent(s, (uintptr_t)m, callout_id, event, status, (envoyx_header*)headers,
                       headers_len, (envoyx_bytes*)data, data_len, end_of_stream);
}

void envoyx_on_filter_config_scheduled(envoyx_module_config* config, uint64_t event_id) {
  envoyxGoConfigScheduled((uintptr_t)config, event_id);
}

void envoyx_on_filter_config_callout_done(envoyx_module_config* config, uint64_t callout_id,
                                          envoyx_callout_status status, const envoyx_header* headers,
                                          size_t headers_len, const envoyx_bytes* body,
                                          size_t body_len) {
  envoyxGoConfigCalloutDone((uintptr_t)config, callout_id, status, (envoyx_header*)headers,
                            headers_len, (envoyx_bytes*)body, body_len);
}

void envoyx_on_filter_config_callout_event(envoyx_module_config* config, uint64_t callout_id,
                                           envoyx_callout_event event, envoyx_callout_status status,
                                           const envoyx_header* headers, size_t headers_len,
                                           const envoyx_bytes* data, size_t data_len,
                                           bool end_of_stream) {
  envoyxGoConfigCalloutEvent((uintptr_t)config, callout_id, event, status, (envoyx_header*)headers,
                             headers_len, (envoyx_bytes*)data, data_len, end_of_stream);
}

/* ---- the host's table, for Go ---------------------------------------------------------- */

static envoyx_bytes bytes(const char* ptr, size_t len) {
  envoyx_bytes b = {(const uint8_t*)ptr, len};
  return b;
}

/* Views of `count` packed strings (see the top of the file). `stack` holds up to `cap`; more
 * are allocated, and the caller frees what is not `stack`. */
static envoyx_bytes* unpack(const char* buf, const size_t* lens, size_t count, envoyx_bytes* stack,
                            size_t cap) {
  envoyx_bytes* views = count <= cap ? stack : malloc(count * sizeof(envoyx_bytes));
  for (size_t i = 0, at = 0; i < count; at += lens[i], i++) views[i] = bytes(buf + at, lens[i]);
  return views;
}

/* Headers from `count` packed pairs: key, value, key, value, ... */
static envoyx_header* unpack_headers(const char* buf, const size_t* lens, size_t count,
                                     envoyx_header* stack, size_t cap) {
  envoyx_header* headers = count <= cap ? stack : malloc(count * sizeof(envoyx_header));
  for (size_t i = 0, at = 0; i < count; i++) {
    headers[i].key = bytes(buf + at, lens[2 * i]);
    at += lens[2 * i];
    headers[i].value = bytes(buf + at, lens[2 * i + 1]);
    at += lens[2 * i + 1];
  }
  return headers;
}

#define STACK 16

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

bool envoyxgo_send_local_reply(envoyx_stream* stream, uint32_t status, const char* buf,
                               const size_t* lens, size_t count, const char* body, size_t body_len,
                               const char* details, size_t details_len) {
  envoyx_header stack[STACK];
  envoyx_header* headers = unpack_headers(buf, lens, count, stack, STACK);
  bool sent = host->send_local_reply(stream, status, headers, count, bytes(body, body_len),
                                     bytes(details, details_len));
  if (headers != stack) free(headers);
  return sent;
}

void envoyxgo_reset(envoyx_stream* stream) { host->reset_stream(stream); }
bool envoyxgo_hook_failed(envoyx_stream* stream, const char* reason, size_t reason_len) {
  return host->hook_failed(stream, bytes(reason, reason_len));
}

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

uintptr_t envoyxgo_route_config(envoyx_stream* stream) {
  return (uintptr_t)host->route_config(stream);
}

uint64_t envoyxgo_http_callout(envoyx_stream* stream, const char* cluster, size_t cluster_len,
                               const char* buf, const size_t* lens, size_t count, const char* body,
                               size_t body_len, uint64_t timeout_ms) {
  envoyx_header stack[STACK];
  envoyx_header* headers = unpack_headers(buf, lens, count, stack, STACK);
  uint64_t id = host->http_callout(stream, bytes(cluster, cluster_len), headers, count,
                                   bytes(body, body_len), timeout_ms);
  if (headers != stack) free(headers);
  return id;
}

uint64_t envoyxgo_callout_stream_start(envoyx_stream* stream, const char* cluster,
                                       size_t cluster_len, const char* buf, const size_t* lens,
                                       size_t count, const char* body, size_t body_len, bool end,
                                       uint64_t timeout_ms) {
  envoyx_header stack[STACK];
  envoyx_header* headers = unpack_headers(buf, lens, count, stack, STACK);
  uint64_t id = host->callout_stream_start(stream, bytes(cluster, cluster_len), headers, count,
                                           bytes(body, body_len), end, timeout_ms);
  if (headers != stack) free(headers);
  return id;
}

bool envoyxgo_callout_stream_send(envoyx_stream* stream, uint64_t id, const char* data, size_t len,
                                  bool end) {
  return host->callout_stream_send(stream, id, bytes(data, len), end);
}

bool envoyxgo_callout_stream_send_trailers(envoyx_stream* stream, uint64_t id, const char* buf,
                                           const size_t* lens, size_t count) {
  envoyx_header stack[STACK];
  envoyx_header* trailers = unpack_headers(buf, lens, count, stack, STACK);
  bool sent = host->callout_stream_send_trailers(stream, id, trailers, count);
  if (trailers != stack) free(trailers);
  return sent;
}

bool envoyxgo_callout_stream_reset(envoyx_stream* stream, uint64_t id) {
  return host->callout_stream_reset(stream, id);
}

envoyx_config_handle* envoyxgo_config_handle_new(envoyx_error* creating) {
  return host->config_handle_new(creating);
}

bool envoyxgo_config_handle_schedule(envoyx_config_handle* handle, uint64_t event_id) {
  return host->config_handle_schedule(handle, event_id);
}

void envoyxgo_config_handle_release(envoyx_config_handle* handle) {
  host->config_handle_release(handle);
}

uint64_t envoyxgo_config_http_callout(envoyx_config_handle* handle, const char* cluster,
                                      size_t cluster_len, const char* buf, const size_t* lens,
                                      size_t count, const char* body, size_t body_len,
                                      uint64_t timeout_ms) {
  envoyx_header stack[STACK];
  envoyx_header* headers = unpack_headers(buf, lens, count, stack, STACK);
  uint64_t id = host->config_http_callout(handle, bytes(cluster, cluster_len), headers, count,
                                          bytes(body, body_len), timeout_ms);
  if (headers != stack) free(headers);
  return id;
}

uint64_t envoyxgo_config_callout_stream_start(envoyx_config_handle* handle, const char* cluster,
                                              size_t cluster_len, const char* buf,
                                              const size_t* lens, size_t count, const char* body,
                                              size_t body_len, bool end, uint64_t timeout_ms) {
  envoyx_header stack[STACK];
  envoyx_header* headers = unpack_headers(buf, lens, count, stack, STACK);
  uint64_t id = host->config_callout_stream_start(handle, bytes(cluster, cluster_len), headers,
                                                  count, bytes(body, body_len), end, timeout_ms);
  if (headers != stack) free(headers);
  return id;
}

bool envoyxgo_config_callout_stream_send(envoyx_config_handle* handle, uint64_t id,
                                         const char* data, size_t len, bool end) {
  return host->config_callout_stream_send(handle, id, bytes(data, len), end);
}

bool envoyxgo_config_callout_stream_send_trailers(envoyx_config_handle* handle, uint64_t id,
                                                  const char* buf, const size_t* lens,
                                                  size_t count) {
  envoyx_header stack[STACK];
  envoyx_header* trailers = unpack_headers(buf, lens, count, stack, STACK);
  bool sent = host->config_callout_stream_send_trailers(handle, id, trailers, count);
  if (trailers != stack) free(trailers);
  return sent;
}

bool envoyxgo_config_callout_stream_reset(envoyx_config_handle* handle, uint64_t id) {
  return host->config_callout_stream_reset(handle, id);
}

uint64_t envoyxgo_metric_define(envoyx_error* creating, uint32_t kind, const char* name,
                                size_t name_len, const char* buf, const size_t* lens, size_t count) {
  envoyx_bytes stack[STACK];
  envoyx_bytes* labels = unpack(buf, lens, count, stack, STACK);
  uint64_t id = host->metric_define(creating, kind, bytes(name, name_len), labels, count);
  if (labels != stack) free(labels);
  return id;
}

bool envoyxgo_metric_record(envoyx_stream* stream, uint64_t metric, const char* buf,
                            const size_t* lens, size_t count, uint32_t op, uint64_t value) {
  envoyx_bytes stack[STACK];
  envoyx_bytes* labels = unpack(buf, lens, count, stack, STACK);
  bool recorded = host->metric_record(stream, metric, labels, count, op, value);
  if (labels != stack) free(labels);
  return recorded;
}

bool envoyxgo_metadata_set(envoyx_stream* stream, const char* ns, size_t ns_len, const char* key,
                           size_t key_len, envoyx_value* value, const char* text, size_t text_len) {
  envoyx_value v = *value; /* the view of `text` lives in C memory only */
  v.string = bytes(text, text_len);
  return host->metadata_set(stream, bytes(ns, ns_len), bytes(key, key_len), v);
}

bool envoyxgo_metadata_get(envoyx_stream* stream, uint32_t source, const char* ns, size_t ns_len,
                           const char* key, size_t key_len, uint32_t kind, envoyx_value* out) {
  return host->metadata_get(stream, source, bytes(ns, ns_len), bytes(key, key_len), kind, out);
}

bool envoyxgo_filter_state_set(envoyx_stream* stream, const char* key, size_t key_len,
                               const char* value, size_t value_len) {
  return host->filter_state_set(stream, bytes(key, key_len), bytes(value, value_len));
}

bool envoyxgo_filter_state_get(envoyx_stream* stream, const char* key, size_t key_len,
                               envoyx_bytes* out) {
  return host->filter_state_get(stream, bytes(key, key_len), out);
}

bool envoyxgo_clear_route_cache(envoyx_stream* stream) { return host->clear_route_cache(stream); }

bool envoyxgo_upstream_override_host(envoyx_stream* stream, const char* h, size_t len, bool strict) {
  return host->upstream_override_host(stream, bytes(h, len), strict);
}

bool envoyxgo_attribute_get(envoyx_stream* stream, uint32_t attribute, envoyx_value* out) {
  return host->attribute_get(stream, attribute, out);
}

bool envoyxgo_span_set_tag(envoyx_stream* stream, const char* key, size_t key_len,
                           const char* value, size_t value_len) {
  return host->span_set_tag(stream, bytes(key, key_len), bytes(value, value_len));
}

/* ---- the export table, for a test host in the same program (envoyxtest) ---------------------- */

static const char* const export_names[] = {
    "envoyx_module_abi_version",       "envoyx_on_program_init",
    "envoyx_on_filter_config_new",     "envoyx_on_filter_config_destroy",
    "envoyx_on_stream_new",            "envoyx_on_request_headers",
    "envoyx_on_request_body",          "envoyx_on_request_trailers",
    "envoyx_on_response_headers",      "envoyx_on_response_body",
    "envoyx_on_response_trailers",     "envoyx_on_stream_complete",
    "envoyx_on_stream_destroy",        "envoyx_on_stream_scheduled",
    "envoyx_on_route_config_new",      "envoyx_on_route_config_destroy",
    "envoyx_on_stream_callout_done",   "envoyx_on_stream_callout_event",
    "envoyx_on_filter_config_scheduled", "envoyx_on_filter_config_callout_done",
    "envoyx_on_filter_config_callout_event", "envoyx_module_host_api_size",
};
static const void* const export_functions[] = {
    (const void*)envoyx_module_abi_version,   (const void*)envoyx_on_program_init,
    (const void*)envoyx_on_filter_config_new, (const void*)envoyx_on_filter_config_destroy,
    (const void*)envoyx_on_stream_new,        (const void*)envoyx_on_request_headers,
    (const void*)envoyx_on_request_body,      (const void*)envoyx_on_request_trailers,
    (const void*)envoyx_on_response_headers,  (const void*)envoyx_on_response_body,
    (const void*)envoyx_on_response_trailers, (const void*)envoyx_on_stream_complete,
    (const void*)envoyx_on_stream_destroy,    (const void*)envoyx_on_stream_scheduled,
    (const void*)envoyx_on_route_config_new,  (const void*)envoyx_on_route_config_destroy,
    (const void*)envoyx_on_stream_callout_done, (const void*)envoyx_on_stream_callout_event,
    (const void*)envoyx_on_filter_config_scheduled,
    (const void*)envoyx_on_filter_config_callout_done,
    (const void*)envoyx_on_filter_config_callout_event,
    (const void*)envoyx_module_host_api_size,
};
_Static_assert(sizeof(export_names) / sizeof(export_names[0]) ==
                   sizeof(export_functions) / sizeof(export_functions[0]),
               "one name per function");

size_t envoyxgo_export_table(const char* const** names, const void* const** functions) {
  *names = export_names;
  *functions = export_functions;
  return sizeof(export_names) / sizeof(export_names[0]);
}
