// EnvoyStreamHost's primitives over what Envoy knows of the stream (envoyx_stream_host.h), through
// the filter's decoder callbacks (null only before Envoy set them): dynamic metadata (and the
// route's and cluster's), filter state, the stream's attributes (addresses, protocol, TLS, ...),
// span tags, the route cache, the upstream host override, the worker index and the per-route
// configuration.
#include "envoy/envoyx_stream_host.h"

#include <memory>
#include <string>
#include <utility>

#include "envoy/registry/registry.h"
#include "envoy/stream_info/filter_state.h"

#include "source/common/http/utility.h"

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "source/common/router/string_accessor_impl.h"
#include "source/common/tracing/null_span_impl.h"

#include "abi.h"

#include "envoy/envoyx_bytes.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

namespace {

// Sets `key` read-only, on every supported Envoy from one source: 1.38's
// FilterState::setData(name, data, StateType, life_span, sharing) requires a StateType
// (envoy/stream_info/filter_state.h:164 at 1.38.3); 1.39 removed StateType and every object is
// read-only (setData(name, data, life_span, sharing), filter_state.h:156 at 1.40). Templated on
// the type so that only the branch of the version compiled against is instantiated.
template <class State>
void setReadOnlyData(State& state, absl::string_view key,
                     std::shared_ptr<StreamInfo::FilterState::Object> data) {
  if constexpr (requires { typename State::StateType; }) {
    state.setData(key, std::move(data), State::StateType::ReadOnly);
  } else {
    state.setData(key, std::move(data));
  }
}

} // namespace

bool EnvoyStreamHost::metadata_set(envoyx::Bytes ns, envoyx::Bytes key, std::uint32_t kind,
                                   envoyx::Bytes string, double number, bool boolean) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  Protobuf::Struct fields;
  Protobuf::Value& value = (*fields.mutable_fields())[std::string(toStringView(key))];
  switch (kind) {
  case ENVOYX_VALUE_STRING:
    value.set_string_value(std::string(toStringView(string)));
    break;
  case ENVOYX_VALUE_NUMBER:
    value.set_number_value(number);
    break;
  default:
    value.set_bool_value(boolean);
  }
  // Merges into the namespace: other keys stay.
  callbacks->streamInfo().setDynamicMetadata(std::string(toStringView(ns)), fields);
  return true;
}

const envoy::config::core::v3::Metadata* EnvoyStreamHost::metadataOf(std::uint32_t source) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return nullptr;
  }
  const envoy::config::core::v3::Metadata* metadata = nullptr;
  if (source == ENVOYX_METADATA_DYNAMIC) {
    metadata = &callbacks->streamInfo().dynamicMetadata();
  } else if (source == ENVOYX_METADATA_ROUTE) {
    // route() and clusterInfo() are OptRef (envoy/http/filter.h:434,448 in 1.38.3).
    if (const auto route = callbacks->route(); route.has_value()) {
      metadata = &route->metadata();
    }
  } else if (source == ENVOYX_METADATA_CLUSTER) {
    if (const auto cluster = callbacks->clusterInfo(); cluster.has_value()) {
      metadata = &cluster->metadata();
    }
  } else if (source == ENVOYX_METADATA_HOST || source == ENVOYX_METADATA_HOST_LOCALITY) {
    // The chosen upstream host's (or its locality's) metadata, a shared_ptr kept alive below for
    // as long as the view is read in this call.
    const auto upstream = callbacks->streamInfo().upstreamInfo();
    const auto host = upstream.has_value() ? upstream->upstreamHost() : nullptr;
    if (host != nullptr) {
      host_metadata_ = source == ENVOYX_METADATA_HOST ? host->metadata() : host->localityMetadata();
      metadata = host_metadata_.get();
    }
  }
  return metadata;
}

