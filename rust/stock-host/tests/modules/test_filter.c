/* An EnvoyX module in plain C (against x/abi.h) for the stock-Envoy host's end-to-end tests.
 * Its filter_config picks the behaviour:
 *   basic  - request: adds `x-envoyx-request: added` and `x-envoyx-header-count`, remembers
 *            `x-copy-me`, upper-cases every request body chunk in place (zero copy), sets the
 *            trailer `x-envoyx-trailer: added`;
 *            response: sets `x-envoyx-response`, `x-copied` (the remembered value) and
 *            `x-envoyx-request-bytes`, removes `x-upstream-drop-me`.
 *   reply  - answers every request with a 403 local reply.
 *   delay  - stops the request headers and the response headers; a pthread continues each
 *            direction 100 ms later through a stream handle. Body chunks that arrive while a
 *            direction is held are buffered (a body hook returning CONTINUE would resume it).
 *   reset  - resets every stream.
 * In basic mode the response trailers get `x-envoyx-response-trailer: added`, the value of the
 * trailer `x-upstream-t` copied into `x-envoyx-saw-t`, and `x-drop-trailer` removed.
 *
 * In every mode the module counts its streams (new, complete, destroy, and any complete or
 * destroy seen twice for one stream), process-wide, and answers a request for the path
 * `/__counts` with a 200 local reply whose body is those counts, e.g.
 * `new=5 complete=4 destroy=4 complete_twice=0 destroy_twice=0 untracked=0`; the `/__counts`
 * stream itself is one of the `new`, not yet complete or destroyed. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi.h"

enum mode { MODE_BASIC, MODE_REPLY, MODE_DELAY, MODE_RESET };

typedef struct {
  enum mode mode;
} config;

typedef struct {
  enum mode mode;
  /* Index into `stream_life`, or -1 past its end. */
  long index;
  /* delay: when each direction's hold ends (CLOCK_MONOTONIC nanoseconds), 0 if not held. */
  long long held_until[2];
  char copied[256];
  size_t copied_len;
  size_t request_bytes;
} stream_state;

static const envoyx_host_api* host;

/* Stream counters. Atomic because Envoy may run streams on several workers (the tests use one). */
static unsigned long streams_new, streams_complete, streams_destroy, complete_twice, destroy_twice;
/* How many complete and destroy calls each stream got, by creation order; streams past the end
 * are counted as `untracked` and only in the totals. */
#define TRACKED_STREAMS 65536
static unsigned char stream_life[TRACKED_STREAMS][2];
static unsigned long untracked;

static unsigned long load(unsigned long* counter) { return __atomic_load_n(counter, __ATOMIC_SEQ_CST); }
static unsigned long bump(unsigned long* counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_SEQ_CST); }

/* Records one complete (which = 0) or destroy (which = 1) call of a stream; 1 if it was not the
 * first of its kind for that stream. */
static int seen_before(long index, int which) {
  if (index < 0) return 0;
  return __atomic_fetch_add(&stream_life[index][which], 1, __ATOMIC_SEQ_CST) > 0;
}

static envoyx_bytes str(const char* s) {
  envoyx_bytes b = {(const uint8_t*)s, strlen(s)};
  return b;
}

static void log_info(const char* s) { host->log(ENVOYX_LOG_INFO, str(s)); }

envoyx_abi_version envoyx_module_abi_version(void) {
  envoyx_abi_version v = {ENVOYX_ABI_VERSION_MAJOR, ENVOYX_ABI_VERSION_MINOR};
  return v;
}

bool envoyx_on_program_init(const envoyx_host_api* api, envoyx_error* error) {
  (void)error;
  host = api;
  log_info("test_filter: program init");
  return true;
}

static bool is(envoyx_bytes b, const char* s) { return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0; }

envoyx_module_config* envoyx_on_filter_config_new(envoyx_bytes name, envoyx_bytes cfg, envoyx_error* error) {
  (void)name;
  config* c = calloc(1, sizeof *c);
  if (is(cfg, "basic")) c->mode = MODE_BASIC;
  else if (is(cfg, "reply")) c->mode = MODE_REPLY;
  else if (is(cfg, "delay")) c->mode = MODE_DELAY;
  else if (is(cfg, "reset")) c->mode = MODE_RESET;
  else {
    free(c);
    host->error_set(error, str("filter_config must be basic, reply, delay or reset"));
    return NULL;
  }
  return c;
}

void envoyx_on_filter_config_destroy(envoyx_module_config* c) { free(c); }

