// The stream's tracing beyond a tag on the active span (ABI 1.2 span_*): child spans kept under
// the core's numbers, logs, sampling, baggage and the trace id. The core checked every argument
// and the numbers (0 is the active span; a child is asked for only while open), and finishes
// what the module left open when the stream completes.

#include "envoy/envoyx_stream_host.h"

#include <string>

#include "source/common/tracing/null_span_impl.h"

#include "envoy/envoyx_bytes.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

Tracing::Span* EnvoyStreamHost::span(std::uint64_t id) {
  if (id != 0) {
    auto child = child_spans_.find(id);
    return child == child_spans_.end() ? nullptr : child->second.get();
  }
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return nullptr;
  }
  Tracing::Span& active = callbacks->activeSpan();
  return dynamic_cast<Tracing::NullSpan*>(&active) != nullptr ? nullptr : &active;
}

bool EnvoyStreamHost::span_start_child(std::uint64_t parent, std::uint64_t id, envoyx::Bytes operation) {
  Tracing::Span* const from = span(parent);
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (from == nullptr || callbacks == nullptr) {
    return false;
  }
  Tracing::SpanPtr child = from->spawnChild(Tracing::EgressConfig::get(), std::string(toStringView(operation)),
                                            callbacks->dispatcher().timeSource().systemTime());
  if (child == nullptr) {
    return false;
  }
  child_spans_.emplace(id, std::move(child));
  return true;
}

bool EnvoyStreamHost::span_tag(std::uint64_t id, envoyx::Bytes key, envoyx::Bytes value) {
  Tracing::Span* const target = span(id);
  if (target == nullptr) {
    return false;
  }
  target->setTag(toStringView(key), toStringView(value));
  return true;
}

bool EnvoyStreamHost::span_log(std::uint64_t id, envoyx::Bytes event) {
  Tracing::Span* const target = span(id);
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (target == nullptr || callbacks == nullptr) {
    return false;
  }
  target->log(callbacks->dispatcher().timeSource().systemTime(), std::string(toStringView(event)));
  return true;
}

bool EnvoyStreamHost::span_set_sampled(std::uint64_t id, bool sampled) {
  Tracing::Span* const target = span(id);
  if (target == nullptr) {
    return false;
  }
  target->setSampled(sampled);
  return true;
}

bool EnvoyStreamHost::span_finish(std::uint64_t id) {
  auto child = child_spans_.find(id);
  if (child == child_spans_.end()) {
    return false;
  }
  child->second->finishSpan();
  child_spans_.erase(child);
  return true;
}

bool EnvoyStreamHost::span_baggage_set(envoyx::Bytes key, envoyx::Bytes value) {
  Tracing::Span* const active = span(0);
  if (active == nullptr) {
    return false;
  }
  active->setBaggage(toStringView(key), toStringView(value));
  return true;
}

bool EnvoyStreamHost::span_baggage_get(envoyx::Bytes key, envoyx::RawBytes& value) {
  Tracing::Span* const active = span(0);
  if (active == nullptr) {
    return false;
  }
  trace_text_ = active->getBaggage(toStringView(key));
  value = toRawBytes(trace_text_);
  return !trace_text_.empty();
}

bool EnvoyStreamHost::span_trace_id(envoyx::RawBytes& value) {
  Tracing::Span* const active = span(0);
  if (active == nullptr) {
    return false;
  }
  trace_text_ = active->getTraceId();
  value = toRawBytes(trace_text_);
  return !trace_text_.empty();
}

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
