/* Loads libenvoyx_testhost_c.so (its path in ENVOYX_TESTHOST_LIB) at run time and calls through its
 * functions: no link-time dependency, so a module builds and vets without it. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "testhost.h"

static struct {
  void (*owned_free)(envoyx_testhost_owned);
  envoyx_testhost* (*new_declaring)(const char* const*, const void* const*, size_t, envoyx_bytes,
                                    envoyx_bytes, const envoyx_bytes*, size_t, envoyx_testhost_owned*);
  void (*set_secret)(envoyx_bytes, envoyx_bytes);
  envoyx_testhost* (*new_host)(const char* const*, const void* const*, size_t, envoyx_bytes,
                               envoyx_bytes, envoyx_testhost_owned*);
  void (*free_host)(envoyx_testhost*);
  envoyx_teststream* (*stream)(envoyx_testhost*);
  void (*stream_free)(envoyx_teststream*);
  uint32_t (*headers)(envoyx_teststream*, envoyx_header_map, const envoyx_header*, size_t, bool);
  uint32_t (*body)(envoyx_teststream*, envoyx_direction, const envoyx_bytes*, size_t, bool);
  void (*complete)(envoyx_teststream*);
  size_t (*run_scheduled)(envoyx_teststream*, uint64_t);
  bool (*seen_headers)(envoyx_teststream*, envoyx_header_map, envoyx_testhost_owned*);
  void (*seen_body)(envoyx_teststream*, envoyx_direction, envoyx_testhost_owned*);
  bool (*forwarded)(envoyx_teststream*, envoyx_direction);
  bool (*local_reply)(envoyx_teststream*, uint32_t*, envoyx_testhost_owned*, envoyx_testhost_owned*,
                      envoyx_testhost_owned*);
  bool (*was_reset)(envoyx_teststream*);
  bool (*reset_refused)(envoyx_teststream*);
  void (*watermark)(envoyx_teststream*, envoyx_direction, bool);
  uint64_t (*buffer_limit)(envoyx_teststream*);
  bool (*proxy_local_reply)(envoyx_teststream*, uint32_t, envoyx_bytes, envoyx_bytes);
  void (*logs)(envoyx_testhost_owned*);
  void (*set_runtime)(envoyx_bytes, const envoyx_value*);
  bool (*set_attribute)(envoyx_teststream*, uint32_t, const envoyx_value*);
  bool (*set_metadata)(envoyx_teststream*, uint32_t, envoyx_bytes, envoyx_bytes, const envoyx_value*);
  bool (*set_typed_metadata)(envoyx_teststream*, uint32_t, envoyx_bytes, envoyx_bytes, envoyx_bytes);
  void (*set_upstream_hosts_attempted)(envoyx_teststream*, const envoyx_bytes*, size_t);
  void (*set_timing)(envoyx_teststream*, uint32_t, int64_t);
  envoyx_teststream* (*stream_on_route)(envoyx_testhost*, envoyx_bytes, envoyx_bytes,
                                        envoyx_testhost_owned*);
  bool (*metric)(envoyx_testhost*, envoyx_bytes, const envoyx_bytes*, size_t,
                 envoyx_testhost_owned*);
  void (*pending_callouts)(envoyx_teststream*, envoyx_testhost_owned*);
  void (*answer_callout)(envoyx_teststream*, uint64_t, uint32_t, uint32_t, const envoyx_header*,
                         size_t, const envoyx_bytes*, size_t);
  void (*callout_event)(envoyx_teststream*, uint64_t, uint32_t, uint32_t, uint32_t,
                        const envoyx_header*, size_t, const envoyx_bytes*, size_t, bool);
  size_t (*run_config_scheduled)(envoyx_testhost*, uint64_t);
  void (*pending_config_callouts)(envoyx_testhost*, envoyx_testhost_owned*);
  void (*answer_config_callout)(envoyx_testhost*, uint64_t, uint32_t, uint32_t,
                                const envoyx_header*, size_t, const envoyx_bytes*, size_t);
  void (*config_callout_event)(envoyx_testhost*, uint64_t, uint32_t, uint32_t, uint32_t,
                               const envoyx_header*, size_t, const envoyx_bytes*, size_t, bool);
} lib;

#define RESOLVE(field, name)                                                              \
  if (!(*(void**)&lib.field = dlsym(handle, name))) {                                      \
    snprintf(error, error_cap, "%s has no function %s: is it the EnvoyX test host?", path, \
             name);                                                                       \
    return false;                                                                          \
  }

bool envoyxtest_open(const char* path, char* error, size_t error_cap) {
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    snprintf(error, error_cap, "cannot load the EnvoyX test host %s: %s", path, dlerror());
    return false;
  }
  RESOLVE(owned_free, "envoyx_testhost_owned_free");
  RESOLVE(new_host, "envoyx_testhost_new");
  RESOLVE(new_declaring, "envoyx_testhost_new_declaring");
  RESOLVE(set_secret, "envoyx_testhost_set_secret");
  RESOLVE(free_host, "envoyx_testhost_free");
  RESOLVE(stream, "envoyx_testhost_stream");
  RESOLVE(stream_free, "envoyx_teststream_free");
  RESOLVE(headers, "envoyx_teststream_headers");
  RESOLVE(body, "envoyx_teststream_body");
  RESOLVE(complete, "envoyx_teststream_complete");
  RESOLVE(run_scheduled, "envoyx_teststream_run_scheduled");
  RESOLVE(seen_headers, "envoyx_teststream_seen_headers");
  RESOLVE(seen_body, "envoyx_teststream_seen_body");
  RESOLVE(forwarded, "envoyx_teststream_forwarded");
  RESOLVE(local_reply, "envoyx_teststream_local_reply");
  RESOLVE(was_reset, "envoyx_teststream_was_reset");
  RESOLVE(reset_refused, "envoyx_teststream_reset_refused");
  RESOLVE(watermark, "envoyx_teststream_watermark");
  RESOLVE(buffer_limit, "envoyx_teststream_buffer_limit");
  RESOLVE(proxy_local_reply, "envoyx_teststream_proxy_local_reply");
  RESOLVE(logs, "envoyx_testhost_logs");
  RESOLVE(set_runtime, "envoyx_testhost_set_runtime");
  RESOLVE(set_attribute, "envoyx_teststream_set_attribute");
  RESOLVE(set_metadata, "envoyx_teststream_set_metadata");
  RESOLVE(set_typed_metadata, "envoyx_teststream_set_typed_metadata");
  RESOLVE(set_upstream_hosts_attempted, "envoyx_teststream_set_upstream_hosts_attempted");
  RESOLVE(set_timing, "envoyx_teststream_set_timing");
  RESOLVE(stream_on_route, "envoyx_testhost_stream_on_route");
  RESOLVE(metric, "envoyx_testhost_metric");
  RESOLVE(pending_callouts, "envoyx_teststream_pending_callouts");
  RESOLVE(answer_callout, "envoyx_teststream_answer_callout");
  RESOLVE(callout_event, "envoyx_teststream_callout_event");
  RESOLVE(run_config_scheduled, "envoyx_testhost_run_config_scheduled");
  RESOLVE(pending_config_callouts, "envoyx_testhost_pending_config_callouts");
  RESOLVE(answer_config_callout, "envoyx_testhost_answer_config_callout");
  RESOLVE(config_callout_event, "envoyx_testhost_config_callout_event");
  return true;
}

void envoyxtest_owned_free(envoyx_testhost_owned owned) { lib.owned_free(owned); }

envoyx_testhost* envoyxtest_new(const char* name, size_t name_len, const char* config,
                                size_t config_len, envoyx_testhost_owned* error) {
  const char* const* names;
  const void* const* functions;
  size_t count = envoyxgo_export_table(&names, &functions);
  envoyx_bytes n = {(const uint8_t*)name, name_len}, c = {(const uint8_t*)config, config_len};
  return lib.new_host(names, functions, count, n, c, error);
}

void envoyxtest_free(envoyx_testhost* host) { lib.free_host(host); }

static envoyx_bytes* unpack(const char* buf, const size_t* lens, size_t count);

envoyx_testhost* envoyxtest_new_declaring(const char* name, size_t name_len, const char* config,
                                          size_t config_len, const char* buf, const size_t* lens,
                                          size_t secrets_len, envoyx_testhost_owned* error) {
  const char* const* names;
  const void* const* functions;
  size_t count = envoyxgo_export_table(&names, &functions);
  envoyx_bytes n = {(const uint8_t*)name, name_len}, c = {(const uint8_t*)config, config_len};
  envoyx_bytes* secrets = unpack(buf, lens, secrets_len);
  envoyx_testhost* host = lib.new_declaring(names, functions, count, n, c, secrets, secrets_len, error);
  free(secrets);
  return host;
}

void envoyxtest_set_secret(const char* name, size_t name_len, const char* value, size_t value_len) {
  envoyx_bytes n = {(const uint8_t*)name, name_len}, v = {(const uint8_t*)value, value_len};
  lib.set_secret(n, v);
}
envoyx_teststream* envoyxtest_stream(envoyx_testhost* host) { return lib.stream(host); }
void envoyxtest_stream_free(envoyx_teststream* s) { lib.stream_free(s); }

/* Lists of strings come packed from Go: the bytes end to end in `buf`, their lengths in `lens`
 * (no Go pointer in memory C is given); these make views of them for one call. */
