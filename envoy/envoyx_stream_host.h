// EnvoyStreamHost: the loader's envoyx::StreamHost over one Envoy stream, the primitives the core
// calls. Defined in envoyx_stream_host.cc (header maps, bodies, and what the filter does for it:
// callouts, metrics) and envoyx_stream_info.cc (metadata, filter state, attributes, routing,
// tracing: straight on Envoy's stream info), so a new primitive costs this declaration and one
// definition. Only the filter creates one (EnvoyxFilter::setDecoderFilterCallbacks). Internal to
// envoyx_filter_lib.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "envoy/envoyx_filter.h"

#include "envoyx-loader/src/lib.rs.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

// envoyx::StreamHost for one Envoy stream: the primitives. Every method resolves the map or body
// through the filter at call time, because Envoy may replace response headers (a local reply)
// between hooks. The core has checked every argument before calling (header names are lower-case
// tokens, values non-empty without control bytes, ranges within the body, length changes within
// the content-length rule), so nothing is checked again here.
class EnvoyStreamHost : public envoyx::StreamHost {
public:
  EnvoyStreamHost(EnvoyxFilter& filter, std::shared_ptr<envoyx::Scheduler> scheduler)
      : filter_(filter), scheduler_(std::move(scheduler)) {}

  bool header_values(envoyx::HeaderMapKind kind, envoyx::Bytes key,
                     rust::Slice<envoyx::RawBytes> out, std::size_t& total) override;
  bool header_entries(envoyx::HeaderMapKind kind, rust::Slice<envoyx::RawHeader> out,
                      std::size_t& total) override;

  bool body_length(envoyx::BodyKind kind, std::size_t& length) override;
  bool body_slices(envoyx::BodyKind kind, rust::Slice<envoyx::RawSlice> out,
                   std::size_t& total) override;
  bool body_prepend(envoyx::BodyKind kind, envoyx::Bytes data) override;
  bool body_replace(envoyx::BodyKind kind, std::size_t offset, std::size_t len,
                    envoyx::Bytes data) override;

  // The plain primitives (loader.h's generated part); defined in envoyx_stream_host.cc or
  // envoyx_stream_info.cc like the others.
  // @generated begin: the plain HostStream primitives (cargo run -p envoyx-codegen)
  bool header_set(envoyx::HeaderMapKind map, envoyx::Bytes key, envoyx::Bytes value) override;
  bool header_add(envoyx::HeaderMapKind map, envoyx::Bytes key, envoyx::Bytes value) override;
  std::size_t header_remove(envoyx::HeaderMapKind map, envoyx::Bytes key) override;
  bool body_drain(envoyx::BodyKind body, std::size_t len) override;
  bool body_append(envoyx::BodyKind body, envoyx::Bytes data) override;
  bool callout_stream_send(std::uint64_t id, envoyx::Bytes data, bool end_of_stream) override;
  void callout_stream_reset(std::uint64_t id) override;
  bool filter_state_set(envoyx::Bytes key, envoyx::Bytes value) override;
  bool clear_route_cache() override;
  bool refresh_route_cluster() override;
  bool upstream_override_host(envoyx::Bytes host, bool strict) override;
  bool span_set_tag(envoyx::Bytes key, envoyx::Bytes value) override;
  std::uint64_t buffer_limit() override;
  bool set_buffer_limit(std::uint64_t limit) override;
  bool filter_state_set_typed(envoyx::Bytes key, envoyx::Bytes value) override;
  bool metadata_set_struct(envoyx::Bytes ns, envoyx::Bytes encoded) override;
  bool metadata_set_typed(envoyx::Bytes ns, envoyx::Bytes any) override;
  bool trailers_add(envoyx::HeaderMapKind map) override;
  bool span_start_child(std::uint64_t parent, std::uint64_t id, envoyx::Bytes operation) override;
  bool span_tag(std::uint64_t span, envoyx::Bytes key, envoyx::Bytes value) override;
  bool span_log(std::uint64_t span, envoyx::Bytes event) override;
  bool span_set_sampled(std::uint64_t span, bool sampled) override;
  bool span_finish(std::uint64_t span) override;
  bool span_baggage_set(envoyx::Bytes key, envoyx::Bytes value) override;
  // @generated end

