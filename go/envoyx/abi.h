/*
 * EnvoyX module ABI, version 1.2.
 *
 * This header is half of the EnvoyX contract (the other half is x/config.proto). A module is a
 * shared object that exports the `envoyx_*` functions declared under "Module exports" below; the
 * host (the EnvoyX core inside Envoy, inside stock Envoy, or inside the test host) loads it, checks
 * its ABI version and calls those functions. The module reaches back into the host only through
 * the function table `envoyx_host_api` it receives in `envoyx_on_program_init`.
 *
 * Why a function table and not symbols the module links against: the same module file must work
 * inside a custom Envoy build, inside stock Envoy (where the EnvoyX host is itself a module that
 * Envoy loads with local symbol visibility, so its symbols cannot be seen by a module it loads)
 * and inside an in-process test host. A table handed over at init works the same in all three,
 * needs no `--export-dynamic`, and lets a module check which functions a host has (`size`).
 *
 * General rules
 * - Threads. Every stream lives on one host "worker" thread. Stream hooks are called on it, and
 *   the `envoyx_stream` functions of the table may only be called on it, from inside a hook of
 *   that stream (between the hook's entry and its return). Functions marked "any thread" may be
 *   called from anywhere at any time.
 * - Views. `envoyx_bytes` and `envoyx_slice` point into memory owned by the other side. Unless a
 *   function says otherwise, a view the host returns stays valid until the hook that obtained it
 *   returns, or until the same header map or body is changed, whichever comes first. A view the
 *   module passes in is read during the call only: the host copies what it keeps.
 * - Strings are bytes: never NUL-terminated, not necessarily UTF-8. Where a function takes text
 *   the proxy prints (logs, access logs, stats, traces: metadata, filter state, span tags, metric
 *   label values, local-reply details) it must be UTF-8 without control characters (C0
 *   including tab, DEL, C1), and is refused otherwise: a line break a module copied from a
 *   request would otherwise forge an access-log line.
 * - Refusals. A call the host refuses returns its failure value (false, 0, NULL) and changes
 *   nothing. The host logs it at warn level, naming the module, the filter, the hook, what was
 *   refused (its bytes escaped) and why, the first time each kind of call (each host function)
 *   is refused on a stream; later refusals of that kind on the stream go to debug level.
 * - Log lines. Everything the host writes to the proxy's log — its own messages, a module's
 *   `log`, the errors of a rejected configuration — is one line: control characters, line breaks
 *   and bytes that are not UTF-8 are written escaped (`\n`, `\x1b`, `\u{2028}`).
 * - Numbers. Enumerations are fixed-width integers (not C `enum` types) so that their size does
 *   not depend on the compiler. Status values equal Envoy's own enum ordinals.
 * - Versioning. A module reports the ABI version it was built for. A host at version M.N accepts
 *   modules built for M.0 to M.N (at least M.N and M.(N-1) are promised) and refuses any other
 *   version, naming both. New functions
 *   are only ever appended to `envoyx_host_api`, each append in a new minor version; a module
 *   built for M.N may read a table field only if the table's `size` covers it, and a host
 *   refuses a module that says it needs a longer table than the host's
 *   (`envoyx_module_host_api_size`). Module exports added in a later minor are optional: a host
 *   calls them only if the module exports them.
 * - History. 1.0: streams, headers, bodies, local reply, reset, continue from any thread.
 *   1.1: acting after async work (`stream_handle_schedule`, `continue_stream`,
 *   `envoyx_on_stream_scheduled`); a configuration's background work (`config_handle_*`,
 *   `envoyx_on_filter_config_scheduled`); per-route configuration (`route_config`,
 *   `envoyx_on_route_config_new/destroy`); HTTP callouts (`http_callout`,
 *   `envoyx_on_stream_callout_done`, `config_http_callout`,
 *   `envoyx_on_filter_config_callout_done`); streaming HTTP callouts (`callout_stream_*`,
 *   `envoyx_on_stream_callout_event`, `config_callout_stream_*`,
 *   `envoyx_on_filter_config_callout_event`); metrics (`metric_define`, `metric_record`);
 *   metadata, filter state and routing (`metadata_set/get`, `filter_state_set/get`,
 *   `clear_route_cache`, `upstream_override_host`); attributes (`attribute_get`);
 *   tracing (`span_set_tag`); saying when the file may be unmapped
 *   (`envoyx_on_program_unload`) and which host table it needs (`envoyx_module_host_api_size`).
 *   1.2: a hook that failed is reported and the host ends the stream (`hook_failed`); a reset
 *   with a reason and details (`reset_stream_with_reason`); logging with a source location
 *   (`log_at`); the proxy's workers (`worker_count`, `worker_index`); whether the filter state
 *   has a key (`filter_state_has`); picking a route's cluster again (`refresh_route_cluster`);
 *   the module's own streamed response (`send_response_headers`, `send_response_data`,
 *   `send_response_trailers`); flow control (`buffer_limit`, `set_buffer_limit`,
 *   `envoyx_on_stream_watermark`); news of local replies (`envoyx_on_stream_local_reply`); starting a request over
 *   (`recreate_stream`); child spans, baggage, sampling and the trace id (`span_*`); adding
 *   trailers to a direction that had none (`trailers_add`); the proxy's runtime (`runtime_get`);
 *   stream timing (`timing_get`); secrets the configuration declares (`secret_get`); listing
 *   metadata (`metadata_namespaces`, `metadata_keys`); typed filter state
 *   (`filter_state_get_serialized`, `filter_state_set_typed`); the upstream hosts attempted
 *   (`upstream_hosts_attempted`); closing the client's connection (`send_goaway_and_close`);
 *   typed metadata (`metadata_get_typed`, `metadata_set_struct`); data and functions shared
 *   across the process's modules (`shared_data_get`, `shared_data_set`, `function_register`,
 *   `function_get`); setting typed metadata (`metadata_set_typed`).
 */
#ifndef ENVOYX_ABI_H
#define ENVOYX_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ENVOYX_ABI_VERSION_MAJOR 1
#define ENVOYX_ABI_VERSION_MINOR 2

/* ---------------------------------------------------------------------------------------------
 * Plain data
 * ------------------------------------------------------------------------------------------- */

/* An ABI version: major.minor. */
typedef struct envoyx_abi_version {
  uint32_t major;
  uint32_t minor;
} envoyx_abi_version;

/* A read-only view of `len` bytes at `ptr`. `ptr` may be NULL only when `len` is 0. */
typedef struct envoyx_bytes {
  const uint8_t* ptr;
  size_t len;
} envoyx_bytes;

/* A writable view of `len` bytes at `ptr`: one slice of a body, in host memory. The module may
 * read and write these bytes in place; it must not write outside them or keep the view past its
 * validity (see "Views"). `ptr` may be NULL only when `len` is 0. */
typedef struct envoyx_slice {
  uint8_t* ptr;
  size_t len;
} envoyx_slice;

/* One header: a key and one of its values. */
typedef struct envoyx_header {
  envoyx_bytes key;
  envoyx_bytes value;
} envoyx_header;

/* ---------------------------------------------------------------------------------------------
 * Opaque handles
 * ------------------------------------------------------------------------------------------- */

/* The host's side of one HTTP stream. Owned by the host; valid from `envoyx_on_stream_new` until
 * `envoyx_on_stream_destroy` returns. Only usable on the stream's worker thread. */
typedef struct envoyx_stream envoyx_stream;

/* A thread-safe, reference-counted handle to a stream, for continuing it from another thread.
 * Owned by the module from `stream_handle_new` until it passes it to `stream_handle_release`.
 * Outlives the stream safely: once the stream is gone, the handle's functions do nothing. */
typedef struct envoyx_stream_handle envoyx_stream_handle;

/* A thread-safe, reference-counted handle to a filter configuration (ABI 1.1), for background
 * work that outlives streams (refreshing keys, reloading a policy). Owned by the module from
 * `config_handle_new` until `config_handle_release`. Outlives the configuration safely: once the
 * configuration's destroy has started, its functions do nothing. */
typedef struct envoyx_config_handle envoyx_config_handle;

/* Where a module reports why program init or a filter config failed. Owned by the host; valid
 * only during the call it is passed to. */
typedef struct envoyx_error envoyx_error;

/* The module's own objects. The host never looks inside them; it only hands them back. */
typedef void envoyx_module_config;
typedef void envoyx_module_stream;
typedef void envoyx_module_route_config;

/* ---------------------------------------------------------------------------------------------
 * Enumerations (fixed width)
 * ------------------------------------------------------------------------------------------- */

/* What a headers hook returns. Values equal Envoy's Http::FilterHeadersStatus. */
typedef uint32_t envoyx_headers_status;
#define ENVOYX_HEADERS_CONTINUE 0
/* Stop headers iteration; body chunks still arrive. Continue with `stream_handle_continue`, or
 * by returning CONTINUE from a later body hook. */
#define ENVOYX_HEADERS_STOP_ITERATION 1
#define ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM 2
/* Stop and buffer the body (and trailers) until continued. */
#define ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_BUFFER 3
#define ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_WATERMARK 4

/* What a body hook returns. Values equal Envoy's Http::FilterDataStatus. */
typedef uint32_t envoyx_body_status;
#define ENVOYX_BODY_CONTINUE 0
/* Keep this chunk in the buffered body and stop until the end of the stream or a continue. */
#define ENVOYX_BODY_STOP_ITERATION_AND_BUFFER 1
#define ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK 2
#define ENVOYX_BODY_STOP_ITERATION_NO_BUFFER 3

/* What a trailers hook returns. Values equal Envoy's Http::FilterTrailersStatus. */
typedef uint32_t envoyx_trailers_status;
#define ENVOYX_TRAILERS_CONTINUE 0
#define ENVOYX_TRAILERS_STOP_ITERATION 1

/* Which header map a header function works on. */
typedef uint32_t envoyx_header_map;
#define ENVOYX_REQUEST_HEADERS 0
#define ENVOYX_REQUEST_TRAILERS 1
#define ENVOYX_RESPONSE_HEADERS 2
#define ENVOYX_RESPONSE_TRAILERS 3

/* Which body a body function works on.
 * RECEIVED: the chunk the current body hook carries; only inside a body hook of that direction.
 * BUFFERED: what earlier hooks of that direction asked the host to buffer (by returning a
 * *_BUFFER status); empty when nothing was buffered. At the end of a stream that was buffered, the
 * whole body is BUFFERED followed by RECEIVED. */
typedef uint32_t envoyx_body_kind;
#define ENVOYX_BODY_REQUEST_RECEIVED 0
#define ENVOYX_BODY_REQUEST_BUFFERED 1
#define ENVOYX_BODY_RESPONSE_RECEIVED 2
#define ENVOYX_BODY_RESPONSE_BUFFERED 3

/* What a module says of a local reply (ABI 1.2, envoyx_on_stream_local_reply); Envoy's own
 * LocalErrorStatus values. */
typedef uint32_t envoyx_local_reply_status;
/* The reply goes on (the module may change it in its response hooks as it passes). */
#define ENVOYX_LOCAL_REPLY_CONTINUE 0
/* Reset the stream instead of sending the reply: the client gets no response. */
#define ENVOYX_LOCAL_REPLY_RESET 1

/* A direction of a stream: the request (decoding) or the response (encoding). */
typedef uint32_t envoyx_direction;
#define ENVOYX_DIRECTION_REQUEST 0
#define ENVOYX_DIRECTION_RESPONSE 1

