/* A probe module for the C++ test host: it calls the host functions the example modules leave
 * out (header_all, header_get with too little room, body_drain, body_length) and reports what it
 * saw in request headers, so the tests can check the C++ host's answers through the loader. */
#include <stdio.h>
#include <string.h>

#include "abi.h"

static const envoyx_host_api* host;

static envoyx_bytes str(const char* s) {
  envoyx_bytes b = {(const uint8_t*)s, strlen(s)};
  return b;
}

envoyx_abi_version envoyx_module_abi_version(void) {
  envoyx_abi_version v = {ENVOYX_ABI_VERSION_MAJOR, ENVOYX_ABI_VERSION_MINOR};
  return v;
}

bool envoyx_on_program_init(const envoyx_host_api* api, envoyx_error* error) {
  (void)error;
  host = api;
  return true;
}

/* The probe keeps no state: configs and streams are one static byte each. */
static char config_object, stream_object;

envoyx_module_config* envoyx_on_filter_config_new(envoyx_bytes name, envoyx_bytes config,
                                                  envoyx_error* error) {
  (void)name;
  (void)config;
  (void)error;
  return &config_object;
}

void envoyx_on_filter_config_destroy(envoyx_module_config* config) { (void)config; }

envoyx_module_stream* envoyx_on_stream_new(envoyx_module_config* config, envoyx_stream* stream) {
  (void)config;
  (void)stream;
  return &stream_object;
}

/* x-probe-entries: every entry as "key=value;", in order, read with header_all.
 * x-probe-multi: "<total> <first>": the values of x-multi, read with room for one. */
envoyx_headers_status envoyx_on_request_headers(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                                bool end_of_stream) {
  (void)module_stream;
  (void)end_of_stream;
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
  return ENVOYX_HEADERS_CONTINUE;
}

/* Drops the first two bytes of each request chunk, and tries to tell the length left in
 * x-probe-length: the request headers already went on, so the host refuses it. */
envoyx_body_status envoyx_on_request_body(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                          bool end_of_stream) {
  (void)module_stream;
  (void)end_of_stream;
  host->body_drain(stream, ENVOYX_BODY_REQUEST_RECEIVED, 2);
  char length[32];
  snprintf(length, sizeof length, "%zu", host->body_length(stream, ENVOYX_BODY_REQUEST_RECEIVED));
  host->header_set(stream, ENVOYX_REQUEST_HEADERS, str("x-probe-length"), str(length));
  return ENVOYX_BODY_CONTINUE;
}

envoyx_trailers_status envoyx_on_request_trailers(envoyx_stream* stream, envoyx_module_stream* module_stream) {
  (void)stream;
  (void)module_stream;
  return ENVOYX_TRAILERS_CONTINUE;
}

envoyx_headers_status envoyx_on_response_headers(envoyx_stream* stream, envoyx_module_stream* module_stream,
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

envoyx_trailers_status envoyx_on_response_trailers(envoyx_stream* stream, envoyx_module_stream* module_stream) {
  (void)stream;
  (void)module_stream;
  return ENVOYX_TRAILERS_CONTINUE;
}

void envoyx_on_stream_complete(envoyx_stream* stream, envoyx_module_stream* module_stream) {
  (void)stream;
  (void)module_stream;
}

void envoyx_on_stream_destroy(envoyx_module_stream* module_stream) { (void)module_stream; }
