#include "envoy/envoyx_filter.h"

#include <algorithm>
#include <string_view>

#include "envoy/http/codes.h"

#include "source/common/buffer/buffer_impl.h"

#include "absl/strings/match.h"
#include "abi.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

// The core returns the module's status as a number equal to Envoy's own enum ordinal (x/abi.h
// promises it); these checks fail the build if Envoy's enums ever move.
static_assert(static_cast<uint32_t>(Http::FilterHeadersStatus::Continue) ==
              ENVOYX_HEADERS_CONTINUE);
static_assert(static_cast<uint32_t>(Http::FilterHeadersStatus::StopIteration) ==
              ENVOYX_HEADERS_STOP_ITERATION);
static_assert(static_cast<uint32_t>(Http::FilterHeadersStatus::ContinueAndDontEndStream) ==
              ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM);
static_assert(static_cast<uint32_t>(Http::FilterHeadersStatus::StopAllIterationAndBuffer) ==
              ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_BUFFER);
static_assert(static_cast<uint32_t>(Http::FilterHeadersStatus::StopAllIterationAndWatermark) ==
              ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_WATERMARK);
static_assert(static_cast<uint32_t>(Http::FilterDataStatus::Continue) == ENVOYX_BODY_CONTINUE);
static_assert(static_cast<uint32_t>(Http::FilterDataStatus::StopIterationAndBuffer) ==
              ENVOYX_BODY_STOP_ITERATION_AND_BUFFER);
static_assert(static_cast<uint32_t>(Http::FilterDataStatus::StopIterationAndWatermark) ==
              ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK);
static_assert(static_cast<uint32_t>(Http::FilterDataStatus::StopIterationNoBuffer) ==
              ENVOYX_BODY_STOP_ITERATION_NO_BUFFER);
static_assert(static_cast<uint32_t>(Http::FilterTrailersStatus::Continue) ==
              ENVOYX_TRAILERS_CONTINUE);
static_assert(static_cast<uint32_t>(Http::FilterTrailersStatus::StopIteration) ==
              ENVOYX_TRAILERS_STOP_ITERATION);
// The log levels are spdlog's (x/abi.h says so); EnvoyLogSink casts between them.
static_assert(static_cast<uint32_t>(spdlog::level::trace) == ENVOYX_LOG_TRACE);
static_assert(static_cast<uint32_t>(spdlog::level::critical) == ENVOYX_LOG_CRITICAL);

namespace {

absl::string_view toStringView(envoyx::Bytes bytes) {
  const std::string_view view = envoyx::to_string_view(bytes);
  return {view.data(), view.size()};
}

envoyx::RawBytes toRawBytes(absl::string_view view) {
  return envoyx::to_raw_bytes(std::string_view(view.data(), view.size()));
}

// Envoy's header strings must not hold NUL, CR or LF (HeaderString asserts it); a module's bad
// bytes are refused here instead of reaching the codec.
bool isValidHeaderBytes(absl::string_view bytes) {
  return bytes.find_first_of(absl::string_view("\0\r\n", 3)) == absl::string_view::npos;
}

bool isValidHeader(absl::string_view key, absl::string_view value) {
  return !key.empty() && isValidHeaderBytes(key) && isValidHeaderBytes(value);
}

bool isRequest(envoyx::BodyKind kind) {
  return kind == envoyx::BodyKind::RequestReceived || kind == envoyx::BodyKind::RequestBuffered;
}

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

// envoyx::StreamHost for one Envoy stream: every method resolves the map or body through the
// filter at call time, because Envoy may replace response headers (a local reply) between hooks.
class EnvoyStreamHost : public envoyx::StreamHost {
public:
  EnvoyStreamHost(EnvoyxFilter& filter, std::shared_ptr<envoyx::Scheduler> scheduler)
      : filter_(filter), scheduler_(std::move(scheduler)) {}

