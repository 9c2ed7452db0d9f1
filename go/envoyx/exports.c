/* The EnvoyX exports of a Go module: in C, because cgo cannot declare functions with x/abi.h's
 * exact types (const pointers). Each export hands Go plain values (pointers the host owns,
 * lengths, handles); Go's side is dispatch.go. Nothing here keeps a Go pointer. The calls into
 * the host's table are in the Go files that make them (host.h says why). */
#include <stdlib.h>
#include <time.h>

#include "_cgo_export.h"
#include "abi.h"
#include "host.h"
#include "processors.h"

/* The host's table (host.h), for the wrappers in each Go file's preamble. */
const envoyx_host_api* envoyxgo_host;

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
        "this Go module (github.com/envoyx/envoyx/go) needs the host function table of its EnvoyX ABI version or "
        "later; the host's is another major version or shorter";
    api->error_set(error, (envoyx_bytes){(const uint8_t*)message, sizeof message - 1});
    return false;
  }
  envoyxgo_host = api;
  envoyxGoProgramInit();
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

/* Each stream hook a worker thread makes first lets the Go scheduler run when it is due
 * (processors.h): the configuration hooks, on Envoy's main thread, do not. */
static __thread envoyxgo_cadence envoyxgo_thread_cadence;

static inline void envoyxgo_keep_processor(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (envoyxgo_yield_due(&envoyxgo_thread_cadence, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec))
    envoyxGoYield();
}

envoyx_module_stream* envoyx_on_stream_new(envoyx_module_config* config, envoyx_stream* stream) {
  envoyxgo_keep_processor();
  return (envoyx_module_stream*)envoyxGoStreamNew((uintptr_t)config, stream);
}

envoyx_headers_status envoyx_on_request_headers(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  envoyxgo_keep_processor();
  return envoyxGoHeaders(s, (uintptr_t)m, 0, end);
}
envoyx_body_status envoyx_on_request_body(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  envoyxgo_keep_processor();
  return envoyxGoBody(s, (uintptr_t)m, 0, end);
}
envoyx_trailers_status envoyx_on_request_trailers(envoyx_stream* s, envoyx_module_stream* m) {
  return envoyxGoTrailers(s, (uintptr_t)m, 0);
}
envoyx_headers_status envoyx_on_response_headers(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  envoyxgo_keep_processor();
  return envoyxGoHeaders(s, (uintptr_t)m, 1, end);
}
envoyx_body_status envoyx_on_response_body(envoyx_stream* s, envoyx_module_stream* m, bool end) {
  envoyxgo_keep_processor();
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
  envoyxgo_keep_processor();
  envoyxGoScheduled(s, (uintptr_t)m, event_id);
}
void envoyx_on_stream_watermark(envoyx_stream* s, envoyx_module_stream* m, envoyx_direction direction,
                                bool above) {
  envoyxGoWatermark(s, (uintptr_t)m, direction, above);
}
envoyx_local_reply_status envoyx_on_stream_local_reply(envoyx_stream* s, envoyx_module_stream* m,
                                                       uint32_t status, envoyx_bytes details,
                                                       bool reset_imminent) {
  return envoyxGoLocalReply(s, (uintptr_t)m, status, (char*)details.ptr, details.len, reset_imminent);
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
    "envoyx_on_stream_watermark",      "envoyx_on_stream_local_reply",
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
    (const void*)envoyx_on_stream_watermark,
    (const void*)envoyx_on_stream_local_reply,
};
_Static_assert(sizeof(export_names) / sizeof(export_names[0]) ==
                   sizeof(export_functions) / sizeof(export_functions[0]),
               "one name per function");

size_t envoyxgo_export_table(const char* const** names, const void* const** functions) {
  *names = export_names;
  *functions = export_functions;
  return sizeof(export_names) / sizeof(export_names[0]);
}