bool EnvoyStreamHost::metadata_set_struct(envoyx::Bytes ns, envoyx::Bytes encoded) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  Protobuf::Struct fields;
  if (!fields.ParseFromString(std::string(toStringView(encoded)))) {
    return false;
  }
  // Merges into the namespace: other keys stay.
  callbacks->streamInfo().setDynamicMetadata(std::string(toStringView(ns)), fields);
  return true;
}

bool EnvoyStreamHost::secret_get(std::uint64_t id, envoyx::RawBytes& value) {
  const EnvoyxSecrets* secrets = filter_.secrets();
  const std::string* secret = secrets == nullptr ? nullptr : secrets->value(id);
  if (secret == nullptr) {
    return false;
  }
  // This worker's copy: an SDS rotation replaces it between this worker's events, so the view
  // holds until the hook returns.
  value = envoyx::to_raw_bytes(*secret);
  return true;
}

bool EnvoyStreamHost::metadata_set_typed(envoyx::Bytes ns, envoyx::Bytes any) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  Protobuf::Any typed;
  if (!typed.ParseFromString(std::string(toStringView(any)))) {
    return false;
  }
  // Replaces the namespace's Any (typed_filter_metadata holds one message per namespace).
  callbacks->streamInfo().setDynamicTypedMetadata(std::string(toStringView(ns)), typed);
  return true;
}

bool EnvoyStreamHost::metadata_typed(std::uint32_t source, envoyx::Bytes ns, envoyx::RawBytes& type_url,
                                     envoyx::RawBytes& value) {
  const envoy::config::core::v3::Metadata* metadata = metadataOf(source);
  if (metadata == nullptr) {
    return false;
  }
  const auto any = metadata->typed_filter_metadata().find(std::string(toStringView(ns)));
  if (any == metadata->typed_filter_metadata().end()) {
    return false;
  }
  type_url = envoyx::to_raw_bytes(any->second.type_url());
  value = envoyx::to_raw_bytes(any->second.value());
  return true;
}

std::size_t EnvoyStreamHost::metadata_names(std::uint32_t source, envoyx::Bytes ns, bool keys,
                                            rust::Slice<envoyx::RawBytes> out) {
  const envoy::config::core::v3::Metadata* metadata = metadataOf(source);
  if (metadata == nullptr) {
    return 0;
  }
  std::size_t total = 0;
  const auto add = [&](const std::string& name) {
    if (total < out.size()) {
      out[total] = envoyx::to_raw_bytes(name);
    }
    ++total;
  };
  if (!keys) {
    for (const auto& [name, fields] : metadata->filter_metadata()) {
      add(name);
    }
    return total;
  }
  const auto space = metadata->filter_metadata().find(std::string(toStringView(ns)));
  if (space != metadata->filter_metadata().end()) {
    for (const auto& [name, value] : space->second.fields()) {
      add(name);
    }
  }
  return total;
}

bool EnvoyStreamHost::metadata_get(std::uint32_t source, envoyx::Bytes ns, envoyx::Bytes key,
                                   std::uint32_t kind, envoyx::RawBytes& string, double& number,
                                   bool& boolean) {
  const envoy::config::core::v3::Metadata* metadata = metadataOf(source);
  if (metadata == nullptr) {
    return false;
  }
  const auto space = metadata->filter_metadata().find(std::string(toStringView(ns)));
  if (space == metadata->filter_metadata().end()) {
    return false;
  }
  const auto field = space->second.fields().find(std::string(toStringView(key)));
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

bool EnvoyStreamHost::filter_state_set(envoyx::Bytes key, envoyx::Bytes value) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  setReadOnlyData(*callbacks->streamInfo().filterState(), toStringView(key),
                  std::make_shared<Router::StringAccessorImpl>(toStringView(value)));
  return true;
}

bool EnvoyStreamHost::filter_state_get(envoyx::Bytes key, envoyx::RawBytes& value) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  const auto* state =
      callbacks->streamInfo().filterState()->getDataReadOnly<Router::StringAccessor>(
          toStringView(key));
  if (state == nullptr) {
    return false;
  }
  value = envoyx::to_raw_bytes(state->asString());
  return true;
}

