// The C++ face of the EnvoyX core: what a C++ host (the EnvoyX Envoy extension, the C++ test
// host) implements so that the core can run modules on its streams.
//
// The calls the other way, into the core, are declared in the header cxx generates from
// loader/src/lib.rs, "envoyx-loader/src/lib.rs.h", which includes this one:
//
//   rust::Box<FilterConfig> filter_config_from_proto(rust::Slice<const uint8_t> bytes,
//                                                    std::shared_ptr<Scheduler> background);
//   rust::Box<FilterConfig> filter_config_from_json(rust::Slice<const uint8_t> json,
//                                                   std::shared_ptr<Scheduler> background);
//     Load the module the DynamicModuleConfig names (once per file, honouring do_not_dlclose)
//     and create the filter configuration. Throw rust::Error, whose what() is the core's message
//     naming the file or config field and the reason. `background` wakes the main thread for
//     events the module schedules on the configuration (ABI 1.1): once per wake(), on the main
//     thread, call FilterConfig::on_scheduled() while the configuration exists. Pass nullptr for
//     a host that delivers none (the module's scheduling calls then return false).
//   rust::Box<RouteConfig> route_config_from_proto(rust::Slice<const uint8_t> bytes);
//   rust::Box<RouteConfig> route_config_from_json(rust::Slice<const uint8_t> json);
//     A per-route configuration (DynamicModuleConfigPerRoute, ABI 1.1): loads the module it names
//     and has it parse the config. Throw rust::Error with the reason when the module refuses it
//     or takes none. A StreamHost returns the one that applies from route_config().
//   void FilterConfig::on_callout_done(uint64_t id, uint32_t status, rust::Slice<const RawHeader>,
//     rust::Slice<const RawBytes> body): the answer to the configuration's callout `id` (main
//     thread; views valid during the call).
//   void FilterConfig::on_callout_event(uint64_t id, uint32_t event, uint32_t status,
//     rust::Slice<const RawHeader>, rust::Slice<const RawBytes> data, bool end_of_stream): news
//     of the configuration's streaming callout `id` (main thread; as Stream::on_callout_event).
//   FilterConfig::name(), FilterConfig::module_path()
//   rust::Box<Stream> FilterConfig::new_stream(std::unique_ptr<StreamHost> host);
//     Starts a stream; the stream owns the host from then on. Throws on a null host.
//   uint32_t Stream::on_request_headers(bool end_of_stream), on_request_body(bool),
//     on_request_trailers(), on_response_headers(bool), on_response_body(bool),
//     on_response_trailers(): deliver an event; return the module's status, equal to Envoy's
//     Http::Filter{Headers,Data,Trailers}Status ordinal. Throw rust::Error only when the host
//     drives the stream out of order (the event is then not delivered).
//   bool Stream::on_callout_done(uint64_t id, uint32_t status, rust::Slice<const RawHeader>,
//     rust::Slice<const RawBytes> body): the proxy's answer to callout `id` (views valid during
//     the call); true when it produced actions to carry out.
//   bool Stream::on_callout_event(uint64_t id, uint32_t event, uint32_t status,
//     rust::Slice<const RawHeader> headers, rust::Slice<const RawBytes> data, bool end_of_stream):
//     news of streaming callout `id` (`event` an envoyx_callout_event, `status` an
//     envoyx_callout_status; views valid during the call); true when it produced actions. Only
//     when no call into the stream is running; otherwise give it to the callout's inbox:
//   bool CalloutInbox::defer(...same arguments...): copies the news; the core delivers it right
//     after the running call, through the stream's Scheduler. Any thread; false once the stream
//     is gone. CalloutInbox::defer_answer(id, status, headers, body) does the same for the answer
//     of an HTTP callout (what on_callout_done takes), arriving inline.
//   bool Stream::on_scheduled(): one Scheduler::wake(), now on the worker: the core runs the
//     next item the module queued (a continue, or its scheduled hook); true when that produced
//     actions to carry out (a continue, or a local reply or reset from the scheduled hook).
//   rust::Box<Stream> Stream::new_like(std::unique_ptr<StreamHost> host): a new stream of the same
//     configuration, for a host that starts a request over itself (a test host).
//   void Stream::on_watermark(Direction direction, bool above): the proxy's flow-control news
//     (ABI 1.2), e.g. Envoy's DownstreamWatermarkCallbacks for Direction::Response; the core
//     counts them and queues the changes for the module through the stream's Scheduler.
//   std::uint32_t Stream::on_local_reply(std::uint32_t status, Bytes details, bool
//     reset_imminent): a local reply is being made (ABI 1.2; Envoy's onLocalReply); returns an
//     envoyx_local_reply_status (1: reset the stream instead). Nothing to carry out.
//   NextAction Stream::next_action(): after every call above has returned, take the actions the
//     core decided on, one at a time, until kind == ActionKind::None, and carry each out:
//     Reset (resetStream), LocalReply (sendLocalReply with .reply), Continue (continueDecoding
//     or continueEncoding for .direction), and the module's own response in order (ABI 1.2):
//     AnswerHeaders (encodeHeaders from the decoder side: .reply.status and .reply.headers),
//     AnswerData (encodeData of .reply.body), AnswerTrailers (encodeTrailers of
//     .reply.headers), the first two ending the response when .end_of_stream; Recreate
//     (recreateStream with .reply.headers as the response headers, none when empty; ABI 1.2).
//     The stream rules (reset wins over a reply, a reply
//     over continues, no reply once the response started, continues only of stopped directions,
//     a module's own reply not re-entering it) were applied by the core: a host re-decides none.
//   void Stream::on_stream_complete(); uint64_t Stream::body_bytes_copied();
//   bool Stream::local_reply_sent(); bool Stream::response_started();
//   uint64_t Stream::continues_ignored();
//     Destroying the rust::Box<Stream> completes the stream if needed and destroys the module's
//     stream state, exactly once.
//   void set_log_sink(std::shared_ptr<LogSink> sink);
//   void set_runtime(std::shared_ptr<Runtime> runtime);  (ABI 1.2 runtime_get)
//
// Threads: a stream and its host live on one worker thread; every StreamHost method is called
// there, from inside a call into that stream. Scheduler and LogSink methods are called from any
// thread. None of these methods may throw: an exception cannot cross back into Rust.
//
// Re-entry: a host must never call into a Stream while a call into that same Stream is running
// (the Rust side holds it borrowed for the whole call). A proxy like Envoy calls filters back
// synchronously from sendLocalReply, resetStream and continueDecoding/Encoding; that is why the
// core returns those as actions (next_action) instead of asking the host to do them during the
// call. Carrying one out may re-enter the Stream (a new, separate call): that is allowed.
//
// Views: RawBytes and RawSlice point into the host's own memory; the module reads (and, for body
// slices, writes) those bytes in place, so a host must hand out pointers into its real headers
// and buffers, never into copies. A view stays valid until the call into the stream that
// obtained it returns, or until the same header map or body is changed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "rust/cxx.h"