/* How a module resets a stream (ABI 1.2, reset_stream_with_reason): what the client is told. */
typedef uint32_t envoyx_reset_reason;
/* Aborted (Envoy's LocalReset: HTTP/2 and HTTP/3 send the stream's reset with INTERNAL_ERROR;
 * HTTP/1 closes the connection). What reset_stream does. */
#define ENVOYX_RESET_LOCAL 0
/* Refused before any of it was processed (Envoy's LocalRefusedStreamReset: HTTP/2 REFUSED_STREAM,
 * HTTP/3 H3_REQUEST_REJECTED), which tells a client it may safely retry the request, on another
 * connection or host: for load shedding. HTTP/1 cannot say so and closes the connection. The
 * host hands the reason to the proxy, but Envoy 1.38-1.40 do not pass it on: their connection
 * manager resets a stream a filter resets the same way whatever the reason (HTTP/2
 * INTERNAL_ERROR; the conformance suite holds them to it, so a release that changes this is
 * noticed). The test hosts record it. */
#define ENVOYX_RESET_REFUSED 1

/* How an HTTP callout ended (ABI 1.1). */
typedef uint32_t envoyx_callout_status;
/* A response arrived; its `:status` is among the headers. A timeout arrives as the proxy's own
 * 504 response. */
#define ENVOYX_CALLOUT_RESPONSE 0
/* The proxy has no cluster of that name. */
#define ENVOYX_CALLOUT_NO_CLUSTER 1
/* The request could not be sent (for example, no healthy host in the cluster). */
#define ENVOYX_CALLOUT_UNAVAILABLE 2
/* The connection failed or was reset before a whole response arrived. */
#define ENVOYX_CALLOUT_RESET 3
/* The response was larger than the proxy buffers for a callout. */
#define ENVOYX_CALLOUT_TOO_LARGE 4

/* What happened on a streaming callout (ABI 1.1), in this order: HEADERS once, DATA zero or
 * more times, TRAILERS at most once, then exactly one of COMPLETE or FAILED, which is the last
 * event of that callout. A callout that fails before a response arrives gets only FAILED. */
typedef uint32_t envoyx_callout_event;
/* The response headers arrived (`:status` among them; a timeout arrives as the proxy's own
 * 504). `end_of_stream`: no body or trailers follow. */
#define ENVOYX_CALLOUT_EVENT_HEADERS 0
/* Response body chunks arrived (zero chunks when only the end is news). `end_of_stream`: no
 * more body, and no trailers, follow. */
#define ENVOYX_CALLOUT_EVENT_DATA 1
/* The response trailers arrived; the response is over. */
#define ENVOYX_CALLOUT_EVENT_TRAILERS 2
/* The exchange is over: the request went whole and the response came whole. */
#define ENVOYX_CALLOUT_EVENT_COMPLETE 3
/* The exchange ended early; `status` says why (NO_CLUSTER, UNAVAILABLE or RESET). */
#define ENVOYX_CALLOUT_EVENT_FAILED 4

/* A metric's kind (ABI 1.1). */
typedef uint32_t envoyx_metric_kind;
/* Only grows: `metric_record` with ENVOYX_METRIC_ADD. */
#define ENVOYX_METRIC_COUNTER 0
/* Goes up and down: ADD, SUBTRACT, SET. */
#define ENVOYX_METRIC_GAUGE 1
/* A distribution of recorded values (the module's unit: milliseconds, bytes, ...): RECORD. */
#define ENVOYX_METRIC_HISTOGRAM 2

/* What `metric_record` does with its value (ABI 1.1). */
typedef uint32_t envoyx_metric_op;
#define ENVOYX_METRIC_ADD 0
#define ENVOYX_METRIC_SUBTRACT 1
#define ENVOYX_METRIC_SET 2
#define ENVOYX_METRIC_RECORD 3

/* How many label-value combinations one labelled metric may have (ABI 1.1) unless the filter
 * configuration's `metric_limits` (x/config.proto) sets another bound: a new combination past the
 * bound is refused (or recorded under the configuration's overflow value), with one warning per
 * metric naming it, and counted in EnvoyX's counter `<filter>.envoyx_label_overflow`. */
#define ENVOYX_METRIC_LABEL_LIMIT 1024

/* Where metadata is read from (ABI 1.1). Values equal Envoy's dynamic-modules metadata sources. */
typedef uint32_t envoyx_metadata_source;
/* The stream's dynamic metadata: what metadata_set wrote, and other filters' (ext_authz, ...). */
#define ENVOYX_METADATA_DYNAMIC 0
/* The matched route's `metadata`. */
#define ENVOYX_METADATA_ROUTE 1
/* The upstream cluster's `metadata` (once the route picked one). */
#define ENVOYX_METADATA_CLUSTER 2
/* ABI 1.2: the chosen upstream host's `metadata` (its LbEndpoint's; once a host is chosen: in
 * the response hooks). */
#define ENVOYX_METADATA_HOST 3
/* ABI 1.2: the chosen upstream host's locality's `metadata` (its LocalityLbEndpoints'). */
#define ENVOYX_METADATA_HOST_LOCALITY 4

/* A metadata value's kind (ABI 1.1). */
typedef uint32_t envoyx_value_kind;
#define ENVOYX_VALUE_STRING 0
#define ENVOYX_VALUE_NUMBER 1
#define ENVOYX_VALUE_BOOL 2

/* A metadata value (ABI 1.1): `kind` says which field holds it. A string is UTF-8. */
typedef struct envoyx_value {
  envoyx_value_kind kind;
  envoyx_bytes string;
  double number;
  bool boolean;
} envoyx_value;

/* A fact about a stream the proxy knows (ABI 1.1), read with `attribute_get`; the comment
 * gives the value's kind. Envoy's attribute names in brackets. */
typedef uint32_t envoyx_attribute;
/* The client's address as `ip:port` (string) [source.address]. */
#define ENVOYX_ATTRIBUTE_SOURCE_ADDRESS 0
/* The client's port (number) [source.port]. */
#define ENVOYX_ATTRIBUTE_SOURCE_PORT 1
/* The address the client connected to, `ip:port` (string) [destination.address]. */
#define ENVOYX_ATTRIBUTE_DESTINATION_ADDRESS 2
/* Its port (number) [destination.port]. */
#define ENVOYX_ATTRIBUTE_DESTINATION_PORT 3
/* The request id (`x-request-id`) (string) [request.id]. */
#define ENVOYX_ATTRIBUTE_REQUEST_ID 4
/* The downstream protocol: HTTP/1.0, HTTP/1.1, HTTP/2, HTTP/3 (string) [request.protocol]. */
#define ENVOYX_ATTRIBUTE_PROTOCOL 5
/* The matched route's name (string; absent for an unnamed route) [xds.route_name]. */
#define ENVOYX_ATTRIBUTE_ROUTE_NAME 6
/* The upstream cluster the route picked (string). */
#define ENVOYX_ATTRIBUTE_CLUSTER_NAME 7
/* The upstream host chosen, `ip:port` (string; once chosen) [upstream.address]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_ADDRESS 8
/* The response status code (number; once a response exists) [response.code]. */
#define ENVOYX_ATTRIBUTE_RESPONSE_CODE 9
/* The downstream connection's id (number) [connection.id]. */
#define ENVOYX_ATTRIBUTE_CONNECTION_ID 10
/* TLS of the downstream connection (absent without TLS): the negotiated version, TLSv1.3
 * (string) [connection.tls_version]. */
#define ENVOYX_ATTRIBUTE_TLS_VERSION 11
/* The client certificate's subject (string) [connection.subject_peer_certificate]. */
#define ENVOYX_ATTRIBUTE_TLS_PEER_SUBJECT 12
/* The client certificate's first DNS SAN (string) [connection.dns_san_peer_certificate]. */
#define ENVOYX_ATTRIBUTE_TLS_PEER_DNS_SAN 13
/* The client certificate's first URI SAN (string) [connection.uri_san_peer_certificate]. */
#define ENVOYX_ATTRIBUTE_TLS_PEER_URI_SAN 14
/* The client certificate's SHA-256 digest, hex (string) [connection.sha256_peer_certificate_digest]. */
#define ENVOYX_ATTRIBUTE_TLS_PEER_SHA256 15
/* ABI 1.2: the rest of Envoy's vocabulary. A proxy that cannot tell one refuses it (logged), naming
 * which of its versions can (docs/contract.md, "Which attribute each host serves"). */
/* The request's path with its query (string) [request.path]. */
#define ENVOYX_ATTRIBUTE_REQUEST_PATH 16
/* The request's path without its query (string) [request.url_path]. */
#define ENVOYX_ATTRIBUTE_REQUEST_URL_PATH 17
/* The request's host (`:authority`) (string) [request.host]. */
#define ENVOYX_ATTRIBUTE_REQUEST_HOST 18
/* The request's scheme, http or https (string) [request.scheme]. */
#define ENVOYX_ATTRIBUTE_REQUEST_SCHEME 19
/* The request's method (string) [request.method]. */
#define ENVOYX_ATTRIBUTE_REQUEST_METHOD 20
/* The request's `referer` header (string) [request.referer]. */
#define ENVOYX_ATTRIBUTE_REQUEST_REFERER 21
/* The request's `user-agent` header (string) [request.useragent]. */
#define ENVOYX_ATTRIBUTE_REQUEST_USER_AGENT 22
/* The request's query, without `?` (string) [request.query]. */
#define ENVOYX_ATTRIBUTE_REQUEST_QUERY 23
/* Request body bytes received so far (number) [request.size]. */
#define ENVOYX_ATTRIBUTE_REQUEST_SIZE 24
/* Request bytes received so far, headers included (number) [request.total_size]. */
#define ENVOYX_ATTRIBUTE_REQUEST_TOTAL_SIZE 25
/* Why the response has its code (e.g. via_upstream) (string) [response.code_details]. */
#define ENVOYX_ATTRIBUTE_RESPONSE_CODE_DETAILS 26
/* Envoy's response flags, a bit set (number) [response.flags]. */
#define ENVOYX_ATTRIBUTE_RESPONSE_FLAGS 27
/* The gRPC status of a gRPC response (number) [response.grpc_status]. */
#define ENVOYX_ATTRIBUTE_RESPONSE_GRPC_STATUS 28
/* Response body bytes sent so far (number) [response.size]. */
#define ENVOYX_ATTRIBUTE_RESPONSE_SIZE 29
/* Response bytes sent so far, headers included (number) [response.total_size]. */
#define ENVOYX_ATTRIBUTE_RESPONSE_TOTAL_SIZE 30
/* Whether the client presented a certificate (absent without TLS) (boolean) [connection.mtls]. */
#define ENVOYX_ATTRIBUTE_CONNECTION_MTLS 31
/* The SNI the client asked for (string) [connection.requested_server_name]. */
#define ENVOYX_ATTRIBUTE_CONNECTION_SNI 32
/* The listener certificate's subject (string) [connection.subject_local_certificate]. */
#define ENVOYX_ATTRIBUTE_TLS_LOCAL_SUBJECT 33
/* The listener certificate's first DNS SAN (string) [connection.dns_san_local_certificate]. */
#define ENVOYX_ATTRIBUTE_TLS_LOCAL_DNS_SAN 34
/* The listener certificate's first URI SAN (string) [connection.uri_san_local_certificate]. */
#define ENVOYX_ATTRIBUTE_TLS_LOCAL_URI_SAN 35
/* Why the client's TLS failed (string) [connection.transport_failure_reason]. */
#define ENVOYX_ATTRIBUTE_CONNECTION_TRANSPORT_FAILURE 36
/* Why the proxy closed the client's connection (string) [connection.termination_details]. */
#define ENVOYX_ATTRIBUTE_CONNECTION_TERMINATION_DETAILS 37
/* The chosen upstream host's port (once chosen) (number) [upstream.port]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_PORT 38
/* TLS to the upstream (absent without): its version (string) [upstream.tls_version]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_TLS_VERSION 39
/* The proxy's client certificate's subject (string) [upstream.subject_local_certificate]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_SUBJECT 40
/* The upstream certificate's subject (string) [upstream.subject_peer_certificate]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SUBJECT 41
/* The proxy's client certificate's first DNS SAN (string) [upstream.dns_san_local_certificate]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_DNS_SAN 42
/* The upstream certificate's first DNS SAN (string) [upstream.dns_san_peer_certificate]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_DNS_SAN 43
/* The proxy's client certificate's first URI SAN (string) [upstream.uri_san_local_certificate]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_URI_SAN 44
/* The upstream certificate's first URI SAN (string) [upstream.uri_san_peer_certificate]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_URI_SAN 45
/* The upstream certificate's SHA-256 digest, hex (string) [upstream.sha256_peer_certificate_digest]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SHA256 46
/* The proxy's side of the upstream connection, `ip:port` (string) [upstream.local_address]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_LOCAL_ADDRESS 47
/* Why the upstream connection failed (string) [upstream.transport_failure_reason]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_TRANSPORT_FAILURE 48
/* How many times the request was tried upstream (retries included) (number) [upstream.request_attempt_count]. */
#define ENVOYX_ATTRIBUTE_UPSTREAM_ATTEMPTS 49
/* The listener's traffic direction: 0 unspecified, 1 inbound, 2 outbound (number) [xds.listener_direction]. */
#define ENVOYX_ATTRIBUTE_LISTENER_DIRECTION 50
/* The matched virtual host's name (string) [xds.virtual_host_name]. */
#define ENVOYX_ATTRIBUTE_VIRTUAL_HOST_NAME 51
/* The listener filter chain's name (absent when unnamed) (string) [xds.filter_chain_name]. */
#define ENVOYX_ATTRIBUTE_FILTER_CHAIN_NAME 52
/* Whether the request is a health check (boolean) [health_check]. */
#define ENVOYX_ATTRIBUTE_HEALTH_CHECK 53

