/* The EnvoyX test host's C API (libenvoyx_testhost_c.so): a test written in another language runs
 * the module linked into its own program through the real EnvoyX core (ABI check, program init,
 * the stream rules and validation), with in-memory headers and multi-slice bodies, and reads what
 * the proxy would have forwarded. The Go SDK's envoyxtest package is its user.
 *
 * Threads: a host and its streams are used from one thread (the test's); modules may continue or
 * schedule from any thread, and envoyx_teststream_run_scheduled runs that work on the test's
 * thread. Ownership: every envoyx_testhost_owned a function fills belongs to the caller, who
 * frees it with envoyx_testhost_owned_free; every other pointer is borrowed for the call. */
#ifndef ENVOYX_TESTHOST_H
#define ENVOYX_TESTHOST_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct envoyx_testhost envoyx_testhost;
typedef struct envoyx_teststream envoyx_teststream;

/* Bytes the host allocated for the caller. */
typedef struct envoyx_testhost_owned {
  uint8_t* ptr;
  size_t len;
} envoyx_testhost_owned;

void envoyx_testhost_owned_free(envoyx_testhost_owned owned);

/* A host for the module whose exports are given as `count` pairs of x/abi.h names and the
 * addresses of those functions (absent optional exports left out or NULL), with the
 * configuration `name` and `filter_config`. NULL on failure, with the reason in `error`. */
envoyx_testhost* envoyx_testhost_new(const char* const* names, const void* const* functions,
                                     size_t count, envoyx_bytes name, envoyx_bytes filter_config,
                                     envoyx_testhost_owned* error);
/* envoyx_testhost_new for a configuration that declares the `secrets_len` static secrets named
 * in `secrets` (ABI 1.2 secret_get; each set with envoyx_testhost_set_secret first). */
envoyx_testhost* envoyx_testhost_new_declaring(const char* const* names, const void* const* functions,
                                               size_t count, envoyx_bytes name, envoyx_bytes filter_config,
                                               const envoyx_bytes* secrets, size_t secrets_len,
                                               envoyx_testhost_owned* error);
/* Sets the process's generic secret `name` to `value` (as a proxy's static secret, or what SDS
 * delivers); a configuration subscribes to it when it declares it. */
void envoyx_testhost_set_secret(envoyx_bytes name, envoyx_bytes value);
/* Destroys the host's configuration (after its streams). */
void envoyx_testhost_free(envoyx_testhost* host);

/* A new stream (the module's envoyx_on_stream_new runs). */
envoyx_teststream* envoyx_testhost_stream(envoyx_testhost* host);
/* A new stream on a route whose per-route configuration is `name` and `filter_config`, parsed
 * by the module's route-config hook. NULL when the module refuses it, with the reason in
 * `error`. */
envoyx_teststream* envoyx_testhost_stream_on_route(envoyx_testhost* host, envoyx_bytes name,
                                                   envoyx_bytes filter_config,
                                                   envoyx_testhost_owned* error);
/* What the module recorded on its metric `name` for the `count` label values, as JSON:
 * {"counter":N}, {"gauge":N} or {"histogram":[N,...]}. False when nothing was recorded. */
bool envoyx_testhost_metric(envoyx_testhost* host, envoyx_bytes name, const envoyx_bytes* labels,
                            size_t count, envoyx_testhost_owned* out);
/* The configuration's background work (ABI 1.1), on the test's thread as Envoy's main thread:
 * runs the configuration events the module scheduled, waiting up to `wait_ms` for the first
 * (returns how many ran); lists and answers the configuration's callouts, as the stream's. */
size_t envoyx_testhost_run_config_scheduled(envoyx_testhost* host, uint64_t wait_ms);
void envoyx_testhost_pending_config_callouts(envoyx_testhost* host, envoyx_testhost_owned* out);
void envoyx_testhost_answer_config_callout(envoyx_testhost* host, uint64_t id, uint32_t failed,
                                           uint32_t status, const envoyx_header* headers,
                                           size_t headers_count, const envoyx_bytes* chunks,
                                           size_t chunks_count);
