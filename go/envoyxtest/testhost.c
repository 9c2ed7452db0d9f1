/* Loads libenvoyx_testhost.so (its path in ENVOYX_TESTHOST_LIB) at run time and calls through its
 * functions: no link-time dependency, so a module builds and vets without it. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "testhost.h"

static struct {
  void (*owned_free)(envoyx_testhost_owned);
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
  void (*logs)(envoyx_testhost_owned*);
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
  RESOLVE(logs, "envoyx_testhost_logs");
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
envoyx_teststream* envoyxtest_stream(envoyx_testhost* host) { return lib.stream(host); }
void envoyxtest_stream_free(envoyx_teststream* s) { lib.stream_free(s); }

/* `strings` holds `count` keys then `count` values, each with its length in `lens`. */
uint32_t envoyxtest_headers(envoyx_teststream* s, uint32_t map, const char** strings,
                            const size_t* lens, size_t count, bool end) {
  envoyx_header* headers = count ? malloc(count * sizeof(envoyx_header)) : NULL;
  for (size_t i = 0; i < count; i++) {
    headers[i].key = (envoyx_bytes){(const uint8_t*)strings[i], lens[i]};
    headers[i].value = (envoyx_bytes){(const uint8_t*)strings[count + i], lens[count + i]};
  }
  uint32_t status = lib.headers(s, map, headers, count, end);
  free(headers);
  return status;
}

uint32_t envoyxtest_body(envoyx_teststream* s, uint32_t direction, const char** slices,
                         const size_t* lens, size_t count, bool end) {
  envoyx_bytes* views = count ? malloc(count * sizeof(envoyx_bytes)) : NULL;
  for (size_t i = 0; i < count; i++) views[i] = (envoyx_bytes){(const uint8_t*)slices[i], lens[i]};
  uint32_t status = lib.body(s, direction, views, count, end);
  free(views);
  return status;
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
void envoyxtest_logs(envoyx_testhost_owned* out) { lib.logs(out); }
