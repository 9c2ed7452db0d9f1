#include "envoy/envoyx_config.h"

#include <cmath>
#include <limits>
#include <memory>
#include <mutex>

#include "envoy/event/dispatcher.h"
#include "envoy/http/async_client.h"
#include "envoy/registry/registry.h"
#include "envoy/runtime/runtime.h"
#include "envoy/upstream/cluster_manager.h"

#include "absl/container/flat_hash_map.h"
#include "abi.h"

#include "envoy/envoyx_callouts.h"
#include "envoy/envoyx_filter.h"
#include "envoy/envoyx_secrets.h"
#include "envoy/envoyx_telemetry.h"

#include "envoyx-loader/src/lib.rs.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

namespace {

// The core logs through one process-wide sink; installing it on the first config is enough and
// keeps a process that never configures the filter free of it.
void installLogSinkOnce() {
  static std::once_flag installed;
  std::call_once(installed, [] { envoyx::set_log_sink(std::make_shared<EnvoyLogSink>()); });
}

// Envoy's runtime for modules (ABI 1.2 runtime_get), from any thread: threadsafeSnapshot() is the
// snapshot a thread without Envoy's thread-local slots (a module's own thread) may read. Envoy
// answers the default for a key it lacks, so a boolean is there when both defaults agree, and a
// number when NaN (which no stored number is) does not come back.
class EnvoyRuntime : public envoyx::Runtime {
public:
  explicit EnvoyRuntime(Runtime::Loader& loader) : loader_(loader) {}

  bool boolean(envoyx::Bytes key, bool& value) const override {
    const auto snapshot = loader_.threadsafeSnapshot();
    const absl::string_view name = envoyx::to_string_view(key);
    const bool when_false = snapshot->getBoolean(name, false);
    if (when_false != snapshot->getBoolean(name, true)) {
      return false;
    }
    value = when_false;
    return true;
  }

  bool number(envoyx::Bytes key, double& value) const override {
    const double found = loader_.threadsafeSnapshot()->getDouble(envoyx::to_string_view(key),
                                                                   std::numeric_limits<double>::quiet_NaN());
    if (std::isnan(found)) {
      return false;
    }
    value = found;
    return true;
  }

private:
  // The server's runtime loader, which outlives every filter configuration.
  Runtime::Loader& loader_;
};

// Installed once, like the log sink: the runtime is the server's, one per process.
void installRuntimeOnce(Runtime::Loader& loader) {
  static std::once_flag installed;
  std::call_once(installed, [&loader] { envoyx::set_runtime(std::make_shared<EnvoyRuntime>(loader)); });
}

// A filter configuration's host on the main thread (ABI 1.1; the loader's envoyx::ConfigHost):
// wakes it for the events a module schedules on the configuration, sends the configuration's
// callouts (whole and streaming) through the cluster manager and registers its metrics. The
// configuration is created after this object, so each posted wake-up and each callout answer
// finds it through `slot`, which they share: filled on the main thread once the configuration
// exists, and read there; an expired or empty slot (the configuration is gone) drops them.
class MainThreadConfigHost : public envoyx::ConfigHost {
public:
  struct Slot {
    std::weak_ptr<const rust::Box<envoyx::FilterConfig>> config;
  };

  // One callout of the configuration in flight; answers go to the configuration, if it lives.
  struct Callout : public Http::AsyncClient::Callbacks {
    Callout(const MainThreadConfigHost& owner, std::uint64_t id) : owner_(owner), id_(id) {}

    void onSuccess(const Http::AsyncClient::Request&, Http::ResponseMessagePtr&& response) override {
      done(ENVOYX_CALLOUT_RESPONSE, response.get());
    }
    void onFailure(const Http::AsyncClient::Request&, Http::AsyncClient::FailureReason reason) override {
      done(reason == Http::AsyncClient::FailureReason::ExceedResponseBufferLimit ? ENVOYX_CALLOUT_TOO_LARGE
                                                                                 : ENVOYX_CALLOUT_RESET,
           nullptr);
    }
    void onBeforeFinalizeUpstreamSpan(Tracing::Span&, const Http::ResponseHeaderMap*) override {}

