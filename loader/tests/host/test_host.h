// The C++ test host: implements envoyx::StreamHost, envoyx::Scheduler and envoyx::ConfigHost (the
// primitives) and drives modules through the loader (C++ -> cxx -> core -> module) the way Envoy's
// filter manager does where a module can tell. It is the C++ twin of rust/testhost: header maps are
// ordered lists of (key, value) strings, bodies are lists of separately allocated slices handed out
// in place, a stop status holds a direction until a continue, STOP_ITERATION_AND_BUFFER keeps the
// chunk in the buffered body, and continues posted from any thread wait in a queue until the test
// pumps them on its own thread, the stream's "worker thread". After every call into the stream it
// carries out the core's actions (Stream::next_action) as Envoy would: a reset ends the stream, a
// local reply is recorded and its response run back through this filter's response hooks (the core
// passes it through), a continue releases what the direction held. Once the stream was reset or
// answered locally, events the test still drives are dropped. The host decides no stream rule and
// checks no argument: the core did. It records what upstream and the client would receive. Rust
// tests drive it through the bridge in mod.rs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <tuple>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "envoyx-loader/src/lib.rs.h"
#include "rust/cxx.h"

namespace envoyx::testhost {

// Shared with the Rust tests; defined in the generated envoyx-loader/tests/host/mod.rs.h.
struct Header;
struct RecordedReply;
struct PendingCall;

// A body as Envoy keeps it: a list of separately allocated slices, never empty ones.
class SliceBuffer {
 public:
  // `data` cut into slices of `slice_len` bytes (the last may be shorter).
  static SliceBuffer chunked(std::string_view data, std::size_t slice_len);

  std::size_t length() const;
  std::size_t slice_count() const { return slices_.size(); }
  std::string to_string() const;
  // Where each slice's bytes live, to check that a module wrote in place.
  std::vector<const char*> addresses() const;

  // Writes up to out.size() writable views straight into the slices; returns the slice count.
  std::size_t views(rust::Slice<RawSlice> out);
  void append(std::string_view data);
  void prepend(std::string_view data);
  void drain(std::size_t len);
  bool replace(std::size_t offset, std::size_t len, std::string_view data);
  // Moves every slice of `other` to the end of this buffer (no byte is copied).
  void move_from(SliceBuffer& other);

 private:
  // Splits so that a slice boundary falls at `at` (<= length); returns the index of the slice
  // that starts there.
  std::size_t split_at(std::size_t at);

  std::vector<std::string> slices_;
};

// A header map as Envoy keeps it: ordered entries, keys compared case-insensitively.
class HeaderMap {
 public:
  using Entries = std::vector<std::pair<std::string, std::string>>;

  HeaderMap() = default;
  // The headers a test delivers, keys lower-cased as Envoy's codecs hand them to filters.
  explicit HeaderMap(rust::Slice<const Header> headers);

  const Entries& entries() const { return entries_; }
  // Writes up to out.size() views of the values of `key`; returns how many values it has.
  std::size_t value_views(std::string_view key, rust::Slice<RawBytes> out) const;
  // Writes up to out.size() views of the entries; returns the number of entries.
  std::size_t entry_views(rust::Slice<RawHeader> out) const;
  void set(std::string_view key, std::string_view value);
  void add(std::string_view key, std::string_view value);
  std::size_t remove(std::string_view key);

 private:
  Entries entries_;
};

// One direction as Envoy's filter manager sees it around this filter.
struct Side {
  std::optional<HeaderMap> headers;
  std::optional<HeaderMap> trailers;
  SliceBuffer received;
  SliceBuffer buffered;
  // What got past the filter towards the next hop (upstream for the request, the client for the
  // response).
  bool headers_forwarded = false;
  // The headers as they were when they went on (later changes do not reach the peer).
  std::optional<HeaderMap> headers_sent;
  std::string body_forwarded;
  bool trailers_forwarded = false;
  // Trailers arrived but a stop holds them.
  bool trailers_held = false;
  std::uint32_t continues = 0;