/* A moment of a stream (ABI 1.2), read with `timing_get` as nanoseconds: START_UNIX is the
 * request's start as wall-clock time since the Unix epoch; every other one is an offset from
 * that start on a monotonic clock (zero or negative are valid: a connection began before its
 * request). Ids and order are upstream Envoy's stream timing. */
typedef uint32_t envoyx_timing;
#define ENVOYX_TIMING_START_UNIX 0
#define ENVOYX_TIMING_DOWNSTREAM_CONNECTION_BEGIN 1    /* the client's connection accepted */
#define ENVOYX_TIMING_DOWNSTREAM_HANDSHAKE_START 2     /* its TLS ClientHello */
#define ENVOYX_TIMING_DOWNSTREAM_HANDSHAKE_COMPLETE 3
#define ENVOYX_TIMING_LAST_DOWNSTREAM_HEADER_RX 4      /* the request headers received */
#define ENVOYX_TIMING_LAST_DOWNSTREAM_RX 5             /* the whole request received */
#define ENVOYX_TIMING_UPSTREAM_CONNECT_START 6
#define ENVOYX_TIMING_UPSTREAM_CONNECT_COMPLETE 7
#define ENVOYX_TIMING_UPSTREAM_HANDSHAKE_COMPLETE 8
#define ENVOYX_TIMING_FIRST_UPSTREAM_TX 9              /* the request's first byte sent upstream */
#define ENVOYX_TIMING_LAST_UPSTREAM_TX 10
#define ENVOYX_TIMING_FIRST_UPSTREAM_RX 11             /* the response's first byte received */
#define ENVOYX_TIMING_FIRST_UPSTREAM_RX_BODY 12
#define ENVOYX_TIMING_LAST_UPSTREAM_RX 13
#define ENVOYX_TIMING_FIRST_DOWNSTREAM_TX 14           /* the response's first byte sent */
#define ENVOYX_TIMING_LAST_DOWNSTREAM_TX 15
#define ENVOYX_TIMING_LAST_DOWNSTREAM_ACK 16           /* QUIC: the client's last ACK */
#define ENVOYX_TIMING_REQUEST_COMPLETE 17              /* the stream done (its end of life) */
#define ENVOYX_TIMING_DOWNSTREAM_CONNECTION_END 18     /* the connection closed during the request */

/* What a call on the process-wide shared data says (ABI 1.2, `shared_data_get/set`). */
typedef uint32_t envoyx_shared_status;
/* Done: the value was read, stored or removed. */
#define ENVOYX_SHARED_OK 0
/* shared_data_get: no value under the key. */
#define ENVOYX_SHARED_ABSENT 1
/* shared_data_get: the value is longer than the module's buffer; `*len` says how long, nothing
 * was copied (ask again with a buffer that long). */
#define ENVOYX_SHARED_TOO_SMALL 2
/* shared_data_set: the value changed since the module read the `cas` it passed (another module,
 * worker or thread set it): read it again and retry. Not logged: contention is normal. */
#define ENVOYX_SHARED_CAS_MISMATCH 3
/* Refused (one warning per process and reason): a bad key or value, the store full. */
#define ENVOYX_SHARED_REFUSED 4
/* A `cas` for shared_data_set: set whatever the key holds now. */
#define ENVOYX_SHARED_CAS_ANY 0
/* A `cas` for shared_data_set: set only if the key holds nothing (the first of many to set
 * wins); also what shared_data_get writes to `*cas` for an absent key, so read-modify-write
 * loops need no special case. */
#define ENVOYX_SHARED_CAS_ABSENT UINT64_MAX
/* Bounds of the shared data: a value's bytes, and keys plus values of the whole store. */
#define ENVOYX_SHARED_MAX_VALUE (1024 * 1024)
#define ENVOYX_SHARED_MAX_TOTAL (64 * 1024 * 1024)
#define ENVOYX_SHARED_MAX_KEYS 65536

/* A function one module shares with the others by name (ABI 1.2, `function_register/get`). Its
 * real signature is agreed between the modules out of band, as with dlsym: cast it to that type
 * before calling it. */
typedef void (*envoyx_function)(void);

/* Log levels. Values equal Envoy's (spdlog's) levels. */
typedef uint32_t envoyx_log_level;
#define ENVOYX_LOG_TRACE 0
#define ENVOYX_LOG_DEBUG 1
#define ENVOYX_LOG_INFO 2
#define ENVOYX_LOG_WARN 3
#define ENVOYX_LOG_ERROR 4
#define ENVOYX_LOG_CRITICAL 5

/* ---------------------------------------------------------------------------------------------
 * Host functions: the table a module receives in envoyx_on_program_init.
 *
 * The table itself is owned by the host and lives as long as the module stays loaded; a module
 * normally keeps the pointer in a global. Every function is non-NULL when the table's `size`
 * covers it.
 * ------------------------------------------------------------------------------------------- */
