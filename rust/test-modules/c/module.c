/* The C test module: one EnvoyX module in plain C against x/abi.h, compiled by the tests
 * themselves (`cc -shared -fPIC -I x …`), its behaviour picked by -D switches.
 *
 * Behaviour (at most one; none is the default):
 *   (none)              The minimal module: passes everything through and sets the request header
 *                       `x-c-module: seen`. filter_config `reject` is refused ("filter_config must
 *                       not be \"reject\""); with `fail-stream` its stream-new hook returns NULL;
 *                       any other config is accepted. Exports `c_module_counts` (its lifecycle
 *                       counters, below) and, when the header has ENVOYX_DECLARE_HOST_API_SIZE
 *                       (ABI 1.1 on), `envoyx_module_host_api_size`. The compatibility tests
 *                       build it against the frozen headers x/compat/1.0 and x/compat/1.1 too:
 *                       keep calls newer than ABI 1.0 behind a switch or an
 *                       `#if ENVOYX_ABI_VERSION_MINOR >= N`.
 *   -DSTOCK_TEST_FILTER The stock-Envoy host's end-to-end module (rust/stock-host/tests, and
 *                       Bazel's //envoy/test:libtest_filter.so): filter_config picks a mode, and
 *                       anything else is refused ("filter_config must be basic, reply, delay or
 *                       reset"):
 *     basic  request: adds `x-envoyx-request: added` and `x-envoyx-header-count`, remembers
 *            `x-copy-me`, upper-cases every request body chunk in place (zero copy), sets the
 *            trailer `x-envoyx-trailer: added`; response: sets `x-envoyx-response`, `x-copied`
 *            (the remembered value) and `x-envoyx-request-bytes`, removes `x-upstream-drop-me`;
 *            response trailers: sets `x-envoyx-response-trailer: added`, copies the trailer
 *            `x-upstream-t` into `x-envoyx-saw-t`, removes `x-drop-trailer`.
 *     reply  answers every request with a 403 local reply (`x-reply: envoyx`).
 *     delay  stops the request headers and the response headers; a pthread continues each
 *            direction 100 ms later through a stream handle. Body chunks that arrive while a
 *            direction is held are buffered (a body hook returning CONTINUE would resume it).
 *     reset  resets every stream.
 *                       In every mode a request for the path `/__counts` gets a 200 local reply
 *                       whose body is the stream counters, e.g. `new=5 complete=4 destroy=4
 *                       complete_twice=0 destroy_twice=0 untracked=0 response_at_start=0` (the
 *                       `/__counts` stream itself is one of the `new`, not yet complete or
 *                       destroyed; `response_at_start`: streams whose stream-new hook could read
 *                       response headers, trailers or a buffered response body, none can). Logs
 *                       `test_filter: program init` at program init.
 *   -DPROBE             The C++ test host's probe (loader/tests): calls the host functions the
 *                       example modules leave out and reports what it saw. Request headers:
 *                       `x-probe-entries` (every entry as "key=value;", in order, read with
 *                       header_all) and `x-probe-multi` ("<total> <first>": the values of
 *                       `x-multi`, read with room for one). Request body: drains the first two
 *                       bytes of each chunk and tries to set `x-probe-length` (body_length) in
 *                       the request headers, which already went on, so the host refuses it. Any
 *                       filter_config is accepted.
 *
 * Deliberately wrong or unusual builds (with any behaviour):
 *   -DABI_MAJOR=N -DABI_MINOR=N  declare another ABI version than the header's.
 *   -DFAIL_INIT                  program init fails ("license file /etc/c-module.license not found").
 *   -DCRASH_INIT                 program init crashes with SIGSEGV (a real invalid write).
 *   -DOMIT_STREAM_DESTROY        leaves out the required export envoyx_on_stream_destroy.
 *   -DTHREAD                     starts a thread of its own at program init that runs the module's
 *                                code until told to stop (exports `c_module_thread_ticks`).
 *   -DUNLOAD_HOOK                exports envoyx_on_program_unload, which stops that thread and says
 *                                yes.
 *   -DUNLOAD_REFUSE              exports envoyx_on_program_unload, which says no.
 * With the default behaviour only (needs the ABI 1.1 header or later):
 *   -DTRY_ABI_1_1                a 1.1 module without the optional exports: in request headers it
 *                                tries a schedule, a callout, a continue and the route config and
 *                                reports each in `x-c-schedule`, `x-c-callout`, `x-c-continue`,
 *                                `x-c-route` (scheduling and callouts are refused: false, 0).
 *
 * Every build counts its lifecycle calls, process-wide and atomically (hosts may run streams on
 * several workers): configs created and destroyed, streams created, completed and destroyed, and
 * any complete or destroy seen twice for one stream. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep under -std=c11 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi.h"

#if defined(STOCK_TEST_FILTER) && defined(PROBE)
#error "pick one behaviour: STOCK_TEST_FILTER or PROBE"
#endif
#if !defined(STOCK_TEST_FILTER) && !defined(PROBE)
#define DEFAULT_MODULE
#endif
#if defined(TRY_ABI_1_1) && !defined(DEFAULT_MODULE)
#error "TRY_ABI_1_1 goes with the default behaviour"
#endif
#if defined(UNLOAD_HOOK) && defined(UNLOAD_REFUSE)
#error "pick one of UNLOAD_HOOK and UNLOAD_REFUSE"
#endif

#ifndef ABI_MAJOR
#define ABI_MAJOR ENVOYX_ABI_VERSION_MAJOR
#endif
#ifndef ABI_MINOR
#define ABI_MINOR ENVOYX_ABI_VERSION_MINOR
#endif

/* ---- What every build shares ------------------------------------------------------------- */

