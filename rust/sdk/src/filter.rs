//! The traits a module implements: [`FilterConfig`] and [`Filter`], and, for per-route
//! configuration, [`RouteConfig`].

use crate::{
    BodyStatus, CalloutError, CalloutEvent, CalloutId, CalloutResponse, HeadersStatus, Stream, TrailersStatus,
};

/// A filter configuration: built once from the configuration's `name` and `filter_config`, then
/// shared by every stream of that configuration.
///
/// The host calls [`new`](FilterConfig::new) on its main thread and
/// [`new_filter`](FilterConfig::new_filter) on every worker thread at once, hence
/// `Send + Sync`. Keep per-request state in the [`Filter`], not here; anything mutable here needs
/// its own synchronisation (an atomic, a `Mutex`).
///
/// Register the type with [`export_module!`](crate::export_module).
///
/// # Example
///
/// A configuration that parses a number of milliseconds and rejects anything else:
///
/// ```
/// use envoyx_sdk::{Filter, FilterConfig};
///
/// struct DelayConfig {
///     millis: u64,
/// }
///
/// struct DelayFilter {
///     millis: u64,
/// }
/// impl Filter for DelayFilter {}
///
/// impl FilterConfig for DelayConfig {
///     type Filter = DelayFilter;
///
///     fn new(name: &str, config: &[u8]) -> Result<Self, String> {
///         let text = std::str::from_utf8(config).map_err(|_| format!("{name}: config is not UTF-8"))?;
///         let millis = text.trim().parse().map_err(|e| format!("{name}: bad delay {text:?}: {e}"))?;
///         Ok(DelayConfig { millis })
///     }
///
///     fn new_filter(&self) -> DelayFilter {
///         DelayFilter { millis: self.millis }
///     }
/// }
///
/// assert_eq!(DelayConfig::new("delay", b"250").unwrap().millis, 250);
/// assert!(DelayConfig::new("delay", b"soon").is_err());
/// ```
pub trait FilterConfig: Send + Sync + Sized + 'static {
    /// The per-stream filter this configuration makes.
    type Filter: Filter;

    /// Builds the configuration. `name` and `config` are the `DynamicModuleConfig`'s `name` and
    /// `filter_config` (a name that is not UTF-8 arrives with replacement characters).
    ///
    /// `Err(reason)` rejects the configuration: the host reports `reason`, with the module's file
    /// name, as the error. A panic here rejects it too, with the reason `panicked: <message>`.
    fn new(name: &str, config: &[u8]) -> Result<Self, String>;

    /// Makes the filter for one new stream, on that stream's worker thread.
    ///
    /// A panic here fails the stream: the host answers it with a 500 local reply.
    fn new_filter(&self) -> Self::Filter;

    /// An event scheduled with a [`ConfigHandle`](crate::ConfigHandle) (background work that
    /// outlives streams), on the host's main thread, while this configuration lives; never
    /// during or after its drop. A panic here is logged and contained.
    fn on_scheduled(&self, event_id: u64) {
        let _ = event_id;
    }

    /// The configuration's callout `id` (started with
    /// [`ConfigHandle::http_callout`](crate::ConfigHandle::http_callout)) ended, on the main
    /// thread, while this configuration lives. A panic here is logged and contained.
    fn on_callout_done(&self, id: CalloutId, result: Result<CalloutResponse<'_>, CalloutError>) {
        let _ = (id, result);
    }

    /// News of the configuration's streaming callout `id` (started with
    /// [`ConfigHandle::start_callout_stream`](crate::ConfigHandle::start_callout_stream)), on the
    /// main thread, while this configuration lives, in the order [`CalloutEvent`] describes. A
    /// panic here is logged and contained.
    fn on_callout_event(&self, id: CalloutId, event: CalloutEvent<'_>) {
        let _ = (id, event);
    }
}