typedef struct envoyx_host_api {
  /* sizeof(envoyx_host_api) as the host was built. Fields that start at or past `size` are
   * absent: they were added in a later minor version than the host's. */
  uint32_t size;
  /* The ABI version the host speaks. */
  envoyx_abi_version version;

  /* -- Logging (any thread) -- */

  /* Whether a message at `level` would be written; lets a module skip formatting it. */
  bool (*log_enabled)(envoyx_log_level level);
  /* Writes `message` to the host's log at `level`, as one line (see "Log lines": a line break in
   * it is written as `\n`). Never refused. */
  void (*log)(envoyx_log_level level, envoyx_bytes message);

  /* -- Errors (inside envoyx_on_program_init / envoyx_on_filter_config_new only) -- */

  /* Records why the current call is about to fail. The host copies `message` and shows it, with
   * the module's file name, in the error it reports. A later call replaces an earlier one.
   * `error` must be the argument of the envoyx_on_program_init, envoyx_on_filter_config_new or
   * envoyx_on_route_config_new call running now on this thread; any other pointer (NULL, or one
   * kept from an earlier call) is refused with an error line, never dereferenced. The same holds
   * for the `creating` argument of config_handle_new and metric_define. */
  void (*error_set)(envoyx_error* error, envoyx_bytes message);

  /* -- Headers and trailers (worker thread, inside a hook of `stream`) --
   * A map is available once the host has received it: request headers from the request headers
   * hook on, request trailers from the request trailers hook on, likewise for the response. */

  /* Writes up to `values_cap` values of `key` (case-insensitive), in order, into `values`, as
   * zero-copy views into the host's map, and returns how many values the key has in total (so a
   * return larger than `values_cap` means "call again with more room"). Returns 0 when the map
   * is not available. */
  size_t (*header_get)(envoyx_stream* stream, envoyx_header_map map, envoyx_bytes key,
                       envoyx_bytes* values, size_t values_cap);
  /* Writes up to `headers_cap` entries of the map, in order, into `headers` as zero-copy views,
   * and returns the total number of entries (a key with two values counts twice). */
  size_t (*header_all)(envoyx_stream* stream, envoyx_header_map map, envoyx_header* headers,
                       size_t headers_cap);
  /* Replaces every value of `key` with `value`. Returns false when the map is not available or
   * the host refuses the header (below).
   *
   * Every host checks what a module hands it the same way, and refuses with false (logged as
   * "Refusals" says):
   * - a name must be an HTTP token; upper-case letters are lower-cased;
   * - pseudo-headers may only be set, and only :method, :path, :authority, :scheme, :protocol in
   *   request headers and :status (three digits, 100-599) in response headers;
   * - a value must be non-empty and hold no control byte except horizontal tab (no NUL, CR, LF);
   * - headers that already went on past this filter (the headers hook returned CONTINUE, or a
   *   stopped direction was continued) cannot be set, added or removed any more: whether a late
   *   change still reached the peer would depend on the proxy's timing, and `content-length`
   *   would no longer match what the peer was told. Hold the headers (a STOP status) until the
   *   module knows what to set. Trailers are changed in their own hook;
   * - bounds a module cannot pass by mistake: a name of at most 1 KiB, a value of at most 64 KiB,
   *   and 1,024 header_set and header_add calls per stream (over every map); send_local_reply
   *   likewise takes at most 64 headers, a 1 MiB body and 256 bytes of details. */
  bool (*header_set)(envoyx_stream* stream, envoyx_header_map map, envoyx_bytes key,
                     envoyx_bytes value);
  /* Adds `value` as one more value of `key`. Returns false when the map is not available or the
   * header is refused (see header_set). */
  bool (*header_add)(envoyx_stream* stream, envoyx_header_map map, envoyx_bytes key,
                     envoyx_bytes value);
  /* Removes every value of `key`; returns how many values were removed (0 for a pseudo-header,
   * which cannot be removed, and 0, refused, once the headers went on: see header_set). */
  size_t (*header_remove)(envoyx_stream* stream, envoyx_header_map map, envoyx_bytes key);

  /* -- Body (worker thread, inside a hook of `stream`) --
   * A body is a list of slices in host memory. Any function that changes the body invalidates
   * every slice obtained before it.
   *
   * Length and framing. A call that changes a body's length (drain, prepend, append, replace by
   * a different length) is refused (false, body unchanged, one warning naming the fix) once that
   * direction's headers went on past this filter carrying `content-length`: the peer would get a
   * body that disagrees with it. While the headers are held (the headers hook returned a STOP
   * status), such calls are allowed and the host keeps `content-length` right itself: it removes
   * it at once and, when the headers go on after the whole body was seen (no trailers), sets it
   * to the final length. To change lengths while letting the headers go on at once, remove
   * `content-length` in the headers hook. */

  /* Total length of the body in bytes; 0 when it is not available. */
  size_t (*body_length)(envoyx_stream* stream, envoyx_body_kind body);
  /* Writes up to `slices_cap` slices of the body, in order, into `slices` and returns the total
   * number of slices. The slices point straight into host memory (zero copy) and may be written
   * in place. Empty slices are never reported. */
  size_t (*body_slices)(envoyx_stream* stream, envoyx_body_kind body, envoyx_slice* slices,
                        size_t slices_cap);
  /* Removes the first `len` bytes (all of them if `len` exceeds the length). False when the body
   * is not available. */
  bool (*body_drain)(envoyx_stream* stream, envoyx_body_kind body, size_t len);
  /* Inserts a copy of `data` before the first byte. False when the body is not available. */
  bool (*body_prepend)(envoyx_stream* stream, envoyx_body_kind body, envoyx_bytes data);
  /* Appends a copy of `data` after the last byte. False when the body is not available. */
  bool (*body_append)(envoyx_stream* stream, envoyx_body_kind body, envoyx_bytes data);
  /* Replaces the `len` bytes starting at `offset` with a copy of `data` (which may be longer or
   * shorter). False, and nothing changes, when the body is not available or the range does not
   * lie within it. */
  bool (*body_replace)(envoyx_stream* stream, envoyx_body_kind body, size_t offset, size_t len,
                       envoyx_bytes data);

  /* -- Ending a stream early (worker thread, inside a hook of `stream`) -- */

  /* Sends a local reply with `status`, `headers` (copied) and `body` (copied) to the client
   * instead of what the stream would have produced; `details` names the reason in Envoy's
   * response-code details (e.g. "envoyx_unauthorized"). The hook should then return a STOP
   * status (the host stops the stream whatever the hook returns). Returns false, and sends
   * nothing, when a reply can no longer be sent (the response already started, the stream was
   * already reset or answered, or the call is outside an event hook), when `status` is outside
   * 200-599, when `details` is not one token of UTF-8 (whitespace, control characters or bytes
   * that are not UTF-8 refuse it), or when a header is refused (as in
   * header_set; pseudo-headers are never allowed here). The reply is sent after the hook returns;
   * its response does not pass through this module's response hooks. */
  bool (*send_local_reply)(envoyx_stream* stream, uint32_t status, const envoyx_header* headers,
                           size_t headers_len, envoyx_bytes body, envoyx_bytes details);
  /* Resets the stream: the client and the upstream see it aborted, after the hook returns. A
   * reset wins over a local reply asked for in the same hook. */
  void (*reset_stream)(envoyx_stream* stream);

  /* -- Continuing from any thread -- */

  /* Creates a handle to `stream` (worker thread, inside a hook of `stream`). The module owns it
   * and must release it with `stream_handle_release`, on any thread, at any time. */
  envoyx_stream_handle* (*stream_handle_new)(envoyx_stream* stream);
  /* Any thread. Asks the host to resume `direction` of the stream after a hook returned a STOP
   * status. The resume happens later on the stream's worker thread, never inside this call.
   * Returns false when the stream is already gone (then nothing happens). A resume of a
   * direction that is not stopped, or a second resume, is ignored safely. */
  bool (*stream_handle_continue)(envoyx_stream_handle* handle, envoyx_direction direction);
  /* Any thread. Gives the handle back; it must not be used again. */
  void (*stream_handle_release)(envoyx_stream_handle* handle);

  /* -- Acting after async work (ABI 1.1) --
   * A hook starts async work (a token check, a rate-limit lookup on another thread), returns a
   * STOP status and keeps a handle; when the work is done, the module schedules an event and
   * decides inside `envoyx_on_stream_scheduled`, on the worker thread, with every stream function
   * of an event hook: headers, bodies, local reply, reset, and `continue_stream`. */

  /* Any thread. Asks the host to call the module's `envoyx_on_stream_scheduled` with `event_id`
   * (chosen by the module) on the stream's worker thread, later, never inside this call. Events
   * and continues (`stream_handle_continue`) of one stream run one at a time, in the order they
   * were asked for. Returns false, and schedules nothing, when the stream is gone or the module
   * does not export `envoyx_on_stream_scheduled`. An event still queued when the stream completes
   * is dropped (its state is the module's to free in `envoyx_on_stream_destroy`). */
  bool (*stream_handle_schedule)(envoyx_stream_handle* handle, uint64_t event_id);
  /* Worker thread, inside `envoyx_on_stream_scheduled` of `stream` (or, from ABI 1.1 on, its
   * `envoyx_on_stream_callout_done`, `envoyx_on_stream_callout_event` or
   * `envoyx_on_stream_watermark`: the hooks that run on work the module started). Resumes
   * `direction`, which a hook stopped, after the callback returns. Returns false, and resumes
   * nothing, when the direction is not stopped (or already resumed), the stream was reset or
   * answered locally, or the call is made elsewhere (in an event hook, return a CONTINUE status
   * instead). */
  bool (*continue_stream)(envoyx_stream* stream, envoyx_direction direction);

  /* -- A configuration's background work (ABI 1.1) -- */

  /* Main thread, inside `envoyx_on_filter_config_new` only: a handle to the configuration being
   * created; `creating` is that call's `error` argument, which identifies it. Returns NULL
   * elsewhere, and when the module does not export `envoyx_on_filter_config_scheduled`. If the
   * creation fails, the handle's functions do nothing. */
  envoyx_config_handle* (*config_handle_new)(envoyx_error* creating);
  /* Any thread. Asks the host to call the module's `envoyx_on_filter_config_scheduled` with
   * `event_id` on the main thread, later, never inside this call; events run one at a time, in
   * the order asked for. Returns false, and schedules nothing, once the configuration's destroy
   * has started (an event still queued then is dropped: no event ever follows destroy), or when
   * the host delivers no configuration events (the test hosts do only when the test asks). */
  bool (*config_handle_schedule)(envoyx_config_handle* handle, uint64_t event_id);
  /* Any thread. Gives the handle back; it must not be used again. */
  void (*config_handle_release)(envoyx_config_handle* handle);

  /* -- Per-route configuration (ABI 1.1) -- */

  /* Worker thread, inside a hook of `stream`. The module's per-route configuration (what its
   * `envoyx_on_route_config_new` returned) that applies to the stream: the most specific of the
   * route's, the virtual host's and the route configuration's, as the proxy resolves it. NULL
   * when there is none, or when it was made for another module file (with one warning per
   * stream). The object stays valid until the stream is destroyed. */
  const envoyx_module_route_config* (*route_config)(envoyx_stream* stream);

  /* -- HTTP callouts (ABI 1.1) -- */

  /* Worker thread, inside an event, scheduled or callout-done hook of `stream`. Sends a request
   * to the proxy's cluster `cluster` (its TLS, load balancing, circuit breakers and stats):
   * `headers` (copied) must hold `:method`, `:path` and `:authority` (or `host`), checked as in
   * header_set; `body` (copied) may be empty; `timeout_ms` is 1 to 86,400,000 (a day; 0 and
   * longer are refused: a callout that must live longer reconnects). Returns the callout's
   * id (1, 2, ... per stream), or 0 when the request is refused (one warning naming the reason):
   * malformed, the stream was reset or answered, or the module does not export
   * `envoyx_on_stream_callout_done`. Every callout with an id is answered exactly once through
   * `envoyx_on_stream_callout_done`, later, never inside this call (even one that could not
   * start: no such cluster), unless the stream completes first: callouts still in flight then
   * are cancelled and never answered. Several may be in flight at once. For a request or
   * response body sent in chunks, see the streaming callouts below. */
  uint64_t (*http_callout)(envoyx_stream* stream, envoyx_bytes cluster, const envoyx_header* headers,
                           size_t headers_len, envoyx_bytes body, uint64_t timeout_ms);
  /* Main thread, inside the configuration's scheduled or callout-done hook. A callout for the
   * configuration (`handle`'s), as http_callout does for a stream (same checks, ids 1, 2, ...
   * per configuration); answered through `envoyx_on_filter_config_callout_done` on the main
   * thread, never inside this call, while the configuration lives: callouts in flight when its
   * destroy starts are cancelled and never answered. Returns 0 when refused (logged), including
   * when the module does not export `envoyx_on_filter_config_callout_done`. For background work
   * that outlives streams: fetching keys, a policy, a token. */
  uint64_t (*config_http_callout)(envoyx_config_handle* handle, envoyx_bytes cluster,
                                  const envoyx_header* headers, size_t headers_len,
                                  envoyx_bytes body, uint64_t timeout_ms);

  /* -- Streaming HTTP callouts (ABI 1.1) -- */

  /* Worker thread, where http_callout may be called. Opens a request to `cluster` whose body the
   * module sends in chunks, and whose response arrives in chunks through
   * `envoyx_on_stream_callout_event` (zero-copy views, valid during each call). `headers`,
   * `body` and `timeout_ms` as for http_callout (`body` may be empty: the first chunk);
   * `end_of_stream` true sends the whole request now. Returns the callout's id (same numbering
   * as http_callout), or 0 when refused (one warning naming the reason), including when the
   * module does not export `envoyx_on_stream_callout_event`. Events for the id come later,
   * never inside this call (a failure to start arrives as FAILED); none come after the stream
   * completes (the host resets what is still open) or after the module's own
   * callout_stream_reset. Envoy 1.38.3, 1.39.3 and 1.40.0 all carry these, with no gate. */
  uint64_t (*callout_stream_start)(envoyx_stream* stream, envoyx_bytes cluster,
                                   const envoyx_header* headers, size_t headers_len,
                                   envoyx_bytes body, bool end_of_stream, uint64_t timeout_ms);
  /* Worker thread, inside any hook of `stream` before it completes. Sends the next request body
   * chunk `data` (copied; may be empty with `end_of_stream`) on the streaming callout
   * `callout_id`; `end_of_stream` ends the request. Returns false (logged) when `callout_id` is
   * not a streaming callout of this stream that is still open, or its request already ended. */
  bool (*callout_stream_send)(envoyx_stream* stream, uint64_t callout_id, envoyx_bytes data,
                              bool end_of_stream);
  /* As callout_stream_send, but ends the request with `trailers` (copied; checked as
   * header_set does for request trailers: no pseudo-headers). */
  bool (*callout_stream_send_trailers)(envoyx_stream* stream, uint64_t callout_id,
                                       const envoyx_header* trailers, size_t trailers_len);
  /* Worker thread, inside any hook of `stream`. Abandons the streaming callout `callout_id`:
   * the proxy resets it and the module gets no further event for it. Returns false when it is
   * not one that is still open. */
  bool (*callout_stream_reset)(envoyx_stream* stream, uint64_t callout_id);
  /* Main thread, where config_http_callout may be called: a streaming callout for the
   * configuration (`handle`'s), as callout_stream_start does for a stream (same checks; ids
   * shared with config_http_callout). Its events go to `envoyx_on_filter_config_callout_event`
   * on the main thread while the configuration lives: those still open when its destroy starts
   * are reset, and no event follows. Returns 0 when refused (logged), including when the module
   * does not export `envoyx_on_filter_config_callout_event`. For background work that listens:
   * a long poll, a server-sent event stream of policy updates. */
  uint64_t (*config_callout_stream_start)(envoyx_config_handle* handle, envoyx_bytes cluster,
                                          const envoyx_header* headers, size_t headers_len,
                                          envoyx_bytes body, bool end_of_stream,
                                          uint64_t timeout_ms);
  /* Main thread, inside any of the configuration's hooks that run on it (scheduled, callout
   * done, callout event). As callout_stream_send, _send_trailers and _reset for the
   * configuration's streaming callouts. */
  bool (*config_callout_stream_send)(envoyx_config_handle* handle, uint64_t callout_id,
                                     envoyx_bytes data, bool end_of_stream);
  bool (*config_callout_stream_send_trailers)(envoyx_config_handle* handle, uint64_t callout_id,
                                              const envoyx_header* trailers, size_t trailers_len);
  bool (*config_callout_stream_reset)(envoyx_config_handle* handle, uint64_t callout_id);

  /* -- Metrics (ABI 1.1) -- */

  /* Main thread, inside `envoyx_on_filter_config_new` only; `creating` is that call's `error`
   * argument, which identifies the configuration being created (as for config_handle_new).
   * Defines a metric of that configuration: `name` and each of the `label_names_len` label
   * names (0 for none) are 1-64 bytes of [a-z0-9_] starting with a letter, the label names
   * distinct. The proxy shows it as `<prefix>.<filter>.<name>` with the label names as tags,
   * where <filter> is the configuration's `name` (when empty, the module file's stem: its file
   * name without the last extension, `libauth` for `/opt/m/libauth.so`), and <prefix> is `envoyx`
   * in the custom build and, on stock Envoy, the `metrics_namespace` of the filter's
   * `dynamic_module_config` (`envoyx` as `envoyx run` writes it; upstream's default is
   * `dynamicmodulescustom`). Returns the metric's id (1, 2, ... per configuration), or 0 when
   * refused (one warning naming the metric and the reason), including when defined twice, when
   * the host keeps no metrics, and when called anywhere but inside envoyx_on_filter_config_new
   * with that call's own `error` (an error line says so: the proxy creates stats only then). */
  uint64_t (*metric_define)(envoyx_error* creating, envoyx_metric_kind kind, envoyx_bytes name,
                            const envoyx_bytes* label_names, size_t label_names_len);
  /* Worker thread, inside any hook of `stream`, for a metric its configuration defined:
   * applies `op` with `value` (ADD for counters and gauges, SUBTRACT and SET for gauges, RECORD
   * for histograms) for the given label values, exactly as many as the metric has label names,
   * each at most 256 bytes of UTF-8 without control characters (copied when new). Returns false
   * when refused (logged as other refusals), and for a labelled metric's new combination once
   * it has ENVOYX_METRIC_LABEL_LIMIT combinations or the configuration's own bound (one warning
   * per metric) — unless the configuration names an overflow value: then the record is applied
   * with that value for every label and returns true. Takes no lock for a combination this
   * thread has recorded before. Names starting with `envoyx_` are refused by metric_define. */
  bool (*metric_record)(envoyx_stream* stream, uint64_t metric_id, const envoyx_bytes* label_values,
                        size_t label_values_len, envoyx_metric_op op, uint64_t value);

  /* -- Metadata, filter state, routing (ABI 1.1) -- */

  /* Worker thread, inside any hook of `stream`. Sets `key` in the namespace `ns` of the
   * stream's dynamic metadata to `value` (copied), where Envoy's access log
   * (`%DYNAMIC_METADATA(ns:key)%`) and later filters read it. `ns`, `key` and a string value are
   * UTF-8 without control bytes; `ns` and `key` 1-256 bytes, a string at most 64 KiB; a number
   * finite. Returns false when refused (logged). */
  bool (*metadata_set)(envoyx_stream* stream, envoyx_bytes ns, envoyx_bytes key, envoyx_value value);
  /* Worker thread, inside any hook of `stream`. Reads `key` of namespace `ns` from `source`
   * into `out` when it holds a value of kind `kind`; false (nothing written) when it is absent
   * or of another kind. A string is a view into the proxy's memory, valid until the hook returns
   * or the metadata changes. On stock Envoy a value of another kind also makes Envoy log an
   * error-level line of its own (1.38-1.40 cannot be asked a value's kind first): read the kind
   * that was set. */
  bool (*metadata_get)(envoyx_stream* stream, envoyx_metadata_source source, envoyx_bytes ns,
                       envoyx_bytes key, envoyx_value_kind kind, envoyx_value* out);
  /* Worker thread, inside any hook of `stream`. Sets the stream's filter state `key` (rules of
   * metadata_set's `key`) to `value` (copied; UTF-8 without control characters, at most 64 KiB:
   * `%FILTER_STATE(key:PLAIN)%` prints it raw), readable by later filters and by Envoy's own where
   * the key is one they read. Read-only once set, whoever sets it: a key the stream's filter state
   * already has is refused and keeps its value — set before by this filter, by another filter
   * of this or another module file, by any other filter, or by the proxy, with a value of any
   * type (Envoy counts a second set of a key as a bug of its own). Where the proxy can only be
   * asked for values (stock Envoy before 1.40), a key holding an object with no string form
   * reads as absent. Returns false when refused (logged). */
  bool (*filter_state_set)(envoyx_stream* stream, envoyx_bytes key, envoyx_bytes value);
  /* Worker thread, inside any hook of `stream`. The filter state `key` as bytes (set by any
   * filter as a string); false when absent. `out` is valid until the hook returns. */
  bool (*filter_state_get)(envoyx_stream* stream, envoyx_bytes key, envoyx_bytes* out);
  /* Worker thread, inside a hook of `stream` while its request headers are still held (a
   * request hook that stops, or an async hook before the request continues). Makes the proxy
   * pick the route again from the headers as they are when they go on (after changing `:path`,
   * `:authority` or a header routes match on). Returns false when the headers already went on. */
  bool (*clear_route_cache)(envoyx_stream* stream);
  /* As clear_route_cache's hooks. Sends the request to the upstream host `host` (an IP address
   * with port, `10.0.0.7:8080`) of the cluster the route picks; `strict`: fail rather than use
   * another host when that one is not in the cluster. False when refused (logged). */
  bool (*upstream_override_host)(envoyx_stream* stream, envoyx_bytes host, bool strict);

  /* -- Attributes (ABI 1.1) -- */

  /* Worker thread, inside any hook of `stream`. Reads `attribute` into `out` (its kind is the
   * one envoyx_attribute gives; a string is a view valid until the hook returns). False, with
   * nothing written, when the value is absent (no TLS, no upstream host chosen yet, no response
   * yet) or the proxy cannot tell it (docs/contract.md, "Which attribute each host serves":
   * every id above on stock Envoy 1.38.3, 1.39.3 and 1.40.0). An id not listed here is refused. */
  bool (*attribute_get)(envoyx_stream* stream, envoyx_attribute attribute, envoyx_value* out);

  /* -- Tracing (ABI 1.1) -- */

  /* Worker thread, inside any hook of `stream`. Adds the tag `key: value` (copied; `key` as a
   * metadata key, `value` UTF-8 without control characters, at most 64 KiB) to the stream's
   * active span, which the proxy's tracer reports. False when the stream has no span (no tracer
   * configured) or when refused (logged: checked whether or not there is a span). */
  bool (*span_set_tag)(envoyx_stream* stream, envoyx_bytes key, envoyx_bytes value);

  /* -- Failures (ABI 1.2) -- */

  /* Worker thread, inside any hook of `stream` (event, stream-new, scheduled, callout, complete
   * hooks). The module's hook failed (a panic, an uncaught exception: its language runtime caught
   * it) and the host ends the stream as the contract decides, the same for every module: during
   * a request hook, the scheduled hook or a callout hook, a local reply 500 with an empty body and
   * details `envoyx_module_panic` while the response has not started (its headers did not go on
   * to the client), otherwise a reset; during a response hook a reset; during the stream-new hook
   * nothing more (return NULL: the stream then gets the 500 of a stream that could not be
   * created); during the complete hook nothing (the exchange is over). The host logs one error
   * line naming the module, the filter, the hook and `reason` (the module's words, e.g. the panic
   * message and where it happened; any bytes, written escaped). From the call on the stream gets
   * no further hook of the module but destroy (its complete hook included); what the hook returns
   * is ignored. A local reply or reset the module asked for earlier in the same hook stands.
   * Returns false when refused (a NULL stream or outside a hook of it: logged). */
  bool (*hook_failed)(envoyx_stream* stream, envoyx_bytes reason);

  /* -- Resetting with a reason (ABI 1.2) -- */

  /* Worker thread, where reset_stream may be called (an event, scheduled or callout hook of
   * `stream`). Resets the stream as reset_stream does, telling the client `reason` (an
   * envoyx_reset_reason). `details` says why for the operator: one token of UTF-8 (no
   * whitespace, no control characters), at most 256 bytes, may be empty; the host writes it with
   * the module, the filter and the reason as one line of its log at debug level (Envoy 1.38-1.40
   * drop a filter's reset details, so no access-log field shows them). Returns false, doing nothing,
   * when refused (an unknown reason, details that are not one token, a hook that may not reset:
   * logged as other refusals). */
  bool (*reset_stream_with_reason)(envoyx_stream* stream, envoyx_reset_reason reason,
                                   envoyx_bytes details);

  /* -- Logging with a source location (ABI 1.2) -- */

  /* Any thread, any time. Writes `message` at `level` as `log` does, saying it comes from line
   * `line` of `file` in the module's sources (both SDKs' logging macros and helpers pass their
   * caller's). Envoy 1.40 shows the location in its own log format's source field; older Envoys
   * and the other hosts write it as a `[file:line] ` prefix of the message. `file` is written as
   * one line, escaped as the message is. Never refused. */
  void (*log_at)(envoyx_log_level level, envoyx_bytes message, envoyx_bytes file, uint32_t line);

  /* -- Workers (ABI 1.2) -- */

  /* Any thread, any time (program init included). How many worker threads the proxy runs streams
   * on (Envoy's --concurrency), as the host learned it on its main thread; 0 when the host does
   * not know. For per-worker state: one slot per worker, indexed by worker_index. */
  uint32_t (*worker_count)(void);
  /* Worker thread, inside any hook of `stream`. The index of the worker thread the stream runs
   * on, from 0 to worker_count() - 1 (every hook of a stream runs on the same worker); UINT32_MAX
   * when the host does not say, or outside a hook of `stream` (logged). */
  uint32_t (*worker_index)(envoyx_stream* stream);

  /* -- Filter state, continued (ABI 1.2) -- */

  /* Worker thread, inside any hook of `stream`. Whether the stream's filter state has `key`
   * (checked as filter_state_set's), whoever set it and whatever its type: a string of any
   * filter, an object of Envoy's. Where the proxy can only be asked for values (stock Envoy before
   * 1.40), a key holding an object with no string form reads as absent. False when refused
   * (logged). */
  bool (*filter_state_has)(envoyx_stream* stream, envoyx_bytes key);

  /* -- Routing, continued (ABI 1.2) -- */

  /* Worker thread, inside a hook of `stream` while its request headers are still held (as
   * clear_route_cache). Keeps the route but has the proxy pick its cluster again from the headers
   * as they are when they go on: for a route whose cluster comes from a header
   * (`cluster_header`) or from weights, after changing that header. Cheaper than
   * clear_route_cache, which matches the route again. Whether the cluster changes is the route's
   * own: Envoy 1.39 and 1.40 pick weighted clusters again (by `header_name`), 1.38 does not (its
   * route entries have no refresh), and a plain `cluster_header` route keeps its cluster on all
   * three. Returns false when the headers already went on (logged). */
  bool (*refresh_route_cluster)(envoyx_stream* stream);

  /* -- Answering: the module's own response (ABI 1.2) -- */

  /* Worker thread, inside an event, scheduled or callout hook of `stream` while its request
   * headers are still held here (a request hook, or an async hook after one stopped them) and no
   * response arrived: the module answers the stream itself, as the last filter of a chain with
   * no upstream cluster would (a terminal filter), streaming its response over time where a
   * local reply sends it whole. Sends the response's headers: `status` 200-599 and `headers`
   * checked as send_local_reply's (lower-case names, no pseudo-headers, at most 64), copied;
   * `end_of_stream` when no body follows. From then on the request goes nowhere else: its hooks
   * still run (the module may read the body as it arrives), but whatever they return it stays
   * stopped, and continue_stream of the request does nothing; send_local_reply is refused; a reset
   * ends the response where it is. A `content-length` header (one decimal number) is held to: the
   * data sent must add up to it. The response stays open until the module ends it
   * (send_response_data with end of stream, or send_response_trailers), resets the stream, or
   * the client goes (the complete hook). What a hook sends is carried out in order once it
   * returns; to send over time, schedule work (stream_handle_schedule) and send from the
   * scheduled hook. Returns false, sending nothing, when refused (logged). */
  bool (*send_response_headers)(envoyx_stream* stream, uint32_t status, const envoyx_header* headers,
                                size_t headers_len, bool end_of_stream);
  /* Where send_response_headers may be called, once it sent headers that did not end the
   * response. Sends the next `data` of the response (copied; at most 1 MiB per call, 16 MiB per
   * hook; may be empty, to end the response), ending it when `end_of_stream`. Refused (false,
   * logged) before the headers, after the end, or past (or, at the end, short of) the
   * response's content-length. */
  bool (*send_response_data)(envoyx_stream* stream, envoyx_bytes data, bool end_of_stream);
  /* As send_response_data. Ends the response with `trailers` (1 to 64, checked as headers,
   * copied). Refused (false, logged) as send_response_data, and when empty (end with
   * send_response_data instead). */
  bool (*send_response_trailers)(envoyx_stream* stream, const envoyx_header* trailers,
                                 size_t trailers_len);

  /* -- Flow control (ABI 1.2) -- */

  /* Worker thread, inside any hook of `stream` but complete. The stream's buffer limit in bytes:
   * how much the proxy holds of a direction a filter stopped (past it Envoy answers 413 for a
   * request, 500 or a reset for a response) and the high watermark of its buffers towards each
   * peer (see envoyx_on_stream_watermark). Envoy keeps one limit for both directions: the
   * listener's per_connection_buffer_limit_bytes (1 MiB by default) unless a filter sets another.
   * 0 when the host does not say, or when refused (logged). */
  uint64_t (*buffer_limit)(envoyx_stream* stream);
  /* As buffer_limit. Sets the stream's buffer limit to `limit`, 1 byte to 1 GiB: raise it to
   * buffer a larger body, lower it to pause a fast peer sooner. False when refused (logged: out of
   * range, the complete hook) or when the host cannot. */
  bool (*set_buffer_limit)(envoyx_stream* stream, uint64_t limit);

  /* -- Starting over (ABI 1.2) -- */

  /* Worker thread, inside an event or async hook of `stream`. Starts the request over (Envoy's
   * recreateStream, what an internal redirect does): once the hook returns, the proxy ends this
   * stream — the module gets its complete and destroy hooks, as every filter does — and runs the
   * request again from the start of the filter chain, with its headers as they are then (change
   * `:path` or `:authority` first to send it elsewhere); every filter, this module included, sees
   * a new stream. `response_headers` (0 to 64, checked as a local reply's, copied) is the
   * response that made the module start over (a 3xx's headers), which the proxy keeps for the
   * access log; may be empty. The safe semantics: only a request that ended without a body (its
   * headers carried end of stream: there is nothing to replay) may start over, only while no
   * response started, and not after the module reset or answered. Return a stop status from the
   * hook. Returns false, doing nothing, when refused (logged). */
  bool (*recreate_stream)(envoyx_stream* stream, const envoyx_header* response_headers,
                          size_t response_headers_len);

  /* -- Tracing, continued (ABI 1.2) -- */

  /* Spans by number: 0 is the stream's active span (the one span_set_tag tags: the proxy's span
   * of this request, when a tracer is configured); a child span the module starts gets a number
   * from 1 up, unique within the stream, until span_finish — or the end of the stream, when the
   * host finishes what the module left open (after its complete hook). Every function: worker
   * thread, inside any hook of `stream` but complete; refused (logged) for an unknown or finished
   * number; false (0) without a span (no tracer) as well. Texts as span_set_tag's: names (tag
   * key, baggage key, operation) 1-256 bytes, values at most 64 KiB, UTF-8 without control
   * characters. */

  /* Starts a child span of span `parent` named `operation`, timed from now; returns its number,
   * 0 when refused or without a tracer. At most 64 open at once per stream. It lives across hooks
   * (tag it, log to it, finish it later, e.g. when a callout answers). */
  uint64_t (*span_start_child)(envoyx_stream* stream, uint64_t parent, envoyx_bytes operation);
  /* Tags span `span` with `key: value` (copied). */
  bool (*span_tag)(envoyx_stream* stream, uint64_t span, envoyx_bytes key, envoyx_bytes value);
  /* Logs the event `event` (copied) on span `span`, timed now. */
  bool (*span_log)(envoyx_stream* stream, uint64_t span, envoyx_bytes event);
  /* Overrides the sampling decision of span `span` (and what it starts later). */
  bool (*span_set_sampled)(envoyx_stream* stream, uint64_t span, bool sampled);
  /* Finishes child span `span` (not 0: the proxy finishes the active span): the tracer reports
   * it; its number is gone. */
  bool (*span_finish)(envoyx_stream* stream, uint64_t span);
  /* Sets baggage `key: value` (copied) on the active span, which carries it to the upstream and
   * to every span after — where the tracer keeps baggage: Envoy's Zipkin tracer keeps none (this
   * does nothing there, and span_baggage_get finds nothing). */
  bool (*span_baggage_set)(envoyx_stream* stream, envoyx_bytes key, envoyx_bytes value);
  /* Reads baggage `key` of the active span into `value`: a view valid until the next tracing
   * call on the stream or the hook's return. False, with nothing written, when absent. */
  bool (*span_baggage_get)(envoyx_stream* stream, envoyx_bytes key, envoyx_bytes* value);
  /* Reads the trace id of the active span (the tracer's form, e.g. 32 hex digits) into
   * `trace_id`: a view valid as span_baggage_get's. False without a tracer. */
  bool (*span_trace_id)(envoyx_stream* stream, envoyx_bytes* trace_id);

  /* ABI 1.2. Gives a direction that had no trailers empty ones, which header_set/header_add on
   * `map` (ENVOYX_REQUEST_TRAILERS or ENVOYX_RESPONSE_TRAILERS) then fill: the direction then
   * ends with them instead of with its last body chunk (a gRPC-style status after a body, a
   * checksum of the body). Only inside that direction's body hook whose chunk ends it
   * (end_of_stream true), on the worker thread: that is where a proxy can still add them (Envoy's
   * addDecodedTrailers/addEncodedTrailers). True when the direction has trailers now (also when
   * it already had: a second call changes nothing). Refused (false, one warning) for another
   * map, another hook, a chunk that does not end the direction, and by a host that cannot add
   * them: stock Envoy's dynamic-modules filter offers no way to (envoyproxy/envoy#42559); the
   * custom build and the test hosts can. On HTTP/1.1 a peer gets trailers only with chunked
   * framing (no content-length) and where the connection manager is set to send them. */
  bool (*trailers_add)(envoyx_stream* stream, envoyx_header_map map);

  /* -- Runtime (ABI 1.2) -- */

  /* Any thread, any time (program init and configuration hooks included). Reads `key` from the
   * proxy's runtime (Envoy's layered runtime: the bootstrap's layers, RTDS, the admin's
   * /runtime_modify; feature flags such as `envoy.reloadable_features.*` read as BOOL) as `kind`
   * into `value` (`value->kind` set; nothing kept). True when the runtime holds the key as that
   * kind; false when it does not (no log: an unset flag is the common case), and, with one
   * warning per process and reason, for a key that is empty, over 256 bytes or not printable
   * ASCII, for ENVOYX_VALUE_STRING (Envoy's modules read runtime values as booleans and numbers
   * only) and where the proxy lets modules read no runtime: stock Envoy before 1.40. A NUMBER is
   * the stored double; the runtime keeps integers as doubles. Stock Envoy 1.40 serves its runtime
   * to modules on its main thread only: there the host reads it directly; other threads read the
   * host's copy of every key asked so far, refreshed on the main thread when a read finds it over
   * a second old, so a change shows within about a second, and a key first asked off the main
   * thread is refused once (absent) until the refresh that ask starts: read your keys once in the
   * configuration hook to have them from the first request. */
  bool (*runtime_get)(envoyx_bytes key, envoyx_value_kind kind, envoyx_value* value);

  /* -- Stream timing (ABI 1.2) -- */

  /* Worker thread, inside any hook of `stream`. Reads the moment `timing` of the stream into `ns`
   * (see envoyx_timing): true when the proxy knows it by now (a response's first byte is known
   * from the response hooks on; a moment that did not happen, such as a TLS handshake of a plain
   * connection, never is). Refused (false, one warning) for an unknown id and where the proxy
   * serves no timing to modules: stock Envoy before 1.40. */
  bool (*timing_get)(envoyx_stream* stream, envoyx_timing timing, int64_t* ns);

  /* -- Secrets (ABI 1.2) -- */

  /* Worker thread, inside any hook of `stream`. Reads the generic secret `name` that the
   * stream's filter configuration declares (its `secrets`, x/config.proto; the host subscribed to
   * each when the configuration was created, and a configuration whose secret the proxy cannot
   * serve is rejected) into `value`: a view of the proxy's bytes, valid until the hook returns
   * (SDS may rotate it between hooks: copy what must last). Empty while SDS has not delivered it.
   * Refused (false, one warning naming the declared ones) for a name the configuration does not
   * declare. Stock Envoy serves secrets to modules from 1.40. */
  bool (*secret_get)(envoyx_stream* stream, envoyx_bytes name, envoyx_bytes* value);

  /* -- Metadata, continued (ABI 1.2) -- */

  /* Worker thread, inside any hook of `stream`. The namespaces of `source`'s metadata (what
   * other filters, the proxy or the configuration put there): writes up to `names_cap` views
   * into `names` (valid as metadata_get's strings) and returns how many there are (0 when the
   * source has no metadata yet: a route's before it is picked), in the proxy's order. Refused
   * (0, one warning) for an unknown source. Served by every host and stock Envoy 1.38-1.40. */
  size_t (*metadata_namespaces)(envoyx_stream* stream, envoyx_metadata_source source,
                                envoyx_bytes* names, size_t names_cap);
  /* As metadata_namespaces, for the keys of namespace `ns` (checked as metadata_get's) of
   * `source`: 0 when the namespace is absent. */
  size_t (*metadata_keys)(envoyx_stream* stream, envoyx_metadata_source source, envoyx_bytes ns,
                          envoyx_bytes* keys, size_t keys_cap);

  /* -- Filter state, typed (ABI 1.2) -- */

  /* Worker thread, inside any hook of `stream`. Reads the serialized form of the filter-state
   * object at `key` (checked as filter_state_set's), whoever set it and whatever its type: a
   * string's bytes, or an Envoy object's string form (the upstream SNI object's server name, a
   * tcp_proxy cluster's name), into `value`, a view valid until the hook returns or the filter
   * state changes. False when the key is absent or its object has no serialized form. */
  bool (*filter_state_get_serialized)(envoyx_stream* stream, envoyx_bytes key, envoyx_bytes* value);
  /* Worker thread, inside any hook of `stream`. Sets the filter state `key` to the object the
   * proxy's object factory of that name makes from `value` (copied), read-only and for the
   * request: how a filter hands Envoy's own filters a typed object, e.g.
   * `envoy.network.upstream_server_name` (the SNI of the upstream TLS connection) or
   * `envoy.tcp_proxy.cluster`; `envoy.string` makes a plain string. `key` is checked as
   * filter_state_set's, `value` as its value. Refused (false, one warning) when the stream's
   * filter state already has `key` (as filter_state_set), and when the proxy has no factory of
   * that name or its factory refuses the value. */
  bool (*filter_state_set_typed)(envoyx_stream* stream, envoyx_bytes key, envoyx_bytes value);

  /* -- Upstream attempts (ABI 1.2) -- */

  /* Worker thread, inside any hook of `stream`. The addresses (`10.0.0.7:8080`) of the upstream
   * hosts the request was sent to so far, in attempt order (retries and hedged requests add
   * one each; the count is the UPSTREAM_ATTEMPTS attribute's): writes up to `hosts_cap` views
   * into `hosts`, valid until the hook returns, and returns how many there are. Refused (0, one
   * warning) where the proxy serves no such list to modules: stock Envoy before 1.40. */
  size_t (*upstream_hosts_attempted)(envoyx_stream* stream, envoyx_bytes* hosts, size_t hosts_cap);

  /* -- Closing the client's connection (ABI 1.2) -- */

  /* Worker thread, where reset_stream may be called. Ends the stream as reset_stream does and
   * closes the client's connection: HTTP/2 and HTTP/3 send GOAWAY first; `graceful` lets the
   * connection's other streams finish (the proxy drains it), otherwise it closes at once. For a
   * client to send elsewhere (a node leaving, a connection abused). The hook should return a stop
   * status. Returns false, doing nothing, where reset_stream would be refused (logged). */
  bool (*send_goaway_and_close)(envoyx_stream* stream, bool graceful);

  /* -- Typed metadata (ABI 1.2) -- */

  /* Worker thread, inside any hook of `stream`. Reads the typed metadata of namespace `ns`
   * (checked as metadata_get's) of `source` — its `typed_filter_metadata` entry, a
   * google.protobuf.Any — into `type_url` and `value` (the message's serialized protobuf bytes):
   * views valid as metadata_get's strings. False when absent. Refused (false, one warning) for
   * an unknown source and where the proxy serves no typed metadata to modules: stock Envoy
   * before 1.40. */
  bool (*metadata_get_typed)(envoyx_stream* stream, envoyx_metadata_source source, envoyx_bytes ns,
                             envoyx_bytes* type_url, envoyx_bytes* value);
  /* Worker thread, inside any hook of `stream`. Merges the JSON object `json` (UTF-8 text, at
   * most 64 KiB, lists and objects nested at most 16 levels) into namespace `ns` of the stream's
   * dynamic metadata, as a google.protobuf.Struct: its keys replace those already there, the
   * others stay. Keys and strings as metadata_set takes them. A flat object (strings, finite
   * numbers, booleans) is served by every host; a nested list or object, or a null, only where
   * the proxy takes a whole Struct (stock Envoy 1.40 and later). Refused (false, one warning)
   * otherwise, and for text that is no JSON object. */
  bool (*metadata_set_struct)(envoyx_stream* stream, envoyx_bytes ns, envoyx_bytes json);

  /* -- Shared data and functions across modules (ABI 1.2) -- */

  /* Any thread, any time (program init and configuration hooks included). The process-wide
   * shared data: values every module of the proxy can read and change by key, the host's copies,
   * kept until the process ends or a module removes them (hot reloads and unloaded modules
   * included). Keys are 1 to 256 bytes of printable ASCII without spaces; by convention they
   * start with the owner's name (`ratelimit.tenant.acme`). Reads the value of `key` into
   * `buffer` (the module's writable bytes; nothing is kept): ENVOYX_SHARED_OK with `*len` the
   * value's length and `*cas` its version; ENVOYX_SHARED_ABSENT (`*len` 0, `*cas`
   * ENVOYX_SHARED_CAS_ABSENT); ENVOYX_SHARED_TOO_SMALL (`*len` the length needed, nothing
   * copied); ENVOYX_SHARED_REFUSED for a bad key. `len` and `cas` are the module's. */
  envoyx_shared_status (*shared_data_get)(envoyx_bytes key, envoyx_slice buffer, size_t* len,
                                          uint64_t* cas);
  /* Any thread, any time. Stores a copy of `value` (at most ENVOYX_SHARED_MAX_VALUE bytes) under
   * `key`; an empty value removes the key. `cas`: ENVOYX_SHARED_CAS_ANY stores whatever is
   * there, ENVOYX_SHARED_CAS_ABSENT only where nothing is, any other only if the key's version
   * is still that one (as shared_data_get gave it): ENVOYX_SHARED_CAS_MISMATCH otherwise, and
   * the module reads again and retries. Refused (ENVOYX_SHARED_REFUSED, one warning) for a bad
   * key, a value over the bound, and a store that would pass ENVOYX_SHARED_MAX_TOTAL bytes of
   * keys and values or ENVOYX_SHARED_MAX_KEYS keys. A version is never reused (a removed and
   * set again key has a new one). Served by the core on every host: all modules of one proxy
   * process share one store. */
  envoyx_shared_status (*shared_data_set)(envoyx_bytes key, envoyx_bytes value, uint64_t cas);
  /* Any thread, any time. Shares `function` (a function of the module's, or of any object
   * loaded in the process) with every module of the process under `name` (checked as a shared
   * data key). The object that holds it is never unloaded from then on (the module file's
   * envoyx_on_program_unload is not called and the file stays mapped: the pointer stays valid
   * for the life of the process). True when registered, and when `name` already holds this
   * very function. Refused (false, one warning): a bad name, a NULL function or one inside no
   * loaded object, and a name that holds another function: the first to register wins (a hot
   * reloaded version of a module gets its first version's function; share a function that
   * reads shared data if it must change). On stock Envoy the function is also put in Envoy's
   * own function registry, so modules on upstream's SDKs can call it. */
  bool (*function_register)(envoyx_bytes name, envoyx_function function);
  /* Any thread, any time. The function registered under `name`, or NULL (not registered yet:
   * a module registers in its program init or configuration hook, so ask from the
   * configuration hook on, or again later). On stock Envoy, also a function a module on
   * upstream's SDKs registered in Envoy's function registry. Refused (NULL, one warning) for a
   * bad name. */
  envoyx_function (*function_get)(envoyx_bytes name);

  /* -- Typed metadata, continued (ABI 1.2) -- */

  /* Worker thread, inside any hook of `stream`. Sets namespace `ns` (checked as metadata_get's)
   * of the stream's typed dynamic metadata (its `typed_filter_metadata`) to a
   * google.protobuf.Any of type `type_url` (`type.googleapis.com/package.Message`: 1 to 256
   * bytes of printable ASCII without spaces, a non-empty message name after its last `/`)
   * holding `value`, the message's serialized protobuf bytes (at most 64 KiB; copied, kept as
   * they are: the proxy's consumers of typed metadata, such as ext_authz's
   * `typed_metadata_context_namespaces`, parse them), replacing what the namespace held. Read
   * back with metadata_get_typed(ENVOYX_METADATA_DYNAMIC). Refused (false, one warning) for a bad
   * namespace, type URL or size, and where the proxy takes no typed metadata from modules: stock
   * Envoy before 1.40. */
  bool (*metadata_set_typed)(envoyx_stream* stream, envoyx_bytes ns, envoyx_bytes type_url,
                             envoyx_bytes value);
} envoyx_host_api;

