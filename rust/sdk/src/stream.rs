//! The per-hook view of the host's stream.

use std::fmt;

use envoyx_abi::{envoyx_bytes, envoyx_host_api, envoyx_stream};

use crate::body::{self, Body, BodyReader};
use crate::{BodyKind, Direction, HeaderMap, HeaderMapKind, ResetReason, RouteConfig, StreamHandle};

/// The host's side of one HTTP stream, as a hook sees it.
///
/// Hooks receive `&mut Stream`; a filter cannot keep it past the hook, and it is neither `Send`
/// nor `Sync`, matching the ABI rule that stream functions are called only on the stream's worker
/// thread, inside one of its hooks.
///
/// Header maps ([`request_headers`](Stream::request_headers) ..) and bodies
/// ([`request_body`](Stream::request_body) ..) borrow the stream mutably, so only one of them is
/// in use at a time and a view into one cannot survive a change to it. Copy what you need out of
/// one before opening another:
///
/// ```
/// use envoyx_sdk::{Filter, HeadersStatus, Stream};
///
/// struct CopyHost;
///
/// impl Filter for CopyHost {
///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
///         let host = stream.request_headers().get(":authority").map(<[u8]>::to_vec);
///         if let Some(host) = host {
///             stream.request_headers().set("x-original-host", host);
///         }
///         HeadersStatus::Continue
///     }
/// }
/// ```
pub struct Stream {
    raw: *mut envoyx_stream,
    host: &'static envoyx_host_api,
}

impl Stream {
    /// Wraps the stream a hook received.
    ///
    /// # Safety
    /// `raw` is the stream of the hook currently running on this thread, and the returned value
    /// must not outlive that hook.
    pub(crate) unsafe fn from_raw(raw: *mut envoyx_stream, host: &'static envoyx_host_api) -> Self {
        Stream { raw, host }
    }

    /// The host's raw stream pointer, for calling the ABI directly (see [`crate::abi`]). Only
    /// valid during the current hook.
    pub fn as_raw(&self) -> *mut envoyx_stream {
        self.raw
    }