  // The headers go on past the filter (once): they are kept as they are now.
  void forward_headers();
  // Passes on everything held: headers, buffered body, held trailers.
  void release();
};

// A local reply the host carried out, as the core handed it over.
struct SentReply {
  std::uint32_t status;
  HeaderMap::Entries headers;
  std::string body;
  std::string details;
};

// Everything the host knows about one stream; shared by the StreamHost (owned by the Rust
// stream) and the TestStream (owned by the test).
struct StreamData {
  Side request;
  Side response;
  std::optional<SentReply> local_reply;
  // How many times the request started over (recreate_stream).
  std::uint32_t recreated = 0;
  // The secret value the module read last (secret_get's view points here).
  std::string secret_read;
  // When the stream started, as Unix nanoseconds (ABI 1.2 timing_get's START_UNIX).
  std::int64_t start_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  // The module's own response (ABI 1.2 send_response_*) was carried out to its end.
  bool module_response_ended = false;
  bool reset = false;
  // The reset was ENVOYX_RESET_REFUSED (HTTP/2 REFUSED_STREAM in Envoy).
  bool reset_refused = false;
  // The module closed the client's connection: 0 no, 1 at once, 2 gracefully.
  int goaway = 0;
  // A reset or a local reply was carried out: like Envoy's filter manager, the host delivers
  // nothing more from the client or the upstream to the filter.
  bool ended = false;
  // The per-route configuration the stream's route carries (what a proxy would resolve).
  std::optional<rust::Box<RouteConfig>> route;
  // Callouts the module started that the test has not answered.
  std::vector<PendingCall> callouts;
  // A metadata value: kind (envoyx_value_kind) and the field that holds it.
  struct Value {
    std::uint32_t kind = 0;
    std::string string;
    double number = 0;
    bool boolean = false;
  };
  // Metadata by (source, namespace, key); filter state; routing requests.
  std::map<std::tuple<std::uint32_t, std::string, std::string>, Value> metadata;
  // Filter state by key: a string, or nullopt for an object of the proxy's that is not one (it
  // exists, but reads as absent). A set over an existing key changes nothing and counts as what
  // Envoy calls its own bug (envoy_bugs, which the core must keep at 0).
  std::map<std::string, std::optional<std::string>> filter_state;
  // The serialized form of each object of filter_state that is not a string, where it has one.
  std::map<std::string, std::string> filter_state_serialized;
  std::uint32_t envoy_bugs = 0;
  std::uint32_t route_cache_cleared = 0;
  std::uint32_t route_cluster_refreshed = 0;
  // The buffer limit (ABI 1.2): Envoy's default per_connection_buffer_limit_bytes until the
  // module sets another. Recorded; this host buffers without a bound.
  std::uint64_t buffer_limit = 1 << 20;
  std::optional<std::pair<std::string, bool>> upstream_host;

