// The EnvoyX HTTP filter itself (envoyx_filter.h): the stream's life in Envoy (the decode/encode
// hooks, completion, destruction), each call into the core through deliver() with the re-entrancy
// guard, the core's actions carried out once it has returned, wake-ups posted to the worker
// (DispatcherScheduler), and the header maps and bodies EnvoyStreamHost reaches through. The
// primitives are in envoyx_stream_host.cc and envoyx_stream_info.cc, callouts in
// envoyx_callouts.cc, logs and metrics in envoyx_telemetry.cc.
#include "envoy/envoyx_filter.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "envoy/http/codes.h"

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/header_map_impl.h"

#include "abi.h"

#include "envoy/envoyx_bytes.h"
#include "envoy/envoyx_stream_host.h"

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

namespace {

bool isRequest(envoyx::BodyKind kind) {
  return kind == envoyx::BodyKind::RequestReceived || kind == envoyx::BodyKind::RequestBuffered;
}

} // namespace

void DispatcherScheduler::post(Event::Dispatcher& dispatcher, std::weak_ptr<StreamToken> token) {
  dispatcher.post([token = std::move(token)]() {
    if (std::shared_ptr<StreamToken> live = token.lock()) {
      live->filter.onScheduled();
    }
  });
}

void DispatcherScheduler::wake() const { post(dispatcher_, token_); }

void EnvoyxFilter::setDecoderFilterCallbacks(Http::StreamDecoderFilterCallbacks& callbacks) {
  PassThroughFilter::setDecoderFilterCallbacks(callbacks);
  // The stream starts here rather than in the constructor: its scheduler needs the worker's
  // dispatcher, which only the callbacks know. Envoy sets the decoder callbacks once per stream.
  callbacks.addDownstreamWatermarkCallbacks(*this);
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
    // No stream, or a call nested inside a call into the core (which Envoy has no reason to
    // make, see in_core_call_): pass through.
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
  carryOutActions();
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
  return deliver("response headers", Http::FilterHeadersStatus::Continue,
                 [&](envoyx::Stream& s) { return s.on_response_headers(end_stream); });
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
  // Callouts in flight are cancelled: the module is never answered for a stream that is gone.
  for (auto& [id, callout] : callouts_) {
    callout->request_->cancel();
  }
  callouts_.clear();
  // Streaming callouts still open are reset; detached first, so the resets Envoy reports inline
  // reach no one.
  auto streams = std::move(callout_streams_);
  callout_streams_.clear();
  for (auto& [id, callout] : streams) {
    callout->abandon();
    retire(std::move(callout));
  }
  if (decoder_callbacks_ != nullptr) {
    decoder_callbacks_->removeDownstreamWatermarkCallbacks(*this);
  }
  // Continues still queued on the dispatcher (or posted later by a module thread) now find no
  // token and are dropped.
  token_.reset();
  // Dropping the box completes the stream if needed and destroys the module's stream state,
  // exactly once (the core guarantees it).
  stream_.reset();
}

// Envoy makes local replies outside this filter's calls into the core (the module's own comes
// back as an action), so the core is free here; if it were not, the reply goes on, logged.
Http::LocalErrorStatus EnvoyxFilter::onLocalReply(const LocalReplyData& data) {
  if (!stream_.has_value()) {
    return Http::LocalErrorStatus::Continue;
  }
  if (in_core_call_) {
    ENVOY_LOG(error, "EnvoyX: a local reply was made inside a module call; it goes on");
    return Http::LocalErrorStatus::Continue;
  }
  const std::string_view details = data.details_;
  const std::uint32_t status = (*stream_)->on_local_reply(
      static_cast<std::uint32_t>(data.code_),
      envoyx::Bytes(reinterpret_cast<const std::uint8_t*>(details.data()), details.size()),
      data.reset_imminent_);
  return status == ENVOYX_LOCAL_REPLY_RESET ? Http::LocalErrorStatus::ContinueAndResetStream
                                            : Http::LocalErrorStatus::Continue;
}

// Envoy writes to the client only while this filter carries out actions, after its call into
// the core returned, so the core is never busy here; if it were, the news is logged, not lost
// silently. The module hears of the change from the stream's queue (onScheduled).
void EnvoyxFilter::watermark(bool above) {
  if (!stream_.has_value()) {
    return;
  }
  if (in_core_call_) {
    ENVOY_LOG(error, "EnvoyX: a downstream watermark arrived inside a module call; dropped");
    return;
  }
  (*stream_)->on_watermark(envoyx::Direction::Response, above);
}