/* ---------------------------------------------------------------------------------------------
 * Module exports. A module must export every function below (C linkage, default visibility),
 * except those marked optional.
 *
 * Lifecycle: the host loads a file once and calls `envoyx_module_abi_version`, then
 * `envoyx_on_program_init` once. (With hot reload, each new version of a file is a separate load,
 * with its own program init and configurations; the old version's streams finish on it.) Each
 * filter configuration that names the file gets one `envoyx_on_filter_config_new` (a file may
 * host many filters, told apart by name and config) and one `envoyx_on_filter_config_destroy`
 * after its last stream is destroyed. Each HTTP stream gets `envoyx_on_stream_new`, then events,
 * then `envoyx_on_stream_complete` once and `envoyx_on_stream_destroy` exactly once; no event
 * follows destroy. When nothing of a loaded file is left, the host unmaps it only if the module
 * says it may (`envoyx_on_program_unload`: threads the module started must be finished first)
 * and none of its functions is shared (`function_register`: such a file is never unmapped and
 * its `envoyx_on_program_unload` is not called).
 *
 * The file: the host checks, before it loads a file, that it is a whole ELF shared object for
 * its machine (everything the dynamic loader maps lies inside the file) and refuses it otherwise,
 * naming the file and both sizes. A file written in place while a proxy loads it can still change
 * in the moment between that check and the load, and a loaded file written over in place changes
 * code that runs: replace a module file by writing the new one elsewhere and moving it into
 * place (`mv`), as deploy tools do. With hot reload the host loads a private copy, which nothing
 * can change.
 *
 * Event order, per direction: headers once, then zero or more body chunks (the last with
 * `end_of_stream` true unless trailers follow), then trailers at most once. Response events may
 * arrive before the request has ended. A stream may end (reset, local reply, client gone) after
 * any event: then only complete and destroy follow.
 * ------------------------------------------------------------------------------------------- */