  Side& side(Direction direction);
  std::optional<HeaderMap>& map(HeaderMapKind map);
  SliceBuffer& body(BodyKind body);
};

// The cluster whose callouts this host answers inline (envoyx_conformance::UNHEALTHY_CLUSTER),
// with Envoy's router's answer for a cluster without healthy hosts.
inline constexpr std::string_view kUnhealthyCluster = "callout-unhealthy";
inline constexpr std::string_view kNoHealthyUpstream = "no healthy upstream";

// Wake-ups from any thread wait here for the stream's worker thread (the test's). Also a
// configuration's host (the test's "main thread"): the same wake-ups, and the configuration's
// callouts and metrics recorded for the test.
class WorkerQueue : public Scheduler, public ConfigHost {
 public:
  void wake() const override;
  // As a configuration's background scheduler: records the callout for the test to answer.
  bool http_callout(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers, Bytes body,
                    std::uint64_t timeout_ms, std::uint32_t& failure) const override;
  // As a configuration's background scheduler: records streaming callouts and what the module
  // sends on them, for the test to play the cluster's events later.
  bool callout_stream_start(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers, Bytes body,
                            bool end_of_stream, std::uint64_t timeout_ms, std::uint32_t& failure) const override;
  bool callout_stream_send(std::uint64_t id, Bytes data, bool end_of_stream) const override;
  bool callout_stream_send_trailers(std::uint64_t id, rust::Slice<const RawHeader> trailers) const override;
  void callout_stream_reset(std::uint64_t id) const override;
  // As a configuration's background scheduler: keeps the module's metrics as a proxy's stats
  // would, for the test to read (metric()).
  bool define_metric(std::uint32_t kind, Bytes name, rust::Slice<const RawBytes> label_names,
                     std::uint64_t& id) const override;
  // The process's secrets (set_secret): a static one must be set before the subscription.
  bool subscribe_secret(Bytes name, Bytes sds_config, std::uint64_t& id) const override;
  bool record_metric(std::uint64_t id, std::uint32_t op, rust::Slice<const RawBytes> label_values,
                     std::uint64_t value) const;
  // "<kind> <value>" of the metric whose full name is `name` for these label values ("" when
  // nothing was recorded): "counter 3", "gauge -1", "histogram 9,42".
  std::string metric(std::string_view name, const std::vector<std::string>& label_values) const;
  // The configuration callouts recorded and not answered; forgets `id` once answered.
  std::vector<PendingCall> pending_callouts() const;
  void forget_callout(std::uint64_t id) const;
  // Takes every pending wake-up, waiting up to `timeout` for the first one; returns how many.
  std::size_t take(std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable ready_;
  mutable std::size_t pending_ = 0;
  mutable std::vector<PendingCall> callouts_;
  // Metric definitions (id = index + 1): kind and full name; values by (id, label values).
  mutable std::vector<std::pair<std::uint32_t, std::string>> metric_defs_;
  mutable std::map<std::pair<std::uint64_t, std::vector<std::string>>, std::vector<std::int64_t>> metric_values_;
};

// The StreamHost the core calls on the module's behalf.
class TestStreamHost : public StreamHost {
 public:
  TestStreamHost(std::shared_ptr<StreamData> data, std::shared_ptr<WorkerQueue> queue,
                 std::shared_ptr<WorkerQueue> metrics);

