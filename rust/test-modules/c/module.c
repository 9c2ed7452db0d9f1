/* A minimal EnvoyX module in C: passes everything through, tags request headers, and counts its
 * lifecycle calls. Switches (-D) make it deliberately broken for the bad-input tests. */
#ifdef THREAD
#define _POSIX_C_SOURCE 200809L /* nanosleep under -std=c11 */
#endif
#include <stdlib.h>
#include <string.h>

#include "abi.h"

#ifndef ABI_MAJOR
#define ABI_MAJOR ENVOYX_ABI_VERSION_MAJOR
#endif
#ifndef ABI_MINOR
#define ABI_MINOR ENVOYX_ABI_VERSION_MINOR
#endif

static const envoyx_host_api* host;

#ifdef THREAD
/* A thread of the module's own, started at program init and running the module's code until
 * told to stop (a background refresher, as C modules start them). Unmapping the module while it
 * runs kills the process: the host must keep the module mapped unless the module finishes it in
 * envoyx_on_program_unload (-DUNLOAD_HOOK). */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
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

/* Lifecycle counters: [0] configs created, [1] configs destroyed, [2] streams created,
 * [3] streams completed, [4] streams destroyed. */
static unsigned long counts[5];
void c_module_counts(unsigned long out[5]) { memcpy(out, counts, sizeof counts); }

static envoyx_bytes str(const char* s) {
  envoyx_bytes b = {(const uint8_t*)s, strlen(s)};
  return b;
}

/* The host table this module was compiled against: a host with a shorter one refuses it (the
 * frozen 1.0 header predates the macro). */
#ifdef ENVOYX_DECLARE_HOST_API_SIZE
ENVOYX_DECLARE_HOST_API_SIZE()
#endif

envoyx_abi_version envoyx_module_abi_version(void) {
  envoyx_abi_version v = {ABI_MAJOR, ABI_MINOR};
  return v;
}

bool envoyx_on_program_init(const envoyx_host_api* api, envoyx_error* error) {
  host = api;
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

envoyx_module_config* envoyx_on_filter_config_new(envoyx_bytes name, envoyx_bytes config,
                                                  envoyx_error* error) {
  (void)name;
  if (config.len == 6 && memcmp(config.ptr, "reject", 6) == 0) {
    host->error_set(error, str("filter_config must not be \"reject\""));
    return NULL;
  }
  counts[0]++;
  /* The config object remembers whether streams should fail to start. */
  char* fail_streams = malloc(1);
  *fail_streams = config.len == 11 && memcmp(config.ptr, "fail-stream", 11) == 0;
  return fail_streams;
}

void envoyx_on_filter_config_destroy(envoyx_module_config* config) {
  counts[1]++;
  free(config);
}

envoyx_module_stream* envoyx_on_stream_new(envoyx_module_config* config, envoyx_stream* stream) {
  (void)stream;
  if (*(char*)config) return NULL;
  counts[2]++;
  return malloc(1);
}

envoyx_headers_status envoyx_on_request_headers(envoyx_stream* stream,
                                                envoyx_module_stream* module_stream,
                                                bool end_of_stream) {
  (void)module_stream;
  (void)end_of_stream;
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
  return ENVOYX_HEADERS_CONTINUE;
}

envoyx_body_status envoyx_on_request_body(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                          bool end_of_stream) {
  (void)stream;
  (void)module_stream;
  (void)end_of_stream;
  return ENVOYX_BODY_CONTINUE;
}

envoyx_trailers_status envoyx_on_request_trailers(envoyx_stream* stream,
                                                  envoyx_module_stream* module_stream) {
  (void)stream;
  (void)module_stream;
  return ENVOYX_TRAILERS_CONTINUE;
}

envoyx_headers_status envoyx_on_response_headers(envoyx_stream* stream,
                                                 envoyx_module_stream* module_stream,
                                                 bool end_of_stream) {
  (void)stream;
  (void)module_stream;
  (void)end_of_stream;
  return ENVOYX_HEADERS_CONTINUE;
}

envoyx_body_status envoyx_on_response_body(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                           bool end_of_stream) {
  (void)stream;
  (void)module_stream;
  (void)end_of_stream;
  return ENVOYX_BODY_CONTINUE;
}

envoyx_trailers_status envoyx_on_response_trailers(envoyx_stream* stream,
                                                   envoyx_module_stream* module_stream) {
  (void)stream;
  (void)module_stream;
  return ENVOYX_TRAILERS_CONTINUE;
}

void envoyx_on_stream_complete(envoyx_stream* stream, envoyx_module_stream* module_stream) {
  (void)stream;
  (void)module_stream;
  counts[3]++;
}

#ifndef OMIT_STREAM_DESTROY
void envoyx_on_stream_destroy(envoyx_module_stream* module_stream) {
  counts[4]++;
  free(module_stream);
}
#endif