namespace envoyx {

// Shared with Rust; defined in the generated envoyx-loader/src/lib.rs.h. Enum values equal the
// ENVOYX_* constants of x/abi.h.
struct RawBytes;   // { const uint8_t* ptr; size_t len; }, the layout of envoyx_bytes
struct RawSlice;   // { uint8_t* ptr; size_t len; }, the layout of envoyx_slice
struct RawHeader;  // { RawBytes key; RawBytes value; }, the layout of envoyx_header
enum class HeaderMapKind : std::uint32_t;  // RequestHeaders, RequestTrailers, ResponseHeaders, ResponseTrailers
enum class BodyKind : std::uint32_t;  // RequestReceived, RequestBuffered, ResponseReceived, ResponseBuffered
enum class Direction : std::uint32_t;  // Request, Response
enum class LogLevel : std::uint32_t;   // Trace, Debug, Info, Warn, Error, Critical
enum class ActionKind : std::uint32_t;  // None, Reset, LocalReply, Continue, Answer{Headers,Data,Trailers}, Recreate
// A per-route configuration, defined (opaque) in the generated header: made with
// route_config_from_proto/_json, owned by the proxy's route table as a rust::Box.
struct RouteConfig;
struct CalloutInbox;  // where a host puts streaming-callout news while the stream is busy
struct ReplyHeader;  // { rust::Vec<uint8_t> key; rust::Vec<uint8_t> value; }
struct LocalReply;   // { uint32_t status; rust::Vec<ReplyHeader> headers; rust::Vec<uint8_t> body, details; }
struct NextAction;   // { ActionKind kind; Direction direction; LocalReply reply; ResetReason reset_reason; bool end_of_stream; }

using Bytes = rust::Slice<const std::uint8_t>;

// Wakes the stream's worker thread for work a module queued on any thread (continues, events
// for its scheduled hook; the queue is the core's): each wake() stands for one item, and later,
// on the worker thread, the host calls Stream::on_scheduled() once per wake() if the stream
// still exists and drops the wake-up otherwise. wake() may be called from any thread, at any
// time, even after the stream is gone, and must not call into the stream itself.
class Scheduler {
 public:
  virtual ~Scheduler();
  virtual void wake() const = 0;
};

// A filter configuration's host on the main thread: the `background` of filter_config_from_*.
// wake() (any thread, any time, even after the configuration is gone) wakes the main thread for
// the configuration's events: there the host calls FilterConfig::on_scheduled() once per wake().
// Its other functions carry out the configuration's own callouts and metric definitions, on the
// main thread, where the core calls them.
class ConfigHost {
 public:
  virtual ~ConfigHost();
  virtual void wake() const = 0;

