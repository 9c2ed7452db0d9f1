#include "envoy/envoyx_config.h"

#include <memory>
#include <mutex>

#include "envoy/registry/registry.h"

#include "envoy/envoyx_filter.h"

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

// Wakes Envoy's main thread for the events a module schedules on its filter configuration (ABI
// 1.1). The configuration is created after this scheduler, so each posted wake-up finds it
// through `slot`, which it shares: filled on the main thread once the configuration exists, and
// read there; an expired or empty slot (the configuration is gone) drops the wake-up.
class MainThreadScheduler : public envoyx::Scheduler {
public:
  struct Slot {
    std::weak_ptr<const rust::Box<envoyx::FilterConfig>> config;
  };

  explicit MainThreadScheduler(Event::Dispatcher& main) : main_(main) {}

  void wake() const override {
    main_.post([slot = slot_]() {
      if (auto config = slot->config.lock()) {
        (*config)->on_scheduled();
      }
    });
  }

  const std::shared_ptr<Slot>& slot() const { return slot_; }

private:
  // The main dispatcher outlives every filter configuration.
  Event::Dispatcher& main_;
  const std::shared_ptr<Slot> slot_ = std::make_shared<Slot>();
};

} // namespace

absl::StatusOr<Http::FilterFactoryCb>
EnvoyxFilterConfigFactory::createFilterFactoryFromProto(const Protobuf::Message& config,
                                                        const std::string&,
                                                        Server::Configuration::FactoryContext& context) {
  installLogSinkOnce();
  // Envoy parsed typed_config into the message createEmptyConfigProto() returned, so this cast
  // cannot fail for configs Envoy hands us.
  const auto& typed = dynamic_cast<const DynamicModuleConfigProto&>(config);
  // The core takes the wire form: the same bytes the stock-Envoy host and the tests feed it, so
  // every host parses and validates a config with one implementation.
  std::string bytes;
  if (!typed.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError("EnvoyX config: cannot serialize DynamicModuleConfig");
  }
  auto background =
      std::make_shared<MainThreadScheduler>(context.serverFactoryContext().mainThreadDispatcher());
  CoreFilterConfigSharedPtr core_config;
  try {
    core_config = std::make_shared<const rust::Box<envoyx::FilterConfig>>(
        envoyx::filter_config_from_proto(
            rust::Slice<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()),
                                       bytes.size()),
            background));
    background->slot()->config = core_config;
  } catch (const rust::Error& e) {
    // The core's message already names the file or the field and the reason, e.g.
    // "EnvoyX module /opt/m/libauth.so: missing symbol `envoyx_on_stream_destroy` ...".
    return absl::InvalidArgumentError(e.what());
  }
  Upstream::ClusterManager& cluster_manager = context.serverFactoryContext().clusterManager();
  return [core_config, &cluster_manager](Http::FilterChainFactoryCallbacks& callbacks) {
    callbacks.addStreamFilter(std::make_shared<EnvoyxFilter>(core_config, &cluster_manager));
  };
}

absl::StatusOr<Router::RouteSpecificFilterConfigConstSharedPtr>
EnvoyxFilterConfigFactory::createRouteSpecificFilterConfig(
    const Protobuf::Message& config, Server::Configuration::ServerFactoryContext&,
    ProtobufMessage::ValidationVisitor&) {
  installLogSinkOnce();
  const auto& typed = dynamic_cast<const DynamicModuleConfigPerRouteProto&>(config);
  std::string bytes;
  if (!typed.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError("EnvoyX config: cannot serialize DynamicModuleConfigPerRoute");
  }
  try {
    return std::make_shared<const EnvoyxRouteConfig>(envoyx::route_config_from_proto(
        rust::Slice<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())));
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
