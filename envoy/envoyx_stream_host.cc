// The primitives of EnvoyStreamHost (envoyx_stream_host.h): header maps and bodies read and
// changed in place in Envoy's own memory, callouts and metrics handed to the filter (what Envoy
// knows of the stream is envoyx_stream_info.cc's). No argument is checked here: the core has
// checked them all.
#include "envoy/envoyx_stream_host.h"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>

#include "source/common/buffer/buffer_impl.h"

#include "absl/strings/match.h"

#include "envoy/envoyx_bytes.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

namespace {

bool isBuffered(envoyx::BodyKind kind) {
  return kind == envoyx::BodyKind::RequestBuffered || kind == envoyx::BodyKind::ResponseBuffered;
}

// Replaces `len` bytes at `offset` with `data`. The bytes before and after are moved as whole
// slices (Buffer::move), so only `data` is copied.
void replaceRange(Buffer::Instance& body, size_t offset, size_t len, absl::string_view data) {
  Buffer::OwnedImpl rebuilt;
  rebuilt.move(body, offset);
  body.drain(len);
  rebuilt.add(data);
  rebuilt.move(body);
  body.move(rebuilt);
}

} // namespace

bool EnvoyStreamHost::header_values(envoyx::HeaderMapKind kind, envoyx::Bytes key,
                                    rust::Slice<envoyx::RawBytes> out, std::size_t& total) {
  const Http::HeaderMap* map = filter_.headerMap(kind);
  if (map == nullptr) {
    return false;
  }
  const absl::string_view wanted = toStringView(key);
  total = 0;
  map->iterate([&](const Http::HeaderEntry& entry) -> Http::HeaderMap::Iterate {
    if (absl::EqualsIgnoreCase(entry.key().getStringView(), wanted)) {
      if (total < out.size()) {
        out[total] = toRawBytes(entry.value().getStringView());
      }
      ++total;
    }
    return Http::HeaderMap::Iterate::Continue;
  });
  return true;
}

bool EnvoyStreamHost::header_entries(envoyx::HeaderMapKind kind, rust::Slice<envoyx::RawHeader> out,
                                     std::size_t& total) {
  const Http::HeaderMap* map = filter_.headerMap(kind);
  if (map == nullptr) {
    return false;
  }
  total = 0;
  map->iterate([&](const Http::HeaderEntry& entry) -> Http::HeaderMap::Iterate {
    if (total < out.size()) {
      out[total] = envoyx::RawHeader{toRawBytes(entry.key().getStringView()),
                                     toRawBytes(entry.value().getStringView())};
    }
    ++total;
    return Http::HeaderMap::Iterate::Continue;
  });
  return true;
}

bool EnvoyStreamHost::header_set(envoyx::HeaderMapKind kind, envoyx::Bytes key, envoyx::Bytes value) {
  Http::HeaderMap* map = filter_.headerMap(kind);
  if (map == nullptr) {
    return false;
  }
  map->setCopy(Http::LowerCaseString(toStringView(key)), toStringView(value));
  return true;
}

bool EnvoyStreamHost::header_add(envoyx::HeaderMapKind kind, envoyx::Bytes key, envoyx::Bytes value) {
  Http::HeaderMap* map = filter_.headerMap(kind);
  if (map == nullptr) {
    return false;
  }
  map->addCopy(Http::LowerCaseString(toStringView(key)), toStringView(value));
  return true;
}

bool EnvoyStreamHost::trailers_add(envoyx::HeaderMapKind kind) { return filter_.addTrailers(kind); }

std::size_t EnvoyStreamHost::header_remove(envoyx::HeaderMapKind kind, envoyx::Bytes key) {
  Http::HeaderMap* map = filter_.headerMap(kind);
  if (map == nullptr) {
    return 0;
  }
  return map->remove(Http::LowerCaseString(toStringView(key)));
}

bool EnvoyStreamHost::body_length(envoyx::BodyKind kind, std::size_t& length) {
  const Buffer::Instance* body = readableBody(kind);
  if (body == nullptr) {
    return false;
  }
  length = body->length();
  return true;
}

bool EnvoyStreamHost::body_slices(envoyx::BodyKind kind, rust::Slice<envoyx::RawSlice> out,
                                  std::size_t& total) {
  const Buffer::Instance* body = readableBody(kind);
  if (body == nullptr) {
    return false;
  }
  // getRawSlices is const but hands out writable pointers into the buffer's own slices: the
  // module rewrites Envoy's bytes in place, which is the point of the zero-copy body API.
  const Buffer::RawSliceVector slices = body->getRawSlices();
  total = slices.size();
  const size_t n = std::min<size_t>(slices.size(), out.size());
  for (size_t i = 0; i < n; ++i) {
    out[i] = envoyx::to_raw_slice(static_cast<char*>(slices[i].mem_), slices[i].len_);
  }
  return true;
}