static const envoyx_host_api* host;

/* Inline: not every build uses every helper. */
static inline envoyx_bytes str(const char* s) {
  envoyx_bytes b = {(const uint8_t*)s, strlen(s)};
  return b;
}

static inline bool is(envoyx_bytes b, const char* s) { return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0; }

/* Lifecycle counters. */
enum {
  CONFIGS_NEW,
  CONFIGS_DESTROYED,
  STREAMS_NEW,
  STREAMS_COMPLETE,
  STREAMS_DESTROYED,
  COMPLETE_TWICE,
  DESTROY_TWICE,
  UNTRACKED, /* streams past TRACKED_STREAMS, counted only in the totals */
  RESPONSE_AT_START, /* STOCK_TEST_FILTER: streams that saw a response in envoyx_on_stream_new */
  COUNTERS
};
static unsigned long counts[COUNTERS];
/* How many complete and destroy calls each stream got, by creation order. */
#define TRACKED_STREAMS 65536
static unsigned char stream_life[TRACKED_STREAMS][2];

static inline unsigned long load(int counter) { return __atomic_load_n(&counts[counter], __ATOMIC_SEQ_CST); }
static unsigned long bump(int counter) { return __atomic_fetch_add(&counts[counter], 1, __ATOMIC_SEQ_CST); }

/* Records one complete (which = 0) or destroy (which = 1) call of a stream; true if it was not
 * the first of its kind for that stream. */
static bool seen_before(long index, int which) {
  if (index < 0) return false;
  return __atomic_fetch_add(&stream_life[index][which], 1, __ATOMIC_SEQ_CST) > 0;
}

enum mode { MODE_BASIC, MODE_REPLY, MODE_DELAY, MODE_RESET };

/* The config object. */
typedef struct {
  enum mode mode;     /* STOCK_TEST_FILTER */
  bool fail_streams;  /* default: filter_config `fail-stream` */
} config;

/* The stream object. */
typedef struct {
  enum mode mode;
  /* Index into `stream_life`, or -1 past its end. */
  long index;
  /* STOCK_TEST_FILTER delay: when each direction's hold ends (CLOCK_MONOTONIC nanoseconds), 0 if
   * not held. */
  long long held_until[2];
  /* STOCK_TEST_FILTER basic: the request's `x-copy-me` and its body bytes. */
  char copied[256];
  size_t copied_len;
  size_t request_bytes;
} stream_state;

#ifdef DEFAULT_MODULE
/* The host table this module was compiled against: a host with a shorter one refuses it (the
 * frozen 1.0 header predates the macro). */
#ifdef ENVOYX_DECLARE_HOST_API_SIZE
ENVOYX_DECLARE_HOST_API_SIZE()
#endif

/* [0] configs created, [1] configs destroyed, [2] streams created, [3] streams completed,
 * [4] streams destroyed. */
void c_module_counts(unsigned long out[5]) {
  for (int i = 0; i < 5; i++) out[i] = load(i);
}
#endif

/* ---- -DTHREAD, -DUNLOAD_HOOK, -DUNLOAD_REFUSE ----------------------------------------------- */

