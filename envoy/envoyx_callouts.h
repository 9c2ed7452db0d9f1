// HTTP callouts (ABI 1.1) through Envoy's async client: sending a whole callout (sendCallout), the
// core's views of headers, bodies and a callout's answer, a stream's callout in flight
// (EnvoyxCallout), and streaming callouts (CalloutStreamBase, shared with the configuration's
// callouts in envoyx_config.cc, and a stream's EnvoyxCalloutStream). Defined in
// envoyx_callouts.cc, with the filter's side of its callouts.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "envoy/event/dispatcher.h"
#include "envoy/http/async_client.h"
#include "envoy/upstream/cluster_manager.h"

#include "envoyx-loader/src/lib.rs.h"

namespace Envoy {
namespace Extensions {
namespace HttpFilters {
namespace EnvoyX {

class EnvoyxFilter;

// Sends a module's HTTP callout (checked by the core) to `cluster` through the cluster manager
// with `callbacks` and `options` (the timeout is set here); the request, or null with `failure`
// set (an envoyx_callout_status) when it cannot start (no such cluster; failed inside send(),
// whose inline answer the callbacks ignore). The answer's body is limited by Envoy's runtime key
// `http.async_response_buffer_limit` (default 32 MiB, kBufferLimitForResponse in
// source/common/http/async_client_impl.h:56 of 1.38.3-1.40): a larger one fails with
// ExceedResponseBufferLimit, which the callbacks report as ENVOYX_CALLOUT_TOO_LARGE.
Http::AsyncClient::Request* sendCallout(Upstream::ClusterManager& cluster_manager, envoyx::Bytes cluster,
                                        rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body,
                                        std::uint64_t timeout_ms, Http::AsyncClient::Callbacks& callbacks,
                                        Http::AsyncClient::RequestOptions options, std::uint32_t& failure);

// The core's views of headers, and of a buffer's slices (appended to `out`).
void headerViews(const Http::HeaderMap& headers, std::vector<envoyx::RawHeader>& out);
void bufferViews(const Buffer::Instance& buffer, std::vector<envoyx::RawBytes>& out);

// The core's views of a callout's response (null: none): its headers and body slices. Not const:
// Http::Message's headers() and body() are non-const (envoy/http/message.h:22,27).
void calloutViews(Http::ResponseMessage* response, std::vector<envoyx::RawHeader>& headers,
                  std::vector<envoyx::RawBytes>& chunks);

// One HTTP callout (ABI 1.1) in flight through Envoy's async client: its answer goes back to the
// filter, which hands it to the core. Owned by the filter, which cancels it if it goes first.
class EnvoyxCallout : public Http::AsyncClient::Callbacks {
public:
  EnvoyxCallout(EnvoyxFilter& filter, std::uint64_t id, rust::Box<envoyx::CalloutInbox> inbox)
      : filter_(filter), id_(id), inbox_(std::move(inbox)) {}

  // Http::AsyncClient::Callbacks
  void onSuccess(const Http::AsyncClient::Request&, Http::ResponseMessagePtr&& response) override;
  void onFailure(const Http::AsyncClient::Request&, Http::AsyncClient::FailureReason reason) override;
  void onBeforeFinalizeUpstreamSpan(Tracing::Span&, const Http::ResponseHeaderMap*) override {}

  EnvoyxFilter& filter_;
  const std::uint64_t id_;
  // Null until send() returned: an answer before that came inline (send then returns null).
  Http::AsyncClient::Request* request_ = nullptr;
  bool sent_ = false;
  // Where the answer goes when it arrives during a call into the core (inline, inside send()).
  rust::Box<envoyx::CalloutInbox> inbox_;
  // The answer came inline and went to the inbox.
  bool answered_inline_ = false;
};

// A streaming callout (ABI 1.1) through Envoy's async client, of a stream or of a filter
// configuration: opens it, sends the request's pieces, and turns Envoy's callbacks into the
// core's events (views valid during deliver()). Nothing is reported after its last event, after
// abandon(), or once detached. Its owner frees it through deferred deletion, as Envoy may still
// call it after its last event.
class CalloutStreamBase : public Http::AsyncClient::StreamCallbacks, public Event::DeferredDeletable {
public:
  explicit CalloutStreamBase(std::uint64_t id) : id_(id) {}

  // Opens the stream to `cluster` with `options` (the timeout is set here) and sends the
  // headers, then `body` if not empty, ending the request if `end_stream`. False with `failure`
  // (an envoyx_callout_status) when it cannot start and nothing was reported. Envoy may report
  // on it, even its end, inside this call: then it returns true, as the report is the answer.
  bool open(Upstream::ClusterManager& cluster_manager, envoyx::Bytes cluster,
            rust::Slice<const envoyx::RawHeader> headers, envoyx::Bytes body, bool end_stream,
            std::uint64_t timeout_ms, Http::AsyncClient::StreamOptions options, std::uint32_t& failure);
  // The request's next bytes, or its trailers (which end it); false once it is over.
  bool send(envoyx::Bytes data, bool end_stream);
  bool sendTrailers(rust::Slice<const envoyx::RawHeader> trailers);
  // Resets it; nothing more is reported.
  void abandon();

  // Http::AsyncClient::StreamCallbacks
  void onHeaders(Http::ResponseHeaderMapPtr&& headers, bool end_stream) override;
  void onData(Buffer::Instance& data, bool end_stream) override;
  void onTrailers(Http::ResponseTrailerMapPtr&& trailers) override;
  void onComplete() override;
  void onReset() override;

  const std::uint64_t id_;

protected:
  // One event (an envoyx_callout_event) for the core; after COMPLETE or FAILED nothing follows.
  virtual void deliver(std::uint32_t event, std::uint32_t status,
                       rust::Slice<const envoyx::RawHeader> headers,
                       rust::Slice<const envoyx::RawBytes> data, bool end_stream) = 0;

private:
  void report(std::uint32_t event, std::uint32_t status, const Http::HeaderMap* headers,
              const Buffer::Instance* data, bool end_stream);

  Http::AsyncClient::Stream* stream_ = nullptr;
  // What the async stream reads after sendHeaders/sendTrailers returned: kept alive here.
  Http::RequestHeaderMapPtr request_headers_;
  Http::RequestTrailerMapPtr request_trailers_;
  // The last event came, or the owner abandoned it: report nothing more.
  bool over_ = false;
};

// A stream's streaming callout: its news goes to the filter, which hands it to the core (or,
// during a call into the core, to the callout's inbox).
class EnvoyxCalloutStream : public CalloutStreamBase {
public:
  EnvoyxCalloutStream(EnvoyxFilter& filter, std::uint64_t id, rust::Box<envoyx::CalloutInbox> inbox)
      : CalloutStreamBase(id), filter_(filter), inbox_(std::move(inbox)) {}

  const envoyx::CalloutInbox& inbox() const { return *inbox_; }

protected:
  void deliver(std::uint32_t event, std::uint32_t status, rust::Slice<const envoyx::RawHeader> headers,
               rust::Slice<const envoyx::RawBytes> data, bool end_stream) override;

private:
  EnvoyxFilter& filter_;
  rust::Box<envoyx::CalloutInbox> inbox_;
};

} // namespace EnvoyX
} // namespace HttpFilters
} // namespace Extensions
} // namespace Envoy