static envoyx_bytes* unpack(const char* buf, const size_t* lens, size_t count) {
  envoyx_bytes* views = malloc((count ? count : 1) * sizeof(envoyx_bytes));
  for (size_t i = 0, at = 0; i < count; at += lens[i], i++)
    views[i] = (envoyx_bytes){(const uint8_t*)buf + at, lens[i]};
  return views;
}

/* `count` headers from 2 * count packed strings: key, value, ... */
static envoyx_header* unpack_headers(const char* buf, const size_t* lens, size_t count) {
  envoyx_bytes* views = unpack(buf, lens, 2 * count);
  envoyx_header* headers = malloc((count ? count : 1) * sizeof(envoyx_header));
  for (size_t i = 0; i < count; i++) {
    headers[i].key = views[2 * i];
    headers[i].value = views[2 * i + 1];
  }
  free(views);
  return headers;
}

uint32_t envoyxtest_headers(envoyx_teststream* s, uint32_t map, const char* buf,
                            const size_t* lens, size_t count, bool end) {
  envoyx_header* headers = unpack_headers(buf, lens, count);
  uint32_t status = lib.headers(s, map, headers, count, end);
  free(headers);
  return status;
}

uint32_t envoyxtest_body(envoyx_teststream* s, uint32_t direction, const char* buf,
                         const size_t* lens, size_t count, bool end) {
  envoyx_bytes* views = unpack(buf, lens, count);
  uint32_t status = lib.body(s, direction, views, count, end);
  free(views);
  return status;
}

