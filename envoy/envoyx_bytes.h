// Conversions between the core's bytes (envoyx::Bytes, rust::Vec<uint8_t>, envoyx::RawBytes) and
// absl::string_view, shared by the extension's files. Internal to envoyx_filter_lib.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/strings/string_view.h"

#include "envoyx-loader/src/lib.rs.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

inline absl::string_view toStringView(envoyx::Bytes bytes) {
  const std::string_view view = envoyx::to_string_view(bytes);
  return {view.data(), view.size()};
}

inline envoyx::RawBytes toRawBytes(absl::string_view view) {
  return envoyx::to_raw_bytes(std::string_view(view.data(), view.size()));
}

inline absl::string_view toStringView(const rust::Vec<uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