  bool header_values(HeaderMapKind map, Bytes key, rust::Slice<RawBytes> out, std::size_t& total) override;
  bool header_entries(HeaderMapKind map, rust::Slice<RawHeader> out, std::size_t& total) override;
  bool header_set(HeaderMapKind map, Bytes key, Bytes value) override;
  bool header_add(HeaderMapKind map, Bytes key, Bytes value) override;
  std::size_t header_remove(HeaderMapKind map, Bytes key) override;
  bool body_length(BodyKind body, std::size_t& length) override;
  bool body_slices(BodyKind body, rust::Slice<RawSlice> out, std::size_t& total) override;
  bool body_drain(BodyKind body, std::size_t len) override;
  bool body_append(BodyKind body, Bytes data) override;
  bool body_prepend(BodyKind body, Bytes data) override;
  bool body_replace(BodyKind body, std::size_t offset, std::size_t len, Bytes data) override;
  std::shared_ptr<Scheduler> scheduler() const override;
  const RouteConfig* route_config() const override;
  // Records the callout for the test to answer, except one to kUnhealthyCluster, answered 503
  // inside this call as Envoy's router answers a cluster without healthy hosts: through `inbox`,
  // since the stream is busy.
  bool http_callout(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers, Bytes body,
                    std::uint64_t timeout_ms, rust::Box<CalloutInbox> inbox, std::uint32_t& failure) override;
  // Streaming callouts are recorded like callouts for the test to play the cluster's events
  // later, except one to kUnhealthyCluster: its whole 503 response (headers, data, complete)
  // comes inside this call, as Envoy's router answers inside the async stream's sendHeaders,
  // through `inbox`.
  bool callout_stream_start(std::uint64_t id, Bytes cluster, rust::Slice<const RawHeader> headers, Bytes body,
                            bool end_of_stream, std::uint64_t timeout_ms, rust::Box<CalloutInbox> inbox,
                            std::uint32_t& failure) override;
  bool callout_stream_send(std::uint64_t id, Bytes data, bool end_of_stream) override;
  bool callout_stream_send_trailers(std::uint64_t id, rust::Slice<const RawHeader> trailers) override;
  void callout_stream_reset(std::uint64_t id) override;
  bool metric_record(std::uint64_t id, std::uint32_t kind, std::uint32_t op,
                     rust::Slice<const RawBytes> label_values, std::uint64_t value) override;
  bool metadata_set(Bytes ns, Bytes key, std::uint32_t kind, Bytes string, double number, bool boolean) override;
  // Flat metadata only, as the Rust test host: no whole Struct.
  bool metadata_set_struct(Bytes, Bytes) override { return false; }
  bool metadata_set_typed(Bytes, Bytes) override { return false; }  // keeps no typed metadata
  // No typed metadata here (the Rust test host keeps some: TestStream::set_typed_metadata).
  bool metadata_typed(std::uint32_t, Bytes, RawBytes&, RawBytes&) override { return false; }
  // From the metadata map, in its (sorted) order; views of the map's strings.
  std::size_t metadata_names(std::uint32_t source, Bytes ns, bool keys, rust::Slice<RawBytes> out) override;
  bool metadata_get(std::uint32_t source, Bytes ns, Bytes key, std::uint32_t kind, RawBytes& string, double& number,
                    bool& boolean) override;
  bool filter_state_set(Bytes key, Bytes value) override;
  bool filter_state_get(Bytes key, RawBytes& value) override;
  bool filter_state_exists(Bytes key) override;
  // As the Rust test host: `envoy.string` makes a string; a few of Envoy's object factories an
  // object keeping `value` as its serialized form; any other name has no factory.
  bool filter_state_set_typed(Bytes key, Bytes value) override;
  bool filter_state_serialized(Bytes key, RawBytes& value) override;
  bool clear_route_cache() override;
  bool refresh_route_cluster() override;
  std::uint64_t buffer_limit() override { return data_->buffer_limit; }
  bool set_buffer_limit(std::uint64_t limit) override {
    data_->buffer_limit = limit;
    return true;
  }
  // As Envoy's addDecodedTrailers/addEncodedTrailers: empty trailers after the body that ended
  // the direction, held until that body goes on.
  bool trailers_add(HeaderMapKind map) override;
  // No tracer here, as Envoy without one: there is no span to tag (conformance case `span-tag`),
  // nor any to start, log to, sample, finish, carry baggage or name a trace (`span-untraced`).
  bool span_set_tag(Bytes, Bytes) override { return false; }
  bool span_start_child(std::uint64_t, std::uint64_t, Bytes) override { return false; }
  bool span_tag(std::uint64_t, Bytes, Bytes) override { return false; }
  bool span_log(std::uint64_t, Bytes) override { return false; }
  bool span_set_sampled(std::uint64_t, bool) override { return false; }
  bool span_finish(std::uint64_t) override { return false; }
  bool span_baggage_set(Bytes, Bytes) override { return false; }
  bool span_baggage_get(Bytes, RawBytes&) override { return false; }
  bool span_trace_id(RawBytes&) override { return false; }
  // One worker, the test's thread.
  bool worker_index(std::uint32_t& index) override {
    index = 0;
    return true;
  }
  // The test host's connection: client 127.0.0.1:50000 to 127.0.0.1:10000 over HTTP/1.1; the
  // response code once there is a response.
  bool attribute_get(std::uint32_t attribute, RawBytes& string, double& number) override;
  // The process's secret the configuration subscribed to as `id`, copied into the stream so the
  // view lasts the hook.
  bool secret_get(std::uint64_t id, RawBytes& value) override;
  // One attempt, to the test's upstream, once the request headers went on.
  std::size_t upstream_hosts_attempted(rust::Slice<RawBytes> out) override {
    static const std::string upstream = "127.0.0.1:10001";
    if (!data_->request.headers_forwarded) return 0;
    if (!out.empty()) out[0] = to_raw_bytes(upstream);
    return 1;
  }
  // The stream's start only: this host records no later moment.
  bool timing_get(std::uint32_t timing, std::int64_t& ns) override {
    if (timing != 0) {  // ENVOYX_TIMING_START_UNIX
      return false;
    }
    ns = data_->start_unix_ns;
    return true;
  }
  bool upstream_override_host(Bytes host, bool strict) override;

 private:
  // The open streaming callout `id`, or nullptr.
  PendingCall* open_stream(std::uint64_t id);