/* Returns the ABI version the module was built for (ENVOYX_ABI_VERSION_*). Called once, right
 * after loading, before anything else; must not call the host. */
envoyx_abi_version envoyx_module_abi_version(void);

/* Called once per loaded file, on the main thread, after the version check. `host` lives as long
 * as the module stays loaded. Return false to refuse loading (after `error_set` with the reason). */
bool envoyx_on_program_init(const envoyx_host_api* host, envoyx_error* error);

/* Creates a filter configuration, on the main thread. `name` is the configuration's `name`
 * field and `config` its `filter_config` bytes; both are valid during the call only. The returned
 * object is shared by every stream of this configuration and is used from every worker thread at
 * once: it must be thread-safe. Return NULL to reject the configuration (after `error_set`). */
envoyx_module_config* envoyx_on_filter_config_new(envoyx_bytes name, envoyx_bytes config,
                                                  envoyx_error* error);

/* Destroys a configuration returned by envoyx_on_filter_config_new, on the main thread, after
 * every stream created from it has been destroyed. */
void envoyx_on_filter_config_destroy(envoyx_module_config* config);

/* Creates the module's state for a new stream, on the stream's worker thread. Returning NULL
 * fails the stream: the host answers it with a 500 local reply and calls no other hook of it
 * (not even destroy). */