    void done(std::uint32_t status, Http::ResponseMessage* response) {
      if (!sent_) {
        return; // Answered inside send(): http_callout reports it.
      }
      // Freed when this returns (`response` may live in the request).
      auto self = owner_.take(id_);
      auto config = owner_.slot_->config.lock();
      if (!config) {
        return;
      }
      std::vector<envoyx::RawHeader> headers;
      std::vector<envoyx::RawBytes> chunks;
      calloutViews(response, headers, chunks);
      (*config)->on_callout_done(
          id_, status, rust::Slice<const envoyx::RawHeader>(headers.data(), headers.size()),
          rust::Slice<const envoyx::RawBytes>(chunks.data(), chunks.size()));
    }

    const MainThreadConfigHost& owner_;
    const std::uint64_t id_;
    Http::AsyncClient::Request* request_ = nullptr;
    bool sent_ = false;
  };

  // One streaming callout of the configuration; its news goes to the configuration, if it lives
  // (the core queues itself what arrives during one of the configuration's hooks).
  struct Stream : public CalloutStreamBase {
    Stream(const MainThreadConfigHost& owner, std::uint64_t id) : CalloutStreamBase(id), owner_(owner) {}

    void deliver(std::uint32_t event, std::uint32_t status, rust::Slice<const envoyx::RawHeader> headers,
                 rust::Slice<const envoyx::RawBytes> data, bool end_stream) override {
      // Held to the end of this call: the configuration owns `owner_` (its ConfigHost), so
      // releasing the last reference before retire() would free the host retire() uses.
      const auto config = owner_.slot_->config.lock();
      if (config) {
        (*config)->on_callout_event(id_, event, status, headers, data, end_stream);
      }
      if (event == ENVOYX_CALLOUT_EVENT_COMPLETE || event == ENVOYX_CALLOUT_EVENT_FAILED) {
        owner_.retire(id_);
      }
    }

    const MainThreadConfigHost& owner_;
  };

  MainThreadConfigHost(Event::Dispatcher& main, Upstream::ClusterManager& cluster_manager,
                      EnvoyxMetricsSharedPtr metrics, EnvoyxSecretsSharedPtr secrets)
      : main_(main), cluster_manager_(cluster_manager), metrics_(std::move(metrics)),
        secrets_(std::move(secrets)) {}

  ~MainThreadConfigHost() override {
    for (auto& [id, callout] : callouts_) {
      callout->request_->cancel();
    }
    // Open streaming callouts are reset; the resets Envoy reports inline reach no one.
    for (auto& [id, stream] : streams_) {
      stream->abandon();
      main_.deferredDelete(std::move(stream));
    }
  }

  void wake() const override {
    main_.post([slot = slot_]() {
      if (auto config = slot->config.lock()) {
        (*config)->on_scheduled();
      }
    });
  }

  bool http_callout(std::uint64_t id, envoyx::Bytes cluster_name,
                    rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                    std::uint64_t timeout_ms, std::uint32_t& failure) const override {
    auto callout = std::make_unique<Callout>(*this, id);
    Callout& callbacks = *callout;
    Http::AsyncClient::Request* request = sendCallout(cluster_manager_, cluster_name, headers, body,
                                                      timeout_ms, callbacks, {}, failure);
    if (request == nullptr) {
      return false;
    }
    callbacks.request_ = request;
    callbacks.sent_ = true;
    callouts_.emplace(id, std::move(callout));
    return true;
  }

