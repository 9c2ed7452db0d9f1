#include "envoy/envoyx_filter.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "envoy/http/codes.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/header_map_impl.h"
#include "source/common/http/message_impl.h"
#include "source/common/http/utility.h"
#include "source/common/router/string_accessor_impl.h"
#include "source/common/tracing/null_span_impl.h"
#include "source/common/stats/symbol_table.h"
#include "source/common/stats/utility.h"

#include "absl/strings/match.h"
#include "abi.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

// The core returns the module's status as a number equal to Envoy's own enum ordinal (x/abi.h
// promises it); these checks fail the build if Envoy's enums ever move.
static_assert(static_cast<uint32_t>(Http::FilterHeadersStatus::Continue) ==
              ENVOYX_HEADERS_CONTINUE);
static_assert(static_cast<uint32_t>(Http::FilterHeadersStatus::StopIteration) ==
              ENVOYX_HEADERS_STOP_ITERATION);
static_assert(static_cast<uint32_t>(Http::FilterHeadersStatus::ContinueAndDontEndStream) ==
              ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM);
static_assert(static_cast<uint32_t>(Http::FilterHeadersStatus::StopAllIterationAndBuffer) ==
              ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_BUFFER);
static_assert(static_cast<uint32_t>(Http::FilterHeadersStatus::StopAllIterationAndWatermark) ==
              ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_WATERMARK);
static_assert(static_cast<uint32_t>(Http::FilterDataStatus::Continue) == ENVOYX_BODY_CONTINUE);
static_assert(static_cast<uint32_t>(Http::FilterDataStatus::StopIterationAndBuffer) ==
              ENVOYX_BODY_STOP_ITERATION_AND_BUFFER);
static_assert(static_cast<uint32_t>(Http::FilterDataStatus::StopIterationAndWatermark) ==
              ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK);
static_assert(static_cast<uint32_t>(Http::FilterDataStatus::StopIterationNoBuffer) ==
              ENVOYX_BODY_STOP_ITERATION_NO_BUFFER);
static_assert(static_cast<uint32_t>(Http::FilterTrailersStatus::Continue) ==
              ENVOYX_TRAILERS_CONTINUE);
static_assert(static_cast<uint32_t>(Http::FilterTrailersStatus::StopIteration) ==
              ENVOYX_TRAILERS_STOP_ITERATION);
// The log levels are spdlog's (x/abi.h says so); EnvoyLogSink casts between them.
static_assert(static_cast<uint32_t>(spdlog::level::trace) == ENVOYX_LOG_TRACE);
static_assert(static_cast<uint32_t>(spdlog::level::critical) == ENVOYX_LOG_CRITICAL);