bool EnvoyStreamHost::filter_state_set_typed(envoyx::Bytes key, envoyx::Bytes value) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  // The object factory registered under the key's name makes the object (as Envoy's
  // set_filter_state filter does with `factory_key`).
  const std::string name(toStringView(key));
  auto* factory = Registry::FactoryRegistry<StreamInfo::FilterState::ObjectFactory>::getFactory(name);
  if (factory == nullptr) {
    return false;
  }
  auto object = factory->createFromBytes(toStringView(value));
  if (object == nullptr) {
    return false;
  }
  callbacks->streamInfo().filterState()->setData(name, std::move(object),
                                                 StreamInfo::FilterState::StateType::ReadOnly,
                                                 StreamInfo::FilterState::LifeSpan::Request);
  return true;
}

bool EnvoyStreamHost::filter_state_serialized(envoyx::Bytes key, envoyx::RawBytes& value) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  const auto* object =
      callbacks->streamInfo().filterState()->getDataReadOnlyGeneric(toStringView(key));
  if (object == nullptr) {
    return false;
  }
  auto serialized = object->serializeAsString();
  if (!serialized.has_value()) {
    return false;
  }
  filter_state_text_ = std::move(*serialized);
  value = envoyx::to_raw_bytes(filter_state_text_);
  return true;
}

bool EnvoyStreamHost::filter_state_exists(envoyx::Bytes key) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  // Any object of any type, this stream's or its connection's (envoy/stream_info/filter_state.h:
  // hasDataWithName); without callbacks nothing can be set, so report it taken.
  return callbacks == nullptr ||
         callbacks->streamInfo().filterState()->hasDataWithName(toStringView(key));
}

std::size_t EnvoyStreamHost::upstream_hosts_attempted(rust::Slice<envoyx::RawBytes> out) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return 0;
  }
  const auto upstream = callbacks->streamInfo().upstreamInfo();
  if (!upstream.has_value()) {
    return 0;
  }
  // Each attempted host's address as a string, kept here so the views last the hook.
  hosts_attempted_text_.clear();
  for (const auto& host : upstream->upstreamHostsAttempted()) {
    if (host != nullptr && host->address() != nullptr) {
      hosts_attempted_text_.push_back(host->address()->asString());
    }
  }
  for (std::size_t i = 0; i < hosts_attempted_text_.size() && i < out.size(); ++i) {
    out[i] = envoyx::to_raw_bytes(hosts_attempted_text_[i]);
  }
  return hosts_attempted_text_.size();
}

