// Where the core's and modules' telemetry goes in Envoy (envoyx_telemetry.h): log lines into
// Envoy's logger (EnvoyLogSink) and a filter configuration's metrics into Envoy's stats
// (EnvoyxMetrics).
#include "envoy/envoyx_telemetry.h"

#include <string>
#include <utility>
#include <vector>

#include "source/common/stats/symbol_table.h"
#include "source/common/stats/utility.h"

#include "abi.h"

#include "envoy/envoyx_bytes.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

// The log levels are spdlog's (x/abi.h says so); EnvoyLogSink casts between them.
static_assert(static_cast<uint32_t>(spdlog::level::trace) == ENVOYX_LOG_TRACE);
static_assert(static_cast<uint32_t>(spdlog::level::critical) == ENVOYX_LOG_CRITICAL);

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

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