envoyx_module_stream* envoyx_on_stream_new(envoyx_module_config* config, envoyx_stream* stream);

/* Stream events, on the stream's worker thread. `stream` is the host's side, `module_stream` what
 * envoyx_on_stream_new returned. `end_of_stream` is true when no body or trailers follow. */
envoyx_headers_status envoyx_on_request_headers(envoyx_stream* stream,
                                                envoyx_module_stream* module_stream,
                                                bool end_of_stream);
envoyx_body_status envoyx_on_request_body(envoyx_stream* stream,
                                          envoyx_module_stream* module_stream,
                                          bool end_of_stream);
envoyx_trailers_status envoyx_on_request_trailers(envoyx_stream* stream,
                                                  envoyx_module_stream* module_stream);
envoyx_headers_status envoyx_on_response_headers(envoyx_stream* stream,
                                                 envoyx_module_stream* module_stream,
                                                 bool end_of_stream);
envoyx_body_status envoyx_on_response_body(envoyx_stream* stream,
                                           envoyx_module_stream* module_stream,
                                           bool end_of_stream);
envoyx_trailers_status envoyx_on_response_trailers(envoyx_stream* stream,
                                                   envoyx_module_stream* module_stream);

/* The stream is over (finished, reset or answered locally). Called once, just before destroy;
 * headers can still be read here (changes are refused: they went on), bodies cannot. */