  bool callout_stream_start(std::uint64_t id, envoyx::Bytes cluster,
                            rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                            bool end_of_stream, std::uint64_t timeout_ms,
                            std::uint32_t& failure) const override {
    auto owned = std::make_unique<Stream>(*this, id);
    Stream& stream = *owned;
    // Registered first: Envoy may report on it (even its end) inside open().
    streams_.emplace(id, std::move(owned));
    if (!stream.open(cluster_manager_, cluster, headers, body, end_of_stream, timeout_ms, {}, failure)) {
      retire(id);
      return false;
    }
    return true;
  }

  bool callout_stream_send(std::uint64_t id, envoyx::Bytes data, bool end_of_stream) const override {
    auto it = streams_.find(id);
    return it != streams_.end() && it->second->send(data, end_of_stream);
  }

  bool callout_stream_send_trailers(std::uint64_t id,
                                    rust::Slice<const envoyx::RawHeader> trailers) const override {
    auto it = streams_.find(id);
    return it != streams_.end() && it->second->sendTrailers(trailers);
  }

  void callout_stream_reset(std::uint64_t id) const override {
    auto it = streams_.find(id);
    if (it != streams_.end()) {
      it->second->abandon();
      retire(id);
    }
  }

  // While the configuration is created (main thread): its module's metrics.
  bool define_metric(std::uint32_t kind, envoyx::Bytes name,
                     rust::Slice<const envoyx::RawBytes> label_names, std::uint64_t& id) const override {
    id = metrics_->define(kind, absl::string_view(reinterpret_cast<const char*>(name.data()), name.size()),
                          label_names);
    return true;
  }

  // While the configuration is created (main thread): the generic secrets it declares.
  bool subscribe_secret(envoyx::Bytes name, envoyx::Bytes sds_config, std::uint64_t& id) const override {
    id = secrets_->subscribe(envoyx::to_string_view(name), envoyx::to_string_view(sds_config));
    return id != 0;
  }

  const std::shared_ptr<Slot>& slot() const { return slot_; }

private:
  // Frees streaming callout `id` after the current dispatcher iteration (Envoy may still call it).
  void retire(std::uint64_t id) const {
    auto it = streams_.find(id);
    if (it == streams_.end()) {
      return;
    }
    std::unique_ptr<Stream> stream = std::move(it->second);
    streams_.erase(it);
    main_.deferredDelete(std::move(stream));
  }

  std::unique_ptr<Callout> take(std::uint64_t id) const {
    auto it = callouts_.find(id);
    if (it == callouts_.end()) {
      return nullptr;
    }
    std::unique_ptr<Callout> callout = std::move(it->second);
    callouts_.erase(it);
    return callout;
  }

  // The main dispatcher and the cluster manager outlive every filter configuration.
  Event::Dispatcher& main_;
  Upstream::ClusterManager& cluster_manager_;
  const EnvoyxMetricsSharedPtr metrics_;
  const EnvoyxSecretsSharedPtr secrets_;
  const std::shared_ptr<Slot> slot_ = std::make_shared<Slot>();
  // Main thread only (callouts start and end there).
  mutable absl::flat_hash_map<std::uint64_t, std::unique_ptr<Callout>> callouts_;
  mutable absl::flat_hash_map<std::uint64_t, std::unique_ptr<Stream>> streams_;
};

// Shares `object`, and deletes it on the main thread whichever thread drops the last reference:
// at once there, else posted to `main`. Every EnvoyxFilter holds its filter configuration and
// Envoy's route tables hold the per-route ones, and both are released on workers (the last
// stream after an LDS/ECDS update, an RDS update); but x/abi.h promises the module's config and
// route-config destroy hooks run on the main thread (and a dlclose runs there), and
// ~MainThreadConfigHost cancels main-thread callouts and defers deletion on the main dispatcher,
// which asserts isThreadSafe() (envoy/event/dispatcher.h). A post Envoy never runs (shutdown)
// deletes the object with the dispatcher, on the main thread.
template <class T>
std::shared_ptr<const T> releasedOnMainThread(Event::Dispatcher& main, std::unique_ptr<const T> object) {
  return std::shared_ptr<const T>(object.release(), [&main](const T* last) {
    std::unique_ptr<const T> owned(last);
    if (!main.isThreadSafe()) {
      main.post([owned = std::move(owned)]() mutable { owned.reset(); });
    }
  });
}

} // namespace