/// The state and behaviour of a filter for one HTTP stream.
///
/// Every hook runs on the stream's worker thread and gets the [`Stream`] it belongs to. Every hook
/// has a default that lets the stream through (`Continue`, or nothing), so implement only the
/// ones you need.
///
/// Per direction the hooks come in order: headers once, then zero or more body chunks (the last
/// with `end_of_stream` true unless trailers follow), then trailers at most once. Response hooks
/// may run before the request has ended. A stream may end after any hook (reset, local reply,
/// client gone); then only [`on_stream_complete`](Filter::on_stream_complete) follows, and then the
/// filter is dropped.
///
/// The filter stays on its worker thread, so it need not be `Send`. To finish work on another
/// thread, take a [`StreamHandle`](crate::StreamHandle) with [`Stream::handle`]: it resumes the
/// stream, or schedules [`on_scheduled`](Filter::on_scheduled) to decide there.
///
/// # Example
///
/// A filter that counts request body bytes and reports the count in a response header:
///
/// ```
/// use envoyx_sdk::{BodyStatus, Filter, HeadersStatus, Stream};
///
/// #[derive(Default)]
/// struct CountBytes {
///     request_bytes: usize,
/// }
///
/// impl Filter for CountBytes {
///     fn on_request_body(&mut self, stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
///         self.request_bytes += stream.request_body().len();
///         BodyStatus::Continue
///     }
///
///     fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
///         stream
///             .response_headers()
///             .set("x-request-bytes", self.request_bytes.to_string());
///         HeadersStatus::Continue
///     }
/// }
/// ```
pub trait Filter: 'static {
    /// The request headers arrived. `end_of_stream` is true when the request has no body and no
    /// trailers.
    fn on_request_headers(&mut self, stream: &mut Stream, end_of_stream: bool) -> HeadersStatus {
        let _ = (stream, end_of_stream);
        HeadersStatus::Continue
    }

    /// A chunk of the request body arrived: it is [`Stream::request_body`]. `end_of_stream` is
    /// true for the last chunk when no trailers follow.
    fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        let _ = (stream, end_of_stream);
        BodyStatus::Continue
    }

    /// The request trailers arrived; the request ends here.
    fn on_request_trailers(&mut self, stream: &mut Stream) -> TrailersStatus {
        let _ = stream;
        TrailersStatus::Continue
    }

    /// The response headers arrived. `end_of_stream` is true when the response has no body and
    /// no trailers.
    fn on_response_headers(&mut self, stream: &mut Stream, end_of_stream: bool) -> HeadersStatus {
        let _ = (stream, end_of_stream);
        HeadersStatus::Continue
    }

    /// A chunk of the response body arrived: it is [`Stream::response_body`].
    fn on_response_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        let _ = (stream, end_of_stream);
        BodyStatus::Continue
    }

    /// The response trailers arrived; the response ends here.
    fn on_response_trailers(&mut self, stream: &mut Stream) -> TrailersStatus {
        let _ = stream;
        TrailersStatus::Continue
    }

    /// An event this filter scheduled with [`StreamHandle::schedule`](crate::StreamHandle::schedule)
    /// (from any thread, typically when async work is done), run on the stream's worker thread
    /// between hooks, in the order scheduled, until the stream completes. Everything a hook can
    /// do works here under the same rules: read and change headers and buffered bodies, answer
    /// with [`Stream::send_local_reply`] (while the response has not started), [`Stream::reset`],
    /// and resume a direction a hook stopped with [`Stream::continue_request`] /
    /// [`Stream::continue_response`]. A panic here is handled like one in a request hook (a 500,
    /// or a reset once the response started).
    ///
    /// ```
    /// use envoyx_sdk::{Filter, HeadersStatus, Stream};
    ///
    /// const CHECKED: u64 = 1;
    ///
    /// struct CheckElsewhere {
    ///     verdict: std::sync::Arc<std::sync::Mutex<Option<bool>>>,
    /// }
    ///
    /// impl Filter for CheckElsewhere {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         let (handle, verdict) = (stream.handle(), self.verdict.clone());
    ///         let _ = envoyx_sdk::thread::spawn(move || {
    ///             *verdict.lock().unwrap() = Some(true); // the outcome of some slow check
    ///             handle.schedule(CHECKED);
    ///         });
    ///         HeadersStatus::StopIteration
    ///     }
    ///
    ///     fn on_scheduled(&mut self, stream: &mut Stream, event_id: u64) {
    ///         if event_id == CHECKED && *self.verdict.lock().unwrap() == Some(true) {
    ///             stream.request_headers().set("x-checked", "yes");
    ///             stream.continue_request();
    ///         } else {
    ///             stream.send_local_reply(403, &[], b"denied\n", "check_failed");
    ///         }
    ///     }
    /// }
    /// ```
    fn on_scheduled(&mut self, stream: &mut Stream, event_id: u64) {
        let _ = (stream, event_id);
    }

    /// The callout `id` this filter started with [`Stream::http_callout`] ended: its response
    /// (views valid during this call) or why there is none. Runs on the stream's worker thread
    /// between hooks, before the stream completes (callouts still in flight then are cancelled
    /// and never answered). Everything a hook can do works here, as in
    /// [`on_scheduled`](Filter::on_scheduled), including [`Stream::continue_request`]. A panic
    /// here is handled like one in a request hook.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use envoyx_sdk::{CalloutError, CalloutId, CalloutResponse, Filter, HeadersStatus, Stream};
    ///
    /// struct Auth;
    ///
    /// impl Filter for Auth {
    ///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
    ///         let token = stream.request_headers().get_str("authorization").unwrap_or_default().to_string();
    ///         let headers = [(":method", "GET"), (":path", "/check"), (":authority", "auth"), ("authorization", token.as_str())];
    ///         match stream.http_callout("auth", &headers, b"", Duration::from_millis(500)) {
    ///             Some(_) => HeadersStatus::StopIteration,
    ///             None => {
    ///                 stream.send_local_reply(500, &[], b"", "auth_callout_refused");
    ///                 HeadersStatus::StopIteration
    ///             }
    ///         }
    ///     }
    ///
    ///     fn on_callout_done(&mut self, stream: &mut Stream, _id: CalloutId, result: Result<CalloutResponse<'_>, CalloutError>) {
    ///         match result {
    ///             Ok(response) if response.status() == Some(200) => {
    ///                 let user = response.header_str("x-user").unwrap_or("unknown").to_string();
    ///                 stream.request_headers().set("x-user", user);
    ///                 stream.continue_request();
    ///             }
    ///             Ok(response) => {
    ///                 let status = response.status().unwrap_or(403);
    ///                 stream.send_local_reply(status, &[], b"denied\n", "auth_denied");
    ///             }
    ///             Err(_) => {
    ///                 stream.send_local_reply(503, &[], b"auth unavailable\n", "auth_failed");
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    fn on_callout_done(
        &mut self,
        stream: &mut Stream,
        id: CalloutId,
        result: Result<CalloutResponse<'_>, CalloutError>,
    ) {
        let _ = (stream, id, result);
    }

    /// News of the streaming callout `id` this filter opened with
    /// [`Stream::start_callout_stream`], in the order [`CalloutEvent`] describes; views valid
    /// during this call. Runs on the stream's worker thread between hooks, before the stream
    /// completes, with everything a hook can do (as in [`on_callout_done`](Filter::on_callout_done)),
    /// including sending more of the callout's request. A panic here is handled like one in a
    /// request hook.
    fn on_callout_event(&mut self, stream: &mut Stream, id: CalloutId, event: CalloutEvent<'_>) {
        let _ = (stream, id, event);
    }

    /// Flow control (ABI 1.2): for [`Direction::Response`](crate::Direction::Response), the
    /// client reads the response slower than it is produced — the proxy's buffer towards it went
    /// above its high watermark (`above`: stop producing) or back below its low one (produce
    /// again). One `above`, then one below, however often the proxy said so in between. Runs on
    /// the stream's worker thread between events, with everything an async hook can do
    /// ([`Stream::send_response_data`], [`Stream::continue_request`]); the request direction is
    /// reserved (Envoy tells filters nothing of it). A filter that streams its own response or a
    /// large body pauses here to keep memory bounded.
    ///
    /// ```
    /// use envoyx_sdk::{Direction, Filter, Stream};
    ///
    /// struct Producer { paused: bool }
    ///
    /// impl Filter for Producer {
    ///     fn on_watermark(&mut self, stream: &mut Stream, direction: Direction, above: bool) {
    ///         if direction == Direction::Response {
    ///             self.paused = above;
    ///             if !above {
    ///                 stream.handle().schedule(1); // produce the next chunk in on_scheduled
    ///             }
    ///         }
    ///     }
    /// }
    /// ```
    fn on_watermark(&mut self, stream: &mut Stream, direction: crate::Direction, above: bool) {
        let _ = (stream, direction, above);
    }

    /// A local reply is being made on the stream (ABI 1.2): the proxy's own (Envoy's router: 503
    /// `no_healthy_upstream`, 504 `upstream_response_timeout`; 413 past the buffer limit), another
    /// filter's, or this filter's. `status` and `details` (the response-code details) say which;
    /// `reset_imminent`: the proxy resets instead (the response already started). Return
    /// [`LocalReplyStatus::Reset`](crate::LocalReplyStatus::Reset) to reset the stream instead of
    /// sending the reply. To change the reply, do so in the response hooks: a reply made after
    /// this filter passes through them like any response. Runs inside the proxy's call that makes
    /// the reply: reads, metadata, filter state, metrics and logs work; what would end or resume
    /// the stream is refused. The default lets every reply go on.
    ///
    /// ```
    /// use envoyx_sdk::{Filter, LocalReplyStatus, Stream};
    ///
    /// struct NoErrorPages;
    ///
    /// impl Filter for NoErrorPages {
    ///     fn on_local_reply(&mut self, _stream: &mut Stream, status: u16, _details: &str, _reset_imminent: bool) -> LocalReplyStatus {
    ///         // A client of this API retries on a reset, never on an error page.
    ///         if status >= 500 { LocalReplyStatus::Reset } else { LocalReplyStatus::Continue }
    ///     }
    /// }
    /// ```
    fn on_local_reply(
        &mut self,
        stream: &mut Stream,
        status: u16,
        details: &str,
        reset_imminent: bool,
    ) -> crate::LocalReplyStatus {
        let _ = (stream, status, details, reset_imminent);
        crate::LocalReplyStatus::Continue
    }

    /// The stream is over (finished, reset or answered locally). Called once, just before the
    /// filter is dropped. Header maps still work here; bodies are empty.
    fn on_stream_complete(&mut self, stream: &mut Stream) {
        let _ = stream;
    }
}