#ifdef THREAD
/* A thread of the module's own, started at program init and running the module's code until
 * told to stop (a background refresher, as C modules start them). Unmapping the module while it
 * runs kills the process: the host must keep the module mapped unless the module finishes it in
 * envoyx_on_program_unload (-DUNLOAD_HOOK). */
#include <pthread.h>
#include <stdatomic.h>
static atomic_bool stop_thread;
static atomic_ulong thread_ticks;
static pthread_t worker;
static void* work(void* arg) {
  (void)arg;
  struct timespec tick = {0, 1000000};
  while (!atomic_load(&stop_thread)) {
    atomic_fetch_add(&thread_ticks, 1);
    nanosleep(&tick, NULL);
  }
  return NULL;
}
unsigned long c_module_thread_ticks(void) { return atomic_load(&thread_ticks); }
#endif

#ifdef UNLOAD_HOOK
bool envoyx_on_program_unload(void) {
#ifdef THREAD
  atomic_store(&stop_thread, true);
  pthread_join(worker, NULL);
#endif
  return true;
}
#endif
#ifdef UNLOAD_REFUSE
bool envoyx_on_program_unload(void) { return false; }
#endif

/* ---- The default behaviour -------------------------------------------------------------- */

#ifdef DEFAULT_MODULE
static bool default_config(envoyx_bytes cfg, config* c, envoyx_error* error) {
  if (is(cfg, "reject")) {
    host->error_set(error, str("filter_config must not be \"reject\""));
    return false;
  }
  c->fail_streams = is(cfg, "fail-stream");
  return true;
}

static void default_request_headers(envoyx_stream* stream) {
  host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-c-module"), str("seen"));
#ifdef TRY_ABI_1_1
  /* A 1.1 module without the optional exports: scheduling and callouts are refused (false, 0),
   * never delivered to hooks it does not have. */
  envoyx_stream_handle* handle = host->stream_handle_new(stream);
  bool scheduled = host->stream_handle_schedule(handle, 1);
  host->stream_handle_release(handle);
  envoyx_header headers[] = {{str(":method"), str("GET")}, {str(":path"), str("/")}, {str(":authority"), str("a")}};
  uint64_t callout = host->http_callout(stream, str("callout"), headers, 3, str(""), 1000);
  bool continued = host->continue_stream(stream, ENVOYX_DIRECTION_REQUEST);
  const void* route = host->route_config(stream);
  host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-c-schedule"), str(scheduled ? "true" : "false"));
  host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-c-callout"), str(callout ? "started" : "refused"));
  host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-c-continue"), str(continued ? "true" : "false"));
  host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-c-route"), str(route ? "some" : "none"));
#endif
}
#endif

/* ---- -DSTOCK_TEST_FILTER ---------------------------------------------------------------- */

#ifdef STOCK_TEST_FILTER
#include <pthread.h>

static bool stock_config(envoyx_bytes cfg, config* c, envoyx_error* error) {
  if (is(cfg, "basic")) c->mode = MODE_BASIC;
  else if (is(cfg, "reply")) c->mode = MODE_REPLY;
  else if (is(cfg, "delay")) c->mode = MODE_DELAY;
  else if (is(cfg, "reset")) c->mode = MODE_RESET;
  else {
    host->error_set(error, str("filter_config must be basic, reply, delay or reset"));
    return false;
  }
  return true;
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
  snprintf(body, sizeof body,
           "new=%lu complete=%lu destroy=%lu complete_twice=%lu destroy_twice=%lu untracked=%lu "
           "response_at_start=%lu",
           load(STREAMS_NEW), load(STREAMS_COMPLETE), load(STREAMS_DESTROYED), load(COMPLETE_TWICE),
           load(DESTROY_TWICE), load(UNTRACKED), load(RESPONSE_AT_START));
  host->send_local_reply(stream, 200, NULL, 0, str(body), str("envoyx_counts"));
  return true;
}

static envoyx_headers_status stock_request_headers(envoyx_stream* stream, stream_state* s) {
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

static void upper_case(envoyx_slice* slices, size_t n, stream_state* s) {
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < slices[i].len; j++) slices[i].ptr[j] = (uint8_t)toupper(slices[i].ptr[j]);
    s->request_bytes += slices[i].len;
  }
}