absl::StatusOr<Http::FilterFactoryCb>
EnvoyxFilterConfigFactory::createFilterFactoryFromProto(const Protobuf::Message& config,
                                                        const std::string&,
                                                        Server::Configuration::FactoryContext& context) {
  installLogSinkOnce();
  envoyx::set_worker_count(context.serverFactoryContext().options().concurrency());
  installRuntimeOnce(context.serverFactoryContext().runtime());
  // Envoy parsed typed_config into the message createEmptyConfigProto() returned, so this cast
  // cannot fail for configs Envoy hands us.
  const auto& typed = dynamic_cast<const DynamicModuleConfigProto&>(config);
  // The core takes the wire form: the same bytes the stock-Envoy host and the tests feed it, so
  // every host parses and validates a config with one implementation.
  std::string bytes;
  if (!typed.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError("EnvoyX config: cannot serialize DynamicModuleConfig");
  }
  auto metrics = std::make_shared<EnvoyxMetrics>(context.scope());
  auto secrets = std::make_shared<EnvoyxSecrets>(context.serverFactoryContext(), context.initManager());
  Event::Dispatcher& main = context.serverFactoryContext().mainThreadDispatcher();
  auto background = std::make_shared<MainThreadConfigHost>(
      main, context.serverFactoryContext().clusterManager(), metrics, secrets);
  CoreFilterConfigSharedPtr core_config;
  try {
    core_config = releasedOnMainThread(
        main, std::make_unique<const rust::Box<envoyx::FilterConfig>>(envoyx::filter_config_from_proto(
                  rust::Slice<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                             bytes.size()),
                  background)));
    background->slot()->config = core_config;
  } catch (const rust::Error& e) {
    // The core's message already names the file or the field and the reason, e.g.
    // "EnvoyX module /opt/m/libauth.so: missing symbol `envoyx_on_stream_destroy` ...".
    return absl::InvalidArgumentError(e.what());
  }
  Upstream::ClusterManager& cluster_manager = context.serverFactoryContext().clusterManager();
  return [core_config, &cluster_manager, metrics, secrets](Http::FilterChainFactoryCallbacks& callbacks) {
    callbacks.addStreamFilter(
        std::make_shared<EnvoyxFilter>(core_config, &cluster_manager, metrics, secrets));
  };
}

absl::StatusOr<Router::RouteSpecificFilterConfigConstSharedPtr>
EnvoyxFilterConfigFactory::createRouteSpecificFilterConfig(
    const Protobuf::Message& config, Server::Configuration::ServerFactoryContext& context,
    ProtobufMessage::ValidationVisitor&) {
  installLogSinkOnce();
  const auto& typed = dynamic_cast<const DynamicModuleConfigPerRouteProto&>(config);
  std::string bytes;
  if (!typed.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError("EnvoyX config: cannot serialize DynamicModuleConfigPerRoute");
  }
  try {
    // Released on the main thread: route tables are dropped on workers after an RDS update, and
    // the module's route-config destroy hook must run on the main thread (Envoy 1.40.0 fixed the
    // same in its own dynamic-modules filter).
    return releasedOnMainThread<EnvoyxRouteConfig>(
        context.mainThreadDispatcher(),
        std::make_unique<const EnvoyxRouteConfig>(envoyx::route_config_from_proto(
            rust::Slice<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()))));
  } catch (const rust::Error& e) {
    // Names the module and the reason, e.g. "... per-route config `x` rejected by the module: ...".
    return absl::InvalidArgumentError(e.what());
  }
}

REGISTER_FACTORY(EnvoyxFilterConfigFactory, Server::Configuration::NamedHttpFilterConfigFactory);

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
