// The filter's primitives over what Envoy knows of the stream (envoyx_filter.h, called through
// EnvoyStreamHost): dynamic metadata (and the route's and cluster's), filter state, the stream's
// attributes (addresses, protocol, TLS, ...), span tags, the route cache, the upstream host
// override and the per-route configuration.
#include "envoy/envoyx_filter.h"

#include <memory>
#include <string>
#include <utility>

#include "source/common/http/utility.h"
#include "source/common/router/string_accessor_impl.h"
#include "source/common/tracing/null_span_impl.h"

#include "abi.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

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

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