  bool header_values(envoyx::HeaderMapKind kind, envoyx::Bytes key,
                     rust::Slice<envoyx::RawBytes> out, std::size_t& total) override {
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

  bool header_entries(envoyx::HeaderMapKind kind, rust::Slice<envoyx::RawHeader> out,
                      std::size_t& total) override {
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

  bool header_set(envoyx::HeaderMapKind kind, envoyx::Bytes key, envoyx::Bytes value) override {
    Http::HeaderMap* map = filter_.headerMap(kind);
    if (map == nullptr || !isValidHeader(toStringView(key), toStringView(value))) {
      return false;
    }
    map->setCopy(Http::LowerCaseString(toStringView(key)), toStringView(value));
    return true;
  }

  bool header_add(envoyx::HeaderMapKind kind, envoyx::Bytes key, envoyx::Bytes value) override {
    Http::HeaderMap* map = filter_.headerMap(kind);
    if (map == nullptr || !isValidHeader(toStringView(key), toStringView(value))) {
      return false;
    }
    map->addCopy(Http::LowerCaseString(toStringView(key)), toStringView(value));
    return true;
  }

  std::size_t header_remove(envoyx::HeaderMapKind kind, envoyx::Bytes key) override {
    Http::HeaderMap* map = filter_.headerMap(kind);
    if (map == nullptr || !isValidHeader(toStringView(key), "")) {
      return 0;
    }
    return map->remove(Http::LowerCaseString(toStringView(key)));
  }

  bool body_length(envoyx::BodyKind kind, std::size_t& length) override {
    const Buffer::Instance* body = readableBody(kind);
    if (body == nullptr) {
      return false;
    }
    length = body->length();
    return true;
  }

  bool body_slices(envoyx::BodyKind kind, rust::Slice<envoyx::RawSlice> out,
                   std::size_t& total) override {
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

  bool body_drain(envoyx::BodyKind kind, std::size_t len) override {
    return changeBody(kind, [len](Buffer::Instance& body) { body.drain(len); });
  }

  bool body_append(envoyx::BodyKind kind, envoyx::Bytes data) override {
    const absl::string_view bytes = toStringView(data);
    return changeBody(kind, [bytes](Buffer::Instance& body) { body.add(bytes); });
  }

  bool body_prepend(envoyx::BodyKind kind, envoyx::Bytes data) override {
    const absl::string_view bytes = toStringView(data);
    return changeBody(kind, [bytes](Buffer::Instance& body) { body.prepend(bytes); });
  }

  bool body_replace(envoyx::BodyKind kind, std::size_t offset, std::size_t len,
                    envoyx::Bytes data) override {
    const absl::string_view bytes = toStringView(data);
    return changeBody(kind, [offset, len, bytes](Buffer::Instance& body) {
      replaceRange(body, offset, len, bytes);
    });
  }

  bool send_local_reply(std::uint32_t status, rust::Slice<const envoyx::RawHeader> headers,
                        envoyx::Bytes body, envoyx::Bytes details) override {
    PendingLocalReply reply{status, {}, std::string(toStringView(body)),
                            std::string(toStringView(details))};
    for (const envoyx::RawHeader& header : headers) {
      const absl::string_view key = toStringView(
          envoyx::Bytes(header.key.ptr, header.key.len));
      const absl::string_view value = toStringView(
          envoyx::Bytes(header.value.ptr, header.value.len));
      if (isValidHeader(key, value)) {
        reply.headers.emplace_back(std::string(key), std::string(value));
      }
    }
    return filter_.requestLocalReply(std::move(reply));
  }

  void reset_stream() override { filter_.requestReset(); }

  void continue_stream(envoyx::Direction direction) override {
    filter_.requestContinue(direction);
  }

  std::shared_ptr<envoyx::Scheduler> scheduler() const override { return scheduler_; }

private:
  const Buffer::Instance* readableBody(envoyx::BodyKind kind) {
    return isBuffered(kind) ? filter_.bufferedBody(kind) : filter_.receivedBody(kind);
  }

  bool changeBody(envoyx::BodyKind kind, std::function<void(Buffer::Instance&)> change) {
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

  EnvoyxFilter& filter_;
  const std::shared_ptr<envoyx::Scheduler> scheduler_;
};

} // namespace

void DispatcherScheduler::post(envoyx::Direction direction) const {
  dispatcher_.post([token = token_, direction]() {
    if (std::shared_ptr<StreamToken> live = token.lock()) {
      live->filter.onScheduled(direction);
    }
  });
}

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

void EnvoyxFilter::setDecoderFilterCallbacks(Http::StreamDecoderFilterCallbacks& callbacks) {
  PassThroughFilter::setDecoderFilterCallbacks(callbacks);
  // The stream starts here rather than in the constructor: its scheduler needs the worker's
  // dispatcher, which only the callbacks know. Envoy sets the decoder callbacks once per stream.
  token_ = std::make_shared<StreamToken>(*this);
  auto scheduler = std::make_shared<DispatcherScheduler>(callbacks.dispatcher(), token_);
  try {
    stream_.emplace((*config_)->new_stream(std::make_unique<EnvoyStreamHost>(*this, scheduler)));
  } catch (const rust::Error& e) {
    // Only a null host makes new_stream throw; without a stream every hook passes through.
    ENVOY_LOG(error, "EnvoyX: cannot start a stream: {}", e.what());
  }
}

template <class Status, class Call>
Status EnvoyxFilter::deliver(const char* event, Status fallback, Call call) {
  if (!stream_.has_value() || in_core_call_) {
    // No stream, or Envoy called back into this filter while the core is running (the module's
    // own local reply passing through the encoder chain): pass through.
    return fallback;
  }
  Status status = fallback;
  in_core_call_ = true;
  try {
    status = static_cast<Status>(call(**stream_));
  } catch (const rust::Error& e) {
    // The core refuses events driven out of order; the event was not delivered.
    ENVOY_LOG(error, "EnvoyX: {} not delivered: {}", event, e.what());
  }
  in_core_call_ = false;
  runDeferredEffects(false);
  return status;
}

Http::FilterHeadersStatus EnvoyxFilter::decodeHeaders(Http::RequestHeaderMap&, bool end_stream) {
  return deliver("request headers", Http::FilterHeadersStatus::Continue,
                 [&](envoyx::Stream& s) { return s.on_request_headers(end_stream); });
}

Http::FilterDataStatus EnvoyxFilter::decodeData(Buffer::Instance& data, bool end_stream) {
  request_received_ = &data;
  const auto status = deliver("request body", Http::FilterDataStatus::Continue,
                              [&](envoyx::Stream& s) { return s.on_request_body(end_stream); });
  request_received_ = nullptr;
  return status;
}

Http::FilterTrailersStatus EnvoyxFilter::decodeTrailers(Http::RequestTrailerMap&) {
  return deliver("request trailers", Http::FilterTrailersStatus::Continue,
                 [&](envoyx::Stream& s) { return s.on_request_trailers(); });
}

Http::FilterHeadersStatus EnvoyxFilter::encodeHeaders(Http::ResponseHeaderMap&, bool end_stream) {
  const auto status = deliver("response headers", Http::FilterHeadersStatus::Continue,
                              [&](envoyx::Stream& s) { return s.on_response_headers(end_stream); });
  if (status == Http::FilterHeadersStatus::Continue ||
      status == Http::FilterHeadersStatus::ContinueAndDontEndStream) {
    response_started_ = true;
  }
  return status;
}

Http::FilterDataStatus EnvoyxFilter::encodeData(Buffer::Instance& data, bool end_stream) {
  response_received_ = &data;
  const auto status = deliver("response body", Http::FilterDataStatus::Continue,
                              [&](envoyx::Stream& s) { return s.on_response_body(end_stream); });
  response_received_ = nullptr;
  return status;
}

Http::FilterTrailersStatus EnvoyxFilter::encodeTrailers(Http::ResponseTrailerMap&) {
  return deliver("response trailers", Http::FilterTrailersStatus::Continue,
                 [&](envoyx::Stream& s) { return s.on_response_trailers(); });
}

void EnvoyxFilter::onStreamComplete() {
  if (stream_.has_value() && !in_core_call_) {
    (*stream_)->on_stream_complete();
  }
}

void EnvoyxFilter::onDestroy() {
  // Continues still queued on the dispatcher (or posted later by a module thread) now find no
  // token and are dropped.
  token_.reset();
  pending_local_reply_.reset();
  // Dropping the box completes the stream if needed and destroys the module's stream state,
  // exactly once (the core guarantees it).
  stream_.reset();
}

void EnvoyxFilter::onScheduled(envoyx::Direction direction) {
  if (!stream_.has_value() || in_core_call_) {
    return;
  }
  in_core_call_ = true;
  (*stream_)->on_scheduled(direction);
  in_core_call_ = false;
  runDeferredEffects(true);
}

Http::HeaderMap* EnvoyxFilter::headerMap(envoyx::HeaderMapKind kind) {
  switch (kind) {
  case envoyx::HeaderMapKind::RequestHeaders: {
    auto map = decoder_callbacks_->requestHeaders();
    return map.has_value() ? &map.ref() : nullptr;
  }
  case envoyx::HeaderMapKind::RequestTrailers: {
    auto map = decoder_callbacks_->requestTrailers();
    return map.has_value() ? &map.ref() : nullptr;
  }
  case envoyx::HeaderMapKind::ResponseHeaders: {
    auto map = encoder_callbacks_->responseHeaders();
    return map.has_value() ? &map.ref() : nullptr;
  }
  case envoyx::HeaderMapKind::ResponseTrailers: {
    auto map = encoder_callbacks_->responseTrailers();
    return map.has_value() ? &map.ref() : nullptr;
  }
  }
  return nullptr;
}

Buffer::Instance* EnvoyxFilter::receivedBody(envoyx::BodyKind kind) {
  return isRequest(kind) ? request_received_ : response_received_;
}

const Buffer::Instance* EnvoyxFilter::bufferedBody(envoyx::BodyKind kind) {
  return isRequest(kind) ? decoder_callbacks_->decodingBuffer()
                         : encoder_callbacks_->encodingBuffer();
}

void EnvoyxFilter::modifyBufferedBody(envoyx::BodyKind kind,
                                      std::function<void(Buffer::Instance&)> change) {
  if (isRequest(kind)) {
    decoder_callbacks_->modifyDecodingBuffer(std::move(change));
  } else {
    encoder_callbacks_->modifyEncodingBuffer(std::move(change));
  }
}

bool EnvoyxFilter::requestLocalReply(PendingLocalReply reply) {
  if (response_started_ || pending_local_reply_.has_value()) {
    return false;
  }
  pending_local_reply_ = std::move(reply);
  return true;
}

void EnvoyxFilter::requestContinue(envoyx::Direction direction) {
  pending_continue_[direction == envoyx::Direction::Request ? 0 : 1] = true;
}

// Why effects wait: sendLocalReply, resetStream and continueDecoding/Encoding may call back into
// this filter synchronously (the encoder chain, onStreamComplete, onDestroy). Doing them while
// the core's stream is borrowed would re-enter it, and a reset could destroy it under its own
// feet. So the host records them and carries them out here, after the call has returned, in the
// order that leaves the stream consistent: a reset or a local reply ends the stream's processing,
// so a continue requested in the same call is then moot.
void EnvoyxFilter::runDeferredEffects(bool from_scheduled) {
  const bool continue_request = pending_continue_[0];
  const bool continue_response = pending_continue_[1];
  pending_continue_[0] = pending_continue_[1] = false;

  if (pending_reset_) {
    pending_reset_ = false;
    pending_local_reply_.reset();
    decoder_callbacks_->resetStream();
    return;
  }
  if (pending_local_reply_.has_value()) {
    PendingLocalReply reply = std::move(*pending_local_reply_);
    pending_local_reply_.reset();
    auto headers = std::move(reply.headers);
    decoder_callbacks_->sendLocalReply(
        static_cast<Http::Code>(reply.status), reply.body,
        [headers = std::move(headers)](Http::ResponseHeaderMap& response_headers) {
          for (const auto& [key, value] : headers) {
            response_headers.addCopy(Http::LowerCaseString(key), value);
          }
        },
        absl::nullopt, reply.details);
    return;
  }
  if (!continue_request && !continue_response) {
    return;
  }
  if (!from_scheduled) {
    // A continue asked for inside a decode/encode hook: Envoy forbids continuing from within
    // the hook that stopped, so it goes round the dispatcher like any other continue.
    if (continue_request) {
      requestContinueLater(envoyx::Direction::Request);
    }
    if (continue_response) {
      requestContinueLater(envoyx::Direction::Response);
    }
    return;
  }
  if (continue_request) {
    decoder_callbacks_->continueDecoding();
  }
  // continueDecoding may have ended the stream (a later filter's local reply).
  if (continue_response && token_ != nullptr) {
    encoder_callbacks_->continueEncoding();
  }
}

void EnvoyxFilter::requestContinueLater(envoyx::Direction direction) {
  dispatcher().post([token = std::weak_ptr<StreamToken>(token_), direction]() {
    if (std::shared_ptr<StreamToken> live = token.lock()) {
      live->filter.continueNow(direction);
    }
  });
}

void EnvoyxFilter::continueNow(envoyx::Direction direction) {
  if (direction == envoyx::Direction::Request) {
    decoder_callbacks_->continueDecoding();
  } else {
    encoder_callbacks_->continueEncoding();
  }
}

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