bool EnvoyStreamHost::body_drain(envoyx::BodyKind kind, std::size_t len) {
  return changeBody(kind, [len](Buffer::Instance& body) { body.drain(len); });
}

bool EnvoyStreamHost::body_append(envoyx::BodyKind kind, envoyx::Bytes data) {
  const absl::string_view bytes = toStringView(data);
  return changeBody(kind, [bytes](Buffer::Instance& body) { body.add(bytes); });
}

bool EnvoyStreamHost::body_prepend(envoyx::BodyKind kind, envoyx::Bytes data) {
  const absl::string_view bytes = toStringView(data);
  return changeBody(kind, [bytes](Buffer::Instance& body) { body.prepend(bytes); });
}

bool EnvoyStreamHost::body_replace(envoyx::BodyKind kind, std::size_t offset, std::size_t len,
                                   envoyx::Bytes data) {
  const absl::string_view bytes = toStringView(data);
  return changeBody(kind, [offset, len, bytes](Buffer::Instance& body) {
    replaceRange(body, offset, len, bytes);
  });
}

std::shared_ptr<envoyx::Scheduler> EnvoyStreamHost::scheduler() const {
  return scheduler_;
}

bool EnvoyStreamHost::http_callout(std::uint64_t id, envoyx::Bytes cluster,
                                   rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                                   std::uint64_t timeout_ms, rust::Box<envoyx::CalloutInbox> inbox,
                                   std::uint32_t& failure) {
  return filter_.startCallout(id, cluster, headers, body, timeout_ms, std::move(inbox), failure);
}

bool EnvoyStreamHost::callout_stream_start(std::uint64_t id, envoyx::Bytes cluster,
                                           rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                                           bool end_of_stream, std::uint64_t timeout_ms,
                                           rust::Box<envoyx::CalloutInbox> inbox, std::uint32_t& failure) {
  return filter_.startCalloutStream(id, cluster, headers, body, end_of_stream, timeout_ms,
                                    std::move(inbox), failure);
}

bool EnvoyStreamHost::callout_stream_send(std::uint64_t id, envoyx::Bytes data, bool end_of_stream) {
  return filter_.sendCalloutStreamData(id, data, end_of_stream);
}

bool EnvoyStreamHost::callout_stream_send_trailers(std::uint64_t id,
                                                   rust::Slice<const envoyx::RawHeader> trailers) {
  return filter_.sendCalloutStreamTrailers(id, trailers);
}

void EnvoyStreamHost::callout_stream_reset(std::uint64_t id) {
  filter_.resetCalloutStream(id);
}










bool EnvoyStreamHost::metric_record(std::uint64_t id, std::uint32_t, std::uint32_t op,
                                    rust::Slice<const envoyx::RawBytes> label_values, std::uint64_t value) {
  return filter_.recordMetric(id, op, label_values, value);
}

const Buffer::Instance* EnvoyStreamHost::readableBody(envoyx::BodyKind kind) {
  return isBuffered(kind) ? filter_.bufferedBody(kind) : filter_.receivedBody(kind);
}

bool EnvoyStreamHost::changeBody(envoyx::BodyKind kind, std::function<void(Buffer::Instance&)> change) {
  if (isBuffered(kind)) {
    if (filter_.bufferedBody(kind) == nullptr) {
      return false;
    }
    filter_.modifyBufferedBody(kind, std::move(change));
    return true;
  }
  Buffer::Instance* body = filter_.receivedBody(kind);
  if (body == nullptr) {
    return false;
  }
  change(*body);
  return true;
}

// Envoy keeps one buffer limit per stream, for both directions (StreamFilterCallbacks).
std::uint64_t EnvoyStreamHost::buffer_limit() {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  return callbacks == nullptr ? 0 : callbacks->bufferLimit();
}

bool EnvoyStreamHost::set_buffer_limit(std::uint64_t limit) {
  Http::StreamDecoderFilterCallbacks* const callbacks = filter_.decoderCallbacks();
  if (callbacks == nullptr) {
    return false;
  }
  callbacks->setBufferLimit(limit);
  return true;
}

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
