// The generic secrets filter configurations declare (ABI 1.2 `secrets`, `secret_get`) in the
// custom build: subscribed on the main thread while a configuration is created (a static secret
// of the bootstrap, or one SDS serves), read on workers through Envoy's thread-local copy of each
// (Secret::ThreadLocalGenericSecretProvider: an SDS rotation reaches a worker between its events,
// so a value read in a hook stays put until the hook returns). Defined in envoyx_secrets.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envoy/init/manager.h"
#include "envoy/server/factory_context.h"

#include "source/common/common/logger.h"
#include "source/common/secret/secret_provider_impl.h"

#include "absl/strings/string_view.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

class EnvoyxSecrets : Logger::Loggable<Logger::Id::dynamic_modules> {
public:
  // `init_manager` is the listener's: a configuration's SDS secrets are fetched before it serves.
  EnvoyxSecrets(Server::Configuration::ServerFactoryContext& server, Init::Manager& init_manager)
      : server_(server), init_manager_(init_manager) {}

  // Main thread, while the configuration is created: subscribes to the secret `name`
  // (`sds_config_json` empty: a static secret of the bootstrap; else an Envoy ConfigSource as
  // JSON, which the core checked is an object). Its id (1, 2, ...), or 0 when Envoy cannot serve
  // it (logged, naming why; the core then rejects the configuration).
  std::uint64_t subscribe(absl::string_view name, absl::string_view sds_config_json);

  // Worker thread, inside a hook: secret `id`'s bytes on this thread (empty while SDS has not
  // delivered it), valid until the hook returns; null for an id never given out.
  const std::string* value(std::uint64_t id) const;

private:
  // The server's context outlives every filter configuration; the listener's init manager
  // outlives the configuration's creation, the only time it is used.
  Server::Configuration::ServerFactoryContext& server_;
  Init::Manager& init_manager_;
  // Appended on the main thread while the configuration is created, read-only once streams run.
  std::vector<std::unique_ptr<Secret::ThreadLocalGenericSecretProvider>> providers_;
};
using EnvoyxSecretsSharedPtr = std::shared_ptr<EnvoyxSecrets>;

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
