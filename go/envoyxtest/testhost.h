/* The C side of envoyxtest (testhost.c): the test host's functions, loaded at run time. */
#ifndef ENVOYXTEST_TESTHOST_H
#define ENVOYXTEST_TESTHOST_H
#include <stdlib.h>

#include "abi.h"
#include "envoyx_testhost.h"

/* Defined by the envoyx package (exports.c): the module's exports by name. */
size_t envoyxgo_export_table(const char* const** names, const void* const** functions);

bool envoyxtest_open(const char* path, char* error, size_t error_cap);
void envoyxtest_owned_free(envoyx_testhost_owned owned);
envoyx_testhost* envoyxtest_new(const char* name, size_t name_len, const char* config,
                                size_t config_len, envoyx_testhost_owned* error);
void envoyxtest_free(envoyx_testhost* host);
envoyx_testhost* envoyxtest_new_declaring(const char* name, size_t name_len, const char* config,
                                          size_t config_len, const char* buf, const size_t* lens,
                                          size_t secrets_len, envoyx_testhost_owned* error);
void envoyxtest_set_secret(const char* name, size_t name_len, const char* value, size_t value_len);
envoyx_teststream* envoyxtest_stream(envoyx_testhost* host);
void envoyxtest_stream_free(envoyx_teststream* s);
/* Packed lists: `buf` holds the strings end to end, `lens` their lengths. */
uint32_t envoyxtest_headers(envoyx_teststream* s, uint32_t map, const char* buf,
                            const size_t* lens, size_t count, bool end);
uint32_t envoyxtest_body(envoyx_teststream* s, uint32_t direction, const char* buf,
                         const size_t* lens, size_t count, bool end);
envoyx_teststream* envoyxtest_stream_on_route(envoyx_testhost* host, const char* name,
                                              size_t name_len, const char* config,
                                              size_t config_len, envoyx_testhost_owned* error);
bool envoyxtest_metric(envoyx_testhost* host, const char* name, size_t name_len, const char* buf,
                       const size_t* lens, size_t count, envoyx_testhost_owned* out);
void envoyxtest_pending_callouts(envoyx_teststream* s, envoyx_testhost_owned* out);
/* With `host` non-NULL the configuration's callout, else the stream `s`'s. */
void envoyxtest_answer_callout(envoyx_testhost* host, envoyx_teststream* s, uint64_t id,
                               uint32_t failed, uint32_t status, const char* buf,
                               const size_t* lens, size_t headers_count, size_t chunks_count);
void envoyxtest_callout_event(envoyx_testhost* host, envoyx_teststream* s, uint64_t id,
                              uint32_t kind, uint32_t failed, uint32_t status, const char* buf,
                              const size_t* lens, size_t headers_count, size_t chunks_count,
                              bool end);
size_t envoyxtest_run_config_scheduled(envoyx_testhost* host, uint64_t wait_ms);
void envoyxtest_pending_config_callouts(envoyx_testhost* host, envoyx_testhost_owned* out);
void envoyxtest_complete(envoyx_teststream* s);
size_t envoyxtest_run_scheduled(envoyx_teststream* s, uint64_t wait_ms);
bool envoyxtest_seen_headers(envoyx_teststream* s, uint32_t map, envoyx_testhost_owned* out);
void envoyxtest_seen_body(envoyx_teststream* s, uint32_t direction, envoyx_testhost_owned* out);
bool envoyxtest_forwarded(envoyx_teststream* s, uint32_t direction);
bool envoyxtest_local_reply(envoyx_teststream* s, uint32_t* status, envoyx_testhost_owned* headers,
                            envoyx_testhost_owned* body, envoyx_testhost_owned* details);
bool envoyxtest_was_reset(envoyx_teststream* s);
bool envoyxtest_reset_refused(envoyx_teststream* s);
void envoyxtest_watermark(envoyx_teststream* s, uint32_t direction, bool above);
uint64_t envoyxtest_buffer_limit(envoyx_teststream* s);
/* NULL `value` removes the key. */
void envoyxtest_set_runtime(const char* key, size_t key_len, const envoyx_value* value);
bool envoyxtest_proxy_local_reply(envoyx_teststream* s, uint32_t status, const char* details,
                                  size_t details_len, const char* body, size_t body_len);
void envoyxtest_logs(envoyx_testhost_owned* out);
/* The stream facts a proxy would know (stream_facts.go); a value is given by its parts. */
bool envoyxtest_set_attribute(envoyx_teststream* s, uint32_t attribute, uint32_t kind, const char* string,
                              size_t string_len, double number, bool boolean);
bool envoyxtest_set_metadata(envoyx_teststream* s, uint32_t source, const char* ns, size_t ns_len, const char* key,
                             size_t key_len, uint32_t kind, const char* string, size_t string_len, double number,
                             bool boolean);
bool envoyxtest_set_typed_metadata(envoyx_teststream* s, uint32_t source, const char* ns, size_t ns_len,
                                   const char* url, size_t url_len, const char* value, size_t value_len);
void envoyxtest_set_upstream_hosts_attempted(envoyx_teststream* s, const char* buf, const size_t* lens,
                                             size_t count);
void envoyxtest_set_timing(envoyx_teststream* s, uint32_t timing, int64_t ns);
#endif