envoyx_module_stream* envoyx_on_stream_new(envoyx_module_config* c, envoyx_stream* stream) {
  (void)stream;
  stream_state* s = calloc(1, sizeof *s);
  s->mode = ((config*)c)->mode;
  unsigned long n = bump(&streams_new);
  if (n < TRACKED_STREAMS) {
    s->index = (long)n;
  } else {
    s->index = -1;
    bump(&untracked);
  }
  return s;
}

typedef struct {
  envoyx_stream_handle* handle;
  envoyx_direction direction;
} delayed;

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void* continue_later(void* arg) {
  delayed* d = arg;
  struct timespec t = {0, 100 * 1000 * 1000};
  nanosleep(&t, NULL);
  host->stream_handle_continue(d->handle, d->direction);
  host->stream_handle_release(d->handle);
  free(d);
  return NULL;
}

static void continue_from_thread(envoyx_stream* stream, stream_state* s, envoyx_direction direction) {
  s->held_until[direction] = now_ns() + 100 * 1000 * 1000;
  delayed* d = malloc(sizeof *d);
  d->handle = host->stream_handle_new(stream);
  d->direction = direction;
  pthread_t thread;
  pthread_create(&thread, NULL, continue_later, d);
  pthread_detach(thread);
}

/* Answers `/__counts` (any mode); true if it did. */
static bool answer_counts(envoyx_stream* stream) {
  envoyx_bytes path;
  if (host->header_get(stream, ENVOYX_REQUEST_HEADERS, str(":path"), &path, 1) == 0 || !is(path, "/__counts"))
    return false;
  char body[256];
  snprintf(body, sizeof body, "new=%lu complete=%lu destroy=%lu complete_twice=%lu destroy_twice=%lu untracked=%lu",
           load(&streams_new), load(&streams_complete), load(&streams_destroy), load(&complete_twice),
           load(&destroy_twice), load(&untracked));
  host->send_local_reply(stream, 200, NULL, 0, str(body), str("envoyx_counts"));
  return true;
}

envoyx_headers_status envoyx_on_request_headers(envoyx_stream* stream, envoyx_module_stream* ms, bool eos) {
  (void)eos;
  stream_state* s = ms;
  if (answer_counts(stream)) return ENVOYX_HEADERS_STOP_ITERATION;
  switch (s->mode) {
    case MODE_BASIC: {
      host->header_add(stream, ENVOYX_REQUEST_HEADERS, str("x-envoyx-request"), str("added"));
      envoyx_bytes value;
      if (host->header_get(stream, ENVOYX_REQUEST_HEADERS, str("x-copy-me"), &value, 1) > 0 &&
          value.len < sizeof s->copied) {
        memcpy(s->copied, value.ptr, value.len);
        s->copied_len = value.len;
      }
      char count[32];
      snprintf(count, sizeof count, "%zu", host->header_all(stream, ENVOYX_REQUEST_HEADERS, NULL, 0));
      host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-envoyx-header-count"), str(count));
      return ENVOYX_HEADERS_CONTINUE;
    }
    case MODE_REPLY: {
      envoyx_header h = {str("x-reply"), str("envoyx")};
      host->send_local_reply(stream, 403, &h, 1, str("denied by envoyx\n"), str("envoyx_denied"));
      return ENVOYX_HEADERS_STOP_ITERATION;
    }
    case MODE_DELAY:
      host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-delayed"), str("yes"));
      continue_from_thread(stream, s, ENVOYX_DIRECTION_REQUEST);
      return ENVOYX_HEADERS_STOP_ITERATION;
    case MODE_RESET:
      host->reset_stream(stream);
      return ENVOYX_HEADERS_STOP_ITERATION;
  }
  return ENVOYX_HEADERS_CONTINUE;
}

envoyx_body_status envoyx_on_request_body(envoyx_stream* stream, envoyx_module_stream* ms, bool eos) {
  (void)eos;
  stream_state* s = ms;
  if (s->mode == MODE_DELAY && now_ns() < s->held_until[ENVOYX_DIRECTION_REQUEST])
    return ENVOYX_BODY_STOP_ITERATION_AND_BUFFER;
  if (s->mode != MODE_BASIC) return ENVOYX_BODY_CONTINUE;
  envoyx_slice slices[64];
  size_t total = host->body_slices(stream, ENVOYX_BODY_REQUEST_RECEIVED, slices, 64);
  if (total > 64) {
    envoyx_slice* all = malloc(total * sizeof *all);
    host->body_slices(stream, ENVOYX_BODY_REQUEST_RECEIVED, all, total);
    for (size_t i = 0; i < total; i++)
      for (size_t j = 0; j < all[i].len; j++) all[i].ptr[j] = (uint8_t)toupper(all[i].ptr[j]);
    for (size_t i = 0; i < total; i++) s->request_bytes += all[i].len;
    free(all);
  } else {
    for (size_t i = 0; i < total; i++) {
      for (size_t j = 0; j < slices[i].len; j++) slices[i].ptr[j] = (uint8_t)toupper(slices[i].ptr[j]);
      s->request_bytes += slices[i].len;
    }
  }
  return ENVOYX_BODY_CONTINUE;
}

