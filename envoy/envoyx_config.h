// The filter factory for `envoy.http.dynamic_modules`: turns a DynamicModuleConfig (x/config.proto)
// into the core's filter configuration once, at config time, and installs an EnvoyxFilter on each
// stream. Kept apart from the filter (envoyx_filter.h), as in envoy-filter-example.
//
// A bad config is reported by returning a non-OK status from createFilterFactoryFromProto (Envoy
// rejects the config with its message), not by throwing (envoy/server/filter_config.h,
// NamedHttpFilterConfigFactory, 1.38-1.40). Compiled against those versions' headers by
// ci/envoy-compile-check/.
//
// The factory implements the interface directly instead of deriving from
// Extensions::HttpFilters::Common::FactoryBase: FactoryBase validates through protoc-gen-validate,
// and the core already validates every field of DynamicModuleConfig with messages that name the
// field, so one validator is enough.
#pragma once

#include <string>

#include "envoy/server/filter_config.h"

#include "x/config.pb.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

// Our proto shares its package with upstream's dynamic-modules filter protos but not a message
// name (upstream has DynamicModuleFilter / DynamicModuleFilterPerRoute in this package, and its
// DynamicModuleConfig lives in envoy.extensions.dynamic_modules.v3), nor a file name (ours is
// x/config.proto), so both register in the same descriptor pool.
using DynamicModuleConfigProto =
    envoy::extensions::filters::http::dynamic_modules::v3::DynamicModuleConfig;
using DynamicModuleConfigPerRouteProto =
    envoy::extensions::filters::http::dynamic_modules::v3::DynamicModuleConfigPerRoute;

// The name users write in `http_filters`. Upstream's own filter is
// `envoy.filters.http.dynamic_modules`; the two never collide, and Envoy picks ours by the
// typed_config type URL
// type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleConfig.
inline constexpr char EnvoyxFilterName[] = "envoy.http.dynamic_modules";

class EnvoyxFilterConfigFactory : public Server::Configuration::NamedHttpFilterConfigFactory {
public:
  absl::StatusOr<Http::FilterFactoryCb>
  createFilterFactoryFromProto(const Protobuf::Message& config, const std::string& stat_prefix,
                               Server::Configuration::FactoryContext& context) override;

  ProtobufTypes::MessagePtr createEmptyConfigProto() override {
    return std::make_unique<DynamicModuleConfigProto>();
  }

  // Per-route configuration (ABI 1.1): a DynamicModuleConfigPerRoute under a route's, virtual
  // host's or route configuration's typed_per_filter_config, parsed once by its module.
  ProtobufTypes::MessagePtr createEmptyRouteConfigProto() override {
    return std::make_unique<DynamicModuleConfigPerRouteProto>();
  }
  absl::StatusOr<Router::RouteSpecificFilterConfigConstSharedPtr>
  createRouteSpecificFilterConfig(const Protobuf::Message& config,
                                  Server::Configuration::ServerFactoryContext& context,
                                  ProtobufMessage::ValidationVisitor& validator) override;

  std::string name() const override { return EnvoyxFilterName; }
};

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
