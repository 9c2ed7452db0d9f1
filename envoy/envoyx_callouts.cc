// HTTP callouts (ABI 1.1) through Envoy's async client (envoyx_callouts.h): sending a whole
// callout, the core's views of headers, bodies and a callout's answer, the streaming callouts'
// base (open, send, trailers, abandon, Envoy's callbacks as the core's events), and the filter's
// side of its callouts (EnvoyxFilter::startCallout, calloutDone, the streaming-callout calls,
// retire). The configuration's callouts (envoyx_config.cc) use the same pieces.
#include "envoy/envoyx_callouts.h"

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "source/common/buffer/buffer_impl.h"
#include "source/common/http/header_map_impl.h"
#include "source/common/http/message_impl.h"

#include "abi.h"

#include "envoy/envoyx_filter.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

void EnvoyxCallout::onSuccess(const Http::AsyncClient::Request&, Http::ResponseMessagePtr&& response) {
  if (!sent_) {
    // Answered inside send() (the router answers a cluster without healthy hosts at once),
    // during the module's call into the core: the core delivers the copy right after it.
    std::vector<envoyx::RawHeader> headers;
    std::vector<envoyx::RawBytes> chunks;
    calloutViews(response.get(), headers, chunks);
    inbox_->defer_answer(id_, ENVOYX_CALLOUT_RESPONSE,
                         rust::Slice<const envoyx::RawHeader>(headers.data(), headers.size()),
                         rust::Slice<const envoyx::RawBytes>(chunks.data(), chunks.size()));
    answered_inline_ = true;
    return;
  }
  filter_.calloutDone(id_, ENVOYX_CALLOUT_RESPONSE, response.get());
}

void EnvoyxCallout::onFailure(const Http::AsyncClient::Request&,
                              Http::AsyncClient::FailureReason reason) {
  if (!sent_) {
    return;
  }
  const bool too_large = reason == Http::AsyncClient::FailureReason::ExceedResponseBufferLimit;
  filter_.calloutDone(id_, too_large ? ENVOYX_CALLOUT_TOO_LARGE : ENVOYX_CALLOUT_RESET, nullptr);
}

bool EnvoyxFilter::startCallout(std::uint64_t id, envoyx::Bytes cluster_name,
                                rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                                std::uint64_t timeout_ms, rust::Box<envoyx::CalloutInbox> inbox,
                                std::uint32_t& failure) {
  failure = ENVOYX_CALLOUT_UNAVAILABLE;
  if (cluster_manager_ == nullptr) {
    return false;
  }
  auto callout = std::make_unique<EnvoyxCallout>(*this, id, std::move(inbox));
  Http::AsyncClient::Request* request = sendCallout(*cluster_manager_, cluster_name, headers, body,
                                                    timeout_ms, *callout, calloutOptions(), failure);
  if (request == nullptr) {
    // Answered inline (onSuccess gave the answer to the inbox) or could not start.
    return callout->answered_inline_;
  }
  callout->request_ = request;
  callout->sent_ = true;
  callouts_.emplace(id, std::move(callout));
  return true;
}

Http::AsyncClient::StreamOptions EnvoyxFilter::calloutOptions() {
  Http::AsyncClient::StreamOptions options;
  if (decoder_callbacks_ != nullptr) {
    options.setParentSpan(decoder_callbacks_->activeSpan())
        .setParentContext(Http::AsyncClient::ParentContext{&decoder_callbacks_->streamInfo()});
  }
  return options;
}

