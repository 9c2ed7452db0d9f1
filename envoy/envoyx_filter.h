// The EnvoyX HTTP filter: one per stream, mapping Envoy's stream onto the loader's
// envoyx::StreamHost so that the core (and through it the module) sees Envoy's own header maps
// and body slices, and carrying out the actions the core returns after each call (reset, local
// reply, continue). The logic, every stream rule and every argument check, lives in the core;
// these files only translate. Here: the filter (envoyx_filter.cc), its scheduler and the
// per-route configuration. Elsewhere: the envoyx::StreamHost adapter (envoyx_stream_host.{h,cc},
// its stream-info primitives in envoyx_stream_info.cc), callouts (envoyx_callouts.{h,cc}),
// logs and metrics (envoyx_telemetry.{h,cc}), the byte conversions (envoyx_bytes.h).
//
// Compiled (syntax and types, not linked) against Envoy 1.38.3, 1.39.0 and 1.40-dev headers by
// ci/envoy-compile-check/ (docs/verification.md names the commits and compilers); where the
// versions differ, the code says which header line decides the shape.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "envoy/event/dispatcher.h"
#include "envoy/http/filter.h"
#include "envoy/http/async_client.h"
#include "envoy/router/router.h"
#include "envoy/upstream/cluster_manager.h"

#include "absl/container/flat_hash_map.h"

#include "source/common/common/logger.h"
#include "source/extensions/filters/http/common/pass_through_filter.h"

#include "envoyx-loader/src/lib.rs.h"

#include "envoy/envoyx_callouts.h"
#include "envoy/envoyx_secrets.h"
#include "envoy/envoyx_telemetry.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

// The core's filter configuration, shared by every stream on every worker (the core made it
// Sync). rust::Box is move-only, so the factory holds it behind a shared_ptr.
using CoreFilterConfigSharedPtr = std::shared_ptr<const rust::Box<envoyx::FilterConfig>>;

// A per-route configuration (DynamicModuleConfigPerRoute, ABI 1.1) as Envoy's route table holds
// it: the core's, made once when the routes are loaded (envoyx_config.cc).
class EnvoyxRouteConfig : public Router::RouteSpecificFilterConfig {
public:
  explicit EnvoyxRouteConfig(rust::Box<envoyx::RouteConfig> config) : config_(std::move(config)) {}
  const envoyx::RouteConfig& core() const { return *config_; }

private:
  const rust::Box<envoyx::RouteConfig> config_;
};

class EnvoyxFilter;

// What a posted continue holds on to: a weak_ptr to this token. The filter drops the token in
// onDestroy(), so a continue that reaches the worker after the stream was reset or destroyed
// finds nothing and is dropped. Both the drop and the lock happen on the worker thread.
struct StreamToken {
  explicit StreamToken(EnvoyxFilter& filter) : filter(filter) {}
  EnvoyxFilter& filter;
};

// envoyx::Scheduler over the worker's dispatcher. wake() may run on any thread (a module's own
// thread); Event::Dispatcher::post is Envoy's thread-safe way onto the worker.
class DispatcherScheduler : public envoyx::Scheduler {
public:
  DispatcherScheduler(Event::Dispatcher& dispatcher, std::weak_ptr<StreamToken> token)
      : dispatcher_(dispatcher), token_(std::move(token)) {}
  void wake() const override;
  // Posts one onScheduled() of the filter behind `token` to `dispatcher`; dropped if the token
  // is gone by then.
  static void post(Event::Dispatcher& dispatcher, std::weak_ptr<StreamToken> token);

private:
  // The worker's dispatcher outlives every stream on it; a module thread that posts after Envoy
  // has shut its workers down is outside what this host can guard (see envoy/README.md).
  Event::Dispatcher& dispatcher_;
  const std::weak_ptr<StreamToken> token_;
};