void envoyx_testhost_config_callout_event(envoyx_testhost* host, uint64_t id, uint32_t kind,
                                          uint32_t failed, uint32_t status,
                                          const envoyx_header* headers, size_t headers_count,
                                          const envoyx_bytes* chunks, size_t chunks_count,
                                          bool end_of_stream);
/* Completes the stream if it has not completed, then destroys it. */
void envoyx_teststream_free(envoyx_teststream* stream);

/* Delivers a header map (`map`: an ENVOYX_*_HEADERS or *_TRAILERS value) and returns the
 * hook's status; `end_of_stream` is ignored for trailers. */
uint32_t envoyx_teststream_headers(envoyx_teststream* stream, envoyx_header_map map,
                                   const envoyx_header* headers, size_t count, bool end_of_stream);
/* Delivers one body chunk made of `count` slices and returns the hook's status. */
uint32_t envoyx_teststream_body(envoyx_teststream* stream, envoyx_direction direction,
                                const envoyx_bytes* slices, size_t count, bool end_of_stream);
/* Ends the stream (the module's complete hook). */
void envoyx_teststream_complete(envoyx_teststream* stream);
/* Waits up to `wait_ms` for work the module queued from other threads (continues, scheduled
 * events) and runs all of it; returns how many items ran. */
size_t envoyx_teststream_run_scheduled(envoyx_teststream* stream, uint64_t wait_ms);

/* What the next hop got: for ENVOYX_REQUEST_* maps the upstream, for ENVOYX_RESPONSE_* maps the
 * client; as "key\0value\0" pairs. False when that map does not exist (yet). */
bool envoyx_teststream_seen_headers(envoyx_teststream* stream, envoyx_header_map map,
                                    envoyx_testhost_owned* out);
/* The body the next hop got in `direction` so far. */
void envoyx_teststream_seen_body(envoyx_teststream* stream, envoyx_direction direction,
                                 envoyx_testhost_owned* out);
/* Whether the headers of `direction` went on past the filter. */
bool envoyx_teststream_forwarded(envoyx_teststream* stream, envoyx_direction direction);
/* The local reply the module sent, if any: status, headers (as seen_headers), body, details. */
bool envoyx_teststream_local_reply(envoyx_teststream* stream, uint32_t* status,
                                   envoyx_testhost_owned* headers, envoyx_testhost_owned* body,
                                   envoyx_testhost_owned* details);
/* The callouts the stream started that are not answered yet, as a JSON array of objects with
 * id, cluster, headers ([[name, value], ...]), body (UTF-8, lossy; for a streaming callout what
 * the module sent so far), timeout_ms, streaming, request_ended and trailers (null or pairs). */
void envoyx_teststream_pending_callouts(envoyx_teststream* stream, envoyx_testhost_owned* out);
/* Plays one event of the cluster's side of the stream's streaming callout `id`: `kind` an
 * ENVOYX_CALLOUT_EVENT_* value; HEADERS carries `status` and `headers` (without :status), DATA
 * the `chunks`, TRAILERS the `headers`, FAILED the status `failed`; `end_of_stream` for HEADERS
 * and DATA. The module's event hook runs inside this call. */
void envoyx_teststream_callout_event(envoyx_teststream* stream, uint64_t id, uint32_t kind,
                                     uint32_t failed, uint32_t status, const envoyx_header* headers,
                                     size_t headers_count, const envoyx_bytes* chunks,
                                     size_t chunks_count, bool end_of_stream);
/* Answers the callout `id`: with `failed` an ENVOYX_CALLOUT_* status other than RESPONSE, the
 * callout failed so; with `failed` 0, a response with `status`, `headers` and the body's
 * `chunks`. The module's callout-done hook runs inside this call. */