    pub(crate) fn host(&self) -> &'static envoyx_host_api {
        self.host
    }

    /// The header map `kind`. A map is available once the host has received it: request headers
    /// from the request headers hook on, request trailers from the request trailers hook on, and
    /// likewise for the response. An unavailable map reads as empty and refuses changes.
    ///
    /// ```
    /// use envoyx_sdk::{HeaderMapKind, Stream};
    ///
    /// fn user_agent(stream: &mut Stream) -> Option<String> {
    ///     let headers = stream.header_map(HeaderMapKind::RequestHeaders);
    ///     headers.get_str("user-agent").map(str::to_owned)
    /// }
    /// ```
    pub fn header_map(&mut self, kind: HeaderMapKind) -> HeaderMap<'_> {
        HeaderMap::new(self, kind)
    }

    /// The request headers (pseudo-headers such as `:path`, `:method` and `:authority`
    /// included).
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn is_get(stream: &mut Stream) -> bool {
    ///     stream.request_headers().get(":method") == Some(b"GET")
    /// }
    /// ```
    pub fn request_headers(&mut self) -> HeaderMap<'_> {
        self.header_map(HeaderMapKind::RequestHeaders)
    }

    /// The request trailers, from the request trailers hook on.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn checksum(stream: &mut Stream) -> Option<Vec<u8>> {
    ///     stream.request_trailers().get("x-checksum").map(<[u8]>::to_vec)
    /// }
    /// ```
    pub fn request_trailers(&mut self) -> HeaderMap<'_> {
        self.header_map(HeaderMapKind::RequestTrailers)
    }

    /// The response headers (`:status` included), from the response headers hook on.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn brand(stream: &mut Stream) {
    ///     stream.response_headers().set("server", "envoyx");
    /// }
    /// ```
    pub fn response_headers(&mut self) -> HeaderMap<'_> {
        self.header_map(HeaderMapKind::ResponseHeaders)
    }

    /// The response trailers, from the response trailers hook on.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn grpc_status(stream: &mut Stream) -> Option<String> {
    ///     stream.response_trailers().get_str("grpc-status").map(str::to_owned)
    /// }
    /// ```
    pub fn response_trailers(&mut self) -> HeaderMap<'_> {
        self.header_map(HeaderMapKind::ResponseTrailers)
    }

    /// The body `kind`; see [`BodyKind`] for what *received* and *buffered* mean. An unavailable
    /// body reads as empty and refuses changes.
    ///
    /// ```
    /// use envoyx_sdk::{BodyKind, Stream};
    ///
    /// fn buffered_bytes(stream: &mut Stream) -> usize {
    ///     stream.body(BodyKind::RequestBuffered).len()
    /// }
    /// ```
    pub fn body(&mut self, kind: BodyKind) -> Body<'_> {
        Body::new(self, kind)
    }

    /// The request chunk the current request body hook carries.
    ///
    /// ```
    /// use envoyx_sdk::{BodyStatus, Filter, Stream};
    ///
    /// struct Lowercase;
    ///
    /// impl Filter for Lowercase {
    ///     fn on_request_body(&mut self, stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
    ///         for chunk in stream.request_body().chunks_mut() {
    ///             chunk.make_ascii_lowercase();
    ///         }
    ///         BodyStatus::Continue
    ///     }
    /// }
    /// ```
    pub fn request_body(&mut self) -> Body<'_> {
        self.body(BodyKind::RequestReceived)
    }

    /// What earlier request body hooks buffered by returning
    /// [`BodyStatus::StopIterationAndBuffer`](crate::BodyStatus::StopIterationAndBuffer).
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn drop_buffered(stream: &mut Stream) {
    ///     let mut buffered = stream.buffered_request_body();
    ///     let len = buffered.len();
    ///     buffered.drain(len);
    /// }
    /// ```
    pub fn buffered_request_body(&mut self) -> Body<'_> {
        self.body(BodyKind::RequestBuffered)
    }

    /// The response chunk the current response body hook carries.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn add_footer(stream: &mut Stream, end_of_stream: bool) {
    ///     if end_of_stream {
    ///         stream.response_body().append(b"\n-- served by envoyx\n");
    ///     }
    /// }
    /// ```
    pub fn response_body(&mut self) -> Body<'_> {
        self.body(BodyKind::ResponseReceived)
    }

    /// What earlier response body hooks buffered.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn buffered_response(stream: &mut Stream) -> Vec<u8> {
    ///     stream.buffered_response_body().to_vec()
    /// }
    /// ```
    pub fn buffered_response_body(&mut self) -> Body<'_> {
        self.body(BodyKind::ResponseBuffered)
    }

    /// A reader over the whole request body the host holds now: the buffered part followed by
    /// the received part, without copying either. At the end of a buffered request (the last
    /// body hook, or the trailers hook) this is the complete body.
    ///
    /// ```
    /// use std::io::Read;
    ///
    /// use envoyx_sdk::Stream;
    ///
    /// fn whole_body_as_string(stream: &mut Stream) -> std::io::Result<String> {
    ///     let mut text = String::new();
    ///     stream.whole_request_body().read_to_string(&mut text)?;
    ///     Ok(text)
    /// }
    /// ```
    pub fn whole_request_body(&self) -> BodyReader<'_> {
        self.whole_body(BodyKind::RequestBuffered, BodyKind::RequestReceived)
    }

    /// A reader over the whole response body the host holds now: buffered then received.
    ///
    /// ```
    /// use envoyx_sdk::Stream;
    ///
    /// fn response_len(stream: &mut Stream) -> usize {
    ///     stream.whole_response_body().remaining()
    /// }
    /// ```
    pub fn whole_response_body(&self) -> BodyReader<'_> {
        self.whole_body(BodyKind::ResponseBuffered, BodyKind::ResponseReceived)
    }

    fn whole_body(&self, buffered: BodyKind, received: BodyKind) -> BodyReader<'_> {
        let mut slices = body::slices(self, buffered);
        slices.extend(&body::slices(self, received));
        BodyReader::new(slices)
    }

    /// Answers the client with `status`, `headers`, `body` and response-code `details` (e.g.
    /// `"envoyx_unauthorized"`) instead of what the stream would have produced. The host copies
    /// everything. Return a stop status from the hook afterwards. Returns false when a reply can
    /// no longer be sent because the response already started (then consider
    /// [`reset`](Stream::reset)).
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, Stream};
    ///
    /// struct DenyAll;
    ///
    /// impl Filter for DenyAll {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         stream.send_local_reply(403, &[("content-type", "text/plain")], b"denied\n", "envoyx_denied");
    ///         HeadersStatus::StopIteration
    ///     }
    /// }
    /// ```
    pub fn send_local_reply(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
        details: &str,
    ) -> bool {
        let headers = crate::callout::header_views(headers);
        // Safety: we are inside a hook of this stream on its worker thread (`Stream` exists only
        // there); `headers`, `body` and `details` outlive the call and the host copies them.
        unsafe {
            (self.host.send_local_reply)(
                self.raw,
                u32::from(status),
                headers.as_ptr(),
                headers.len(),
                envoyx_bytes::from_slice(body),
                envoyx_bytes::from_slice(details.as_bytes()),
            )
        }
    }

    /// Resets the stream: the client and the upstream see it aborted. Return a stop status from
    /// the hook afterwards.
    ///
    /// ```
    /// use envoyx_sdk::{BodyStatus, Stream};
    ///
    /// fn abort_if_huge(stream: &mut Stream) -> BodyStatus {
    ///     if stream.request_body().len() > 1 << 20 {
    ///         stream.reset();
    ///         return BodyStatus::StopIterationNoBuffer;
    ///     }
    ///     BodyStatus::Continue
    /// }
    /// ```
    pub fn reset(&mut self) {
        // Safety: inside a hook of this stream on its worker thread.
        unsafe { (self.host.reset_stream)(self.raw) }
    }

    /// Resets the stream like [`Stream::reset`], telling the client `reason` (ABI 1.2):
    /// [`ResetReason::Refused`] says the request was not processed, so a client may retry it on
    /// another connection or host (HTTP/2 REFUSED_STREAM; HTTP/1.1 can only close; Envoy
    /// 1.38-1.40 reset alike whatever the reason, as x/abi.h says). `details`
    /// says why for the operator: one token (no whitespace or control characters), at most 256
    /// bytes, may be empty; the proxy writes it to its debug log with the module and filter.
    /// False when refused (logged): details that are not one token, or a hook that may not
    /// reset. Return a stop status from the hook afterwards.
    ///
    /// ```
    /// use envoyx_sdk::{HeadersStatus, ResetReason, Stream};
    ///
    /// fn shed(stream: &mut Stream, overloaded: bool) -> HeadersStatus {
    ///     if overloaded {
    ///         stream.reset_with_reason(ResetReason::Refused, "envoyx_overloaded");
    ///         return HeadersStatus::StopIteration;
    ///     }
    ///     HeadersStatus::Continue
    /// }
    /// ```
    pub fn reset_with_reason(&mut self, reason: ResetReason, details: &str) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the view lives for the call.
        unsafe { (self.host.reset_stream_with_reason)(self.raw, reason as u32, bytes(details)) }
    }

    /// Tells the host this hook failed (the SDK calls it when a hook panics): the host logs
    /// `reason` and ends the stream as x/abi.h's `hook_failed` says (a 500 before the response
    /// started on the request side, else a reset); the filter gets no further hook.
    pub(crate) fn hook_failed(&mut self, reason: &str) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the view lives for the call.
        unsafe { (self.host.hook_failed)(self.raw, bytes(reason)) }
    }

    /// Lets the request body change length while the request headers go on at once: removes
    /// the request's `content-length` (HTTP/1.1 upstreams then get a chunked body). Call it in
    /// [`Filter::on_request_headers`](crate::Filter::on_request_headers) before returning
    /// `Continue`. Returns whether a `content-length` was removed.
    ///
    /// Why: once headers went on carrying `content-length`, the host refuses any body change
    /// that would make the body disagree with it (the upstream would get lost or extra bytes).
    /// The other way is to hold the headers — return `StopIteration` (or
    /// `StopAllIterationAndBuffer`) from the headers hook and change the body at the end: EnvoyX
    /// then sets `content-length` to the final length itself.
    ///
    /// ```
    /// use envoyx_sdk::{BodyStatus, Filter, HeadersStatus, Stream};
    ///
    /// struct Tag;
    ///
    /// impl Filter for Tag {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         stream.will_change_request_body_length();
    ///         HeadersStatus::Continue
    ///     }
    ///     fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
    ///         if end_of_stream {
    ///             stream.request_body().append(b"\n-- tagged");
    ///         }
    ///         BodyStatus::Continue
    ///     }
    /// }
    /// ```
    pub fn will_change_request_body_length(&mut self) -> bool {
        self.request_headers().remove("content-length") > 0
    }

    /// [`Stream::will_change_request_body_length`] for the response: call it in
    /// [`Filter::on_response_headers`](crate::Filter::on_response_headers).
    pub fn will_change_response_body_length(&mut self) -> bool {
        self.response_headers().remove("content-length") > 0
    }

    /// A handle for reaching this stream later from any thread: to resume it after a hook
    /// returned a stop status, or to schedule [`Filter::on_scheduled`](crate::Filter::on_scheduled).
    /// See [`StreamHandle`].
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, Stream};
    ///
    /// struct ResumeLater;
    ///
    /// impl Filter for ResumeLater {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         let handle = stream.handle();
    ///         let _ = envoyx_sdk::thread::spawn(move || {
    ///             handle.continue_request();
    ///         });
    ///         HeadersStatus::StopIteration
    ///     }
    /// }
    /// ```
    pub fn handle(&self) -> StreamHandle {
        // Safety: inside a hook of this stream on its worker thread; the handle returned is ours
        // to release, which `StreamHandle` does exactly once.
        let raw = unsafe { (self.host.stream_handle_new)(self.raw) };
        StreamHandle::from_raw(raw, self.host)
    }

    /// The per-route configuration that applies to this stream (the most specific of route,
    /// virtual host and route configuration), if there is one and it is an `R` (the type given
    /// to `export_module!(.., route = R)`). Lives as long as the stream. See [`RouteConfig`].
    pub fn route_config<R: RouteConfig>(&self) -> Option<&R> {
        // Safety: inside a hook of this stream on its worker thread; the host keeps what it
        // returns alive until the stream is destroyed, which outlives `&self`.
        unsafe { crate::dispatch::route_config_ref::<R>((self.host.route_config)(self.raw)) }
    }

    /// Sends an HTTP request to the proxy's cluster `cluster` (its TLS, load balancing, circuit
    /// breakers and stats). `headers` must include `:method`, `:path` and `:authority` (or
    /// `host`); `body` may be empty. The answer arrives later in
    /// [`Filter::on_callout_done`](crate::Filter::on_callout_done) with the id returned here,
    /// never inside this call (even "no such cluster"). `None` when the request is refused (a
    /// warning names why: a malformed header, a zero timeout, the stream already answered).
    /// Works in event hooks, `on_scheduled` and `on_callout_done`.
    pub fn http_callout(
        &mut self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: std::time::Duration,
    ) -> Option<crate::CalloutId> {
        crate::callout::send(cluster, headers, body, timeout, |cluster, headers, count, body, timeout_ms| {
            // Safety: inside a hook of this stream on its worker thread; every view is valid
            // during the call (the host copies what it keeps).
            unsafe { (self.host.http_callout)(self.raw, cluster, headers, count, body, timeout_ms) }
        })
    }

    /// Opens a streaming callout to the proxy's cluster `cluster`: a request whose body this
    /// filter sends in chunks ([`Stream::callout_stream_send`], ending with `end_of_stream` or
    /// [`Stream::callout_stream_send_trailers`]) and whose response arrives in chunks in
    /// [`Filter::on_callout_event`](crate::Filter::on_callout_event). `headers` as for
    /// [`Stream::http_callout`]; `body` is the first chunk (may be empty); `end_of_stream` sends
    /// the whole request now. `None` when refused (a warning names why). No event arrives
    /// inside this call, and none after the stream completes (open callouts are reset then).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envoyx_sdk::{BodyStatus, CalloutEvent, CalloutId, Filter, HeadersStatus, Stream};
    ///
    /// /// Copies the request body, chunk by chunk, to a `mirror` cluster as it passes.
    /// #[derive(Default)]
    /// struct Mirror {
    ///     callout: Option<CalloutId>,
    /// }
    ///
    /// impl Filter for Mirror {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, end_of_stream: bool) -> HeadersStatus {
    ///         let headers = [(":method", "POST"), (":path", "/copy"), (":authority", "mirror")];
    ///         self.callout = stream.start_callout_stream("mirror", &headers, b"", end_of_stream, Duration::from_secs(5));
    ///         HeadersStatus::Continue
    ///     }
    ///
    ///     fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
    ///         if let Some(id) = self.callout {
    ///             let chunk: Vec<u8> = stream.request_body().chunks().flatten().copied().collect();
    ///             stream.callout_stream_send(id, &chunk, end_of_stream);
    ///         }
    ///         BodyStatus::Continue
    ///     }
    ///
    ///     fn on_callout_event(&mut self, _stream: &mut Stream, _id: CalloutId, event: CalloutEvent<'_>) {
    ///         if let CalloutEvent::Failed(error) = event {
    ///             envoyx_sdk::log(envoyx_sdk::LogLevel::Warn, &format!("mirror failed: {error}"));
    ///         }
    ///     }
    /// }
    /// ```
    pub fn start_callout_stream(
        &mut self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        end_of_stream: bool,
        timeout: std::time::Duration,
    ) -> Option<crate::CalloutId> {
        crate::callout::send(cluster, headers, body, timeout, |cluster, headers, count, body, timeout_ms| {
            // Safety: inside a hook of this stream on its worker thread; every view is valid
            // during the call (the host copies what it keeps).
            unsafe {
                (self.host.callout_stream_start)(
                    self.raw,
                    cluster,
                    headers,
                    count,
                    body,
                    end_of_stream,
                    timeout_ms,
                )
            }
        })
    }

    /// Starts the gRPC unary call `call` to the proxy's cluster `cluster` (HTTP/2 to a gRPC
    /// server) over a streaming callout: its events arrive in
    /// [`Filter::on_callout_event`](crate::Filter::on_callout_event), where the returned
    /// [`GrpcUnary`](crate::grpc::GrpcUnary) turns them into the answer message or a
    /// [`GrpcError`](crate::grpc::GrpcError). `None` when refused (a warning names why): as
    /// for [`Stream::start_callout_stream`], or a path that is not `/package.Service/Method`, or
    /// a message of 4 GiB or more. See [`crate::grpc`].
    pub fn start_grpc_call(
        &mut self,
        cluster: &str,
        call: &crate::grpc::GrpcCall<'_>,
    ) -> Option<crate::grpc::GrpcUnary> {
        crate::grpc::start(cluster, call, |headers, body| {
            self.start_callout_stream(cluster, headers, body, true, call.timeout)
        })
    }

    /// Sends the next request body chunk of the streaming callout `id`; `end_of_stream` ends its
    /// request. False (logged) when `id` is not an open streaming callout of this stream or its
    /// request already ended.
    pub fn callout_stream_send(&mut self, id: crate::CalloutId, data: &[u8], end_of_stream: bool) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the view is valid during
        // the call.
        unsafe {
            (self.host.callout_stream_send)(
                self.raw,
                id,
                envoyx_abi::envoyx_bytes::from_slice(data),
                end_of_stream,
            )
        }
    }

    /// Ends the request of the streaming callout `id` with `trailers` (no pseudo-headers).
    /// False (logged) as for [`Stream::callout_stream_send`], or when a trailer is malformed.
    pub fn callout_stream_send_trailers(&mut self, id: crate::CalloutId, trailers: &[(&str, &str)]) -> bool {
        let views = crate::callout::header_views(trailers);
        // Safety: inside a hook of this stream on its worker thread; the views are valid during
        // the call.
        unsafe { (self.host.callout_stream_send_trailers)(self.raw, id, views.as_ptr(), views.len()) }
    }

    /// Abandons the streaming callout `id`: the proxy resets it and no further
    /// [`Filter::on_callout_event`](crate::Filter::on_callout_event) comes for it. False when
    /// it is not open.
    pub fn callout_stream_reset(&mut self, id: crate::CalloutId) -> bool {
        // Safety: inside a hook of this stream on its worker thread.
        unsafe { (self.host.callout_stream_reset)(self.raw, id) }
    }

    /// Records on metric `id` (ABI views of the label values); see [`crate::Counter`].
    pub(crate) fn metric_record(
        &mut self,
        id: u64,
        label_values: &[envoyx_abi::envoyx_bytes],
        op: u32,
        value: u64,
    ) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the views are valid during
        // the call.
        unsafe {
            (self.host.metric_record)(self.raw, id, label_values.as_ptr(), label_values.len(), op, value)
        }
    }

    /// Sets `key` of namespace `ns` in the stream's dynamic metadata, where Envoy's access log
    /// (`%DYNAMIC_METADATA(ns:key)%`) and later filters read it. Names are 1–256 bytes without
    /// control characters. False when refused (logged). See [`crate::MetadataValue`].
    pub fn set_metadata<'v>(
        &mut self,
        ns: &str,
        key: &str,
        value: impl Into<crate::MetadataValue<'v>>,
    ) -> bool {
        let value = value.into().to_abi();
        // Safety: inside a hook of this stream on its worker thread; the views are valid during
        // the call.
        unsafe { (self.host.metadata_set)(self.raw, bytes(ns), bytes(key), value) }
    }

    /// Reads a metadata value of `kind` (`envoyx_value_kind`).
    fn metadata(
        &self,
        source: crate::MetadataSource,
        ns: &str,
        key: &str,
        kind: u32,
    ) -> Option<envoyx_abi::envoyx_value> {
        let mut out = envoyx_abi::envoyx_value::boolean(false);
        // Safety: inside a hook of this stream on its worker thread; the views are valid during
        // the call; `out` is writable.
        let found = unsafe {
            (self.host.metadata_get)(self.raw, source.to_abi(), bytes(ns), bytes(key), kind, &mut out)
        };
        found.then_some(out)
    }

    /// The string at `key` of namespace `ns` in `source`; None when absent or not a string. It
    /// borrows the stream, as the proxy's memory stays valid only until the metadata changes.
    pub fn metadata_str(&self, source: crate::MetadataSource, ns: &str, key: &str) -> Option<&str> {
        let value = self.metadata(source, ns, key, envoyx_abi::ENVOYX_VALUE_STRING)?;
        // Safety: the host's view, valid until the hook returns or the metadata changes; the
        // borrow of `self` ends before either can happen through this stream.
        std::str::from_utf8(unsafe { value.string.as_slice() }).ok()
    }

    /// The number at `key` of namespace `ns` in `source`.
    pub fn metadata_number(&self, source: crate::MetadataSource, ns: &str, key: &str) -> Option<f64> {
        self.metadata(source, ns, key, envoyx_abi::ENVOYX_VALUE_NUMBER).map(|v| v.number)
    }

    /// The bool at `key` of namespace `ns` in `source`.
    pub fn metadata_bool(&self, source: crate::MetadataSource, ns: &str, key: &str) -> Option<bool> {
        self.metadata(source, ns, key, envoyx_abi::ENVOYX_VALUE_BOOL).map(|v| v.boolean)
    }

    /// Sets the stream's filter state `key` to `value` (at most 64 KiB), readable by later
    /// filters and by Envoy's own where the key is one they read. Once per key: the proxy keeps
    /// it read-only. False when refused (logged).
    pub fn set_filter_state(&mut self, key: &str, value: &[u8]) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the views are valid during
        // the call.
        unsafe {
            (self.host.filter_state_set)(self.raw, bytes(key), envoyx_abi::envoyx_bytes::from_slice(value))
        }
    }

    /// The filter state `key` as bytes (set by any filter as a string); None when absent.
    pub fn filter_state(&self, key: &str) -> Option<&[u8]> {
        let mut out = envoyx_abi::envoyx_bytes::EMPTY;
        // Safety: inside a hook of this stream on its worker thread; `out` is writable; the view
        // it gets stays valid until the hook returns, which outlives the borrow of `self`.
        unsafe { (self.host.filter_state_get)(self.raw, bytes(key), &mut out).then(|| out.as_slice()) }
    }

    /// Has the proxy pick the cluster of the request's route again when the request headers go on
    /// (ABI 1.2): the route stays. For a route whose cluster comes from a header (`cluster_header`)
    /// or from weights, after changing that header; [`Stream::clear_route_cache`] matches the
    /// route itself again. Only while the request headers are held; false (logged) when they
    /// already went on.
    pub fn refresh_route_cluster(&mut self) -> bool {
        // Safety: inside a hook of this stream on its worker thread.
        unsafe { (self.host.refresh_route_cluster)(self.raw) }
    }

    /// Whether the stream's filter state has `key` (ABI 1.2), whoever set it and whatever its
    /// type: a string of any filter, an object of Envoy's (on stock Envoy before 1.40, an object
    /// with no string form reads as absent). False when refused (logged).
    pub fn has_filter_state(&self, key: &str) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the view lives for the call.
        unsafe { (self.host.filter_state_has)(self.raw, bytes(key)) }
    }

    /// Adds the tag `key: value` to the stream's active span, which the proxy's tracer reports
    /// (Zipkin, OpenTelemetry, ...). False when there is no span (no tracer configured) or when
    /// refused (logged).
    pub fn set_span_tag(&mut self, key: &str, value: &str) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the views are valid during
        // the call.
        unsafe { (self.host.span_set_tag)(self.raw, bytes(key), bytes(value)) }
    }

    /// While the request headers are held: makes Envoy pick the route again when they go on,
    /// after the filter changed `:path`, `:authority` or a header routes match on. False once
    /// they went on (logged).
    pub fn clear_route_cache(&mut self) -> bool {
        // Safety: inside a hook of this stream on its worker thread.
        unsafe { (self.host.clear_route_cache)(self.raw) }
    }

    /// While the request headers are held: sends the request to the upstream host `host` (an IP
    /// address with port) of the cluster the route picks; `strict`: fail rather than fall back to
    /// another host. False when refused (logged).
    pub fn set_upstream_host(&mut self, host: &str, strict: bool) -> bool {
        // Safety: inside a hook of this stream on its worker thread; the view is valid during the
        // call.
        unsafe { (self.host.upstream_override_host)(self.raw, bytes(host), strict) }
    }

    /// Reads `attribute` when the proxy has it.
    fn attribute(&self, attribute: crate::Attribute) -> Option<envoyx_abi::envoyx_value> {
        let mut out = envoyx_abi::envoyx_value::boolean(false);
        // Safety: inside a hook of this stream on its worker thread; `out` is writable.
        unsafe { (self.host.attribute_get)(self.raw, attribute.to_abi(), &mut out).then_some(out) }
    }

    /// A text attribute (addresses, ids, names, TLS facts); None when absent or a number.
    pub fn attribute_str(&self, attribute: crate::Attribute) -> Option<&str> {
        let value = self.attribute(attribute).filter(|v| v.kind == envoyx_abi::ENVOYX_VALUE_STRING)?;
        // Safety: the host's view, valid until the hook returns, which outlives the borrow of
        // `self`.
        std::str::from_utf8(unsafe { value.string.as_slice() }).ok()
    }

    /// A number attribute (ports, the response code, the connection id); None when absent or
    /// text.
    pub fn attribute_u64(&self, attribute: crate::Attribute) -> Option<u64> {
        let value = self.attribute(attribute).filter(|v| v.kind == envoyx_abi::ENVOYX_VALUE_NUMBER)?;
        (value.number >= 0.0 && value.number.fract() == 0.0).then_some(value.number as u64)
    }

    /// A boolean attribute (`connection.mtls`, `health_check`); None when absent or another kind.
    pub fn attribute_bool(&self, attribute: crate::Attribute) -> Option<bool> {
        self.attribute(attribute).filter(|v| v.kind == envoyx_abi::ENVOYX_VALUE_BOOL).map(|v| v.boolean)
    }

    /// The ABI 1.0 name of [`Stream::handle`].
    pub fn continue_handle(&self) -> StreamHandle {
        self.handle()
    }

    /// Inside the hooks that run on work the module started — [`Filter::on_scheduled`](crate::Filter::on_scheduled),
    /// a callout's `on_callout_done` or `on_callout_event`, `on_watermark` — resumes the request,
    /// which a hook stopped, once the callback returns. False (nothing happens) when the request
    /// is not stopped or already resumed, the stream was answered or reset, or this is called
    /// from an event hook (which resumes by returning a continue status).
    ///
    /// ```
    /// use envoyx_sdk::{Filter, Stream};
    ///
    /// struct Allow;
    ///
    /// impl Filter for Allow {
    ///     fn on_scheduled(&mut self, stream: &mut Stream, _event_id: u64) {
    ///         stream.request_headers().set("x-allowed", "1");
    ///         stream.continue_request();
    ///     }
    /// }
    /// ```
    pub fn continue_request(&mut self) -> bool {
        self.continue_direction(Direction::Request)
    }

    /// Resumes the response, where [`Stream::continue_request`] may be called.
    pub fn continue_response(&mut self) -> bool {
        self.continue_direction(Direction::Response)
    }

    /// Resumes `direction`, where [`Stream::continue_request`] may be called.
    pub fn continue_direction(&mut self, direction: Direction) -> bool {
        // Safety: on the stream's worker thread inside one of its hooks (the only place a
        // `Stream` exists); the core refuses the call outside the hooks on the module's own work.
        unsafe { (self.host.continue_stream)(self.raw, direction as u32) }
    }
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream").field("raw", &self.raw).finish()
    }
}

/// The ABI's view of `text`.
fn bytes(text: &str) -> envoyx_abi::envoyx_bytes {
    envoyx_abi::envoyx_bytes::from_slice(text.as_bytes())
}