  // Main thread: starts
  // the configuration's HTTP callout `id` (checked by the core, as for StreamHost::http_callout);
  // its answer goes to FilterConfig::on_callout_done(id, ...) later, on the main thread. Returns
  // false with `failure` (an envoyx_callout_status) when it cannot start. The default starts none.
  virtual bool http_callout(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers,
                            Bytes body, std::uint64_t timeout_ms, std::uint32_t& failure) const {
    (void)id, (void)cluster, (void)headers, (void)body, (void)timeout_ms;
    failure = 2;  // ENVOYX_CALLOUT_UNAVAILABLE
    return false;
  }

  // Main thread: the configuration's streaming callouts, as StreamHost::callout_stream_* for a stream. News goes to
  // FilterConfig::on_callout_event(id, ...) on the main thread (the core queues itself what
  // arrives during one of the configuration's hooks: no inbox). Open ones must be reset when the
  // configuration is destroyed. The defaults start none and send nothing.
  virtual bool callout_stream_start(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers,
                                    Bytes body, bool end_of_stream, std::uint64_t timeout_ms,
                                    std::uint32_t& failure) const {
    (void)id, (void)cluster, (void)headers, (void)body, (void)end_of_stream, (void)timeout_ms;
    failure = 2;  // ENVOYX_CALLOUT_UNAVAILABLE
    return false;
  }
  virtual bool callout_stream_send(std::uint64_t id, Bytes data, bool end_of_stream) const {
    (void)id, (void)data, (void)end_of_stream;
    return false;
  }
  virtual bool callout_stream_send_trailers(std::uint64_t id, rust::Slice<const RawHeader> trailers) const {
    (void)id, (void)trailers;
    return false;
  }
  virtual void callout_stream_reset(std::uint64_t id) const { (void)id; }