void envoyx_on_stream_complete(envoyx_stream* stream, envoyx_module_stream* module_stream);

/* Frees the module's stream state. Called exactly once, on the worker thread; `stream` is no
 * longer usable, but handles made from it are (they do nothing). */
void envoyx_on_stream_destroy(envoyx_module_stream* module_stream);

/* Optional (ABI 1.1). An event the module scheduled with `stream_handle_schedule`, on the
 * stream's worker thread, between events (never inside another hook of the stream), and only
 * before the stream completes. Every stream function of an event hook works here, under the
 * same rules: the response may still be answered locally if it has not started; a direction an
 * earlier hook stopped resumes with `continue_stream`. A local reply or reset asked for here is
 * carried out after the callback returns. */
void envoyx_on_stream_scheduled(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                uint64_t event_id);

/* Optional (ABI 1.1). An event the module scheduled with `config_handle_schedule`, on the main
 * thread, while the configuration lives (never during or after its destroy). No stream function
 * works here; logging does. */
void envoyx_on_filter_config_scheduled(envoyx_module_config* config, uint64_t event_id);

/* Optional (ABI 1.1), both or neither. A per-route configuration (`DynamicModuleConfigPerRoute`
 * in x/config.proto) naming this module: created on the main thread when the route
 * configuration is loaded, with the message's `name` and `filter_config` (valid during the call
 * only); used by streams on every worker thread at once (it must be thread-safe; treat it as
 * read-only); destroyed on the main thread after the last stream that saw it. Return NULL to
 * refuse it (after `error_set` with the reason): the route configuration is then rejected. A
 * module without these exports makes every per-route configuration naming it an error.
 * Hot reload: a new version of the module file parses every per-route configuration in use of
 * that file when it loads (main thread; a NULL refuses the new version) and its streams see its
 * own parse; each version's parses are destroyed when that version is. */
envoyx_module_route_config* envoyx_on_route_config_new(envoyx_bytes name, envoyx_bytes config,
                                                        envoyx_error* error);
void envoyx_on_route_config_destroy(envoyx_module_route_config* config);

/* Optional (ABI 1.1). The callout `callout_id` of this stream ended with `status`, on the
 * stream's worker thread, between events, before the stream completes. For
 * ENVOYX_CALLOUT_RESPONSE, `headers` (`:status` among them) and the body's `body_len` chunks
 * are zero-copy views into the proxy's memory, valid during this call only; otherwise both are
 * empty. Every stream function of an event hook works here under the same rules, and
 * `continue_stream` resumes a direction a hook stopped. */
void envoyx_on_stream_callout_done(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                   uint64_t callout_id, envoyx_callout_status status,
                                   const envoyx_header* headers, size_t headers_len,
                                   const envoyx_bytes* body, size_t body_len);

/* Optional (ABI 1.1). An event of the streaming callout `callout_id` (callout_stream_start), on
 * the stream's worker thread, between events, before the stream completes; the events' order
 * is under `envoyx_callout_event`. HEADERS and TRAILERS carry `headers`; DATA carries the
 * chunks in `data`; FAILED carries `status`, every other event ENVOYX_CALLOUT_RESPONSE. The
 * views point into the proxy's memory and are valid during this call only. Every stream
 * function of an event hook works here under the same rules, `continue_stream` included, and
 * so do the callout_stream_* functions (to send more of the request in answer). */
void envoyx_on_stream_callout_event(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                    uint64_t callout_id, envoyx_callout_event event,
                                    envoyx_callout_status status, const envoyx_header* headers,
                                    size_t headers_len, const envoyx_bytes* data, size_t data_len,
                                    bool end_of_stream);

/* Optional (ABI 1.1). The configuration's callout `callout_id` (config_http_callout) ended, on
 * the main thread, before the configuration's destroy; as envoyx_on_stream_callout_done. No
 * stream function works here; config_http_callout and logging do. */
void envoyx_on_filter_config_callout_done(envoyx_module_config* config, uint64_t callout_id,
                                          envoyx_callout_status status, const envoyx_header* headers,
                                          size_t headers_len, const envoyx_bytes* body,
                                          size_t body_len);

/* Optional (ABI 1.1). An event of the configuration's streaming callout `callout_id`
 * (config_callout_stream_start), on the main thread, before the configuration's destroy; as
 * envoyx_on_stream_callout_event. No stream function works here; the config_* callout
 * functions and logging do. */
void envoyx_on_filter_config_callout_event(envoyx_module_config* config, uint64_t callout_id,
                                           envoyx_callout_event event, envoyx_callout_status status,
                                           const envoyx_header* headers, size_t headers_len,
                                           const envoyx_bytes* data, size_t data_len,
                                           bool end_of_stream);

/* Optional (ABI 1.1). Whether this loaded file may be unmapped now. Called once, on the main
 * thread, when the host is about to unload the file: after the destroy of its last filter and
 * per-route configuration, when no stream, handle or callout of it is left (a hot-reloaded
 * version that drained, a configuration removed). The host calls nothing of the module after it.
 *
 * A thread the module started (at program init, or fire-and-forget from a hook) that still runs
 * when the file is unmapped executes unmapped code and kills the whole proxy. So: stop and join
 * every such thread here, then return true, and the host unmaps the file. Return false to stay
 * mapped. A module that does not export this function is never unmapped: the host keeps the
 * loaded file (and its memory) until the process exits, as with `do_not_dlclose`, and logs so
 * when it would have unloaded it. Go modules are never unmapped either. Keep it short: it runs on
 * the proxy's main thread.
 *
 * The SDKs export it: the Rust SDK returns true (threads from Rust's std or
 * `envoyx_sdk::thread::spawn` keep the file mapped themselves until they end: each registers a
 * thread-local destructor, for which the dynamic loader keeps the file) unless the module called
 * `envoyx_sdk::keep_module_mapped()` (for threads a C library it links starts). */
bool envoyx_on_program_unload(void);

/* Optional (ABI 1.1). The size of the host table the module was compiled against,
 * `sizeof(envoyx_host_api)`. The host refuses to load a module that needs a longer table than
 * its own — one built against a later header, whose calls past the end of this host's table
 * would jump through whatever memory follows it — with an error naming both sizes and both ABI
 * versions. Define it in one source file of the module with ENVOYX_DECLARE_HOST_API_SIZE(); the
 * SDKs export it. Without it the host can only trust the module's ABI version. Called once,
 * right after envoyx_module_abi_version; must not call the host. */
size_t envoyx_module_host_api_size(void);
#define ENVOYX_DECLARE_HOST_API_SIZE() \
  size_t envoyx_module_host_api_size(void) { return sizeof(envoyx_host_api); }

/* Optional (ABI 1.2). Flow control news, on the stream's worker thread, between events (never
 * inside another hook of the stream), before the stream completes. `direction`
 * ENVOYX_DIRECTION_RESPONSE: the client reads the response slower than it is produced — the
 * proxy's buffer towards it went above its high watermark (`above` true: stop producing) or back
 * below its low watermark (`above` false: produce again). The host hands over only the changes:
 * one `above`, then one `below`, however many times the proxy said so in between (Envoy says it
 * for the connection and for an HTTP/2 stream alike). A module that streams its own response
 * (send_response_data) or a large body through a stopped direction uses it to keep memory bounded.
 * ENVOYX_DIRECTION_REQUEST is reserved for an upstream side that backs up: Envoy 1.38-1.40 tell
 * filters nothing of it (they stop reading from the client themselves), so no host sends it.
 * Every stream function of an event hook works here under the same rules, continue_stream and
 * the send_response_* functions included. */
void envoyx_on_stream_watermark(envoyx_stream* stream, envoyx_module_stream* module_stream,
                                envoyx_direction direction, bool above);

/* Optional (ABI 1.2). A local reply is being made on the stream — the proxy's own (Envoy's
 * router: 503 when no host is healthy, 504 on a timeout; 413 past the buffer limit), another
 * filter's, or this module's — on the worker thread, inside the proxy's call that makes it,
 * before the reply is built: `status`, and `details` (the response-code details, e.g.
 * `no_healthy_upstream`; a view valid during the call); `reset_imminent`: the proxy will reset
 * instead (the response already started). Return ENVOYX_LOCAL_REPLY_CONTINUE to let it go on or
 * ENVOYX_LOCAL_REPLY_RESET to reset the stream instead. To change the reply's status, headers or
 * body, do so in the response hooks: a reply made after this filter (the router's, a later
 * filter's) passes through them like any response (`envoyx_on_response_headers` sees its
 * `:status`). Reads work here, and metadata, filter state, metrics and logging; what would end
 * or resume the stream (send_local_reply, reset_stream, continue_stream, send_response_*,
 * callouts) is refused: return RESET instead. A module without this export lets every reply go
 * on. Not called after the stream completed, nor for a stream whose module failed. */
envoyx_local_reply_status envoyx_on_stream_local_reply(envoyx_stream* stream,
                                                       envoyx_module_stream* module_stream,
                                                       uint32_t status, envoyx_bytes details,
                                                       bool reset_imminent);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ENVOYX_ABI_H */