envoyx_teststream* envoyxtest_stream_on_route(envoyx_testhost* host, const char* name,
                                              size_t name_len, const char* config,
                                              size_t config_len, envoyx_testhost_owned* error) {
  envoyx_bytes n = {(const uint8_t*)name, name_len}, c = {(const uint8_t*)config, config_len};
  return lib.stream_on_route(host, n, c, error);
}

bool envoyxtest_metric(envoyx_testhost* host, const char* name, size_t name_len, const char* buf,
                       const size_t* lens, size_t count, envoyx_testhost_owned* out) {
  envoyx_bytes* labels = unpack(buf, lens, count);
  envoyx_bytes n = {(const uint8_t*)name, name_len};
  bool found = lib.metric(host, n, labels, count, out);
  free(labels);
  return found;
}

void envoyxtest_pending_callouts(envoyx_teststream* s, envoyx_testhost_owned* out) {
  lib.pending_callouts(s, out);
}

/* A callout's answer or event from packed strings: the headers' 2 * headers_count, then the
 * body's chunks. `host` answers the configuration's callout, else `s` the stream's. */
static void deliver(envoyx_testhost* host, envoyx_teststream* s, uint64_t id, int event,
                    uint32_t kind, uint32_t failed, uint32_t status, const char* buf,
                    const size_t* lens, size_t headers_count, size_t chunks_count, bool end) {
  envoyx_header* headers = unpack_headers(buf, lens, headers_count);
  size_t at = 0;
  for (size_t i = 0; i < 2 * headers_count; i++) at += lens[i];
  envoyx_bytes* chunks = unpack(buf + at, lens + 2 * headers_count, chunks_count);
  if (event && host)
    lib.config_callout_event(host, id, kind, failed, status, headers, headers_count, chunks,
                             chunks_count, end);
  else if (event)
    lib.callout_event(s, id, kind, failed, status, headers, headers_count, chunks, chunks_count,
                      end);
  else if (host)
    lib.answer_config_callout(host, id, failed, status, headers, headers_count, chunks,
                              chunks_count);
  else
    lib.answer_callout(s, id, failed, status, headers, headers_count, chunks, chunks_count);
  free(headers);
  free(chunks);
}

void envoyxtest_answer_callout(envoyx_testhost* host, envoyx_teststream* s, uint64_t id,
                               uint32_t failed, uint32_t status, const char* buf,
                               const size_t* lens, size_t headers_count, size_t chunks_count) {
  deliver(host, s, id, 0, 0, failed, status, buf, lens, headers_count, chunks_count, false);
}

void envoyxtest_callout_event(envoyx_testhost* host, envoyx_teststream* s, uint64_t id,
                              uint32_t kind, uint32_t failed, uint32_t status, const char* buf,
                              const size_t* lens, size_t headers_count, size_t chunks_count,
                              bool end) {
  deliver(host, s, id, 1, kind, failed, status, buf, lens, headers_count, chunks_count, end);
}

