/*
 * A probe on upstream Envoy's own dynamic-modules ABI (used by rust/stock-host/tests/attributes.rs):
 * in the response headers hook it asks Envoy for every attribute id from 0 to PROBE_IDS - 1 as a
 * string, an integer and a boolean, and tells which came back (`id` + `s`/`i`/`b`, comma-separated)
 * in the response header `x-probe`. Which ids a version serves at all shows in Envoy's debug log
 * ("Unsupported attribute ID"), which the test reads; this header shows what this exchange had.
 * Not part of EnvoyX: a tool to hold the stock host's per-version attribute table to the binaries.
 *
 * It also stands for a module on upstream's SDKs sharing functions with EnvoyX modules through
 * Envoy's own function registry (rust/stock-host/tests/shared.rs): it registers
 * `envoyx.test.upstream_triple` (uint64 -> uint64, x * 3) at program init, and tells in the
 * response header `x-probe-double` what `envoyx.conformance.double` (an EnvoyX module's) returns
 * for 21, or `none`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *ptr;
  size_t length;
} envoy_buffer;
typedef envoy_buffer module_buffer;

enum { RESPONSE_HEADER = 2 };
enum { STATUS_CONTINUE = 0 };
enum { PROBE_IDS = 96 };

extern bool envoy_dynamic_module_callback_http_add_header(void *filter, int header_type, module_buffer key,
                                                          module_buffer value);
extern bool envoy_dynamic_module_callback_http_filter_get_attribute_string(void *filter, int id, envoy_buffer *out);
extern bool envoy_dynamic_module_callback_http_filter_get_attribute_int(void *filter, int id, uint64_t *out);
extern bool envoy_dynamic_module_callback_http_filter_get_attribute_bool(void *filter, int id, bool *out);

extern bool envoy_dynamic_module_callback_register_function(module_buffer key, void *function);
extern bool envoy_dynamic_module_callback_get_function(module_buffer key, void **function);

static const int config_object = 1;

static uint64_t upstream_triple(uint64_t x) { return x * 3; }

const char *envoy_dynamic_module_on_program_init(void) {
  module_buffer name = {"envoyx.test.upstream_triple", 27};
  envoy_dynamic_module_callback_register_function(name, (void *)upstream_triple);
  return "v0.2.0";
}

/* What an EnvoyX module's shared `envoyx.conformance.double` says of 21, as a header value. */
static size_t shared_double(char *out, size_t cap) {
  module_buffer name = {"envoyx.conformance.double", 25};
  void *function = NULL;
  if (!envoy_dynamic_module_callback_get_function(name, &function) || function == NULL)
    return (size_t)snprintf(out, cap, "none");
  return (size_t)snprintf(out, cap, "%llu", (unsigned long long)((uint64_t (*)(uint64_t))function)(21));
}

const void *envoy_dynamic_module_on_http_filter_config_new(void *config_envoy, envoy_buffer name,
                                                          envoy_buffer config) {
  (void)config_envoy, (void)name, (void)config;
  return &config_object;
}

void envoy_dynamic_module_on_http_filter_config_destroy(const void *config) { (void)config; }

const void *envoy_dynamic_module_on_http_filter_new(const void *config, void *filter_envoy) {
  (void)filter_envoy;
  return config;
}

int envoy_dynamic_module_on_http_filter_request_headers(void *f, const void *m, bool end) {
  (void)f, (void)m, (void)end;
  return STATUS_CONTINUE;
}
int envoy_dynamic_module_on_http_filter_request_body(void *f, const void *m, bool end) {
  (void)f, (void)m, (void)end;
  return STATUS_CONTINUE;
}
int envoy_dynamic_module_on_http_filter_request_trailers(void *f, const void *m) {
  (void)f, (void)m;
  return STATUS_CONTINUE;
}