Http::AsyncClient::Request* sendCallout(Upstream::ClusterManager& cluster_manager, envoyx::Bytes cluster_name,
                                        rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                                        std::uint64_t timeout_ms, Http::AsyncClient::Callbacks& callbacks,
                                        Http::AsyncClient::RequestOptions options, std::uint32_t& failure) {
  failure = ENVOYX_CALLOUT_UNAVAILABLE;
  const absl::string_view name(reinterpret_cast<const char*>(cluster_name.data()),
                               cluster_name.size());
  Upstream::ThreadLocalCluster* cluster = cluster_manager.getThreadLocalCluster(name);
  if (cluster == nullptr) {
    failure = ENVOYX_CALLOUT_NO_CLUSTER;
    return nullptr;
  }
  auto message = std::make_unique<Http::RequestMessageImpl>();
  for (const envoyx::RawHeader& h : headers) {
    const absl::string_view key(reinterpret_cast<const char*>(h.key.ptr), h.key.len);
    const absl::string_view value(reinterpret_cast<const char*>(h.value.ptr), h.value.len);
    // The core checked the names (lower-case tokens or request pseudo-headers; `host` already
    // turned into `:authority`).
    message->headers().addCopy(Http::LowerCaseString(key), value);
  }
  if (!body.empty()) {
    message->body().add(body.data(), body.size());
  }
  options.setTimeout(std::chrono::milliseconds(timeout_ms));
  return cluster->httpAsyncClient().send(std::move(message), callbacks, options);
}

void headerViews(const Http::HeaderMap& headers, std::vector<envoyx::RawHeader>& out) {
  headers.iterate([&out](const Http::HeaderEntry& entry) {
    const absl::string_view key = entry.key().getStringView();
    const absl::string_view value = entry.value().getStringView();
    out.push_back(envoyx::RawHeader{
        envoyx::RawBytes{reinterpret_cast<const uint8_t*>(key.data()), key.size()},
        envoyx::RawBytes{reinterpret_cast<const uint8_t*>(value.data()), value.size()}});
    return Http::HeaderMap::Iterate::Continue;
  });
}

void bufferViews(const Buffer::Instance& buffer, std::vector<envoyx::RawBytes>& out) {
  for (const Buffer::RawSlice& slice : buffer.getRawSlices()) {
    out.push_back(envoyx::RawBytes{static_cast<const uint8_t*>(slice.mem_), slice.len_});
  }
}

void calloutViews(Http::ResponseMessage* response, std::vector<envoyx::RawHeader>& headers,
                  std::vector<envoyx::RawBytes>& chunks) {
  if (response == nullptr) {
    return;
  }
  headerViews(response->headers(), headers);
  bufferViews(response->body(), chunks);
}

void EnvoyxFilter::calloutDone(std::uint64_t id, std::uint32_t status,
                               Http::ResponseMessage* response) {
  auto it = callouts_.find(id);
  if (it == callouts_.end()) {
    return;
  }
  // Freed when this returns, not before: `response` may live in the async client's request.
  std::unique_ptr<EnvoyxCallout> done = std::move(it->second);
  callouts_.erase(it);
  if (!stream_.has_value()) {
    return;
  }
  std::vector<envoyx::RawHeader> headers;
  std::vector<envoyx::RawBytes> chunks;
  calloutViews(response, headers, chunks);
  if (in_core_call_) {
    // Answered during a call into the core: delivered right after it.
    done->inbox_->defer_answer(id, status,
                               rust::Slice<const envoyx::RawHeader>(headers.data(), headers.size()),
                               rust::Slice<const envoyx::RawBytes>(chunks.data(), chunks.size()));
    return;
  }
  in_core_call_ = true;
  (*stream_)->on_callout_done(id, status,
                              rust::Slice<const envoyx::RawHeader>(headers.data(), headers.size()),
                              rust::Slice<const envoyx::RawBytes>(chunks.data(), chunks.size()));
  in_core_call_ = false;
  carryOutActions();
}

