// Where the core's and modules' telemetry goes in Envoy: log lines into Envoy's logger
// (EnvoyLogSink, process-wide) and a filter configuration's metrics into Envoy's stats
// (EnvoyxMetrics, recorded by the filter). Defined in envoyx_telemetry.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envoy/stats/scope.h"

#include "source/common/common/logger.h"

#include "envoyx-loader/src/lib.rs.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

// The core's and modules' log lines, into Envoy's logger under the `dynamic_modules` id, so
// `--component-log-level dynamic_modules:debug` shows them. Called from any thread; spdlog is
// thread-safe.
class EnvoyLogSink : public envoyx::LogSink, Logger::Loggable<Logger::Id::dynamic_modules> {
public:
  bool enabled(envoyx::LogLevel level) const override;
  void log(envoyx::LogLevel level, envoyx::Bytes message) const override;
  // A module's line with its source location in the logger's own source field (as Envoy 1.40's
  // log_v2 shows it), not in the message.
  bool log_at(envoyx::LogLevel level, envoyx::Bytes message, envoyx::Bytes file,
              std::uint32_t line) const override;
};

// The metrics a module defined for its filter configuration (ABI 1.1), in Envoy's stats as
// `envoyx.<filter>.<metric>` with the label names as tags (the stock host's names under its
// `metrics_namespace: envoyx`). Defined on the main thread while the configuration is created,
// read-only afterwards, recorded from every worker thread.
class EnvoyxMetrics {
public:
  explicit EnvoyxMetrics(Stats::Scope& scope) : scope_(scope.createScope("envoyx.")) {}

  // Registers a metric (`kind` an envoyx_metric_kind; `name` is `<filter>.<metric>`, checked by
  // the core); its id, 1, 2, ...
  std::uint64_t define(std::uint32_t kind, absl::string_view name,
                       rust::Slice<const envoyx::RawBytes> label_names);
  // Applies `op` (an envoyx_metric_op) with `value` for these label values (checked by the core).
  bool record(std::uint64_t id, std::uint32_t op, rust::Slice<const envoyx::RawBytes> label_values,
              std::uint64_t value) const;

private:
  struct Def {
    std::uint32_t kind;
    std::string name;
    std::vector<std::string> label_names;
    // A metric without labels, made once when it is defined (with no tags, so Envoy's tag
    // extraction and the bootstrap's stats_config apply to its name). Null for a labelled metric,
    // which is looked up per record with its label values as tags.
    Stats::Counter* counter = nullptr;
    Stats::Gauge* gauge = nullptr;
    Stats::Histogram* histogram = nullptr;
  };
  // Applies `op` with `value` to `gauge`; never below zero (see record()).
  static void applyToGauge(Stats::Gauge& gauge, std::uint32_t op, std::uint64_t value);
  Stats::ScopeSharedPtr scope_;
  std::vector<Def> defs_;
};
using EnvoyxMetricsSharedPtr = std::shared_ptr<EnvoyxMetrics>;

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
