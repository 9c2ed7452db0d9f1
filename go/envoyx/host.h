/* The C helpers Go calls (defined in exports.c): one per host function, because cgo cannot call
 * through x/abi.h's function-pointer table. Included by every Go file of the package that uses
 * C. Pointers into Go memory passed here are used only for the duration of the call. */
#ifndef ENVOYX_GO_HOST_H
#define ENVOYX_GO_HOST_H
#include <stdlib.h>
#include "abi.h"

void envoyxgo_error_set(envoyx_error* error, const char* message, size_t len);
bool envoyxgo_log_enabled(uint32_t level);
void envoyxgo_log(uint32_t level, const char* message, size_t len);

size_t envoyxgo_header_get(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len,
                            envoyx_bytes* values, size_t cap);
size_t envoyxgo_header_all(envoyx_stream* stream, uint32_t map, envoyx_header* headers, size_t cap);
bool envoyxgo_header_set(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len,
                          const char* value, size_t value_len, bool add);
size_t envoyxgo_header_remove(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len);

size_t envoyxgo_body_length(envoyx_stream* stream, uint32_t body);
size_t envoyxgo_body_slices(envoyx_stream* stream, uint32_t body, envoyx_slice* slices, size_t cap);
bool envoyxgo_body_drain(envoyx_stream* stream, uint32_t body, size_t len);
/* where: 0 prepend, 1 append. */
bool envoyxgo_body_add(envoyx_stream* stream, uint32_t body, const char* data, size_t len, int where);
bool envoyxgo_body_replace(envoyx_stream* stream, uint32_t body, size_t offset, size_t len,
                            const char* data, size_t data_len);

/* Packed lists (exports.c explains): `buf` holds the strings end to end, `lens` their lengths;
 * headers are `count` pairs (2 * count lengths). */
bool envoyxgo_send_local_reply(envoyx_stream* stream, uint32_t status, const char* buf,
                               const size_t* lens, size_t count, const char* body, size_t body_len,
                               const char* details, size_t details_len);
void envoyxgo_reset(envoyx_stream* stream);
/* ABI 1.2: the hook running on `stream` failed (a recovered panic): the host logs `reason` and
 * ends the stream. */
bool envoyxgo_hook_failed(envoyx_stream* stream, const char* reason, size_t reason_len);

envoyx_stream_handle* envoyxgo_stream_handle_new(envoyx_stream* stream);
bool envoyxgo_stream_handle_continue(envoyx_stream_handle* handle, uint32_t direction);
bool envoyxgo_stream_handle_schedule(envoyx_stream_handle* handle, uint64_t event_id);
void envoyxgo_stream_handle_release(envoyx_stream_handle* handle);
bool envoyxgo_continue_stream(envoyx_stream* stream, uint32_t direction);

uintptr_t envoyxgo_route_config(envoyx_stream* stream);
uint64_t envoyxgo_http_callout(envoyx_stream* stream, const char* cluster, size_t cluster_len,
                               const char* buf, const size_t* lens, size_t count, const char* body,
                               size_t body_len, uint64_t timeout_ms);
uint64_t envoyxgo_callout_stream_start(envoyx_stream* stream, const char* cluster,
                                       size_t cluster_len, const char* buf, const size_t* lens,
                                       size_t count, const char* body, size_t body_len, bool end,
                                       uint64_t timeout_ms);
bool envoyxgo_callout_stream_send(envoyx_stream* stream, uint64_t id, const char* data, size_t len,
                                  bool end);
bool envoyxgo_callout_stream_send_trailers(envoyx_stream* stream, uint64_t id, const char* buf,
                                           const size_t* lens, size_t count);
bool envoyxgo_callout_stream_reset(envoyx_stream* stream, uint64_t id);
envoyx_config_handle* envoyxgo_config_handle_new(envoyx_error* creating);
bool envoyxgo_config_handle_schedule(envoyx_config_handle* handle, uint64_t event_id);
void envoyxgo_config_handle_release(envoyx_config_handle* handle);
uint64_t envoyxgo_config_http_callout(envoyx_config_handle* handle, const char* cluster,
                                      size_t cluster_len, const char* buf, const size_t* lens,
                                      size_t count, const char* body, size_t body_len,
                                      uint64_t timeout_ms);
uint64_t envoyxgo_config_callout_stream_start(envoyx_config_handle* handle, const char* cluster,
                                              size_t cluster_len, const char* buf,
                                              const size_t* lens, size_t count, const char* body,
                                              size_t body_len, bool end, uint64_t timeout_ms);
bool envoyxgo_config_callout_stream_send(envoyx_config_handle* handle, uint64_t id,
                                         const char* data, size_t len, bool end);
bool envoyxgo_config_callout_stream_send_trailers(envoyx_config_handle* handle, uint64_t id,
                                                  const char* buf, const size_t* lens,
                                                  size_t count);
bool envoyxgo_config_callout_stream_reset(envoyx_config_handle* handle, uint64_t id);
uint64_t envoyxgo_metric_define(envoyx_error* creating, uint32_t kind, const char* name,
                                size_t name_len, const char* buf, const size_t* lens, size_t count);
bool envoyxgo_metric_record(envoyx_stream* stream, uint64_t metric, const char* buf,
                            const size_t* lens, size_t count, uint32_t op, uint64_t value);
/* `value`'s string is set from `text` here (the value struct itself holds no Go pointer). */
bool envoyxgo_metadata_set(envoyx_stream* stream, const char* ns, size_t ns_len, const char* key,
                           size_t key_len, envoyx_value* value, const char* text, size_t text_len);
bool envoyxgo_metadata_get(envoyx_stream* stream, uint32_t source, const char* ns, size_t ns_len,
                           const char* key, size_t key_len, uint32_t kind, envoyx_value* out);
bool envoyxgo_filter_state_set(envoyx_stream* stream, const char* key, size_t key_len,
                               const char* value, size_t value_len);
bool envoyxgo_filter_state_get(envoyx_stream* stream, const char* key, size_t key_len,
                               envoyx_bytes* out);
bool envoyxgo_clear_route_cache(envoyx_stream* stream);
bool envoyxgo_upstream_override_host(envoyx_stream* stream, const char* h, size_t len, bool strict);
bool envoyxgo_attribute_get(envoyx_stream* stream, uint32_t attribute, envoyx_value* out);
bool envoyxgo_span_set_tag(envoyx_stream* stream, const char* key, size_t key_len,
                           const char* value, size_t value_len);

/* The module's exports by name, for a test host in the same program (envoyxtest). */
size_t envoyxgo_export_table(const char* const** names, const void* const** functions);
#endif