  // Main thread, while the configuration is being created (inside filter_config_from_*): registers a metric the module defines, as `name`
  // (`<filter>.<metric>`, checked by the core) with these label names; sets `id` to the host's id
  // for it (given back to StreamHost::metric_record) and returns true, or false when the proxy
  // refuses it. `kind` is an envoyx_metric_kind. The default keeps no metrics.
  virtual bool define_metric(std::uint32_t kind, Bytes name, rust::Slice<const RawBytes> label_names,
                             std::uint64_t& id) const {
    (void)kind, (void)name, (void)label_names, (void)id;
    return false;
  }
  // Main thread, while the configuration is being created: subscribes it to the generic secret
  // `name` (ABI 1.2; `sds_config` empty for a static secret of the proxy's, else an Envoy
  // ConfigSource as JSON); sets `id` to the host's id for it (given back to
  // StreamHost::secret_get) and returns true, or false when the proxy cannot serve it (the
  // configuration is then rejected). The default serves no secrets.
  virtual bool subscribe_secret(Bytes name, Bytes sds_config, std::uint64_t& id) const {
    (void)name, (void)sds_config, (void)id;
    return false;
  }
};

// The proxy's runtime (ABI 1.2 runtime_get: feature flags and values), for every module of the
// process; installed once with set_runtime(std::shared_ptr<Runtime>). Called from any thread at
// any time; must not throw. Each answers whether the runtime holds `key` as that type, and the
// value when it does (the core checked the key: 1 to 256 bytes of printable ASCII).
class Runtime {
 public:
  virtual ~Runtime();
  virtual bool boolean(Bytes key, bool& value) const = 0;
  virtual bool number(Bytes key, double& value) const = 0;
};

// One HTTP stream as the host sees it: the primitives. "Not available" (the map has not arrived,
// there is no such body here) is reported by returning false (or 0 for header_remove). The core
// has checked every argument before calling (header names are lower-case tokens, values hold no
// control bytes, ranges lie within the body, length changes respect content-length).
class StreamHost {
 public:
  virtual ~StreamHost();

  // Writes up to out.size() values of `key` (case-insensitive), in order, as views into the map;
  // sets `total` to the number of values the key has.
  virtual bool header_values(HeaderMapKind map, Bytes key, rust::Slice<RawBytes> out,
                             std::size_t& total) = 0;
  // Writes up to out.size() entries of the map, in order, as views; sets `total` to the number of
  // entries (a key with two values counts twice).
  virtual bool header_entries(HeaderMapKind map, rust::Slice<RawHeader> out, std::size_t& total) = 0;

  // Sets `length` to the body's length in bytes.
  virtual bool body_length(BodyKind body, std::size_t& length) = 0;
  // Writes up to out.size() non-empty slices of the body, in order, as writable views into the
  // host's buffer (zero copy); sets `total` to the number of slices.
  virtual bool body_slices(BodyKind body, rust::Slice<RawSlice> out, std::size_t& total) = 0;
  // Adds a copy of `data` before the first byte.
  virtual bool body_prepend(BodyKind body, Bytes data) = 0;
  // Replaces `len` bytes at `offset` with a copy of `data`; the core has checked the range.
  virtual bool body_replace(BodyKind body, std::size_t offset, std::size_t len, Bytes data) = 0;

  // The per-route configuration the proxy resolved for this stream (the most specific of route,
  // virtual host and route configuration), or nullptr. It must stay alive while the stream's
  // route does; the core keeps its own reference once it hands it to the module.
  virtual const RouteConfig* route_config() const { return nullptr; }

  // Starts the HTTP callout `id` to the proxy's cluster `cluster` (the core checked the
  // headers: :method, :path and :authority present; body and headers are copied by the host).
  // The answer goes to Stream::on_callout_done(id, ...) later, on the worker thread, or to
  // `inbox` (CalloutInbox::defer_answer) when it arrives during a call into the stream (a proxy
  // answering inline, even inside this call: Envoy's router answers a cluster without healthy
  // hosts at once; return true then). Returns false with `failure` set (an
  // envoyx_callout_status: NO_CLUSTER, UNAVAILABLE) when it cannot start and nothing was
  // answered; the core answers the module with it, later. Callouts in flight when the stream is
  // destroyed must be cancelled. The default (in loader.cc) starts none.
  virtual bool http_callout(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers,
                            Bytes body, std::uint64_t timeout_ms, rust::Box<CalloutInbox> inbox,
                            std::uint32_t& failure);

  // Starts the streaming callout `id` (checked as for http_callout): sends the headers, `body`
  // if not empty, and ends the request if `end_of_stream`. Its news goes to
  // Stream::on_callout_event(id, ...) in the proxy's order (headers, data, trailers, then
  // complete or failed), or to `inbox` when it arrives during a call into the stream (a proxy
  // failing the request inline, even inside this call). Returns false with `failure` set when it
  // cannot start. Open ones must be reset when the stream is destroyed. The defaults (in
  // loader.cc) start none and send nothing.
  virtual bool callout_stream_start(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers,
                                    Bytes body, bool end_of_stream, std::uint64_t timeout_ms,
                                    rust::Box<CalloutInbox> inbox, std::uint32_t& failure);
  // Ends the request of the open streaming callout `id` with `trailers` (checked by the core).
  virtual bool callout_stream_send_trailers(std::uint64_t id, rust::Slice<const RawHeader> trailers);