  std::shared_ptr<StreamData> data_;
  std::shared_ptr<WorkerQueue> queue_;
  std::shared_ptr<WorkerQueue> metrics_;
};

// One stream, as a test drives it. Event methods return the module's status (ENVOYX_*) and
// throw rust::Error when driven out of order; once the stream ended (reset or local reply carried
// out) they return a stop status without reaching the core. Directions and maps are the ABI's
// numbers.
class TestStream {
 public:
  // `metrics` keeps what the stream records on its configuration's metrics (the configuration's
  // background scheduler).
  TestStream(const FilterConfig& config, std::shared_ptr<WorkerQueue> metrics);

  std::uint32_t request_headers(rust::Slice<const Header> headers, bool end_of_stream);
  // One body chunk made of the given slices.
  std::uint32_t request_body(rust::Slice<const rust::String> slices, bool end_of_stream);
  // One body chunk: `data` cut into slices of `slice_len` bytes.
  std::uint32_t request_body_chunked(rust::Slice<const std::uint8_t> data, std::size_t slice_len,
                                     bool end_of_stream);
  std::uint32_t request_trailers(rust::Slice<const Header> trailers);
  std::uint32_t response_headers(rust::Slice<const Header> headers, bool end_of_stream);
  std::uint32_t response_body(rust::Slice<const rust::String> slices, bool end_of_stream);
  std::uint32_t response_trailers(rust::Slice<const Header> trailers);
  void complete();
  // Puts the stream on a route carrying the per-route config `json` (a
  // DynamicModuleConfigPerRoute); throws rust::Error when it is refused.
  void set_route(rust::Str json);
  // Gives the stream filter state as an earlier filter would have set it (`is_string` false: an
  // object of the proxy's that is not a string); the sets over existing keys so far.
  void preset_filter_state(rust::Str key, rust::Slice<const std::uint8_t> value, bool is_string);
  std::uint32_t envoy_bugs() const;
  // The callouts not answered yet; answers one (status an envoyx_callout_status) and carries out
  // what the module then asks for.
  rust::Vec<PendingCall> pending_callouts() const;
  void answer_callout(std::uint64_t id, std::uint32_t status, rust::Slice<const Header> headers,
                      rust::Slice<const std::uint8_t> body);
  // One event of a streaming callout's cluster (event an envoyx_callout_event); after the last
  // one (complete, failed) it is no longer pending.
  void callout_stream_event(std::uint64_t id, std::uint32_t event, std::uint32_t status,
                            rust::Slice<const Header> headers, rust::Slice<const std::uint8_t> body,
                            bool end_of_stream);

  // Runs the continues posted so far on this (the worker) thread, waiting up to `timeout_ms`
  // for the first; returns how many were delivered to the stream.
  std::size_t run_scheduled(std::uint64_t timeout_ms);
  // Plays the proxy's flow-control news (ABI 1.2) for `direction` (an envoyx_direction); the
  // module hears of a change through run_scheduled.
  void watermark(std::uint32_t direction, bool above);
  // Plays a local reply made after this filter (Envoy's router, a later filter): the module hears
  // of it first (ABI 1.2) and may have the stream reset instead; else it runs through this
  // filter's response hooks. Returns whether the reply went out.
  bool proxy_local_reply(std::uint32_t status, rust::Str details, rust::Str body);
  std::uint64_t buffer_limit() const { return data_->buffer_limit; }

  // What the next hop got of the header map `map`: headers as they were when they went on past
  // the filter, or as they are now while the filter holds them; trailers as they are now. Empty
  // when absent.
  rust::Vec<Header> headers(std::uint32_t map) const;
  // The header map `map` as the host holds it now, including changes made after it went on
  // (which the next hop never sees). Empty when absent.
  rust::Vec<Header> current_headers(std::uint32_t map) const;
  bool headers_forwarded(std::uint32_t direction) const;
  bool trailers_forwarded(std::uint32_t direction) const;
  rust::Vec<std::uint8_t> body_forwarded(std::uint32_t direction) const;
  rust::Vec<std::uint8_t> body_buffered(std::uint32_t direction) const;
  std::uint32_t continues(std::uint32_t direction) const;
  RecordedReply local_reply() const;
  bool was_reset() const;
  bool reset_refused() const;
  bool module_response_ended() const;
  std::uint32_t recreated() const { return data_->recreated; }
  std::uint64_t body_bytes_copied() const;
  // Whether the last body chunk left the module's hook in the very slices it was handed (same
  // count, same addresses): a rewrite was done in place.
  bool last_chunk_kept_its_memory() const { return last_chunk_kept_its_memory_; }

