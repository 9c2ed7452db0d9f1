/*
 * The benchmarks' plain C module against upstream Envoy's own dynamic-modules ABI (Envoy 1.40,
 * ABI v0.2.0; see docs/upstream-abi.md): the floor for any dynamic module, with no EnvoyX layer.
 *
 * filter_config (a StringValue): "header" adds `x-bench-added: 1` to every response; "upper"
 * upper-cases the ASCII letters of each request body chunk in place, in Envoy's own slices;
 * "pass" changes nothing; "observe" adds the header, increments the labelled counter
 * `responses{class="2xx"}` and writes the dynamic metadata `bench.decision: seen`; "respond"
 * answers the request itself, no upstream asked: status 200 and 64 KiB sent as 16 data frames of
 * 4 KiB (chunk i is the letter 'a' + i) through upstream's streaming callbacks,
 * `send_response_headers` then `send_response_data`. Anything else rejects the config.
 *
 * Envoy refuses a module lacking any of the 20 mandatory HTTP hooks, so every one is exported,
 * the callout and watermark ones as stubs.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Upstream's buffer structs, passed by value: {ptr, length}. */
typedef struct {
  const char *ptr;
  size_t length;
} envoy_buffer;
typedef envoy_buffer module_buffer;

enum job { JOB_HEADER = 1, JOB_UPPER = 2, JOB_PASS = 3, JOB_OBSERVE = 4, JOB_RESPOND = 5 };

/* Upstream's `envoy_dynamic_module_type_module_http_header`: a header the module owns. */
typedef struct {
  const char *key_ptr;
  size_t key_length;
  const char *value_ptr;
  size_t value_length;
} module_http_header;

/* Upstream's enum values (docs/upstream-abi.md §2). */
enum { RESPONSE_HEADER = 2 };
enum { RECEIVED_REQUEST_BODY = 0 };
enum { STATUS_CONTINUE = 0, STATUS_STOP_ITERATION = 1 };

/* Callbacks exported by the Envoy binary. */
extern bool envoy_dynamic_module_callback_http_add_header(void *filter, int header_type, module_buffer key,
                                                          module_buffer value);
extern size_t envoy_dynamic_module_callback_http_get_body_chunks_size(void *filter, int body_type);
extern bool envoy_dynamic_module_callback_http_get_body_chunks(void *filter, int body_type,
                                                               envoy_buffer *result);
extern int envoy_dynamic_module_callback_http_filter_config_define_counter(void *config, module_buffer name,
                                                                          module_buffer *labels, size_t labels_size,
                                                                          size_t *id);
extern int envoy_dynamic_module_callback_http_filter_increment_counter(void *filter, size_t id, module_buffer *values,
                                                                      size_t values_size, uint64_t value);
extern void envoy_dynamic_module_callback_http_set_dynamic_metadata_string(void *filter, module_buffer ns,
                                                                           module_buffer key, module_buffer value);
/* The response the module makes itself, streamed (Envoy copies what it is given; the headers
 * must include `:status`). */
extern void envoy_dynamic_module_callback_http_send_response_headers(void *filter, module_http_header *headers,
                                                                     size_t headers_count, bool end_stream);
extern void envoy_dynamic_module_callback_http_send_response_data(void *filter, module_buffer data,
                                                                  bool end_stream);

/* The config and the per-stream object are the job itself, kept in a static so no allocation
 * happens per stream (the per-stream pointer must only be non-NULL). */
static const int jobs[6] = {0, JOB_HEADER, JOB_UPPER, JOB_PASS, JOB_OBSERVE, JOB_RESPOND};

/* The observe job's counter (one configuration per bench run). */
static size_t responses_counter;

/* The respond job's body, filled when its config is made. */
#define RESPONSE_CHUNKS 16
#define RESPONSE_CHUNK_BYTES 4096
static char response_body[RESPONSE_CHUNKS * RESPONSE_CHUNK_BYTES];

const char *envoy_dynamic_module_on_program_init(void) { return "v0.2.0"; }

