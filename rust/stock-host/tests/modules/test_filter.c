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
 *   reset  - resets every stream. */
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
  /* delay: when each direction's hold ends (CLOCK_MONOTONIC nanoseconds), 0 if not held. */
  long long held_until[2];
  char copied[256];
  size_t copied_len;
  size_t request_bytes;
} stream_state;

static const envoyx_host_api* host;

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

envoyx_headers_status envoyx_on_request_headers(envoyx_stream* stream, envoyx_module_stream* ms, bool eos) {
  (void)eos;
  stream_state* s = ms;
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
  (void)stream;
  (void)ms;
  return ENVOYX_TRAILERS_CONTINUE;
}

void envoyx_on_stream_complete(envoyx_stream* stream, envoyx_module_stream* ms) {
  (void)stream;
  (void)ms;
}

void envoyx_on_stream_destroy(envoyx_module_stream* ms) { free(ms); }