class EnvoyxFilter : public Http::PassThroughFilter,
                     public Http::DownstreamWatermarkCallbacks,
                     Logger::Loggable<Logger::Id::dynamic_modules> {
public:
  // `cluster_manager` sends the module's callouts; without one (unit tests) none can start.
  explicit EnvoyxFilter(CoreFilterConfigSharedPtr config,
                        Upstream::ClusterManager* cluster_manager = nullptr,
                        EnvoyxMetricsSharedPtr metrics = nullptr, EnvoyxSecretsSharedPtr secrets = nullptr)
      : config_(std::move(config)), cluster_manager_(cluster_manager), metrics_(std::move(metrics)),
        secrets_(std::move(secrets)) {}

  // Http::StreamDecoderFilter
  void setDecoderFilterCallbacks(Http::StreamDecoderFilterCallbacks& callbacks) override;
  Http::FilterHeadersStatus decodeHeaders(Http::RequestHeaderMap& headers,
                                          bool end_stream) override;
  Http::FilterDataStatus decodeData(Buffer::Instance& data, bool end_stream) override;
  Http::FilterTrailersStatus decodeTrailers(Http::RequestTrailerMap& trailers) override;

  // Http::StreamEncoderFilter
  Http::FilterHeadersStatus encodeHeaders(Http::ResponseHeaderMap& headers,
                                          bool end_stream) override;
  Http::FilterDataStatus encodeData(Buffer::Instance& data, bool end_stream) override;
  Http::FilterTrailersStatus encodeTrailers(Http::ResponseTrailerMap& trailers) override;

  // Http::StreamFilterBase
  // A local reply is being made on the stream (ABI 1.2 envoyx_on_stream_local_reply): the module
  // may have the stream reset instead.
  Http::LocalErrorStatus onLocalReply(const LocalReplyData& data) override;
  void onStreamComplete() override;
  void onDestroy() override;

  // Http::DownstreamWatermarkCallbacks: the client reads slower than the response comes (ABI
  // 1.2 envoyx_on_stream_watermark); the core queues the changes for the module.
  void onAboveWriteBufferHighWatermark() override { watermark(true); }
  void onBelowWriteBufferLowWatermark() override { watermark(false); }

  // A wake-up posted through DispatcherScheduler (a continue or an event the module queued),
  // now on the worker thread.
  void onScheduled();

  // --- What EnvoyStreamHost (the envoyx::StreamHost) reaches through. ---
  Http::HeaderMap* headerMap(envoyx::HeaderMapKind kind);
  // The chunk the current hook carries (null outside decodeData/encodeData).
  Buffer::Instance* receivedBody(envoyx::BodyKind kind);
  // What Envoy buffered for this filter (null when nothing is buffered).
  const Buffer::Instance* bufferedBody(envoyx::BodyKind kind);
  // Runs `change` on the buffered body through Envoy's modify{De,En}codingBuffer.
  void modifyBufferedBody(envoyx::BodyKind kind, std::function<void(Buffer::Instance&)> change);
  // Starts the module's callout `id` (see loader.h StreamHost::http_callout).
  bool startCallout(std::uint64_t id, envoyx::Bytes cluster,
                    rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                    std::uint64_t timeout_ms, rust::Box<envoyx::CalloutInbox> inbox,
                    std::uint32_t& failure);
  // A callout's answer (from EnvoyxCallout), handed to the core; the callout is then freed.
  void calloutDone(std::uint64_t id, std::uint32_t status, Http::ResponseMessage* response);
  // Empty trailers for a direction that has none (loader.h StreamHost::trailers_add; the core
  // allows it only inside that direction's last decodeData/encodeData, where Envoy's
  // addDecodedTrailers/addEncodedTrailers work). True when the direction has trailers now.
  bool addTrailers(envoyx::HeaderMapKind kind);
  // The module's streaming callouts (see loader.h StreamHost::callout_stream_*).
  bool startCalloutStream(std::uint64_t id, envoyx::Bytes cluster,
                          rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                          bool end_stream, std::uint64_t timeout_ms,
                          rust::Box<envoyx::CalloutInbox> inbox, std::uint32_t& failure);
  bool sendCalloutStreamData(std::uint64_t id, envoyx::Bytes data, bool end_stream);
  bool sendCalloutStreamTrailers(std::uint64_t id, rust::Slice<const envoyx::RawHeader> trailers);
  void resetCalloutStream(std::uint64_t id);
  // Envoy's decoder callbacks (null until Envoy sets them): EnvoyStreamHost reaches the stream's
  // info, metadata, filter state, routing and span through them (envoyx_stream_info.cc).
  Http::StreamDecoderFilterCallbacks* decoderCallbacks() { return decoder_callbacks_; }
  // The configuration's generic secrets (null in unit tests without any).
  const EnvoyxSecrets* secrets() const { return secrets_.get(); }
  // Records on the configuration's metric `id` (see loader.h StreamHost::metric_record).
  bool recordMetric(std::uint64_t id, std::uint32_t op, rust::Slice<const envoyx::RawBytes> label_values,
                    std::uint64_t value) {
    return metrics_ != nullptr && metrics_->record(id, op, label_values, value);
  }
  // News of a streaming callout (from EnvoyxCalloutStream): to the core now, or to the callout's
  // inbox during a call into the core (Envoy answering inline); after the last event the
  // callout is freed.
  void calloutStreamEvent(EnvoyxCalloutStream& callout, std::uint32_t event, std::uint32_t status,
                          rust::Slice<const envoyx::RawHeader> headers,
                          rust::Slice<const envoyx::RawBytes> data, bool end_stream);

private:
  // The options of this stream's callouts: its active span as their parent (a child span per
  // callout, as Envoy's own ext_authz does) and its stream info as their parent context.
  Http::AsyncClient::StreamOptions calloutOptions();
  // Calls into the core with the re-entrancy guard up; once the call has returned, carries out
  // the actions the core decided on. Returns `fallback` when there is no stream or the core
  // refuses the event.
  template <class Status, class Call> Status deliver(const char* event, Status fallback, Call call);
  // Takes the core's actions (Stream::next_action) one at a time and carries each out in Envoy,
  // until there are none or the filter was destroyed by one of them (see envoyx_filter.cc).
  void carryOutActions();
  void sendLocalReply(const envoyx::LocalReply& reply);
  void watermark(bool above);
  // The parts of the module's own response (ABI 1.2 send_response_*), in the order the core
  // returns them; each goes from the decoder side down the encoder filters before this one.
  void sendModuleResponseHeaders(const envoyx::LocalReply& reply, bool end_of_stream);
  void sendModuleResponseData(const envoyx::LocalReply& reply, bool end_of_stream);
  void sendModuleResponseTrailers(const envoyx::LocalReply& reply);
  // recreate_stream (ABI 1.2): Envoy's recreateStream with the module's response headers.
  void startOver(const envoyx::LocalReply& reply);

  const CoreFilterConfigSharedPtr config_;
  Upstream::ClusterManager* const cluster_manager_;
  const EnvoyxMetricsSharedPtr metrics_;
  const EnvoyxSecretsSharedPtr secrets_;
  // Callouts in flight, by the core's id; cancelled in onDestroy().
  absl::flat_hash_map<std::uint64_t, std::unique_ptr<EnvoyxCallout>> callouts_;
  // Streaming callouts open, by the core's id; reset in onDestroy().
  absl::flat_hash_map<std::uint64_t, std::unique_ptr<EnvoyxCalloutStream>> callout_streams_;
  // Frees a streaming callout after the current dispatcher iteration.
  void retire(std::unique_ptr<EnvoyxCalloutStream> callout);
  std::optional<rust::Box<envoyx::Stream>> stream_;
  // Dropped in onDestroy(): posted continues and the action loop check it.
  std::shared_ptr<StreamToken> token_;

  // Set only while a call into the core is on the stack. The core's host calls are primitives
  // and its actions are carried out after the call returns, so Envoy has no reason to call this
  // filter then; should it, the nested call must not reach the core, whose stream is borrowed.
  // (An event Envoy delivers while an action is being carried out, e.g. a local reply running
  // the encoder chain, comes after the core returned: it is a new call and goes through.)
  bool in_core_call_{false};
  Buffer::Instance* request_received_{nullptr};
  Buffer::Instance* response_received_{nullptr};
};

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