bool CalloutStreamBase::open(Upstream::ClusterManager& cluster_manager, envoyx::Bytes cluster_name,
                             rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                             bool end_stream, std::uint64_t timeout_ms,
                             Http::AsyncClient::StreamOptions options, std::uint32_t& failure) {
  failure = ENVOYX_CALLOUT_UNAVAILABLE;
  const absl::string_view name(reinterpret_cast<const char*>(cluster_name.data()),
                               cluster_name.size());
  Upstream::ThreadLocalCluster* cluster = cluster_manager.getThreadLocalCluster(name);
  if (cluster == nullptr) {
    failure = ENVOYX_CALLOUT_NO_CLUSTER;
    return false;
  }
  options.setTimeout(std::chrono::milliseconds(timeout_ms));
  stream_ = cluster->httpAsyncClient().start(*this, options);
  if (stream_ == nullptr) {
    // AsyncClientImpl::start reports onReset() inline before it returns null (source/common/http/
    // async_client_impl.cc, AsyncClientImpl::start, 1.38.3-1.40): that FAILED event went to the
    // owner already, so it is the answer; reporting "cannot start" as well would tell the module
    // twice. A null start without a report (another AsyncClient) is a failure to start.
    const bool reported = over_;
    over_ = true;
    return reported;
  }
  request_headers_ = Http::RequestHeaderMapImpl::create();
  for (const envoyx::RawHeader& h : headers) {
    const absl::string_view key(reinterpret_cast<const char*>(h.key.ptr), h.key.len);
    const absl::string_view value(reinterpret_cast<const char*>(h.value.ptr), h.value.len);
    // The core checked the names (lower-case tokens or request pseudo-headers; `host` already
    // turned into `:authority`).
    request_headers_->addCopy(Http::LowerCaseString(key), value);
  }
  const bool has_body = !body.empty();
  stream_->sendHeaders(*request_headers_, end_stream && !has_body);
  if (has_body) {
    send(body, end_stream); // Nothing happens if Envoy ended it inside sendHeaders.
  }
  return true;
}

bool CalloutStreamBase::send(envoyx::Bytes data, bool end_stream) {
  if (stream_ == nullptr) {
    return false;
  }
  Buffer::OwnedImpl buffer(data.data(), data.size());
  stream_->sendData(buffer, end_stream);
  return true;
}

bool CalloutStreamBase::sendTrailers(rust::Slice<const envoyx::RawHeader> trailers) {
  if (stream_ == nullptr) {
    return false;
  }
  request_trailers_ = Http::RequestTrailerMapImpl::create();
  for (const envoyx::RawHeader& h : trailers) {
    request_trailers_->addCopy(
        Http::LowerCaseString(absl::string_view(reinterpret_cast<const char*>(h.key.ptr), h.key.len)),
        absl::string_view(reinterpret_cast<const char*>(h.value.ptr), h.value.len));
  }
  stream_->sendTrailers(*request_trailers_);
  return true;
}

void CalloutStreamBase::abandon() {
  over_ = true; // The reset Envoy reports inside reset() reaches no one.
  Http::AsyncClient::Stream* stream = std::exchange(stream_, nullptr);
  if (stream != nullptr) {
    stream->reset();
  }
}

void CalloutStreamBase::onHeaders(Http::ResponseHeaderMapPtr&& headers, bool end_stream) {
  report(ENVOYX_CALLOUT_EVENT_HEADERS, ENVOYX_CALLOUT_RESPONSE, headers.get(), nullptr, end_stream);
}

void CalloutStreamBase::onData(Buffer::Instance& data, bool end_stream) {
  report(ENVOYX_CALLOUT_EVENT_DATA, ENVOYX_CALLOUT_RESPONSE, nullptr, &data, end_stream);
}

void CalloutStreamBase::onTrailers(Http::ResponseTrailerMapPtr&& trailers) {
  report(ENVOYX_CALLOUT_EVENT_TRAILERS, ENVOYX_CALLOUT_RESPONSE, trailers.get(), nullptr, true);
}

void CalloutStreamBase::onComplete() {
  report(ENVOYX_CALLOUT_EVENT_COMPLETE, ENVOYX_CALLOUT_RESPONSE, nullptr, nullptr, true);
}

void CalloutStreamBase::onReset() {
  report(ENVOYX_CALLOUT_EVENT_FAILED, ENVOYX_CALLOUT_RESET, nullptr, nullptr, true);
}

void CalloutStreamBase::report(std::uint32_t event, std::uint32_t status,
                               const Http::HeaderMap* headers, const Buffer::Instance* data,
                               bool end_stream) {
  if (over_) {
    return;
  }
  if (event == ENVOYX_CALLOUT_EVENT_COMPLETE || event == ENVOYX_CALLOUT_EVENT_FAILED) {
    over_ = true;
    stream_ = nullptr;
  }
  std::vector<envoyx::RawHeader> header_views;
  if (headers != nullptr) {
    headerViews(*headers, header_views);
  }
  std::vector<envoyx::RawBytes> chunks;
  if (data != nullptr) {
    bufferViews(*data, chunks);
  }
  deliver(event, status, rust::Slice<const envoyx::RawHeader>(header_views.data(), header_views.size()),
          rust::Slice<const envoyx::RawBytes>(chunks.data(), chunks.size()), end_stream);
}