size_t envoyxtest_run_config_scheduled(envoyx_testhost* host, uint64_t wait_ms) {
  return lib.run_config_scheduled(host, wait_ms);
}

void envoyxtest_pending_config_callouts(envoyx_testhost* host, envoyx_testhost_owned* out) {
  lib.pending_config_callouts(host, out);
}

void envoyxtest_complete(envoyx_teststream* s) { lib.complete(s); }
size_t envoyxtest_run_scheduled(envoyx_teststream* s, uint64_t wait_ms) {
  return lib.run_scheduled(s, wait_ms);
}
bool envoyxtest_seen_headers(envoyx_teststream* s, uint32_t map, envoyx_testhost_owned* out) {
  return lib.seen_headers(s, map, out);
}
void envoyxtest_seen_body(envoyx_teststream* s, uint32_t direction, envoyx_testhost_owned* out) {
  lib.seen_body(s, direction, out);
}
bool envoyxtest_forwarded(envoyx_teststream* s, uint32_t direction) {
  return lib.forwarded(s, direction);
}
bool envoyxtest_local_reply(envoyx_teststream* s, uint32_t* status, envoyx_testhost_owned* headers,
                            envoyx_testhost_owned* body, envoyx_testhost_owned* details) {
  return lib.local_reply(s, status, headers, body, details);
}
bool envoyxtest_was_reset(envoyx_teststream* s) { return lib.was_reset(s); }
bool envoyxtest_reset_refused(envoyx_teststream* s) { return lib.reset_refused(s); }
void envoyxtest_watermark(envoyx_teststream* s, uint32_t direction, bool above) {
  lib.watermark(s, direction, above);
}
uint64_t envoyxtest_buffer_limit(envoyx_teststream* s) { return lib.buffer_limit(s); }
bool envoyxtest_proxy_local_reply(envoyx_teststream* s, uint32_t status, const char* details,
                                  size_t details_len, const char* body, size_t body_len) {
  envoyx_bytes d = {(const uint8_t*)details, details_len}, b = {(const uint8_t*)body, body_len};
  return lib.proxy_local_reply(s, status, d, b);
}
void envoyxtest_logs(envoyx_testhost_owned* out) { lib.logs(out); }
void envoyxtest_set_runtime(const char* key, size_t key_len, const envoyx_value* value) {
  envoyx_bytes k = {(const uint8_t*)key, key_len};
  lib.set_runtime(k, value);
}

/* A value from Go's parts, built here: a Go struct holding a pointer to Go memory may not be
 * passed to C. */
static envoyx_value value_of(uint32_t kind, const char* string, size_t string_len, double number, bool boolean) {
  envoyx_value v = {kind, {(const uint8_t*)string, string_len}, number, boolean};
  return v;
}
bool envoyxtest_set_attribute(envoyx_teststream* s, uint32_t attribute, uint32_t kind, const char* string,
                              size_t string_len, double number, bool boolean) {
  envoyx_value v = value_of(kind, string, string_len, number, boolean);
  return lib.set_attribute(s, attribute, &v);
}
bool envoyxtest_set_metadata(envoyx_teststream* s, uint32_t source, const char* ns, size_t ns_len, const char* key,
                             size_t key_len, uint32_t kind, const char* string, size_t string_len, double number,
                             bool boolean) {
  envoyx_value v = value_of(kind, string, string_len, number, boolean);
  envoyx_bytes n = {(const uint8_t*)ns, ns_len}, k = {(const uint8_t*)key, key_len};
  return lib.set_metadata(s, source, n, k, &v);
}
bool envoyxtest_set_typed_metadata(envoyx_teststream* s, uint32_t source, const char* ns, size_t ns_len,
                                   const char* url, size_t url_len, const char* value, size_t value_len) {
  envoyx_bytes n = {(const uint8_t*)ns, ns_len}, u = {(const uint8_t*)url, url_len},
               v = {(const uint8_t*)value, value_len};
  return lib.set_typed_metadata(s, source, n, u, v);
}
void envoyxtest_set_upstream_hosts_attempted(envoyx_teststream* s, const char* buf, const size_t* lens,
                                             size_t count) {
  envoyx_bytes* views = calloc(count ? count : 1, sizeof(envoyx_bytes));
  for (size_t i = 0, at = 0; i < count; at += lens[i], i++) {
    views[i].ptr = (const uint8_t*)buf + at;
    views[i].len = lens[i];
  }
  lib.set_upstream_hosts_attempted(s, views, count);
  free(views);
}
void envoyxtest_set_timing(envoyx_teststream* s, uint32_t timing, int64_t ns) { lib.set_timing(s, timing, ns); }