int envoy_dynamic_module_on_http_filter_response_headers(void *filter, const void *module, bool end) {
  (void)module, (void)end;
  char seen[PROBE_IDS * 8];
  size_t at = 0;
  char values[PROBE_IDS * 56];
  size_t values_at = 0;
  for (int id = 0; id < PROBE_IDS; id++) {
    envoy_buffer text = {NULL, 0};
    uint64_t number = 0;
    bool flag = false;
    if (envoy_dynamic_module_callback_http_filter_get_attribute_string(filter, id, &text)) {
      at += (size_t)snprintf(seen + at, sizeof seen - at, "%ds,", id);
      /* The value too, printable bytes only, for the test to print. */
      char shown[48];
      size_t n = 0;
      for (size_t i = 0; i < text.length && n + 1 < sizeof shown; i++)
        shown[n++] = (text.ptr[i] > 0x20 && text.ptr[i] < 0x7f && text.ptr[i] != ',') ? text.ptr[i] : '_';
      shown[n] = 0;
      values_at += (size_t)snprintf(values + values_at, sizeof values - values_at, "%d=%s,", id, shown);
    }
    if (envoy_dynamic_module_callback_http_filter_get_attribute_int(filter, id, &number))
      at += (size_t)snprintf(seen + at, sizeof seen - at, "%di,", id);
    if (envoy_dynamic_module_callback_http_filter_get_attribute_bool(filter, id, &flag))
      at += (size_t)snprintf(seen + at, sizeof seen - at, "%db,", id);
  }
  module_buffer key = {"x-probe", 7};
  module_buffer value = {seen, at};
  envoy_dynamic_module_callback_http_add_header(filter, RESPONSE_HEADER, key, value);
  module_buffer values_key = {"x-probe-values", 14};
  module_buffer values_value = {values, values_at};
  envoy_dynamic_module_callback_http_add_header(filter, RESPONSE_HEADER, values_key, values_value);
  char doubled[24];
  module_buffer double_key = {"x-probe-double", 14};
  module_buffer double_value = {doubled, shared_double(doubled, sizeof doubled)};
  envoy_dynamic_module_callback_http_add_header(filter, RESPONSE_HEADER, double_key, double_value);
  return STATUS_CONTINUE;
}

int envoy_dynamic_module_on_http_filter_response_body(void *f, const void *m, bool end) {
  (void)f, (void)m, (void)end;
  return STATUS_CONTINUE;
}
int envoy_dynamic_module_on_http_filter_response_trailers(void *f, const void *m) {
  (void)f, (void)m;
  return STATUS_CONTINUE;
}

void envoy_dynamic_module_on_http_filter_stream_complete(void *filter, const void *module) {
  (void)filter;
  (void)module;
}

void envoy_dynamic_module_on_http_filter_destroy(const void *module) { (void)module; }

/* Never called: this module makes no callouts and schedules nothing, but Envoy requires the
 * symbols (it checks them by name only). */
void envoy_dynamic_module_on_http_filter_scheduled(void *f, const void *m, uint64_t id) {
  (void)f, (void)m, (void)id;
}
void envoy_dynamic_module_on_http_filter_http_callout_done(void *f, const void *m, uint64_t id, int result,
                                                           void *headers, size_t headers_size, void *chunks,
                                                           size_t chunks_size) {
  (void)f, (void)m, (void)id, (void)result, (void)headers, (void)headers_size, (void)chunks,
      (void)chunks_size;
}
void envoy_dynamic_module_on_http_filter_http_stream_headers(void *f, const void *m, uint64_t id, void *headers,
                                                             size_t headers_size, bool end) {
  (void)f, (void)m, (void)id, (void)headers, (void)headers_size, (void)end;
}
void envoy_dynamic_module_on_http_filter_http_stream_data(void *f, const void *m, uint64_t id, const void *data,
                                                          size_t data_count, bool end) {
  (void)f, (void)m, (void)id, (void)data, (void)data_count, (void)end;
}
void envoy_dynamic_module_on_http_filter_http_stream_trailers(void *f, const void *m, uint64_t id, void *trailers,
                                                              size_t trailers_size) {
  (void)f, (void)m, (void)id, (void)trailers, (void)trailers_size;
}
void envoy_dynamic_module_on_http_filter_http_stream_complete(void *f, const void *m, uint64_t id) {
  (void)f, (void)m, (void)id;
}
void envoy_dynamic_module_on_http_filter_http_stream_reset(void *f, const void *m, uint64_t id, int reason) {
  (void)f, (void)m, (void)id, (void)reason;
}
void envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(void *f, const void *m) {
  (void)f, (void)m;
}
void envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(void *f, const void *m) {
  (void)f, (void)m;
}