void EnvoyxFilter::onScheduled() {
  if (!stream_.has_value()) {
    return;
  }
  if (in_core_call_) {
    // A posted callback runs from the dispatcher loop, never inside one of this filter's calls
    // into the core, so this cannot happen by Envoy's rules. Should it, the wake stands for one
    // queued item that a dropped wake would leave queued (and a stopped stream hanging): post it
    // again, loudly.
    ENVOY_LOG(error, "EnvoyX: a wake-up arrived during a call into the core; posted again");
    DispatcherScheduler::post(decoder_callbacks_->dispatcher(), token_);
    return;
  }
  in_core_call_ = true;
  // The core runs the next item the module queued: a continue (carried out only if the module
  // had stopped that direction and the stream is neither ending nor complete) or the module's
  // scheduled hook (which may answer, reset or continue). What it returns is carried out right
  // here, on the worker, outside any decode/encode call of this filter.
  (*stream_)->on_scheduled();
  in_core_call_ = false;
  carryOutActions();
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
    if (encoder_callbacks_ == nullptr) {
      return nullptr; // Not set yet: the stream starts in setDecoderFilterCallbacks.
    }
    auto map = encoder_callbacks_->responseHeaders();
    return map.has_value() ? &map.ref() : nullptr;
  }
  case envoyx::HeaderMapKind::ResponseTrailers: {
    if (encoder_callbacks_ == nullptr) {
      return nullptr;
    }
    auto map = encoder_callbacks_->responseTrailers();
    return map.has_value() ? &map.ref() : nullptr;
  }
  }
  return nullptr;
}

bool EnvoyxFilter::addTrailers(envoyx::HeaderMapKind kind) {
  if (headerMap(kind) != nullptr) {
    return true;
  }
  // Envoy's filter manager keeps the added map as the stream's trailers (requestTrailers() and
  // responseTrailers() return it from now on), passes it to the filters after this one and
  // ends the direction with it.
  if (kind == envoyx::HeaderMapKind::RequestTrailers) {
    decoder_callbacks_->addDecodedTrailers();
  } else if (kind == envoyx::HeaderMapKind::ResponseTrailers && encoder_callbacks_ != nullptr) {
    encoder_callbacks_->addEncodedTrailers();
  }
  return headerMap(kind) != nullptr;
}

Buffer::Instance* EnvoyxFilter::receivedBody(envoyx::BodyKind kind) {
  return isRequest(kind) ? request_received_ : response_received_;
}

const Buffer::Instance* EnvoyxFilter::bufferedBody(envoyx::BodyKind kind) {
  if (isRequest(kind)) {
    return decoder_callbacks_->decodingBuffer();
  }
  // The encoder callbacks are not set yet while the stream starts (setDecoderFilterCallbacks).
  return encoder_callbacks_ != nullptr ? encoder_callbacks_->encodingBuffer() : nullptr;
}

void EnvoyxFilter::modifyBufferedBody(envoyx::BodyKind kind,
                                      std::function<void(Buffer::Instance&)> change) {
  if (isRequest(kind)) {
    decoder_callbacks_->modifyDecodingBuffer(std::move(change));
  } else if (encoder_callbacks_ != nullptr) {
    encoder_callbacks_->modifyEncodingBuffer(std::move(change));
  }
}