namespace {

absl::string_view toStringView(envoyx::Bytes bytes) {
  const std::string_view view = envoyx::to_string_view(bytes);
  return {view.data(), view.size()};
}

envoyx::RawBytes toRawBytes(absl::string_view view) {
  return envoyx::to_raw_bytes(std::string_view(view.data(), view.size()));
}

absl::string_view toStringView(const rust::Vec<uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

bool isRequest(envoyx::BodyKind kind) {
  return kind == envoyx::BodyKind::RequestReceived || kind == envoyx::BodyKind::RequestBuffered;
}

bool isBuffered(envoyx::BodyKind kind) {
  return kind == envoyx::BodyKind::RequestBuffered || kind == envoyx::BodyKind::ResponseBuffered;
}

// Replaces `len` bytes at `offset` with `data`. The bytes before and after are moved as whole
// slices (Buffer::move), so only `data` is copied.
void replaceRange(Buffer::Instance& body, size_t offset, size_t len, absl::string_view data) {
  Buffer::OwnedImpl rebuilt;
  rebuilt.move(body, offset);
  body.drain(len);
  rebuilt.add(data);
  rebuilt.move(body);
  body.move(rebuilt);
}

// envoyx::StreamHost for one Envoy stream: the primitives. Every method resolves the map or body
// through the filter at call time, because Envoy may replace response headers (a local reply)
// between hooks. The core has checked every argument before calling (header names are lower-case
// tokens, values non-empty without control bytes, ranges within the body, length changes within
// the content-length rule), so nothing is checked again here.
class EnvoyStreamHost : public envoyx::StreamHost {
public:
  EnvoyStreamHost(EnvoyxFilter& filter, std::shared_ptr<envoyx::Scheduler> scheduler)
      : filter_(filter), scheduler_(std::move(scheduler)) {}

  bool header_values(envoyx::HeaderMapKind kind, envoyx::Bytes key,
                     rust::Slice<envoyx::RawBytes> out, std::size_t& total) override {
    const Http::HeaderMap* map = filter_.headerMap(kind);
    if (map == nullptr) {
      return false;
    }
    const absl::string_view wanted = toStringView(key);
    total = 0;
    map->iterate([&](const Http::HeaderEntry& entry) -> Http::HeaderMap::Iterate {
      if (absl::EqualsIgnoreCase(entry.key().getStringView(), wanted)) {
        if (total < out.size()) {
          out[total] = toRawBytes(entry.value().getStringView());
        }
        ++total;
      }
      return Http::HeaderMap::Iterate::Continue;
    });
    return true;
  }

  bool header_entries(envoyx::HeaderMapKind kind, rust::Slice<envoyx::RawHeader> out,
                      std::size_t& total) override {
    const Http::HeaderMap* map = filter_.headerMap(kind);
    if (map == nullptr) {
      return false;
    }
    total = 0;
    map->iterate([&](const Http::HeaderEntry& entry) -> Http::HeaderMap::Iterate {
      if (total < out.size()) {
        out[total] = envoyx::RawHeader{toRawBytes(entry.key().getStringView()),
                                       toRawBytes(entry.value().getStringView())};
      }
      ++total;
      return Http::HeaderMap::Iterate::Continue;
    });
    return true;
  }

  bool header_set(envoyx::HeaderMapKind kind, envoyx::Bytes key, envoyx::Bytes value) override {
    Http::HeaderMap* map = filter_.headerMap(kind);
    if (map == nullptr) {
      return false;
    }
    map->setCopy(Http::LowerCaseString(toStringView(key)), toStringView(value));
    return true;
  }

  bool header_add(envoyx::HeaderMapKind kind, envoyx::Bytes key, envoyx::Bytes value) override {
    Http::HeaderMap* map = filter_.headerMap(kind);
    if (map == nullptr) {
      return false;
    }
    map->addCopy(Http::LowerCaseString(toStringView(key)), toStringView(value));
    return true;
  }

  std::size_t header_remove(envoyx::HeaderMapKind kind, envoyx::Bytes key) override {
    Http::HeaderMap* map = filter_.headerMap(kind);
    if (map == nullptr) {
      return 0;
    }
    return map->remove(Http::LowerCaseString(toStringView(key)));
  }

  bool body_length(envoyx::BodyKind kind, std::size_t& length) override {
    const Buffer::Instance* body = readableBody(kind);
    if (body == nullptr) {
      return false;
    }
    length = body->length();
    return true;
  }

  bool body_slices(envoyx::BodyKind kind, rust::Slice<envoyx::RawSlice> out,
                   std::size_t& total) override {
    const Buffer::Instance* body = readableBody(kind);
    if (body == nullptr) {
      return false;
    }
    // getRawSlices is const but hands out writable pointers into the buffer's own slices: the
    // module rewrites Envoy's bytes in place, which is the point of the zero-copy body API.
    const Buffer::RawSliceVector slices = body->getRawSlices();
    total = slices.size();
    const size_t n = std::min<size_t>(slices.size(), out.size());
    for (size_t i = 0; i < n; ++i) {
      out[i] = envoyx::to_raw_slice(static_cast<char*>(slices[i].mem_), slices[i].len_);
    }
    return true;
  }

  bool body_drain(envoyx::BodyKind kind, std::size_t len) override {
    return changeBody(kind, [len](Buffer::Instance& body) { body.drain(len); });
  }

  bool body_append(envoyx::BodyKind kind, envoyx::Bytes data) override {
    const absl::string_view bytes = toStringView(data);
    return changeBody(kind, [bytes](Buffer::Instance& body) { body.add(bytes); });
  }

  bool body_prepend(envoyx::BodyKind kind, envoyx::Bytes data) override {
    const absl::string_view bytes = toStringView(data);
    return changeBody(kind, [bytes](Buffer::Instance& body) { body.prepend(bytes); });
  }

  bool body_replace(envoyx::BodyKind kind, std::size_t offset, std::size_t len,
                    envoyx::Bytes data) override {
    const absl::string_view bytes = toStringView(data);
    return changeBody(kind, [offset, len, bytes](Buffer::Instance& body) {
      replaceRange(body, offset, len, bytes);
    });
  }

  std::shared_ptr<envoyx::Scheduler> scheduler() const override { return scheduler_; }
  const envoyx::RouteConfig* route_config() const override { return filter_.routeConfig(); }
  bool http_callout(std::uint64_t id, envoyx::Bytes cluster,
                    rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                    std::uint64_t timeout_ms, rust::Box<envoyx::CalloutInbox> inbox,
                    std::uint32_t& failure) override {
    return filter_.startCallout(id, cluster, headers, body, timeout_ms, std::move(inbox), failure);
  }
  bool callout_stream_start(std::uint64_t id, envoyx::Bytes cluster,
                            rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                            bool end_of_stream, std::uint64_t timeout_ms,
                            rust::Box<envoyx::CalloutInbox> inbox, std::uint32_t& failure) override {
    return filter_.startCalloutStream(id, cluster, headers, body, end_of_stream, timeout_ms,
                                      std::move(inbox), failure);
  }
  bool callout_stream_send(std::uint64_t id, envoyx::Bytes data, bool end_of_stream) override {
    return filter_.sendCalloutStreamData(id, data, end_of_stream);
  }
  bool callout_stream_send_trailers(std::uint64_t id,
                                    rust::Slice<const envoyx::RawHeader> trailers) override {
    return filter_.sendCalloutStreamTrailers(id, trailers);
  }
  void callout_stream_reset(std::uint64_t id) override { filter_.resetCalloutStream(id); }
  bool metadata_set(envoyx::Bytes ns, envoyx::Bytes key, std::uint32_t kind, envoyx::Bytes string,
                    double number, bool boolean) override {
    return filter_.setMetadata(toStringView(ns), toStringView(key), kind, toStringView(string), number, boolean);
  }
  bool metadata_get(std::uint32_t source, envoyx::Bytes ns, envoyx::Bytes key, std::uint32_t kind,
                    envoyx::RawBytes& string, double& number, bool& boolean) override {
    return filter_.getMetadata(source, toStringView(ns), toStringView(key), kind, string, number, boolean);
  }
  bool filter_state_set(envoyx::Bytes key, envoyx::Bytes value) override {
    return filter_.setFilterState(toStringView(key), toStringView(value));
  }
  bool filter_state_get(envoyx::Bytes key, envoyx::RawBytes& value) override {
    return filter_.getFilterState(toStringView(key), value);
  }
  bool filter_state_exists(envoyx::Bytes key) override { return filter_.hasFilterState(toStringView(key)); }
  bool clear_route_cache() override { return filter_.clearRouteCache(); }
  bool span_set_tag(envoyx::Bytes key, envoyx::Bytes value) override {
    return filter_.setSpanTag(toStringView(key), toStringView(value));
  }
  bool attribute_get(std::uint32_t attribute, envoyx::RawBytes& string, double& number) override {
    return filter_.attribute(attribute, string, number);
  }
  bool upstream_override_host(envoyx::Bytes host, bool strict) override {
    return filter_.setUpstreamOverrideHost(toStringView(host), strict);
  }
  bool metric_record(std::uint64_t id, std::uint32_t, std::uint32_t op,
                     rust::Slice<const envoyx::RawBytes> label_values, std::uint64_t value) override {
    return filter_.recordMetric(id, op, label_values, value);
  }

private:
  const Buffer::Instance* readableBody(envoyx::BodyKind kind) {
    return isBuffered(kind) ? filter_.bufferedBody(kind) : filter_.receivedBody(kind);
  }

  bool changeBody(envoyx::BodyKind kind, std::function<void(Buffer::Instance&)> change) {
    if (isBuffered(kind)) {
      if (filter_.bufferedBody(kind) == nullptr) {
        return false;
      }
      filter_.modifyBufferedBody(kind, std::move(change));
      return true;
    }
    Buffer::Instance* body = filter_.receivedBody(kind);
    if (body == nullptr) {
      return false;
    }
    change(*body);
    return true;
  }

  EnvoyxFilter& filter_;
  const std::shared_ptr<envoyx::Scheduler> scheduler_;
};

} // namespace

void DispatcherScheduler::wake() const {
  dispatcher_.post([token = token_]() {
    if (std::shared_ptr<StreamToken> live = token.lock()) {
      live->filter.onScheduled();
    }
  });
}

bool EnvoyLogSink::enabled(envoyx::LogLevel level) const {
  return ENVOY_LOGGER().should_log(static_cast<spdlog::level::level_enum>(level));
}

void EnvoyLogSink::log(envoyx::LogLevel level, envoyx::Bytes message) const {
  const absl::string_view text = toStringView(message);
  switch (level) {
  case envoyx::LogLevel::Trace:
    ENVOY_LOG(trace, "{}", text);
    break;
  case envoyx::LogLevel::Debug:
    ENVOY_LOG(debug, "{}", text);
    break;
  case envoyx::LogLevel::Info:
    ENVOY_LOG(info, "{}", text);
    break;
  case envoyx::LogLevel::Warn:
    ENVOY_LOG(warn, "{}", text);
    break;
  case envoyx::LogLevel::Error:
    ENVOY_LOG(error, "{}", text);
    break;
  default:
    ENVOY_LOG(critical, "{}", text);
    break;
  }
}

void EnvoyxFilter::setDecoderFilterCallbacks(Http::StreamDecoderFilterCallbacks& callbacks) {
  PassThroughFilter::setDecoderFilterCallbacks(callbacks);
  // The stream starts here rather than in the constructor: its scheduler needs the worker's
  // dispatcher, which only the callbacks know. Envoy sets the decoder callbacks once per stream.
  token_ = std::make_shared<StreamToken>(*this);
  auto scheduler = std::make_shared<DispatcherScheduler>(callbacks.dispatcher(), token_);
  try {
    stream_.emplace((*config_)->new_stream(std::make_unique<EnvoyStreamHost>(*this, scheduler)));
  } catch (const rust::Error& e) {
    // Only a null host makes new_stream throw; without a stream every hook passes through.
    ENVOY_LOG(error, "EnvoyX: cannot start a stream: {}", e.what());
  }
}

template <class Status, class Call>
Status EnvoyxFilter::deliver(const char* event, Status fallback, Call call) {
  if (!stream_.has_value() || in_core_call_) {
    // No stream, or a call nested inside a call into the core (which Envoy has no reason to
    // make, see in_core_call_): pass through.
    return fallback;
  }
  Status status = fallback;
  in_core_call_ = true;
  try {
    status = static_cast<Status>(call(**stream_));
  } catch (const rust::Error& e) {
    // The core refuses events driven out of order; the event was not delivered.
    ENVOY_LOG(error, "EnvoyX: {} not delivered: {}", event, e.what());
  }
  in_core_call_ = false;
  carryOutActions();
  return status;
}

Http::FilterHeadersStatus EnvoyxFilter::decodeHeaders(Http::RequestHeaderMap&, bool end_stream) {
  return deliver("request headers", Http::FilterHeadersStatus::Continue,
                 [&](envoyx::Stream& s) { return s.on_request_headers(end_stream); });
}

Http::FilterDataStatus EnvoyxFilter::decodeData(Buffer::Instance& data, bool end_stream) {
  request_received_ = &data;
  const auto status = deliver("request body", Http::FilterDataStatus::Continue,
                              [&](envoyx::Stream& s) { return s.on_request_body(end_stream); });
  request_received_ = nullptr;
  return status;
}

Http::FilterTrailersStatus EnvoyxFilter::decodeTrailers(Http::RequestTrailerMap&) {
  return deliver("request trailers", Http::FilterTrailersStatus::Continue,
                 [&](envoyx::Stream& s) { return s.on_request_trailers(); });
}

Http::FilterHeadersStatus EnvoyxFilter::encodeHeaders(Http::ResponseHeaderMap&, bool end_stream) {
  return deliver("response headers", Http::FilterHeadersStatus::Continue,
                 [&](envoyx::Stream& s) { return s.on_response_headers(end_stream); });
}

Http::FilterDataStatus EnvoyxFilter::encodeData(Buffer::Instance& data, bool end_stream) {
  response_received_ = &data;
  const auto status = deliver("response body", Http::FilterDataStatus::Continue,
                              [&](envoyx::Stream& s) { return s.on_response_body(end_stream); });
  response_received_ = nullptr;
  return status;
}

Http::FilterTrailersStatus EnvoyxFilter::encodeTrailers(Http::ResponseTrailerMap&) {
  return deliver("response trailers", Http::FilterTrailersStatus::Continue,
                 [&](envoyx::Stream& s) { return s.on_response_trailers(); });
}

void EnvoyxFilter::onStreamComplete() {
  if (stream_.has_value() && !in_core_call_) {
    (*stream_)->on_stream_complete();
  }
}

void EnvoyxFilter::onDestroy() {
  // Callouts in flight are cancelled: the module is never answered for a stream that is gone.
  for (auto& [id, callout] : callouts_) {
    callout->request_->cancel();
  }
  callouts_.clear();
  // Streaming callouts still open are reset; detached first, so the resets Envoy reports inline
  // reach no one.
  auto streams = std::move(callout_streams_);
  callout_streams_.clear();
  for (auto& [id, callout] : streams) {
    callout->abandon();
    retire(std::move(callout));
  }
  // Continues still queued on the dispatcher (or posted later by a module thread) now find no
  // token and are dropped.
  token_.reset();
  // Dropping the box completes the stream if needed and destroys the module's stream state,
  // exactly once (the core guarantees it).
  stream_.reset();
}

void EnvoyxFilter::onScheduled() {
  if (!stream_.has_value() || in_core_call_) {
    return;
  }
  in_core_call_ = true;
  // The core runs the next item the module queued: a continue (carried out only if the module
  // had stopped that direction and the stream is neither ending nor complete) or the module's
  // scheduled hook (which may answer, reset or continue). What it returns is carried out right
  // here, on the worker, outside any decode/encode call of this filter.
  (*stream_)->on_scheduled();
  in_core_call_ = false;
  carryOutActions();
}

// The views of a callout's response (none for a null one); defined with the other views below.
void calloutViews(const Http::ResponseMessage* response, std::vector<envoyx::RawHeader>& headers,
                  std::vector<envoyx::RawBytes>& chunks);

void EnvoyxCallout::onSuccess(const Http::AsyncClient::Request&, Http::ResponseMessagePtr&& response) {
  if (!sent_) {
    // Answered inside send() (the router answers a cluster without healthy hosts at once),
    // during the module's call into the core: the core delivers the copy right after it.
    std::vector<envoyx::RawHeader> headers;
    std::vector<envoyx::RawBytes> chunks;
    calloutViews(response.get(), headers, chunks);
    inbox_->defer_answer(id_, ENVOYX_CALLOUT_RESPONSE,
                         rust::Slice<const envoyx::RawHeader>(headers.data(), headers.size()),
                         rust::Slice<const envoyx::RawBytes>(chunks.data(), chunks.size()));
    answered_inline_ = true;
    return;
  }
  filter_.calloutDone(id_, ENVOYX_CALLOUT_RESPONSE, response.get());
}

void EnvoyxCallout::onFailure(const Http::AsyncClient::Request&,
                              Http::AsyncClient::FailureReason reason) {
  if (!sent_) {
    return;
  }
  const bool too_large = reason == Http::AsyncClient::FailureReason::ExceedResponseBufferLimit;
  filter_.calloutDone(id_, too_large ? ENVOYX_CALLOUT_TOO_LARGE : ENVOYX_CALLOUT_RESET, nullptr);
}

bool EnvoyxFilter::startCallout(std::uint64_t id, envoyx::Bytes cluster_name,
                                rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                                std::uint64_t timeout_ms, rust::Box<envoyx::CalloutInbox> inbox,
                                std::uint32_t& failure) {
  failure = ENVOYX_CALLOUT_UNAVAILABLE;
  if (cluster_manager_ == nullptr) {
    return false;
  }
  auto callout = std::make_unique<EnvoyxCallout>(*this, id, std::move(inbox));
  Http::AsyncClient::Request* request =
      sendCallout(*cluster_manager_, cluster_name, headers, body, timeout_ms, *callout, failure);
  if (request == nullptr) {
    // Answered inline (onSuccess gave the answer to the inbox) or could not start.
    return callout->answered_inline_;
  }
  callout->request_ = request;
  callout->sent_ = true;
  callouts_.emplace(id, std::move(callout));
  return true;
}

Http::AsyncClient::Request* sendCallout(Upstream::ClusterManager& cluster_manager, envoyx::Bytes cluster_name,
                                        rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                                        std::uint64_t timeout_ms, Http::AsyncClient::Callbacks& callbacks,
                                        std::uint32_t& failure) {
  failure = ENVOYX_CALLOUT_UNAVAILABLE;
  const absl::string_view name(reinterpret_cast<const char*>(cluster_name.data()),
                               cluster_name.size());
  Upstream::ThreadLocalCluster* cluster = cluster_manager.getThreadLocalCluster(name);
  if (cluster == nullptr) {
    failure = ENVOYX_CALLOUT_NO_CLUSTER;
    return nullptr;
  }
  auto message = std::make_unique<Http::RequestMessageImpl>();
  for (const envoyx::RawHeader& h : headers) {
    const absl::string_view key(reinterpret_cast<const char*>(h.key.ptr), h.key.len);
    const absl::string_view value(reinterpret_cast<const char*>(h.value.ptr), h.value.len);
    // The core checked the names (lower-case tokens or request pseudo-headers; `host` already
    // turned into `:authority`).
    message->headers().addCopy(Http::LowerCaseString(key), value);
  }
  if (!body.empty()) {
    message->body().add(body.data(), body.size());
  }
  return cluster->httpAsyncClient().send(
      std::move(message), callbacks,
      Http::AsyncClient::RequestOptions().setTimeout(std::chrono::milliseconds(timeout_ms)));
}

std::uint64_t EnvoyxMetrics::define(std::uint32_t kind, absl::string_view name,
                                    rust::Slice<const envoyx::RawBytes> label_names) {
  Def def{kind, std::string(name), {}};
  for (const envoyx::RawBytes& label : label_names) {
    def.label_names.emplace_back(reinterpret_cast<const char*>(label.ptr), label.len);
  }
  defs_.push_back(std::move(def));
  return defs_.size();
}

bool EnvoyxMetrics::record(std::uint64_t id, std::uint32_t op,
                           rust::Slice<const envoyx::RawBytes> label_values, std::uint64_t value) const {
  if (id == 0 || id > defs_.size() || label_values.size() != defs_[id - 1].label_names.size()) {
    return false;
  }
  const Def& def = defs_[id - 1];
  // Names and tags as dynamic stat names: Envoy's symbol table interns each once.
  Stats::StatNameDynamicPool pool(scope_->symbolTable());
  Stats::StatNameTagVector tags;
  for (std::size_t i = 0; i < label_values.size(); ++i) {
    const absl::string_view label(reinterpret_cast<const char*>(label_values[i].ptr), label_values[i].len);
    tags.emplace_back(pool.add(def.label_names[i]), pool.add(label));
  }
  const Stats::ElementVec name{Stats::DynamicName(def.name)};
  switch (def.kind) {
  case ENVOYX_METRIC_COUNTER:
    Stats::Utility::counterFromElements(*scope_, name, tags).add(value);
    return true;
  case ENVOYX_METRIC_GAUGE: {
    Stats::Gauge& gauge =
        Stats::Utility::gaugeFromElements(*scope_, name, Stats::Gauge::ImportMode::Accumulate, tags);
    if (op == ENVOYX_METRIC_SET) {
      gauge.set(value);
    } else if (op == ENVOYX_METRIC_SUBTRACT) {
      gauge.sub(value);
    } else {
      gauge.add(value);
    }
    return true;
  }
  case ENVOYX_METRIC_HISTOGRAM:
    Stats::Utility::histogramFromElements(*scope_, name, Stats::Histogram::Unit::Unspecified, tags)
        .recordValue(value);
    return true;
  default:
    return false;
  }
}

void headerViews(const Http::HeaderMap& headers, std::vector<envoyx::RawHeader>& out) {
  headers.iterate([&out](const Http::HeaderEntry& entry) {
    const absl::string_view key = entry.key().getStringView();
    const absl::string_view value = entry.value().getStringView();
    out.push_back(envoyx::RawHeader{
        envoyx::RawBytes{reinterpret_cast<const uint8_t*>(key.data()), key.size()},
        envoyx::RawBytes{reinterpret_cast<const uint8_t*>(value.data()), value.size()}});
    return Http::HeaderMap::Iterate::Continue;
  });
}

void bufferViews(const Buffer::Instance& buffer, std::vector<envoyx::RawBytes>& out) {
  for (const Buffer::RawSlice& slice : buffer.getRawSlices()) {
    out.push_back(envoyx::RawBytes{static_cast<const uint8_t*>(slice.mem_), slice.len_});
  }
}

void calloutViews(const Http::ResponseMessage* response, std::vector<envoyx::RawHeader>& headers,
                  std::vector<envoyx::RawBytes>& chunks) {
  if (response == nullptr) {
    return;
  }
  headerViews(response->headers(), headers);
  bufferViews(response->body(), chunks);
}

void EnvoyxFilter::calloutDone(std::uint64_t id, std::uint32_t status,
                               const Http::ResponseMessage* response) {
  auto it = callouts_.find(id);
  if (it == callouts_.end()) {
    return;
  }
  // Freed when this returns, not before: `response` may live in the async client's request.
  std::unique_ptr<EnvoyxCallout> done = std::move(it->second);
  callouts_.erase(it);
  if (!stream_.has_value()) {
    return;
  }
  std::vector<envoyx::RawHeader> headers;
  std::vector<envoyx::RawBytes> chunks;
  calloutViews(response, headers, chunks);
  if (in_core_call_) {
    // Answered during a call into the core: delivered right after it.
    done->inbox_->defer_answer(id, status,
                               rust::Slice<const envoyx::RawHeader>(headers.data(), headers.size()),
                               rust::Slice<const envoyx::RawBytes>(chunks.data(), chunks.size()));
    return;
  }
  in_core_call_ = true;
  (*stream_)->on_callout_done(id, status,
                              rust::Slice<const envoyx::RawHeader>(headers.data(), headers.size()),
                              rust::Slice<const envoyx::RawBytes>(chunks.data(), chunks.size()));
  in_core_call_ = false;
  carryOutActions();
}

bool CalloutStreamBase::open(Upstream::ClusterManager& cluster_manager, envoyx::Bytes cluster_name,
                             rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                             bool end_stream, std::uint64_t timeout_ms, std::uint32_t& failure) {
  failure = ENVOYX_CALLOUT_UNAVAILABLE;
  const absl::string_view name(reinterpret_cast<const char*>(cluster_name.data()),
                               cluster_name.size());
  Upstream::ThreadLocalCluster* cluster = cluster_manager.getThreadLocalCluster(name);
  if (cluster == nullptr) {
    failure = ENVOYX_CALLOUT_NO_CLUSTER;
    return false;
  }
  stream_ = cluster->httpAsyncClient().start(
      *this, Http::AsyncClient::StreamOptions().setTimeout(std::chrono::milliseconds(timeout_ms)));
  if (stream_ == nullptr) {
    over_ = true;
    return false;
  }
  request_headers_ = Http::RequestHeaderMapImpl::create();
  for (const envoyx::RawHeader& h : headers) {
    const absl::string_view key(reinterpret_cast<const char*>(h.key.ptr), h.key.len);
    const absl::string_view value(reinterpret_cast<const char*>(h.value.ptr), h.value.len);
    // The core checked the names (lower-case tokens or request pseudo-headers; `host` already
    // turned into `:authority`).
    request_headers_->addCopy(Http::LowerCaseString(key), value);
  }
  const bool has_body = !body.empty();
  stream_->sendHeaders(*request_headers_, end_stream && !has_body);
  if (has_body) {
    send(body, end_stream); // Nothing happens if Envoy ended it inside sendHeaders.
  }
  return true;
}

bool CalloutStreamBase::send(envoyx::Bytes data, bool end_stream) {
  if (stream_ == nullptr) {
    return false;
  }
  Buffer::OwnedImpl buffer(data.data(), data.size());
  stream_->sendData(buffer, end_stream);
  return true;
}

bool CalloutStreamBase::sendTrailers(rust::Slice<const envoyx::RawHeader> trailers) {
  if (stream_ == nullptr) {
    return false;
  }
  request_trailers_ = Http::RequestTrailerMapImpl::create();
  for (const envoyx::RawHeader& h : trailers) {
    request_trailers_->addCopy(
        Http::LowerCaseString(absl::string_view(reinterpret_cast<const char*>(h.key.ptr), h.key.len)),
        absl::string_view(reinterpret_cast<const char*>(h.value.ptr), h.value.len));
  }
  stream_->sendTrailers(*request_trailers_);
  return true;
}

void CalloutStreamBase::abandon() {
  over_ = true; // The reset Envoy reports inside reset() reaches no one.
  Http::AsyncClient::Stream* stream = std::exchange(stream_, nullptr);
  if (stream != nullptr) {
    stream->reset();
  }
}

void CalloutStreamBase::onHeaders(Http::ResponseHeaderMapPtr&& headers, bool end_stream) {
  report(ENVOYX_CALLOUT_EVENT_HEADERS, ENVOYX_CALLOUT_RESPONSE, headers.get(), nullptr, end_stream);
}

void CalloutStreamBase::onData(Buffer::Instance& data, bool end_stream) {
  report(ENVOYX_CALLOUT_EVENT_DATA, ENVOYX_CALLOUT_RESPONSE, nullptr, &data, end_stream);
}

void CalloutStreamBase::onTrailers(Http::ResponseTrailerMapPtr&& trailers) {
  report(ENVOYX_CALLOUT_EVENT_TRAILERS, ENVOYX_CALLOUT_RESPONSE, trailers.get(), nullptr, true);
}

void CalloutStreamBase::onComplete() {
  report(ENVOYX_CALLOUT_EVENT_COMPLETE, ENVOYX_CALLOUT_RESPONSE, nullptr, nullptr, true);
}

void CalloutStreamBase::onReset() {
  report(ENVOYX_CALLOUT_EVENT_FAILED, ENVOYX_CALLOUT_RESET, nullptr, nullptr, true);
}

void CalloutStreamBase::report(std::uint32_t event, std::uint32_t status,
                               const Http::HeaderMap* headers, const Buffer::Instance* data,
                               bool end_stream) {
  if (over_) {
    return;
  }
  if (event == ENVOYX_CALLOUT_EVENT_COMPLETE || event == ENVOYX_CALLOUT_EVENT_FAILED) {
    over_ = true;
    stream_ = nullptr;
  }
  std::vector<envoyx::RawHeader> header_views;
  if (headers != nullptr) {
    headerViews(*headers, header_views);
  }
  std::vector<envoyx::RawBytes> chunks;
  if (data != nullptr) {
    bufferViews(*data, chunks);
  }
  deliver(event, status, rust::Slice<const envoyx::RawHeader>(header_views.data(), header_views.size()),
          rust::Slice<const envoyx::RawBytes>(chunks.data(), chunks.size()), end_stream);
}

void EnvoyxCalloutStream::deliver(std::uint32_t event, std::uint32_t status,
                                  rust::Slice<const envoyx::RawHeader> headers,
                                  rust::Slice<const envoyx::RawBytes> data, bool end_stream) {
  filter_.calloutStreamEvent(*this, event, status, headers, data, end_stream);
}

bool EnvoyxFilter::startCalloutStream(std::uint64_t id, envoyx::Bytes cluster,
                                      rust::Slice<const envoyx::RawHeader> headers,
                                      envoyx::Bytes body, bool end_stream,
                                      std::uint64_t timeout_ms,
                                      rust::Box<envoyx::CalloutInbox> inbox,
                                      std::uint32_t& failure) {
  failure = ENVOYX_CALLOUT_UNAVAILABLE;
  if (cluster_manager_ == nullptr) {
    return false;
  }
  auto owned = std::make_unique<EnvoyxCalloutStream>(*this, id, std::move(inbox));
  EnvoyxCalloutStream& callout = *owned;
  // Registered first: Envoy may report on it (even its end) inside open().
  callout_streams_.emplace(id, std::move(owned));
  if (!callout.open(*cluster_manager_, cluster, headers, body, end_stream, timeout_ms, failure)) {
    auto it = callout_streams_.find(id);
    if (it != callout_streams_.end()) {
      std::unique_ptr<EnvoyxCalloutStream> failed = std::move(it->second);
      callout_streams_.erase(it);
      retire(std::move(failed));
    }
    return false;
  }
  return true;
}

bool EnvoyxFilter::sendCalloutStreamData(std::uint64_t id, envoyx::Bytes data, bool end_stream) {
  auto it = callout_streams_.find(id);
  return it != callout_streams_.end() && it->second->send(data, end_stream);
}

bool EnvoyxFilter::sendCalloutStreamTrailers(std::uint64_t id,
                                             rust::Slice<const envoyx::RawHeader> trailers) {
  auto it = callout_streams_.find(id);
  return it != callout_streams_.end() && it->second->sendTrailers(trailers);
}

void EnvoyxFilter::resetCalloutStream(std::uint64_t id) {
  auto it = callout_streams_.find(id);
  if (it == callout_streams_.end()) {
    return;
  }
  std::unique_ptr<EnvoyxCalloutStream> callout = std::move(it->second);
  callout_streams_.erase(it);
  callout->abandon();
  retire(std::move(callout));
}

void EnvoyxFilter::calloutStreamEvent(EnvoyxCalloutStream& callout, std::uint32_t event,
                                      std::uint32_t status,
                                      rust::Slice<const envoyx::RawHeader> headers,
                                      rust::Slice<const envoyx::RawBytes> data, bool end_stream) {
  const std::uint64_t id = callout.id_;
  const bool inside_core_call = in_core_call_;
  if (inside_core_call) {
    // Envoy answered inside a call into the core: the core delivers it right after that call.
    callout.inbox().defer(id, event, status, headers, data, end_stream);
  } else if (stream_.has_value()) {
    in_core_call_ = true;
    (*stream_)->on_callout_event(id, event, status, headers, data, end_stream);
    in_core_call_ = false;
  }
  if (event == ENVOYX_CALLOUT_EVENT_COMPLETE || event == ENVOYX_CALLOUT_EVENT_FAILED) {
    auto it = callout_streams_.find(id);
    if (it != callout_streams_.end()) {
      std::unique_ptr<EnvoyxCalloutStream> done = std::move(it->second);
      callout_streams_.erase(it);
      retire(std::move(done));
    }
  }
  if (!inside_core_call) {
    carryOutActions();
  }
}

void EnvoyxFilter::retire(std::unique_ptr<EnvoyxCalloutStream> callout) {
  if (callout == nullptr) {
    return;
  }
  if (decoder_callbacks_ != nullptr) {
    decoder_callbacks_->dispatcher().deferredDelete(std::move(callout));
  }
  // Without callbacks (unit tests without a dispatcher) no async stream was ever started.
}

bool EnvoyxFilter::setMetadata(absl::string_view ns, absl::string_view key, std::uint32_t kind,
                               absl::string_view string, double number, bool boolean) {
  if (decoder_callbacks_ == nullptr) {
    return false;
  }
  Protobuf::Struct fields;
  Protobuf::Value& value = (*fields.mutable_fields())[std::string(key)];
  switch (kind) {
  case ENVOYX_VALUE_STRING:
    value.set_string_value(std::string(string));
    break;
  case ENVOYX_VALUE_NUMBER:
    value.set_number_value(number);
    break;
  default:
    value.set_bool_value(boolean);
  }
  // Merges into the namespace: other keys stay.
  decoder_callbacks_->streamInfo().setDynamicMetadata(std::string(ns), fields);
  return true;
}

bool EnvoyxFilter::getMetadata(std::uint32_t source, absl::string_view ns, absl::string_view key,
                               std::uint32_t kind, envoyx::RawBytes& string, double& number,
                               bool& boolean) {
  if (decoder_callbacks_ == nullptr) {
    return false;
  }
  const envoy::config::core::v3::Metadata* metadata = nullptr;
  if (source == ENVOYX_METADATA_DYNAMIC) {
    metadata = &decoder_callbacks_->streamInfo().dynamicMetadata();
  } else if (source == ENVOYX_METADATA_ROUTE && decoder_callbacks_->route() != nullptr) {
    metadata = &decoder_callbacks_->route()->metadata();
  } else if (source == ENVOYX_METADATA_CLUSTER && decoder_callbacks_->clusterInfo() != nullptr) {
    metadata = &decoder_callbacks_->clusterInfo()->metadata();
  }
  if (metadata == nullptr) {
    return false;
  }
  const auto space = metadata->filter_metadata().find(std::string(ns));
  if (space == metadata->filter_metadata().end()) {
    return false;
  }
  const auto field = space->second.fields().find(std::string(key));
  if (field == space->second.fields().end()) {
    return false;
  }
  const Protobuf::Value& value = field->second;
  switch (kind) {
  case ENVOYX_VALUE_STRING:
    if (!value.has_string_value()) {
      return false;
    }
    string = envoyx::to_raw_bytes(value.string_value());
    return true;
  case ENVOYX_VALUE_NUMBER:
    if (!value.has_number_value()) {
      return false;
    }
    number = value.number_value();
    return true;
  default:
    if (!value.has_bool_value()) {
      return false;
    }
    boolean = value.bool_value();
    return true;
  }
}

bool EnvoyxFilter::setFilterState(absl::string_view key, absl::string_view value) {
  if (decoder_callbacks_ == nullptr) {
    return false;
  }
  decoder_callbacks_->streamInfo().filterState()->setData(
      key, std::make_shared<Router::StringAccessorImpl>(value),
      StreamInfo::FilterState::StateType::ReadOnly);
  return true;
}

bool EnvoyxFilter::getFilterState(absl::string_view key, envoyx::RawBytes& value) {
  if (decoder_callbacks_ == nullptr) {
    return false;
  }
  const auto* state =
      decoder_callbacks_->streamInfo().filterState()->getDataReadOnly<Router::StringAccessor>(key);
  if (state == nullptr) {
    return false;
  }
  value = envoyx::to_raw_bytes(state->asString());
  return true;
}

bool EnvoyxFilter::hasFilterState(absl::string_view key) {
  // Any object of any type, this stream's or its connection's (envoy/stream_info/filter_state.h:
  // hasDataWithName); without callbacks nothing can be set, so report it taken.
  return decoder_callbacks_ == nullptr ||
         decoder_callbacks_->streamInfo().filterState()->hasDataWithName(key);
}

bool EnvoyxFilter::attribute(std::uint32_t attribute, envoyx::RawBytes& string, double& number) {
  if (decoder_callbacks_ == nullptr) {
    return false;
  }
  const StreamInfo::StreamInfo& info = decoder_callbacks_->streamInfo();
  const auto text = [&string](absl::string_view value) {
    string = envoyx::to_raw_bytes(value);
    return true;
  };
  const auto port = [&number](const Network::Address::InstanceConstSharedPtr& address) {
    if (address == nullptr || address->ip() == nullptr) {
      return false;
    }
    number = address->ip()->port();
    return true;
  };
  const auto& provider = info.downstreamAddressProvider();
  const Ssl::ConnectionInfoConstSharedPtr ssl = provider.sslConnection();
  const auto upstream = info.upstreamInfo();
  const auto upstream_host = upstream != nullptr ? upstream->upstreamHost() : nullptr;
  switch (attribute) {
  case ENVOYX_ATTRIBUTE_SOURCE_ADDRESS:
    return text(provider.remoteAddress()->asStringView());
  case ENVOYX_ATTRIBUTE_SOURCE_PORT:
    return port(provider.remoteAddress());
  case ENVOYX_ATTRIBUTE_DESTINATION_ADDRESS:
    return text(provider.localAddress()->asStringView());
  case ENVOYX_ATTRIBUTE_DESTINATION_PORT:
    return port(provider.localAddress());
  case ENVOYX_ATTRIBUTE_REQUEST_ID: {
    const auto id = info.getStreamIdProvider();
    if (!id.has_value() || !id->toStringView().has_value()) {
      return false;
    }
    return text(*id->toStringView());
  }
  case ENVOYX_ATTRIBUTE_PROTOCOL:
    return info.protocol().has_value() && text(Http::Utility::getProtocolString(*info.protocol()));
  case ENVOYX_ATTRIBUTE_ROUTE_NAME:
    return !info.getRouteName().empty() && text(info.getRouteName());
  case ENVOYX_ATTRIBUTE_CLUSTER_NAME: {
    const auto cluster = decoder_callbacks_->clusterInfo();
    return cluster != nullptr && text(cluster->name());
  }
  case ENVOYX_ATTRIBUTE_UPSTREAM_ADDRESS:
    return upstream_host != nullptr && upstream_host->address() != nullptr &&
           text(upstream_host->address()->asStringView());
  case ENVOYX_ATTRIBUTE_RESPONSE_CODE:
    if (!info.responseCode().has_value()) {
      return false;
    }
    number = *info.responseCode();
    return true;
  case ENVOYX_ATTRIBUTE_CONNECTION_ID:
    if (!provider.connectionID().has_value()) {
      return false;
    }
    number = static_cast<double>(*provider.connectionID());
    return true;
  case ENVOYX_ATTRIBUTE_TLS_VERSION:
    return ssl != nullptr && text(ssl->tlsVersion());
  case ENVOYX_ATTRIBUTE_TLS_PEER_SUBJECT:
    return ssl != nullptr && !ssl->subjectPeerCertificate().empty() && text(ssl->subjectPeerCertificate());
  case ENVOYX_ATTRIBUTE_TLS_PEER_DNS_SAN:
    return ssl != nullptr && !ssl->dnsSansPeerCertificate().empty() && text(ssl->dnsSansPeerCertificate().front());
  case ENVOYX_ATTRIBUTE_TLS_PEER_URI_SAN:
    return ssl != nullptr && !ssl->uriSanPeerCertificate().empty() && text(ssl->uriSanPeerCertificate().front());
  case ENVOYX_ATTRIBUTE_TLS_PEER_SHA256:
    return ssl != nullptr && !ssl->sha256PeerCertificateDigest().empty() &&
           text(ssl->sha256PeerCertificateDigest());
  default:
    return false;
  }
}

bool EnvoyxFilter::setSpanTag(absl::string_view key, absl::string_view value) {
  if (decoder_callbacks_ == nullptr) {
    return false;
  }
  Tracing::Span& span = decoder_callbacks_->activeSpan();
  if (dynamic_cast<Tracing::NullSpan*>(&span) != nullptr) {
    return false;
  }
  span.setTag(key, value);
  return true;
}

bool EnvoyxFilter::clearRouteCache() {
  if (decoder_callbacks_ == nullptr || !decoder_callbacks_->downstreamCallbacks().has_value()) {
    return false;
  }
  decoder_callbacks_->downstreamCallbacks()->clearRouteCache();
  return true;
}

bool EnvoyxFilter::setUpstreamOverrideHost(absl::string_view host, bool strict) {
  if (decoder_callbacks_ == nullptr) {
    return false;
  }
  decoder_callbacks_->setUpstreamOverrideHost(std::make_pair(std::string(host), strict));
  return true;
}

const envoyx::RouteConfig* EnvoyxFilter::routeConfig() {
  const auto* route =
      Http::Utility::resolveMostSpecificPerFilterConfig<EnvoyxRouteConfig>(decoder_callbacks_);
  return route != nullptr ? &route->core() : nullptr;
}

Http::HeaderMap* EnvoyxFilter::headerMap(envoyx::HeaderMapKind kind) {
  switch (kind) {
  case envoyx::HeaderMapKind::RequestHeaders: {
    auto map = decoder_callbacks_->requestHeaders();
    return map.has_value() ? &map.ref() : nullptr;
  }
  case envoyx::HeaderMapKind::RequestTrailers: {
    auto map = decoder_callbacks_->requestTrailers();
    return map.has_value() ? &map.ref() : nullptr;
  }
  case envoyx::HeaderMapKind::ResponseHeaders: {
    auto map = encoder_callbacks_->responseHeaders();
    return map.has_value() ? &map.ref() : nullptr;
  }
  case envoyx::HeaderMapKind::ResponseTrailers: {
    auto map = encoder_callbacks_->responseTrailers();
    return map.has_value() ? &map.ref() : nullptr;
  }
  }
  return nullptr;
}

Buffer::Instance* EnvoyxFilter::receivedBody(envoyx::BodyKind kind) {
  return isRequest(kind) ? request_received_ : response_received_;
}

const Buffer::Instance* EnvoyxFilter::bufferedBody(envoyx::BodyKind kind) {
  return isRequest(kind) ? decoder_callbacks_->decodingBuffer()
                         : encoder_callbacks_->encodingBuffer();
}

void EnvoyxFilter::modifyBufferedBody(envoyx::BodyKind kind,
                                      std::function<void(Buffer::Instance&)> change) {
  if (isRequest(kind)) {
    decoder_callbacks_->modifyDecodingBuffer(std::move(change));
  } else {
    encoder_callbacks_->modifyEncodingBuffer(std::move(change));
  }
}

// Why actions wait until the call into the core has returned: sendLocalReply, resetStream and
// continueDecoding/Encoding may call back into this filter synchronously (the encoder chain with
// the reply, onStreamComplete, onDestroy, the next decodeData). Such a call is a new call into the
// core, which is allowed once the previous one returned; while it was running it would re-enter a
// stream that is still borrowed. The core has already applied the stream rules (reset over reply
// over continues, no reply once the response started, continues only of stopped directions), so
// each action is carried out as it comes. Carrying one out may destroy the stream (a reset, or a
// reply that ends it): onDestroy() drops token_ and the core's stream, and nothing more is done.
void EnvoyxFilter::carryOutActions() {
  while (token_ != nullptr && stream_.has_value()) {
    const envoyx::NextAction action = (*stream_)->next_action();
    switch (action.kind) {
    case envoyx::ActionKind::None:
      return;
    case envoyx::ActionKind::Reset:
      decoder_callbacks_->resetStream();
      break;
    case envoyx::ActionKind::LocalReply:
      sendLocalReply(action.reply);
      break;
    case envoyx::ActionKind::Continue:
      if (action.direction == envoyx::Direction::Request) {
        decoder_callbacks_->continueDecoding();
      } else {
        encoder_callbacks_->continueEncoding();
      }
      break;
    }
  }
}

void EnvoyxFilter::sendLocalReply(const envoyx::LocalReply& reply) {
  // The core checked the reply: status 200-599, header names lower-case tokens (no
  // pseudo-headers), values without control bytes, details one token.
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(reply.headers.size());
  for (const envoyx::ReplyHeader& header : reply.headers) {
    headers.emplace_back(std::string(toStringView(header.key)),
                         std::string(toStringView(header.value)));
  }
  decoder_callbacks_->sendLocalReply(
      static_cast<Http::Code>(reply.status), toStringView(reply.body),
      [headers = std::move(headers)](Http::ResponseHeaderMap& response_headers) {
        for (const auto& [key, value] : headers) {
          response_headers.addCopy(Http::LowerCaseString(key), value);
        }
      },
      std::nullopt, toStringView(reply.details));
}

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