static envoyx_body_status stock_request_body(envoyx_stream* stream, stream_state* s) {
  if (s->mode == MODE_DELAY && now_ns() < s->held_until[ENVOYX_DIRECTION_REQUEST])
    return ENVOYX_BODY_STOP_ITERATION_AND_BUFFER;
  if (s->mode != MODE_BASIC) return ENVOYX_BODY_CONTINUE;
  envoyx_slice slices[64];
  size_t total = host->body_slices(stream, ENVOYX_BODY_REQUEST_RECEIVED, slices, 64);
  if (total > 64) {
    envoyx_slice* all = malloc(total * sizeof *all);
    host->body_slices(stream, ENVOYX_BODY_REQUEST_RECEIVED, all, total);
    upper_case(all, total, s);
    free(all);
  } else {
    upper_case(slices, total, s);
  }
  return ENVOYX_BODY_CONTINUE;
}

static envoyx_trailers_status stock_request_trailers(envoyx_stream* stream, stream_state* s) {
  if (s->mode == MODE_BASIC)
    host->header_set(stream, ENVOYX_REQUEST_TRAILERS, str("x-envoyx-trailer"), str("added"));
  return ENVOYX_TRAILERS_CONTINUE;
}

static envoyx_headers_status stock_response_headers(envoyx_stream* stream, stream_state* s) {
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

static envoyx_body_status stock_response_body(stream_state* s) {
  if (s->mode == MODE_DELAY && now_ns() < s->held_until[ENVOYX_DIRECTION_RESPONSE])
    return ENVOYX_BODY_STOP_ITERATION_AND_BUFFER;
  return ENVOYX_BODY_CONTINUE;
}

static envoyx_trailers_status stock_response_trailers(envoyx_stream* stream, stream_state* s) {
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
#endif

/* ---- -DPROBE ---------------------------------------------------------------------------- */

#ifdef PROBE
/* x-probe-entries: every entry as "key=value;", in order, read with header_all.
 * x-probe-multi: "<total> <first>": the values of x-multi, read with room for one. */
static void probe_request_headers(envoyx_stream* stream) {
  envoyx_header entries[16];
  size_t total = host->header_all(stream, ENVOYX_REQUEST_HEADERS, entries, 16);
  char joined[1024] = "";
  size_t used = 0;
  for (size_t i = 0; i < total && i < 16; i++) {
    int n = snprintf(joined + used, sizeof joined - used, "%.*s=%.*s;", (int)entries[i].key.len,
                     (const char*)entries[i].key.ptr, (int)entries[i].value.len, (const char*)entries[i].value.ptr);
    if (n < 0 || (size_t)n >= sizeof joined - used) break;
    used += (size_t)n;
  }
  envoyx_bytes first = {NULL, 0};
  size_t multi = host->header_get(stream, ENVOYX_REQUEST_HEADERS, str("x-multi"), &first, 1);
  char report[256];
  snprintf(report, sizeof report, "%zu %.*s", multi, (int)first.len, first.ptr ? (const char*)first.ptr : "");
  host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-probe-entries"), str(joined));
  host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-probe-multi"), str(report));
}

/* Drops the first two bytes of each request chunk, and tries to tell the length left in
 * x-probe-length: the request headers already went on, so the host refuses it. */
static void probe_request_body(envoyx_stream* stream) {
  host->body_drain(stream, ENVOYX_BODY_REQUEST_RECEIVED, 2);
  char length[32];
  snprintf(length, sizeof length, "%zu", host->body_length(stream, ENVOYX_BODY_REQUEST_RECEIVED));
  host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-probe-length"), str(length));
}
#endif

/* ---- The exports ------------------------------------------------------------------------ */

envoyx_abi_version envoyx_module_abi_version(void) {
  envoyx_abi_version v = {ABI_MAJOR, ABI_MINOR};
  return v;
}

bool envoyx_on_program_init(const envoyx_host_api* api, envoyx_error* error) {
  host = api;
#ifdef STOCK_TEST_FILTER
  host->log(ENVOYX_LOG_INFO, str("test_filter: program init"));
#endif
#ifdef CRASH_INIT
  /* A real invalid write (not raise()), as a buggy module would crash. */
  *(volatile int*)(uintptr_t)0 = 1;
#endif
#ifdef THREAD
  pthread_create(&worker, NULL, work, NULL);
#endif
#ifdef FAIL_INIT
  host->error_set(error, str("license file /etc/c-module.license not found"));
  return false;
#else
  (void)error;
  return true;
#endif
}

envoyx_module_config* envoyx_on_filter_config_new(envoyx_bytes name, envoyx_bytes cfg, envoyx_error* error) {
  (void)name;
  config* c = calloc(1, sizeof *c);
#if defined(STOCK_TEST_FILTER)
  bool ok = stock_config(cfg, c, error);
#elif defined(PROBE)
  (void)cfg;
  (void)error;
  bool ok = true;
#else
  bool ok = default_config(cfg, c, error);
#endif
  if (!ok) {
    free(c);
    return NULL;
  }
  bump(CONFIGS_NEW);
  return c;
}

void envoyx_on_filter_config_destroy(envoyx_module_config* c) {
  bump(CONFIGS_DESTROYED);
  free(c);
}

envoyx_module_stream* envoyx_on_stream_new(envoyx_module_config* module_config, envoyx_stream* stream) {
  (void)stream;
  const config* c = module_config;
  if (c->fail_streams) return NULL;
#ifdef STOCK_TEST_FILTER
  /* No response exists yet: every host must say so (Envoy sets a filter's encoder callbacks
   * after its decoder callbacks, where the custom build starts the stream). */
  if (host->header_all(stream, ENVOYX_RESPONSE_HEADERS, NULL, 0) > 0 ||
      host->header_all(stream, ENVOYX_RESPONSE_TRAILERS, NULL, 0) > 0 ||
      host->body_length(stream, ENVOYX_BODY_RESPONSE_BUFFERED) > 0)
    bump(RESPONSE_AT_START);
#endif
  stream_state* s = calloc(1, sizeof *s);
  s->mode = c->mode;
  unsigned long n = bump(STREAMS_NEW);
  if (n < TRACKED_STREAMS) {
    s->index = (long)n;
  } else {
    s->index = -1;
    bump(UNTRACKED);
  }
  return s;
}

envoyx_headers_status envoyx_on_request_headers(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                                bool end_of_stream) {
  (void)end_of_stream;
#if defined(STOCK_TEST_FILTER)
  return stock_request_headers(stream, module_stream);
#elif defined(PROBE)
  (void)module_stream;
  probe_request_headers(stream);
  return ENVOYX_HEADERS_CONTINUE;
#else
  (void)module_stream;
  default_request_headers(stream);
  return ENVOYX_HEADERS_CONTINUE;
#endif
}

envoyx_body_status envoyx_on_request_body(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                          bool end_of_stream) {
  (void)end_of_stream;
#if defined(STOCK_TEST_FILTER)
  return stock_request_body(stream, module_stream);
#elif defined(PROBE)
  (void)module_stream;
  probe_request_body(stream);
  return ENVOYX_BODY_CONTINUE;
#else
  (void)stream;
  (void)module_stream;
  return ENVOYX_BODY_CONTINUE;
#endif
}

envoyx_trailers_status envoyx_on_request_trailers(envoyx_stream* stream, envoyx_module_stream* module_stream) {
#ifdef STOCK_TEST_FILTER
  return stock_request_trailers(stream, module_stream);
#else
  (void)stream;
  (void)module_stream;
  return ENVOYX_TRAILERS_CONTINUE;
#endif
}

envoyx_headers_status envoyx_on_response_headers(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                                 bool end_of_stream) {
  (void)end_of_stream;
#ifdef STOCK_TEST_FILTER
  return stock_response_headers(stream, module_stream);
#else
  (void)stream;
  (void)module_stream;
  return ENVOYX_HEADERS_CONTINUE;
#endif
}

envoyx_body_status envoyx_on_response_body(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                           bool end_of_stream) {
  (void)stream;
  (void)end_of_stream;
#ifdef STOCK_TEST_FILTER
  return stock_response_body(module_stream);
#else
  (void)module_stream;
  return ENVOYX_BODY_CONTINUE;
#endif
}

envoyx_trailers_status envoyx_on_response_trailers(envoyx_stream* stream, envoyx_module_stream* module_stream) {
#ifdef STOCK_TEST_FILTER
  return stock_response_trailers(stream, module_stream);
#else
  (void)stream;
  (void)module_stream;
  return ENVOYX_TRAILERS_CONTINUE;
#endif
}

void envoyx_on_stream_complete(envoyx_stream* stream, envoyx_module_stream* module_stream) {
  (void)stream;
  const stream_state* s = module_stream;
  bump(STREAMS_COMPLETE);
  if (seen_before(s->index, 0)) bump(COMPLETE_TWICE);
}

#ifndef OMIT_STREAM_DESTROY
void envoyx_on_stream_destroy(envoyx_module_stream* module_stream) {
  const stream_state* s = module_stream;
  bump(STREAMS_DESTROYED);
  if (seen_before(s->index, 1)) bump(DESTROY_TWICE);
  free(module_stream);
}
#endif