 private:
  std::uint32_t deliver_headers(Direction direction, HeaderMap headers, bool end_of_stream);
  std::uint32_t deliver_body(Direction direction, SliceBuffer chunk, bool end_of_stream);
  std::uint32_t deliver_trailers(Direction direction, HeaderMap trailers);
  // Takes the core's actions after a call into the stream has returned, until there are none,
  // and carries each out.
  void carry_out();
  // A local reply, as Envoy sends it: recorded, then its response runs through this filter.
  void send_local_reply(const envoyx::LocalReply& reply);

  // Starts the request over (Action Recreate), as Envoy's recreateStream does: this stream ends
  // (the module's complete and destroy run), and a new one of the same configuration gets the
  // request headers as they are now, ending the request.
  void start_over();

  std::shared_ptr<StreamData> data_;
  std::shared_ptr<WorkerQueue> queue_;
  std::shared_ptr<WorkerQueue> metrics_;
  bool last_chunk_kept_its_memory_ = false;
  // Declared last so it is destroyed first: the module's stream goes before the host's data.
  rust::Box<Stream> stream_;
};

// A loaded filter configuration.
class TestFilter {
 public:
  TestFilter(rust::Box<FilterConfig> config, std::shared_ptr<WorkerQueue> background);
  rust::String name() const;
  rust::String module_path() const;
  std::unique_ptr<TestStream> stream() const;
  // Runs `streams_each` streams (request headers only) on each of `workers` threads at once, as
  // Envoy's workers share one filter config; returns how many streams got their headers through.
  std::size_t streams_on_worker_threads(std::size_t workers, std::size_t streams_each) const;
  // The what() of the rust::Error that new_stream throws for a null host ("" if none).
  rust::String null_host_error() const;
  // One event of the configuration's streaming callout `id` (event an envoyx_callout_event), on
  // this (the "main") thread; after the last one it is no longer pending.
  void config_callout_stream_event(std::uint64_t id, std::uint32_t event, std::uint32_t status,
                                   rust::Slice<const Header> headers, rust::Slice<const std::uint8_t> body,
                                   bool end_of_stream) const;
  // What the module recorded on its metric `name` (full name) for these label values; see
  // WorkerQueue::metric.
  rust::String metric(rust::Str name, rust::Slice<const rust::String> label_values) const;
  // Runs the configuration events the module scheduled so far on this (the "main") thread,
  // waiting up to `timeout_ms` for the first; returns how many ran.
  std::size_t run_config_scheduled(std::uint64_t timeout_ms) const;
  // The configuration's callouts not answered yet; answers one (status an envoyx_callout_status)
  // on this (the "main") thread.
  rust::Vec<PendingCall> pending_config_callouts() const;
  void answer_config_callout(std::uint64_t id, std::uint32_t status, rust::Slice<const Header> headers,
                             rust::Slice<const std::uint8_t> body) const;

 private:
  rust::Box<FilterConfig> config_;
  std::shared_ptr<WorkerQueue> background_;
};

// Load a DynamicModuleConfig. Errors propagate as the loader's rust::Error.
std::unique_ptr<TestFilter> load_json(rust::Str json);
std::unique_ptr<TestFilter> load_proto(rust::Slice<const std::uint8_t> bytes);
// The same, the way a C++ host handles a bad config: catch rust::Error and keep its what().
// Empty when the config loaded.
rust::String json_load_error(rust::Str json);
rust::String proto_load_error(rust::Slice<const std::uint8_t> bytes);

// Whether any log message (through the loader's LogSink) so far contains `needle`.
bool logged(rust::Str needle);
// Sets runtime `key` (ABI 1.2 runtime_get) for every module of the process.
void set_runtime_bool(rust::Str key, bool value);
void set_runtime_number(rust::Str key, double value);
// Sets the process's generic secret `name` (ABI 1.2 secret_get), as a proxy's static secret or
// what SDS delivers.
void set_secret(rust::Str name, rust::Str value);

}  // namespace envoyx::testhost