envoyx_trailers_status envoyx_on_request_trailers(envoyx_stream* stream, envoyx_module_stream* ms) {
  stream_state* s = ms;
  if (s->mode == MODE_BASIC)
    host->header_set(stream, ENVOYX_REQUEST_TRAILERS, str("x-envoyx-trailer"), str("added"));
  return ENVOYX_TRAILERS_CONTINUE;
}

envoyx_headers_status envoyx_on_response_headers(envoyx_stream* stream, envoyx_module_stream* ms, bool eos) {
  (void)eos;
  stream_state* s = ms;
  if (s->mode == MODE_DELAY) {
    host->header_set(stream, ENVOYX_RESPONSE_HEADERS, str("x-delayed-response"), str("yes"));
    continue_from_thread(stream, s, ENVOYX_DIRECTION_RESPONSE);
    return ENVOYX_HEADERS_STOP_ITERATION;
  }
  if (s->mode != MODE_BASIC) return ENVOYX_HEADERS_CONTINUE;
  host->header_set(stream, ENVOYX_RESPONSE_HEADERS, str("x-envoyx-response"), str("hello from envoyx"));
  if (s->copied_len > 0) {
    envoyx_bytes copied = {(const uint8_t*)s->copied, s->copied_len};
    host->header_set(stream, ENVOYX_RESPONSE_HEADERS, str("x-copied"), copied);
  }
  char bytes[32];
  snprintf(bytes, sizeof bytes, "%zu", s->request_bytes);
  host->header_set(stream, ENVOYX_RESPONSE_HEADERS, str("x-envoyx-request-bytes"), str(bytes));
  host->header_remove(stream, ENVOYX_RESPONSE_HEADERS, str("x-upstream-drop-me"));
  return ENVOYX_HEADERS_CONTINUE;
}

envoyx_body_status envoyx_on_response_body(envoyx_stream* stream, envoyx_module_stream* ms, bool eos) {
  (void)stream;
  (void)eos;
  stream_state* s = ms;
  if (s->mode == MODE_DELAY && now_ns() < s->held_until[ENVOYX_DIRECTION_RESPONSE])
    return ENVOYX_BODY_STOP_ITERATION_AND_BUFFER;
  return ENVOYX_BODY_CONTINUE;
}

envoyx_trailers_status envoyx_on_response_trailers(envoyx_stream* stream, envoyx_module_stream* ms) {
  stream_state* s = ms;
  if (s->mode != MODE_BASIC) return ENVOYX_TRAILERS_CONTINUE;
  host->header_set(stream, ENVOYX_RESPONSE_TRAILERS, str("x-envoyx-response-trailer"), str("added"));
  envoyx_bytes value;
  if (host->header_get(stream, ENVOYX_RESPONSE_TRAILERS, str("x-upstream-t"), &value, 1) > 0 && value.len < 256) {
    char copied[256];
    memcpy(copied, value.ptr, value.len);
    envoyx_bytes copy = {(const uint8_t*)copied, value.len};
    host->header_set(stream, ENVOYX_RESPONSE_TRAILERS, str("x-envoyx-saw-t"), copy);
  }
  host->header_remove(stream, ENVOYX_RESPONSE_TRAILERS, str("x-drop-trailer"));
  return ENVOYX_TRAILERS_CONTINUE;
}

void envoyx_on_stream_complete(envoyx_stream* stream, envoyx_module_stream* ms) {
  (void)stream;
  stream_state* s = ms;
  bump(&streams_complete);
  if (seen_before(s->index, 0)) bump(&complete_twice);
}

void envoyx_on_stream_destroy(envoyx_module_stream* ms) {
  stream_state* s = ms;
  bump(&streams_destroy);
  if (seen_before(s->index, 1)) bump(&destroy_twice);
  free(ms);
}