// Why actions wait until the call into the core has returned: sendLocalReply, resetStream and
// continueDecoding/Encoding may call back into this filter synchronously (the encoder chain with
// the reply, onStreamComplete, onDestroy, the next decodeData). Such a call is a new call into the
// core, which is allowed once the previous one returned; while it was running it would re-enter a
// stream that is still borrowed. The core has already applied the stream rules (reset over reply
// over continues, no reply once the response started, continues only of stopped directions), so
// each action is carried out as it comes. Carrying one out may destroy the stream (a reset, or a
// reply that ends it): onDestroy() drops token_ and the core's stream, and nothing more is done.
void EnvoyxFilter::carryOutActions() {
  while (token_ != nullptr && stream_.has_value()) {
    const envoyx::NextAction action = (*stream_)->next_action();
    switch (action.kind) {
    case envoyx::ActionKind::None:
      return;
    case envoyx::ActionKind::Reset:
      // A module's ENVOYX_RESET_REFUSED (reset_stream_with_reason): HTTP/2 REFUSED_STREAM.
      decoder_callbacks_->resetStream(action.reset_reason == envoyx::ResetReason::Refused
                                          ? Http::StreamResetReason::LocalRefusedStreamReset
                                          : Http::StreamResetReason::LocalReset);
      break;
    case envoyx::ActionKind::GoAway:
      // Ends the stream with the client's connection (GOAWAY first on HTTP/2 and 3).
      decoder_callbacks_->sendGoAwayAndClose(action.end_of_stream);
      break;
    case envoyx::ActionKind::LocalReply:
      sendLocalReply(action.reply);
      break;
    case envoyx::ActionKind::Continue:
      if (action.direction == envoyx::Direction::Request) {
        decoder_callbacks_->continueDecoding();
      } else {
        encoder_callbacks_->continueEncoding();
      }
      break;
    case envoyx::ActionKind::AnswerHeaders:
      sendModuleResponseHeaders(action.reply, action.end_of_stream);
      break;
    case envoyx::ActionKind::AnswerData:
      sendModuleResponseData(action.reply, action.end_of_stream);
      break;
    case envoyx::ActionKind::AnswerTrailers:
      sendModuleResponseTrailers(action.reply);
      break;
    case envoyx::ActionKind::Recreate:
      startOver(action.reply);
      return; // Envoy ended this stream: nothing more of it to carry out

    default: // a kind a later loader adds: nothing this build knows how to do
      return;
    }
  }
}

// recreate_stream (ABI 1.2): the core checked the safe semantics (a request ended by its headers,
// no response started); Envoy ends this stream inside recreateStream (onDestroy drops token_).
// Should Envoy still refuse, the stream is reset rather than left hanging.
void EnvoyxFilter::startOver(const envoyx::LocalReply& reply) {
  Http::ResponseHeaderMapPtr headers;
  if (!reply.headers.empty()) {
    headers = Http::ResponseHeaderMapImpl::create();
    for (const envoyx::ReplyHeader& header : reply.headers) {
      headers->addCopy(Http::LowerCaseString(toStringView(header.key)), toStringView(header.value));
    }
  }
  if (!decoder_callbacks_->recreateStream(headers.get())) {
    ENVOY_LOG(error, "EnvoyX: Envoy refused to start the request over; resetting it");
    if (token_ != nullptr) {
      decoder_callbacks_->resetStream(Http::StreamResetReason::LocalReset);
    }
  }
}

// The module's own response (ABI 1.2). The core checked every part (status 200-599, header
// names lower-case tokens without pseudo-headers, values without control bytes, the order, the
// content-length) and holds the request here, so no upstream response can meet it.
void EnvoyxFilter::sendModuleResponseHeaders(const envoyx::LocalReply& reply, bool end_of_stream) {
  Http::ResponseHeaderMapPtr headers = Http::ResponseHeaderMapImpl::create();
  headers->setStatus(reply.status);
  for (const envoyx::ReplyHeader& header : reply.headers) {
    headers->addCopy(Http::LowerCaseString(toStringView(header.key)), toStringView(header.value));
  }
  decoder_callbacks_->encodeHeaders(std::move(headers), end_of_stream, "envoyx_module_response");
}

void EnvoyxFilter::sendModuleResponseData(const envoyx::LocalReply& reply, bool end_of_stream) {
  Buffer::OwnedImpl data(toStringView(reply.body));
  decoder_callbacks_->encodeData(data, end_of_stream);
}

void EnvoyxFilter::sendModuleResponseTrailers(const envoyx::LocalReply& reply) {
  Http::ResponseTrailerMapPtr trailers = Http::ResponseTrailerMapImpl::create();
  for (const envoyx::ReplyHeader& header : reply.headers) {
    trailers->addCopy(Http::LowerCaseString(toStringView(header.key)), toStringView(header.value));
  }
  decoder_callbacks_->encodeTrailers(std::move(trailers));
}

void EnvoyxFilter::sendLocalReply(const envoyx::LocalReply& reply) {
  // The core checked the reply: status 200-599, header names lower-case tokens (no
  // pseudo-headers), values without control bytes, details one token.
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(reply.headers.size());
  for (const envoyx::ReplyHeader& header : reply.headers) {
    headers.emplace_back(std::string(toStringView(header.key)),
                         std::string(toStringView(header.value)));
  }
  decoder_callbacks_->sendLocalReply(
      static_cast<Http::Code>(reply.status), toStringView(reply.body),
      [headers = std::move(headers)](Http::ResponseHeaderMap& response_headers) {
        for (const auto& [key, value] : headers) {
          response_headers.addCopy(Http::LowerCaseString(key), value);
        }
      },
      std::nullopt, toStringView(reply.details));
}

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
