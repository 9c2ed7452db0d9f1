/* The C helpers Go calls (defined in exports.c): one per host function, because cgo cannot call
 * through x/abi.h's function-pointer table. Included by every Go file of the package that uses
 * C. Pointers into Go memory passed here are used only for the duration of the call. */
#ifndef ENVOYX_GO_HOST_H
#define ENVOYX_GO_HOST_H
#include <stdlib.h>
#include "abi.h"

void envoyx_go_error_set(envoyx_error* error, const char* message, size_t len);
bool envoyx_go_log_enabled(uint32_t level);
void envoyx_go_log(uint32_t level, const char* message, size_t len);

size_t envoyx_go_header_get(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len,
                            envoyx_bytes* values, size_t cap);
size_t envoyx_go_header_all(envoyx_stream* stream, uint32_t map, envoyx_header* headers, size_t cap);
bool envoyx_go_header_set(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len,
                          const char* value, size_t value_len, bool add);
size_t envoyx_go_header_remove(envoyx_stream* stream, uint32_t map, const char* key, size_t key_len);

size_t envoyx_go_body_length(envoyx_stream* stream, uint32_t body);
size_t envoyx_go_body_slices(envoyx_stream* stream, uint32_t body, envoyx_slice* slices, size_t cap);
bool envoyx_go_body_drain(envoyx_stream* stream, uint32_t body, size_t len);
/* where: 0 prepend, 1 append. */
bool envoyx_go_body_add(envoyx_stream* stream, uint32_t body, const char* data, size_t len, int where);
bool envoyx_go_body_replace(envoyx_stream* stream, uint32_t body, size_t offset, size_t len,
                            const char* data, size_t data_len);

bool envoyx_go_send_local_reply(envoyx_stream* stream, uint32_t status, const char** strings,
                                const size_t* lens, size_t count, const char* body, size_t body_len,
                                const char* details, size_t details_len);
void envoyx_go_reset(envoyx_stream* stream);

envoyx_stream_handle* envoyx_go_stream_handle_new(envoyx_stream* stream);
bool envoyx_go_stream_handle_continue(envoyx_stream_handle* handle, uint32_t direction);
bool envoyx_go_stream_handle_schedule(envoyx_stream_handle* handle, uint64_t event_id);
void envoyx_go_stream_handle_release(envoyx_stream_handle* handle);
bool envoyx_go_continue_stream(envoyx_stream* stream, uint32_t direction);

/* The module's exports by name, for a test host in the same program (envoyxtest). */
size_t envoyx_go_export_table(const char* const** names, const void* const** functions);
#endif