bool EnvoyStreamHost::timing_get(std::uint32_t timing, std::int64_t& ns) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  const StreamInfo::StreamInfo& info = callbacks->streamInfo();
  if (timing == ENVOYX_TIMING_START_UNIX) {
    ns = std::chrono::duration_cast<std::chrono::nanoseconds>(info.startTime().time_since_epoch()).count();
    return true;
  }
  // Every other moment is an offset from the stream's monotonic start, when Envoy recorded it.
  const auto offset = [&](const absl::optional<MonotonicTime>& at) {
    if (!at.has_value()) {
      return false;
    }
    ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*at - info.startTimeMonotonic()).count();
    return true;
  };
  if (timing == ENVOYX_TIMING_REQUEST_COMPLETE) {
    const auto complete = info.requestComplete();
    if (!complete.has_value()) {
      return false;
    }
    ns = complete->count();
    return true;
  }
  if (const auto downstream = info.downstreamTiming(); downstream.has_value()) {
    switch (timing) {
    case ENVOYX_TIMING_DOWNSTREAM_HANDSHAKE_COMPLETE:
      return offset(downstream->downstreamHandshakeComplete());
    case ENVOYX_TIMING_LAST_DOWNSTREAM_HEADER_RX:
      return offset(downstream->lastDownstreamHeaderRxByteReceived());
    case ENVOYX_TIMING_LAST_DOWNSTREAM_RX:
      return offset(downstream->lastDownstreamRxByteReceived());
    case ENVOYX_TIMING_FIRST_DOWNSTREAM_TX:
      return offset(downstream->firstDownstreamTxByteSent());
    case ENVOYX_TIMING_LAST_DOWNSTREAM_TX:
      return offset(downstream->lastDownstreamTxByteSent());
    case ENVOYX_TIMING_LAST_DOWNSTREAM_ACK:
      return offset(downstream->lastDownstreamAckReceived());
    default:
      break;
    }
  }
  const auto upstream_info = info.upstreamInfo();
  if (upstream_info == nullptr) {
    return false;
  }
  const StreamInfo::UpstreamTiming& upstream = upstream_info->upstreamTiming();
  switch (timing) {
  case ENVOYX_TIMING_UPSTREAM_CONNECT_START:
    return offset(upstream.upstream_connect_start_);
  case ENVOYX_TIMING_UPSTREAM_CONNECT_COMPLETE:
    return offset(upstream.upstream_connect_complete_);
  case ENVOYX_TIMING_UPSTREAM_HANDSHAKE_COMPLETE:
    return offset(upstream.upstream_handshake_complete_);
  case ENVOYX_TIMING_FIRST_UPSTREAM_TX:
    return offset(upstream.first_upstream_tx_byte_sent_);
  case ENVOYX_TIMING_LAST_UPSTREAM_TX:
    return offset(upstream.last_upstream_tx_byte_sent_);
  case ENVOYX_TIMING_FIRST_UPSTREAM_RX:
    return offset(upstream.first_upstream_rx_byte_received_);
  case ENVOYX_TIMING_LAST_UPSTREAM_RX:
    return offset(upstream.last_upstream_rx_byte_received_);
  default:
    // The connection's begin, its TLS handshake's start, its end and the first body byte: not
    // served by this build yet.
    return false;
  }
}

bool EnvoyStreamHost::attribute_get(std::uint32_t attribute, envoyx::RawBytes& string, double& number) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  const StreamInfo::StreamInfo& info = callbacks->streamInfo();
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
  // The const upstreamInfo() is an OptRef (envoy/stream_info/stream_info.h:850 in 1.38.3).
  const auto upstream = info.upstreamInfo();
  const auto upstream_host = upstream.has_value() ? upstream->upstreamHost() : nullptr;
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
    const auto cluster = callbacks->clusterInfo();
    return cluster.has_value() && text(cluster->name());
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
    return moreAttribute(attribute, string, number);
  }
}