  // The stream's dynamic metadata, filter state and routing (ABI 1.1; the core checked names,
  // values and timing). metadata_set writes `key` of namespace `ns` (`kind` an
  // envoyx_value_kind: `string` (UTF-8), `number` or `boolean` holds it); metadata_get reads it
  // from `source` (an envoyx_metadata_source) when it is of `kind`, a string as a view valid
  // until the hook returns or the metadata changes; filter_state_set sets `key` read-only (the
  // core asks only for a key filter_state_exists said is absent); filter_state_get views a string
  // value; filter_state_exists tells whether the stream's filter state has `key` at all, whoever
  // set it and whatever its type (answer true when unsure: nothing may be set over a value);
  // clear_route_cache has the route picked again when the request
  // headers go on; upstream_override_host pins the upstream host (`ip:port`). The defaults keep
  // none and steer nothing.
  virtual bool metadata_set(Bytes ns, Bytes key, std::uint32_t kind, Bytes string, double number, bool boolean) {
    (void)ns, (void)key, (void)kind, (void)string, (void)number, (void)boolean;
    return false;
  }
  virtual bool metadata_get(std::uint32_t source, Bytes ns, Bytes key, std::uint32_t kind, RawBytes& string,
                            double& number, bool& boolean) {
    (void)source, (void)ns, (void)key, (void)kind, (void)string, (void)number, (void)boolean;
    return false;
  }
  virtual bool filter_state_get(Bytes key, RawBytes& value) {
    (void)key, (void)value;
    return false;
  }
  // Tracing (ABI 1.2): baggage `key` of the active span, and its trace id, into `value` — a view
  // of the host's own copy, valid until the next tracing call on the stream or the call's end.
  // False when absent or without a tracer (the defaults).
  virtual bool span_baggage_get(Bytes key, RawBytes& value) {
    (void)key, (void)value;
    return false;
  }
  virtual bool span_trace_id(RawBytes& value) {
    (void)value;
    return false;
  }
  // The serialized form of the filter-state object at `key`, whatever its type (ABI 1.2), into
  // `value`: a view valid until the hook returns or the filter state changes. False when absent
  // or without one. The default knows none.
  virtual bool filter_state_serialized(Bytes key, RawBytes& value) {
    (void)key, (void)value;
    return false;
  }
  // The default asks filter_state_get, which sees string values only (loader.cc).
  virtual bool filter_state_exists(Bytes key);

  // The stream's `attribute` (an envoyx_attribute): a string attribute into `string` (a view valid
  // until the hook returns), a number one into `number`, a boolean one into `number` as 0 or 1
  // (x/abi.h says which is which). False when absent. The default knows none.
  virtual bool attribute_get(std::uint32_t attribute, RawBytes& string, double& number) {
    (void)attribute, (void)string, (void)number;
    return false;
  }
  // The stream's moment `timing` (an envoyx_timing id, which the core checked) into `ns`: the
  // start as Unix nanoseconds, the others as offsets from it (ABI 1.2). False when not known by
  // now. The default knows none.
  virtual bool timing_get(std::uint32_t timing, std::int64_t& ns) {
    (void)timing, (void)ns;
    return false;
  }
  // Namespace `ns` of `source`'s typed metadata (its typed_filter_metadata Any): the type URL and
  // the serialized value into `type_url` and `value`, views valid as metadata_get's strings
  // (ABI 1.2). False when absent. The default knows none.
  virtual bool metadata_typed(std::uint32_t source, Bytes ns, RawBytes& type_url, RawBytes& value) {
    (void)source, (void)ns, (void)type_url, (void)value;
    return false;
  }
  // The namespaces of `source`'s metadata (an envoyx_metadata_source), or with `keys` the keys of
  // its namespace `ns`: writes up to out.size() views (valid as metadata_get's strings) and
  // returns how many there are (ABI 1.2). The default knows none.
  virtual std::size_t metadata_names(std::uint32_t source, Bytes ns, bool keys, rust::Slice<RawBytes> out) {
    (void)source, (void)ns, (void)keys, (void)out;
    return 0;
  }
  // The addresses of the upstream hosts the request was sent to, in attempt order (ABI 1.2):
  // writes up to out.size() views (valid until the hook returns) and returns how many there are.
  // The default knows none.
  virtual std::size_t upstream_hosts_attempted(rust::Slice<RawBytes> out) {
    (void)out;
    return 0;
  }
  // The current value of the secret the stream's configuration subscribed to as `id`
  // (ConfigHost::subscribe_secret) into `value`: a view valid until the hook returns, empty while
  // SDS has not delivered it (ABI 1.2). The default knows none.
  virtual bool secret_get(std::uint64_t id, RawBytes& value) {
    (void)id, (void)value;
    return false;
  }