void envoyx_teststream_answer_callout(envoyx_teststream* stream, uint64_t id, uint32_t failed,
                                      uint32_t status, const envoyx_header* headers,
                                      size_t headers_count, const envoyx_bytes* chunks,
                                      size_t chunks_count);
/* Whether the module reset the stream. */
bool envoyx_teststream_was_reset(envoyx_teststream* stream);
/* Whether the module reset the stream with ENVOYX_RESET_REFUSED (reset_stream_with_reason). */
bool envoyx_teststream_reset_refused(envoyx_teststream* stream);
/* Plays the proxy's flow-control news (ABI 1.2) for `direction`: its buffer towards that peer went
 * above its high watermark (`above`) or below its low one; the module hears of a change through
 * envoyx_teststream_run_scheduled. */
void envoyx_teststream_watermark(envoyx_teststream* stream, envoyx_direction direction, bool above);
/* The stream's buffer limit: what the module set (set_buffer_limit), else Envoy's default 1 MiB. */
uint64_t envoyx_teststream_buffer_limit(envoyx_teststream* stream);
/* Plays a local reply made after the filter (Envoy's router, a later filter): `status`, the
 * response-code `details`, `body`. The module hears of it first (envoyx_on_stream_local_reply) and
 * may have the stream reset instead (false); otherwise it passes the filter's response hooks to
 * the client (true). */
bool envoyx_teststream_proxy_local_reply(envoyx_teststream* stream, uint32_t status, envoyx_bytes details,
                                         envoyx_bytes body);

/* The stream facts a proxy would know, as the Rust test host gives them. Attribute `attribute`
 * (an envoyx_attribute: the client's address is ENVOYX_ATTRIBUTE_SOURCE_ADDRESS, "ip:port") set
 * to `value` over the test host's connection defaults (client 127.0.0.1:50000 to
 * 127.0.0.1:10000 over HTTP/1.1); false for an unknown id or value kind. */
bool envoyx_teststream_set_attribute(envoyx_teststream* stream, uint32_t attribute, const envoyx_value* value);
/* Key `key` of namespace `ns` of `source`'s metadata (an envoyx_metadata_source: route, cluster,
 * host, locality metadata as the configuration would carry it, or dynamic metadata as an earlier
 * filter set it) holds `value`; false for an unknown source or value kind. */
bool envoyx_teststream_set_metadata(envoyx_teststream* stream, uint32_t source, envoyx_bytes ns,
                                    envoyx_bytes key, const envoyx_value* value);
/* Namespace `ns` of `source`'s typed metadata holds an Any of `type_url` with the serialized
 * message `value`; false for an unknown source. */
bool envoyx_teststream_set_typed_metadata(envoyx_teststream* stream, uint32_t source, envoyx_bytes ns,
                                          envoyx_bytes type_url, envoyx_bytes value);
/* The upstream hosts the request was sent to, in attempt order ("ip:port" each), as retries
 * would make them; without it the test host reports one attempt once the request went on. */
void envoyx_teststream_set_upstream_hosts_attempted(envoyx_teststream* stream, const envoyx_bytes* hosts,
                                                    size_t count);
/* The stream's moment `timing` (an envoyx_timing id) is `ns`: the start as Unix nanoseconds, any
 * other an offset from it. */
void envoyx_teststream_set_timing(envoyx_teststream* stream, uint32_t timing, int64_t ns);

/* Sets runtime `key` (ABI 1.2 runtime_get) for every module of this process to `value` (a BOOL
 * or a NUMBER; NULL, or another kind, removes it). Tests share the process: give each its own
 * keys. */
void envoyx_testhost_set_runtime(envoyx_bytes key, const envoyx_value* value);

/* Every log line the modules of this process wrote so far, as "level\0message\0" pairs (level
 * as a decimal ENVOYX_LOG_* value). */
void envoyx_testhost_logs(envoyx_testhost_owned* out);

#ifdef __cplusplus
}
#endif
#endif
