#include "envoy/envoyx_secrets.h"

#include <string>
#include <utility>

#include "envoy/config/core/v3/config_source.pb.h"
#include "envoy/secret/secret_manager.h"

#include "source/common/protobuf/utility.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

std::uint64_t EnvoyxSecrets::subscribe(absl::string_view name, absl::string_view sds_config_json) {
  const std::string secret_name(name);
  Secret::GenericSecretConfigProviderSharedPtr provider;
  if (sds_config_json.empty()) {
    provider = server_.secretManager().findStaticGenericSecretProvider(secret_name);
    if (provider == nullptr) {
      ENVOY_LOG(error, "EnvoyX: secret `{}`: Envoy has no static secret of that name", secret_name);
      return 0;
    }
  } else {
    envoy::config::core::v3::ConfigSource source;
    try {
      MessageUtil::loadFromJson(std::string(sds_config_json), source, server_.messageValidationVisitor());
    } catch (const EnvoyException& e) {
      ENVOY_LOG(error, "EnvoyX: secret `{}`: its sds_config is no Envoy ConfigSource: {}", secret_name,
                e.what());
      return 0;
    }
    provider = server_.secretManager().findOrCreateGenericSecretProvider(source, secret_name, server_,
                                                                        init_manager_);
    if (provider == nullptr) {
      ENVOY_LOG(error, "EnvoyX: secret `{}`: Envoy made no SDS subscription for it", secret_name);
      return 0;
    }
  }
  auto thread_local_provider = Secret::ThreadLocalGenericSecretProvider::create(
      std::move(provider), server_.threadLocal(), server_.api());
  if (!thread_local_provider.ok()) {
    ENVOY_LOG(error, "EnvoyX: secret `{}`: {}", secret_name, thread_local_provider.status().message());
    return 0;
  }
  providers_.push_back(std::move(thread_local_provider.value()));
  return providers_.size();
}

const std::string* EnvoyxSecrets::value(std::uint64_t id) const {
  if (id == 0 || id > providers_.size()) {
    return nullptr;
  }
  return &providers_[id - 1]->secret();
}

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