// ABI 1.2's attributes: the request line from the request headers, sizes, details and flags,
// both sides' TLS, the upstream connection. A boolean comes back as the number 0 or 1 (loader.h).
// What this switch lacks (total sizes, gRPC status, listener direction, virtual host and filter
// chain names) is absent here.
bool EnvoyStreamHost::moreAttribute(std::uint32_t attribute, envoyx::RawBytes& string, double& number) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  const StreamInfo::StreamInfo& info = callbacks->streamInfo();
  const auto text = [&string](absl::string_view value) {
    string = envoyx::to_raw_bytes(value);
    return !value.empty();
  };
  const auto count = [&number](std::uint64_t value) {
    number = static_cast<double>(value);
    return true;
  };
  const auto* request = static_cast<const Http::RequestHeaderMap*>(filter_.headerMap(envoyx::HeaderMapKind::RequestHeaders));
  const auto header = [&](const Http::LowerCaseString& name) {
    if (request == nullptr) {
      return false;
    }
    const auto values = request->get(name);
    return !values.empty() && text(values[0]->value().getStringView());
  };
  const absl::string_view path = request != nullptr ? request->getPathValue() : absl::string_view();
  const auto& provider = info.downstreamAddressProvider();
  const Ssl::ConnectionInfoConstSharedPtr ssl = provider.sslConnection();
  const auto upstream = info.upstreamInfo();
  const Ssl::ConnectionInfoConstSharedPtr upstream_ssl =
      upstream.has_value() ? upstream->upstreamSslConnection() : nullptr;
  const auto upstream_host = upstream.has_value() ? upstream->upstreamHost() : nullptr;
  switch (attribute) {
  case ENVOYX_ATTRIBUTE_REQUEST_PATH:
    return text(path);
  case ENVOYX_ATTRIBUTE_REQUEST_URL_PATH:
    return text(path.substr(0, path.find('?')));
  case ENVOYX_ATTRIBUTE_REQUEST_QUERY:
    return path.find('?') != absl::string_view::npos && text(path.substr(path.find('?') + 1));
  case ENVOYX_ATTRIBUTE_REQUEST_HOST:
    return request != nullptr && text(request->getHostValue());
  case ENVOYX_ATTRIBUTE_REQUEST_SCHEME:
    return request != nullptr && text(request->getSchemeValue());
  case ENVOYX_ATTRIBUTE_REQUEST_METHOD:
    return request != nullptr && text(request->getMethodValue());
  case ENVOYX_ATTRIBUTE_REQUEST_REFERER:
    return header(Http::CustomHeaders::get().Referer);
  case ENVOYX_ATTRIBUTE_REQUEST_USER_AGENT:
    return header(Http::Headers::get().UserAgent);
  case ENVOYX_ATTRIBUTE_REQUEST_SIZE:
    return count(info.bytesReceived());
  case ENVOYX_ATTRIBUTE_RESPONSE_SIZE:
    return count(info.bytesSent());
  case ENVOYX_ATTRIBUTE_RESPONSE_CODE_DETAILS:
    return info.responseCodeDetails().has_value() && text(*info.responseCodeDetails());
  case ENVOYX_ATTRIBUTE_RESPONSE_FLAGS:
    return count(info.legacyResponseFlags());
  case ENVOYX_ATTRIBUTE_CONNECTION_MTLS:
    return ssl != nullptr && count(ssl->peerCertificatePresented() ? 1 : 0);
  case ENVOYX_ATTRIBUTE_CONNECTION_SNI:
    return text(provider.requestedServerName());
  case ENVOYX_ATTRIBUTE_TLS_LOCAL_SUBJECT:
    return ssl != nullptr && text(ssl->subjectLocalCertificate());
  case ENVOYX_ATTRIBUTE_TLS_LOCAL_DNS_SAN:
    return ssl != nullptr && !ssl->dnsSansLocalCertificate().empty() && text(ssl->dnsSansLocalCertificate().front());
  case ENVOYX_ATTRIBUTE_TLS_LOCAL_URI_SAN:
    return ssl != nullptr && !ssl->uriSanLocalCertificate().empty() && text(ssl->uriSanLocalCertificate().front());
  case ENVOYX_ATTRIBUTE_CONNECTION_TRANSPORT_FAILURE:
    return text(info.downstreamTransportFailureReason());
  case ENVOYX_ATTRIBUTE_CONNECTION_TERMINATION_DETAILS:
    return info.connectionTerminationDetails().has_value() && text(*info.connectionTerminationDetails());
  case ENVOYX_ATTRIBUTE_UPSTREAM_PORT:
    return upstream_host != nullptr && upstream_host->address() != nullptr &&
           upstream_host->address()->ip() != nullptr && count(upstream_host->address()->ip()->port());
  case ENVOYX_ATTRIBUTE_UPSTREAM_TLS_VERSION:
    return upstream_ssl != nullptr && text(upstream_ssl->tlsVersion());
  case ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_SUBJECT:
    return upstream_ssl != nullptr && text(upstream_ssl->subjectLocalCertificate());
  case ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SUBJECT:
    return upstream_ssl != nullptr && text(upstream_ssl->subjectPeerCertificate());
  case ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_DNS_SAN:
    return upstream_ssl != nullptr && !upstream_ssl->dnsSansLocalCertificate().empty() &&
           text(upstream_ssl->dnsSansLocalCertificate().front());
  case ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_DNS_SAN:
    return upstream_ssl != nullptr && !upstream_ssl->dnsSansPeerCertificate().empty() &&
           text(upstream_ssl->dnsSansPeerCertificate().front());
  case ENVOYX_ATTRIBUTE_UPSTREAM_TLS_LOCAL_URI_SAN:
    return upstream_ssl != nullptr && !upstream_ssl->uriSanLocalCertificate().empty() &&
           text(upstream_ssl->uriSanLocalCertificate().front());
  case ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_URI_SAN:
    return upstream_ssl != nullptr && !upstream_ssl->uriSanPeerCertificate().empty() &&
           text(upstream_ssl->uriSanPeerCertificate().front());
  case ENVOYX_ATTRIBUTE_UPSTREAM_TLS_PEER_SHA256:
    return upstream_ssl != nullptr && text(upstream_ssl->sha256PeerCertificateDigest());
  case ENVOYX_ATTRIBUTE_UPSTREAM_LOCAL_ADDRESS:
    return upstream.has_value() && upstream->upstreamLocalAddress() != nullptr &&
           text(upstream->upstreamLocalAddress()->asStringView());
  case ENVOYX_ATTRIBUTE_UPSTREAM_TRANSPORT_FAILURE:
    return upstream.has_value() && text(upstream->upstreamTransportFailureReason());
  case ENVOYX_ATTRIBUTE_UPSTREAM_ATTEMPTS:
    return info.attemptCount().has_value() && count(*info.attemptCount());
  case ENVOYX_ATTRIBUTE_HEALTH_CHECK:
    return count(info.healthCheck() ? 1 : 0);
  default:
    return false;
  }
}