const void *envoy_dynamic_module_on_http_filter_config_new(void *config_envoy, envoy_buffer name,
                                                          envoy_buffer config) {
  (void)name;
  if (config.length == 6 && memcmp(config.ptr, "header", 6) == 0) return &jobs[JOB_HEADER];
  if (config.length == 5 && memcmp(config.ptr, "upper", 5) == 0) return &jobs[JOB_UPPER];
  if (config.length == 4 && memcmp(config.ptr, "pass", 4) == 0) return &jobs[JOB_PASS];
  if (config.length == 7 && memcmp(config.ptr, "observe", 7) == 0) {
    module_buffer name = {"responses", 9};
    module_buffer label = {"class", 5};
    if (envoy_dynamic_module_callback_http_filter_config_define_counter(config_envoy, name, &label, 1,
                                                                         &responses_counter) != 0)
      return NULL;
    return &jobs[JOB_OBSERVE];
  }
  if (config.length == 7 && memcmp(config.ptr, "respond", 7) == 0) {
    for (int i = 0; i < RESPONSE_CHUNKS; i++)
      memset(response_body + i * RESPONSE_CHUNK_BYTES, 'a' + i, RESPONSE_CHUNK_BYTES);
    return &jobs[JOB_RESPOND];
  }
  return NULL;
}

void envoy_dynamic_module_on_http_filter_config_destroy(const void *config) { (void)config; }

const void *envoy_dynamic_module_on_http_filter_new(const void *config, void *filter_envoy) {
  (void)filter_envoy;
  return config;
}

int envoy_dynamic_module_on_http_filter_request_headers(void *filter, const void *module, bool end) {
  (void)end;
  if (*(const int *)module != JOB_RESPOND) return STATUS_CONTINUE;
  /* The answer goes out from inside these calls; the request stops here, no upstream asked. */
  module_http_header status = {":status", 7, "200", 3};
  envoy_dynamic_module_callback_http_send_response_headers(filter, &status, 1, false);
  for (int i = 0; i < RESPONSE_CHUNKS; i++) {
    module_buffer chunk = {response_body + i * RESPONSE_CHUNK_BYTES, RESPONSE_CHUNK_BYTES};
    envoy_dynamic_module_callback_http_send_response_data(filter, chunk, i + 1 == RESPONSE_CHUNKS);
  }
  return STATUS_STOP_ITERATION;
}

/* Branch-free so the compiler vectorises it, as Rust's make_ascii_uppercase is. */
static void upper_case(char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    p[i] = (char)(c - (((unsigned char)(c - 'a') < 26) << 5));
  }
}

int envoy_dynamic_module_on_http_filter_request_body(void *filter, const void *module, bool end) {
  (void)end;
  if (*(const int *)module != JOB_UPPER) return STATUS_CONTINUE;
  size_t count = envoy_dynamic_module_callback_http_get_body_chunks_size(filter, RECEIVED_REQUEST_BODY);
  if (count == 0) return STATUS_CONTINUE;
  envoy_buffer inline_chunks[64];
  envoy_buffer *chunks = count <= 64 ? inline_chunks : malloc(count * sizeof(envoy_buffer));
  if (chunks == NULL) return STATUS_CONTINUE;
  if (envoy_dynamic_module_callback_http_get_body_chunks(filter, RECEIVED_REQUEST_BODY, chunks)) {
    /* Envoy's slices are its own writable memory: rewritten in place, nothing copied. */
    for (size_t i = 0; i < count; i++) upper_case((char *)chunks[i].ptr, chunks[i].length);
  }
  if (chunks != inline_chunks) free(chunks);
  return STATUS_CONTINUE;
}

int envoy_dynamic_module_on_http_filter_request_trailers(void *filter, const void *module) {
  (void)filter;
  (void)module;
  return STATUS_CONTINUE;
}

int envoy_dynamic_module_on_http_filter_response_headers(void *filter, const void *module, bool end) {
  (void)end;
  const int job = *(const int *)module;
  if (job == JOB_HEADER || job == JOB_OBSERVE) {
    module_buffer key = {"x-bench-added", 13};
    module_buffer value = {"1", 1};
    envoy_dynamic_module_callback_http_add_header(filter, RESPONSE_HEADER, key, value);
  }
  if (job == JOB_OBSERVE) {
    module_buffer class = {"2xx", 3};
    envoy_dynamic_module_callback_http_filter_increment_counter(filter, responses_counter, &class, 1, 1);
    module_buffer ns = {"bench", 5}, key = {"decision", 8}, value = {"seen", 4};
    envoy_dynamic_module_callback_http_set_dynamic_metadata_string(filter, ns, key, value);
  }
  return STATUS_CONTINUE;
}

int envoy_dynamic_module_on_http_filter_response_body(void *filter, const void *module, bool end) {
  (void)filter;
  (void)module;
  (void)end;
  return STATUS_CONTINUE;
}

int envoy_dynamic_module_on_http_filter_response_trailers(void *filter, const void *module) {
  (void)filter;
  (void)module;
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
