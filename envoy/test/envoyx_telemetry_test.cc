// A filter configuration's metrics in Envoy's stats (envoyx_telemetry.h), on Envoy's isolated
// store: a metric without labels is one stat made when it is defined, `envoyx.<filter>.<metric>`
// without tags (so the bootstrap's tag extractors apply to it); a labelled one carries its label
// values as tags; a gauge never goes below zero (Envoy's gauges are unsigned and assert there).
#include <string>
#include <vector>

#include "source/common/stats/isolated_store_impl.h"

#include "abi.h"

#include "envoy/envoyx_telemetry.h"

#include "gtest/gtest.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {
namespace {

envoyx::RawBytes raw(absl::string_view text) {
  return envoyx::RawBytes{reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// The store's counter named `name`, or null.
Stats::CounterSharedPtr counterNamed(const Stats::IsolatedStoreImpl& store, const std::string& name) {
  for (const Stats::CounterSharedPtr& counter : store.counters()) {
    if (counter->name() == name) {
      return counter;
    }
  }
  return nullptr;
}

TEST(EnvoyxMetricsTest, AMetricWithoutLabelsIsOneStatWithoutTags) {
  Stats::IsolatedStoreImpl store;
  EnvoyxMetrics metrics(*store.rootScope());
  const std::uint64_t id = metrics.define(ENVOYX_METRIC_COUNTER, "auth.requests", {});
  // Made when defined, before any record.
  Stats::CounterSharedPtr counter = counterNamed(store, "envoyx.auth.requests");
  ASSERT_NE(counter, nullptr);
  EXPECT_TRUE(metrics.record(id, ENVOYX_METRIC_ADD, {}, 2));
  EXPECT_TRUE(metrics.record(id, ENVOYX_METRIC_ADD, {}, 3));
  EXPECT_EQ(counter->value(), 5);
  EXPECT_TRUE(counter->tags().empty());
}

TEST(EnvoyxMetricsTest, ALabelledMetricCarriesItsLabelValuesAsTags) {
  Stats::IsolatedStoreImpl store;
  EnvoyxMetrics metrics(*store.rootScope());
  const envoyx::RawBytes label_names[] = {raw("verdict")};
  const std::uint64_t id = metrics.define(ENVOYX_METRIC_COUNTER, "auth.checks",
                                          rust::Slice<const envoyx::RawBytes>(label_names, 1));
  const envoyx::RawBytes allow[] = {raw("allow")};
  EXPECT_TRUE(metrics.record(id, ENVOYX_METRIC_ADD, rust::Slice<const envoyx::RawBytes>(allow, 1), 4));
  bool found = false;
  for (const Stats::CounterSharedPtr& counter : store.counters()) {
    if (counter->tagExtractedName() == "envoyx.auth.checks") {
      found = true;
      EXPECT_EQ(counter->value(), 4);
      ASSERT_EQ(counter->tags().size(), 1);
      EXPECT_EQ(counter->tags()[0].name_, "verdict");
      EXPECT_EQ(counter->tags()[0].value_, "allow");
    }
  }
  EXPECT_TRUE(found);
  // A record with the wrong number of label values is refused.
  EXPECT_FALSE(metrics.record(id, ENVOYX_METRIC_ADD, {}, 1));
}

TEST(EnvoyxMetricsTest, AGaugeNeverGoesBelowZero) {
  Stats::IsolatedStoreImpl store;
  EnvoyxMetrics metrics(*store.rootScope());
  const std::uint64_t id = metrics.define(ENVOYX_METRIC_GAUGE, "auth.in_flight", {});
  Stats::Gauge* gauge = nullptr;
  for (const Stats::GaugeSharedPtr& candidate : store.gauges()) {
    if (candidate->name() == "envoyx.auth.in_flight") {
      gauge = candidate.get();
    }
  }
  ASSERT_NE(gauge, nullptr);
  EXPECT_TRUE(metrics.record(id, ENVOYX_METRIC_ADD, {}, 2));
  EXPECT_TRUE(metrics.record(id, ENVOYX_METRIC_SUBTRACT, {}, 5));
  EXPECT_EQ(gauge->value(), 0);
  EXPECT_TRUE(metrics.record(id, ENVOYX_METRIC_ADD, {}, 1));
  EXPECT_TRUE(metrics.record(id, ENVOYX_METRIC_SET, {}, 7));
  EXPECT_TRUE(metrics.record(id, ENVOYX_METRIC_SUBTRACT, {}, 3));
  EXPECT_EQ(gauge->value(), 4);
}

} // namespace
} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