/// A per-route configuration (ABI 1.1): what a route, virtual host or route configuration
/// carries for this filter under `typed_per_filter_config` (a `DynamicModuleConfigPerRoute`).
/// Parsed once, on the main thread, when the proxy loads the routes; then read by the streams on
/// every worker thread (hence `Send + Sync`) with [`Stream::route_config`]. Register it with
/// `export_module!(MyConfig, route = MyRouteConfig)`.
///
/// ```
/// use envoyx_sdk::{Filter, HeadersStatus, RouteConfig, Stream};
///
/// /// `off`, or the role a route requires.
/// enum AuthRoute {
///     Off,
///     Role(String),
/// }
///
/// impl RouteConfig for AuthRoute {
///     fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
///         match std::str::from_utf8(config).map_err(|e| e.to_string())?.trim() {
///             "off" => Ok(AuthRoute::Off),
///             role if !role.is_empty() => Ok(AuthRoute::Role(role.to_string())),
///             _ => Err("expected `off` or a role".to_string()),
///         }
///     }
/// }
///
/// struct Auth;
///
/// impl Filter for Auth {
///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
///         let role = match stream.route_config::<AuthRoute>() {
///             Some(AuthRoute::Off) => return HeadersStatus::Continue,
///             Some(AuthRoute::Role(role)) => role.clone(),
///             None => "user".to_string(),
///         };
///         stream.request_headers().set("x-required-role", role);
///         HeadersStatus::Continue
///     }
/// }
///
/// assert!(AuthRoute::new("r", b"").is_err());
/// ```
pub trait RouteConfig: Send + Sync + Sized + 'static {
    /// Builds the per-route configuration from its `name` and `filter_config`. `Err(reason)` (or
    /// a panic) refuses it: the proxy rejects the route configuration with the reason.
    fn new(name: &str, config: &[u8]) -> Result<Self, String>;
}