void EnvoyxCalloutStream::deliver(std::uint32_t event, std::uint32_t status,
                                  rust::Slice<const envoyx::RawHeader> headers,
                                  rust::Slice<const envoyx::RawBytes> data, bool end_stream) {
  filter_.calloutStreamEvent(*this, event, status, headers, data, end_stream);
}

bool EnvoyxFilter::startCalloutStream(std::uint64_t id, envoyx::Bytes cluster,
                                      rust::Slice<const envoyx::RawHeader> headers,
                                      envoyx::Bytes body, bool end_stream,
                                      std::uint64_t timeout_ms,
                                      rust::Box<envoyx::CalloutInbox> inbox,
                                      std::uint32_t& failure) {
  failure = ENVOYX_CALLOUT_UNAVAILABLE;
  if (cluster_manager_ == nullptr) {
    return false;
  }
  auto owned = std::make_unique<EnvoyxCalloutStream>(*this, id, std::move(inbox));
  EnvoyxCalloutStream& callout = *owned;
  // Registered first: Envoy may report on it (even its end) inside open().
  callout_streams_.emplace(id, std::move(owned));
  if (!callout.open(*cluster_manager_, cluster, headers, body, end_stream, timeout_ms,
                    calloutOptions(), failure)) {
    auto it = callout_streams_.find(id);
    if (it != callout_streams_.end()) {
      std::unique_ptr<EnvoyxCalloutStream> failed = std::move(it->second);
      callout_streams_.erase(it);
      retire(std::move(failed));
    }
    return false;
  }
  return true;
}

bool EnvoyxFilter::sendCalloutStreamData(std::uint64_t id, envoyx::Bytes data, bool end_stream) {
  auto it = callout_streams_.find(id);
  return it != callout_streams_.end() && it->second->send(data, end_stream);
}

bool EnvoyxFilter::sendCalloutStreamTrailers(std::uint64_t id,
                                             rust::Slice<const envoyx::RawHeader> trailers) {
  auto it = callout_streams_.find(id);
  return it != callout_streams_.end() && it->second->sendTrailers(trailers);
}

void EnvoyxFilter::resetCalloutStream(std::uint64_t id) {
  auto it = callout_streams_.find(id);
  if (it == callout_streams_.end()) {
    return;
  }
  std::unique_ptr<EnvoyxCalloutStream> callout = std::move(it->second);
  callout_streams_.erase(it);
  callout->abandon();
  retire(std::move(callout));
}

void EnvoyxFilter::calloutStreamEvent(EnvoyxCalloutStream& callout, std::uint32_t event,
                                      std::uint32_t status,
                                      rust::Slice<const envoyx::RawHeader> headers,
                                      rust::Slice<const envoyx::RawBytes> data, bool end_stream) {
  const std::uint64_t id = callout.id_;
  const bool inside_core_call = in_core_call_;
  if (inside_core_call) {
    // Envoy answered inside a call into the core: the core delivers it right after that call.
    callout.inbox().defer(id, event, status, headers, data, end_stream);
  } else if (stream_.has_value()) {
    in_core_call_ = true;
    (*stream_)->on_callout_event(id, event, status, headers, data, end_stream);
    in_core_call_ = false;
  }
  if (event == ENVOYX_CALLOUT_EVENT_COMPLETE || event == ENVOYX_CALLOUT_EVENT_FAILED) {
    auto it = callout_streams_.find(id);
    if (it != callout_streams_.end()) {
      std::unique_ptr<EnvoyxCalloutStream> done = std::move(it->second);
      callout_streams_.erase(it);
      retire(std::move(done));
    }
  }
  if (!inside_core_call) {
    carryOutActions();
  }
}

void EnvoyxFilter::retire(std::unique_ptr<EnvoyxCalloutStream> callout) {
  if (callout == nullptr) {
    return;
  }
  if (decoder_callbacks_ != nullptr) {
    decoder_callbacks_->dispatcher().deferredDelete(std::move(callout));
  }
  // Without callbacks (unit tests without a dispatcher) no async stream was ever started.
}

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