bool EnvoyStreamHost::span_set_tag(envoyx::Bytes key, envoyx::Bytes value) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  Tracing::Span& span = callbacks->activeSpan();
  if (dynamic_cast<Tracing::NullSpan*>(&span) != nullptr) {
    return false;
  }
  span.setTag(toStringView(key), toStringView(value));
  return true;
}

bool EnvoyStreamHost::refresh_route_cluster() {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr || !callbacks->downstreamCallbacks().has_value()) {
    return false;
  }
  callbacks->downstreamCallbacks()->refreshRouteCluster();
  return true;
}

// Envoy names each worker's dispatcher `worker_<index>` (Server::WorkerImpl).
bool EnvoyStreamHost::worker_index(std::uint32_t& index) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  absl::string_view name = callbacks->dispatcher().name();
  return absl::ConsumePrefix(&name, "worker_") && absl::SimpleAtoi(name, &index);
}

bool EnvoyStreamHost::clear_route_cache() {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr || !callbacks->downstreamCallbacks().has_value()) {
    return false;
  }
  callbacks->downstreamCallbacks()->clearRouteCache();
  return true;
}

bool EnvoyStreamHost::upstream_override_host(envoyx::Bytes host, bool strict) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  // envoy/upstream/load_balancer.h:156 (1.38.3): OverrideHost{host, strict, ...}.
  Upstream::LoadBalancerContext::OverrideHost target;
  target.host = std::string(toStringView(host));
  target.strict = strict;
  callbacks->setUpstreamOverrideHost(std::move(target));
  return true;
}

const envoyx::RouteConfig* EnvoyStreamHost::route_config() const {
  const auto* route =
      Http::Utility::resolveMostSpecificPerFilterConfig<EnvoyxRouteConfig>(filter_.decoderCallbacks());
  return route != nullptr ? &route->core() : nullptr;
}

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