  std::shared_ptr<envoyx::Scheduler> scheduler() const override;
  // envoyx_stream_info.cc:
  const envoyx::RouteConfig* route_config() const override;
  bool http_callout(std::uint64_t id, envoyx::Bytes cluster,
                    rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                    std::uint64_t timeout_ms, rust::Box<envoyx::CalloutInbox> inbox,
                    std::uint32_t& failure) override;
  bool callout_stream_start(std::uint64_t id, envoyx::Bytes cluster,
                            rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                            bool end_of_stream, std::uint64_t timeout_ms,
                            rust::Box<envoyx::CalloutInbox> inbox, std::uint32_t& failure) override;
  bool callout_stream_send_trailers(std::uint64_t id,
                                    rust::Slice<const envoyx::RawHeader> trailers) override;
  bool metadata_set(envoyx::Bytes ns, envoyx::Bytes key, std::uint32_t kind, envoyx::Bytes string,
                    double number, bool boolean) override;
  bool metadata_get(std::uint32_t source, envoyx::Bytes ns, envoyx::Bytes key, std::uint32_t kind,
                    envoyx::RawBytes& string, double& number, bool& boolean) override;
  // A source's typed_filter_metadata entry `ns` (an Any): its type URL and value.
  bool metadata_typed(std::uint32_t source, envoyx::Bytes ns, envoyx::RawBytes& type_url,
                      envoyx::RawBytes& value) override;
  // The namespaces of a source's metadata, or (keys) the keys of its namespace `ns`.
  std::size_t metadata_names(std::uint32_t source, envoyx::Bytes ns, bool keys,
                             rust::Slice<envoyx::RawBytes> out) override;
  bool filter_state_get(envoyx::Bytes key, envoyx::RawBytes& value) override;
  bool filter_state_exists(envoyx::Bytes key) override;
  // Any object's serializeAsString() (envoyx_stream_info.cc).
  bool filter_state_serialized(envoyx::Bytes key, envoyx::RawBytes& value) override;
  bool attribute_get(std::uint32_t attribute, envoyx::RawBytes& string, double& number) override;
  // StreamInfo's start time and its downstream and upstream timing (envoyx_stream_info.cc).
  bool timing_get(std::uint32_t timing, std::int64_t& ns) override;
  // The stream info's upstream hosts attempted (envoyx_stream_info.cc).
  std::size_t upstream_hosts_attempted(rust::Slice<envoyx::RawBytes> out) override;
  // The configuration's generic secret `id`, this worker's copy (envoyx_stream_info.cc).
  bool secret_get(std::uint64_t id, envoyx::RawBytes& value) override;
  bool worker_index(std::uint32_t& index) override;
  // envoyx_tracing.cc:
  bool span_baggage_get(envoyx::Bytes key, envoyx::RawBytes& value) override;
  bool span_trace_id(envoyx::RawBytes& value) override;
  bool metric_record(std::uint64_t id, std::uint32_t, std::uint32_t op,
                     rust::Slice<const envoyx::RawBytes> label_values, std::uint64_t value) override;

private:
  // The metadata of an envoyx_metadata_source (null when the stream has none yet).
  const envoy::config::core::v3::Metadata* metadataOf(std::uint32_t source);

  const Buffer::Instance* readableBody(envoyx::BodyKind kind);
  bool changeBody(envoyx::BodyKind kind, std::function<void(Buffer::Instance&)> change);

  // attribute_get's ABI 1.2 attributes (envoyx_stream_info.cc).
  bool moreAttribute(std::uint32_t attribute, envoyx::RawBytes& string, double& number);
  // The span `id` names (0: the active span, unless it is Envoy's null span), or null.
  Tracing::Span* span(std::uint64_t id);

  EnvoyxFilter& filter_;
  const std::shared_ptr<envoyx::Scheduler> scheduler_;
  // The module's open child spans, by the core's numbers (envoyx_tracing.cc).
  absl::flat_hash_map<std::uint64_t, Tracing::SpanPtr> child_spans_;
  // What span_baggage_get and span_trace_id last handed out (their views point here).
  std::string trace_text_;
  // The serialized filter-state object filter_state_serialized last handed out (its view).
  std::string filter_state_text_;
  // The addresses upstream_hosts_attempted last handed out (its views).
  std::vector<std::string> hosts_attempted_text_;
  // The upstream host's (or locality's) metadata metadata_get last read: its string views point
  // into it, so it stays alive while the host keeps the stream.
  Upstream::MetadataConstSharedPtr host_metadata_;
};

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
