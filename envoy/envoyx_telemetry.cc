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

bool EnvoyLogSink::log_at(envoyx::LogLevel level, envoyx::Bytes message, envoyx::Bytes file,
                          std::uint32_t line) const {
  // spdlog keeps a C string of the file only during the call: a NUL-terminated copy.
  const std::string source(toStringView(file));
  ENVOY_LOGGER().log(spdlog::source_loc{source.c_str(), static_cast<int>(line), ""},
                     static_cast<spdlog::level::level_enum>(level), "{}", toStringView(message));
  return true;
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
  if (def.label_names.empty()) {
    const Stats::ElementVec elements{Stats::DynamicName(def.name)};
    switch (kind) {
    case ENVOYX_METRIC_COUNTER:
      def.counter = &Stats::Utility::counterFromElements(*scope_, elements);
      break;
    case ENVOYX_METRIC_GAUGE:
      def.gauge = &Stats::Utility::gaugeFromElements(*scope_, elements, Stats::Gauge::ImportMode::Accumulate);
      break;
    case ENVOYX_METRIC_HISTOGRAM:
      def.histogram =
          &Stats::Utility::histogramFromElements(*scope_, elements, Stats::Histogram::Unit::Unspecified);
      break;
    default:
      break;
    }
  }
  defs_.push_back(std::move(def));
  return defs_.size();
}

void EnvoyxMetrics::applyToGauge(Stats::Gauge& gauge, std::uint32_t op, std::uint64_t value) {
  if (op == ENVOYX_METRIC_SET) {
    gauge.set(value);
  } else if (op == ENVOYX_METRIC_SUBTRACT) {
    // Envoy's gauges are unsigned and assert (debug builds) when subtracted below zero; a module
    // subtracting more than it added gets zero. (Racy against another worker's add between the
    // read and the change, which at worst leaves the gauge off by that add.)
    const std::uint64_t current = gauge.value();
    if (value >= current) {
      gauge.set(0);
    } else {
      gauge.sub(value);
    }
  } else {
    gauge.add(value);
  }
}

bool EnvoyxMetrics::record(std::uint64_t id, std::uint32_t op,
                           rust::Slice<const envoyx::RawBytes> label_values, std::uint64_t value) const {
  if (id == 0 || id > defs_.size() || label_values.size() != defs_[id - 1].label_names.size()) {
    return false;
  }
  const Def& def = defs_[id - 1];
  if (def.counter != nullptr) {
    def.counter->add(value);
    return true;
  }
  if (def.gauge != nullptr) {
    applyToGauge(*def.gauge, op, value);
    return true;
  }
  if (def.histogram != nullptr) {
    def.histogram->recordValue(value);
    return true;
  }
  // A labelled metric: its label values are the tags. Names and tags as dynamic stat names
  // (Envoy's symbol table interns each once); the scope finds the stat made by an earlier record.
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
  case ENVOYX_METRIC_GAUGE:
    applyToGauge(Stats::Utility::gaugeFromElements(*scope_, name, Stats::Gauge::ImportMode::Accumulate, tags),
                 op, value);
    return true;
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