  // Sets `index` to the index of the worker thread this stream runs on (0 to the worker count
  // - 1, set_worker_count) and returns true; false when the host does not know (the default).
  virtual bool worker_index(std::uint32_t& index) {
    (void)index;
    return false;
  }

  // Applies `op` (an envoyx_metric_op) with `value` to the metric registered as `id`
  // (Scheduler::define_metric; `kind` an envoyx_metric_kind) for these label values: the core
  // checked them and the label limit. False when the proxy refuses it. The default keeps none.
  virtual bool metric_record(std::uint64_t id, std::uint32_t kind, std::uint32_t op,
                             rust::Slice<const RawBytes> label_values, std::uint64_t value) {
    (void)id, (void)kind, (void)op, (void)label_values, (void)value;
    return false;
  }

  // The plain primitives, written from the core's HostStream trait (its comments; pure where the
  // trait requires the primitive, else the trait's default).
  // @generated begin: the plain HostStream primitives (cargo run -p envoyx-codegen)
  // Replaces every value of `key` with (a copy of) `value`.
  virtual bool header_set(HeaderMapKind map, Bytes key, Bytes value) = 0;
  // Adds (a copy of) `value` as one more value of `key`.
  virtual bool header_add(HeaderMapKind map, Bytes key, Bytes value) = 0;
  // Removes every value of `key`; returns how many were removed.
  virtual std::size_t header_remove(HeaderMapKind map, Bytes key) = 0;
  // Removes the first `len` bytes; the core never asks for more than the length.
  virtual bool body_drain(BodyKind body, std::size_t len) = 0;
  // Adds a copy of `data` after the last byte.
  virtual bool body_append(BodyKind body, Bytes data) = 0;
  // Sends the next request body chunk of the open streaming callout `id` (the core checked
  // that its request has not ended); false when the proxy no longer has it.
  virtual bool callout_stream_send(std::uint64_t id, Bytes data, bool end_of_stream) {
    (void)id, (void)data, (void)end_of_stream;
    return false;
  }
  // Resets the streaming callout `id`; the core delivers nothing more of it.
  virtual void callout_stream_reset(std::uint64_t id) { (void)id; }
  // Sets the stream's filter state `key` to `value`, read-only. The core calls it only for a
  // key `HostStream::filter_state_exists` said is absent. False when the proxy cannot.
  virtual bool filter_state_set(Bytes key, Bytes value) {
    (void)key, (void)value;
    return false;
  }
  // Makes the proxy pick the request's route again when its headers go on (the core checked
  // that they have not).
  virtual bool clear_route_cache() { return false; }
  // Makes the proxy pick the cluster of the request's route again when its headers go on (the
  // core checked that they have not); the route itself stays.
  virtual bool refresh_route_cluster() { return false; }
  // Sends the request to the upstream host `host` (`ip:port`, checked by the core).
  virtual bool upstream_override_host(Bytes host, bool strict) {
    (void)host, (void)strict;
    return false;
  }
  // Adds a tag to the stream's active span (checked by the core); false when the stream has
  // none (no tracer). Hosts without tracing keep the default.
  virtual bool span_set_tag(Bytes key, Bytes value) {
    (void)key, (void)value;
    return false;
  }
  // The stream's buffer limit in bytes (ABI 1.2): how much the proxy holds of a direction a
  // filter stopped, and its high watermark towards each peer; 0 when it does not say.
  virtual std::uint64_t buffer_limit() { return 0; }
  // Sets the stream's buffer limit (ABI 1.2; the core checked it is 1 byte to 1 GiB); false
  // when the proxy cannot.
  virtual bool set_buffer_limit(std::uint64_t limit) {
    (void)limit;
    return false;
  }
  // Sets filter state `key` to the object the proxy's factory of that name makes from `value`
  // (ABI 1.2; the core checked both and that the key is free); false when the proxy has no
  // such factory or it refuses the value.
  virtual bool filter_state_set_typed(Bytes key, Bytes value) {
    (void)key, (void)value;
    return false;
  }
  // Merges the serialized google.protobuf.Struct `encoded` (the core checked and encoded it)
  // into namespace `ns` of the stream's dynamic metadata (ABI 1.2 `metadata_set_struct`, for
  // an object with a nested list or object or a null; flat ones go through
  // `HostStream::metadata_set`); false when the proxy takes no whole Struct.
  virtual bool metadata_set_struct(Bytes ns, Bytes encoded) {
    (void)ns, (void)encoded;
    return false;
  }
  // Sets namespace `ns` of the stream's typed dynamic metadata to the serialized
  // google.protobuf.Any `any` (ABI 1.2 `metadata_set_typed`; the core checked and built it).
  // False when the host keeps no typed metadata.
  virtual bool metadata_set_typed(Bytes ns, Bytes any) {
    (void)ns, (void)any;
    return false;
  }
  // Gives the direction of `map` (a trailers map) empty trailers if it has none (ABI 1.2; the
  // core checked this is that direction's body hook with the chunk that ends it); true when
  // the direction has trailers now. Hosts that cannot add them keep the default.
  virtual bool trailers_add(HeaderMapKind map) {
    (void)map;
    return false;
  }
  // Starts a child span of span `parent` (0: the active span) named `operation` and keeps it
  // under `id` (ABI 1.2, the core's number); false without a tracer (no span started).
  virtual bool span_start_child(std::uint64_t parent, std::uint64_t id, Bytes operation) {
    (void)parent, (void)id, (void)operation;
    return false;
  }
  // Tags span `span` (0: the active span; else a child this host keeps).
  virtual bool span_tag(std::uint64_t span, Bytes key, Bytes value) {
    (void)span, (void)key, (void)value;
    return false;
  }
  // Logs `event` on span `span`, timed now.
  virtual bool span_log(std::uint64_t span, Bytes event) {
    (void)span, (void)event;
    return false;
  }
  // Overrides the sampling decision of span `span`.
  virtual bool span_set_sampled(std::uint64_t span, bool sampled) {
    (void)span, (void)sampled;
    return false;
  }
  // Finishes child span `span` and forgets it (the core calls it once per span).
  virtual bool span_finish(std::uint64_t span) {
    (void)span;
    return false;
  }
  // Sets baggage on the active span.
  virtual bool span_baggage_set(Bytes key, Bytes value) {
    (void)key, (void)value;
    return false;
  }
  // @generated end

  // What wakes this stream for work queued on other threads. Asked at most once per stream.
  virtual std::shared_ptr<Scheduler> scheduler() const = 0;
};

// Where the core's and the modules' log messages go (Envoy's logger). Called from any thread.
class LogSink {
 public:
  virtual ~LogSink();
  // Whether a message at `level` would be written; lets the caller skip formatting it.
  virtual bool enabled(LogLevel level) const = 0;
  virtual void log(LogLevel level, Bytes message) const = 0;
  // `message` from line `line` of the module's source `file` (ABI 1.2 `log_at`; both one line
  // already), written with the location in the logger's own source field: true. The default
  // has no such field and returns false, and the core writes `[file:line] message` through log().
  virtual bool log_at(LogLevel level, Bytes message, Bytes file, std::uint32_t line) const {
    (void)level, (void)message, (void)file, (void)line;
    return false;
  }
};

// Conversions for hosts: views of a std::string_view and back, copying no byte.
std::string_view to_string_view(Bytes bytes);
RawBytes to_raw_bytes(std::string_view bytes);
RawSlice to_raw_slice(char* data, std::size_t len);

}  // namespace envoyx
