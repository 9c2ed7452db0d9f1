//! The C++ face of the EnvoyX core, over [cxx](https://cxx.rs), for the EnvoyX Envoy extension.
//!
//! C++ implements the host: a `StreamHost` per HTTP stream (headers and body slices: the
//! primitives) and a thread-safe `Scheduler` that carries continues requested on any thread back
//! to the stream's worker thread. C++ calls the core: create a filter config from a
//! `DynamicModuleConfig` (protobuf bytes or JSON), start a stream on a host, deliver its events,
//! and after each call carry out the actions the core returns (`Stream::next_action`: reset,
//! local reply, continue), which is where the stream rules were applied. Loading (one `dlopen` per file, `do_not_dlclose`, symbol and ABI checks) stays in the
//! core, so every host shares one implementation.
//!
//! The C++ side is `include/envoyx/loader.h` (the host interfaces) and the header cxx generates
//! from this file, `envoyx-loader/src/lib.rs.h` (everything declared in `extern "Rust"` below).
//! A core error becomes a C++ `rust::Error` exception whose `what()` is the core's message.

use envoyx_abi::{envoyx_bytes, envoyx_header, envoyx_slice};
use envoyx_core::{
    Action, BodyKind, Direction, Effects, HeaderMapKind, HostStream, LogLevel, StreamScheduler,
};
use std::mem::{align_of, offset_of, size_of};
use std::sync::Arc;

#[cxx::bridge(namespace = "envoyx")]
mod ffi {
    /// A read-only view of bytes in C++ memory; the layout of `envoyx_bytes`.
    #[derive(Clone, Copy)]
    struct RawBytes {
        ptr: *const u8,
        len: usize,
    }

    /// A writable view of one body slice in C++ memory; the layout of `envoyx_slice`.
    #[derive(Clone, Copy)]
    struct RawSlice {
        ptr: *mut u8,
        len: usize,
    }

    /// One header as two views; the layout of `envoyx_header`.
    #[derive(Clone, Copy)]
    struct RawHeader {
        key: RawBytes,
        value: RawBytes,
    }

    /// Which header map. Values equal `envoyx_header_map`.
    #[repr(u32)]
    enum HeaderMapKind {
        RequestHeaders = 0,
        RequestTrailers = 1,
        ResponseHeaders = 2,
        ResponseTrailers = 3,
    }

    /// Which body: the chunk the current hook carries, or what was buffered. Values equal
    /// `envoyx_body_kind`.
    #[repr(u32)]
    enum BodyKind {
        RequestReceived = 0,
        RequestBuffered = 1,
        ResponseReceived = 2,
        ResponseBuffered = 3,
    }

    /// A direction of a stream. Values equal `envoyx_direction`.
    #[repr(u32)]
    enum Direction {
        Request = 0,
        Response = 1,
    }

    /// What a host must do after a call into a stream (see `Stream::next_action`).
    #[repr(u32)]
    enum ActionKind {
        /// Nothing (more) to do.
        None = 0,
        /// Abort the stream for the client and the upstream.
        Reset = 1,
        /// Answer the client with `NextAction::reply`.
        LocalReply = 2,
        /// Resume `NextAction::direction` (continueDecoding / continueEncoding).
        Continue = 3,
    }

    /// One header of a local reply, owned.
    struct ReplyHeader {
        key: Vec<u8>,
        value: Vec<u8>,
    }

    /// A local reply the core accepted: status 200–599, header names lower-case tokens (no
    /// pseudo-headers), values and details checked.
    struct LocalReply {
        status: u32,
        headers: Vec<ReplyHeader>,
        body: Vec<u8>,
        details: Vec<u8>,
    }

    /// The next action. `direction` is set for `Continue`, `reply` for `LocalReply` (empty
    /// otherwise).
    struct NextAction {
        kind: ActionKind,
        direction: Direction,
        reply: LocalReply,
    }

    /// Log levels. Values equal `envoyx_log_level` and Envoy's (spdlog's) levels.
    #[repr(u32)]
    enum LogLevel {
        Trace = 0,
        Debug = 1,
        Info = 2,
        Warn = 3,
        Error = 4,
        Critical = 5,
    }

    unsafe extern "C++" {
        include!("envoyx-loader/include/envoyx/loader.h");

        /// One stream's host, implemented in C++ (see loader.h).
        type StreamHost;
        /// Wakes the stream's worker thread for work queued on any thread, implemented in C++.
        type Scheduler;
        /// Where the core's and the modules' log messages go, implemented in C++.
        type LogSink;

        fn header_values(
            self: Pin<&mut StreamHost>,
            map: HeaderMapKind,
            key: &[u8],
            out: &mut [RawBytes],
            total: &mut usize,
        ) -> bool;
        fn header_entries(
            self: Pin<&mut StreamHost>,
            map: HeaderMapKind,
            out: &mut [RawHeader],
            total: &mut usize,
        ) -> bool;
        fn header_set(self: Pin<&mut StreamHost>, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool;
        fn header_add(self: Pin<&mut StreamHost>, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool;
        fn header_remove(self: Pin<&mut StreamHost>, map: HeaderMapKind, key: &[u8]) -> usize;
        fn body_length(self: Pin<&mut StreamHost>, body: BodyKind, length: &mut usize) -> bool;
        fn body_slices(
            self: Pin<&mut StreamHost>,
            body: BodyKind,
            out: &mut [RawSlice],
            total: &mut usize,
        ) -> bool;
        fn body_drain(self: Pin<&mut StreamHost>, body: BodyKind, len: usize) -> bool;
        fn body_append(self: Pin<&mut StreamHost>, body: BodyKind, data: &[u8]) -> bool;
        fn body_prepend(self: Pin<&mut StreamHost>, body: BodyKind, data: &[u8]) -> bool;
        fn body_replace(
            self: Pin<&mut StreamHost>,
            body: BodyKind,
            offset: usize,
            len: usize,
            data: &[u8],
        ) -> bool;
        fn scheduler(self: &StreamHost) -> SharedPtr<Scheduler>;
        /// The per-route config the proxy resolved for the stream, or null.
        fn route_config(self: &StreamHost) -> *const RouteConfig;
        /// Starts callout `id`; false with `failure` (an `envoyx_callout_status`) if it cannot.
        /// An answer that arrives while the stream is busy (inside this call, say) goes to
        /// `inbox`.
        #[allow(clippy::too_many_arguments)]
        fn http_callout(
            self: Pin<&mut StreamHost>,
            id: u64,
            cluster: &[u8],
            headers: &[RawHeader],
            body: &[u8],
            timeout_ms: u64,
            inbox: Box<CalloutInbox>,
            failure: &mut u32,
        ) -> bool;

        /// Starts streaming callout `id`; false with `failure` if it cannot. News that arrives
        /// while the stream is busy (inside this call, say) goes to `inbox`.
        #[allow(clippy::too_many_arguments)]
        fn callout_stream_start(
            self: Pin<&mut StreamHost>,
            id: u64,
            cluster: &[u8],
            headers: &[RawHeader],
            body: &[u8],
            end_of_stream: bool,
            timeout_ms: u64,
            inbox: Box<CalloutInbox>,
            failure: &mut u32,
        ) -> bool;
        fn callout_stream_send(self: Pin<&mut StreamHost>, id: u64, data: &[u8], end_of_stream: bool)
        -> bool;
        fn callout_stream_send_trailers(self: Pin<&mut StreamHost>, id: u64, trailers: &[RawHeader]) -> bool;
        fn callout_stream_reset(self: Pin<&mut StreamHost>, id: u64);
        /// The stream's dynamic metadata, filter state and routing (the ABI's values).
        fn metadata_set(
            self: Pin<&mut StreamHost>,
            ns: &[u8],
            key: &[u8],
            kind: u32,
            string: &[u8],
            number: f64,
            boolean: bool,
        ) -> bool;
        #[allow(clippy::too_many_arguments)]
        fn metadata_get(
            self: Pin<&mut StreamHost>,
            source: u32,
            ns: &[u8],
            key: &[u8],
            kind: u32,
            string: &mut RawBytes,
            number: &mut f64,
            boolean: &mut bool,
        ) -> bool;
        fn filter_state_set(self: Pin<&mut StreamHost>, key: &[u8], value: &[u8]) -> bool;
        fn filter_state_get(self: Pin<&mut StreamHost>, key: &[u8], value: &mut RawBytes) -> bool;
        fn filter_state_exists(self: Pin<&mut StreamHost>, key: &[u8]) -> bool;
        fn clear_route_cache(self: Pin<&mut StreamHost>) -> bool;
        fn span_set_tag(self: Pin<&mut StreamHost>, key: &[u8], value: &[u8]) -> bool;
        fn attribute_get(
            self: Pin<&mut StreamHost>,
            attribute: u32,
            string: &mut RawBytes,
            number: &mut f64,
        ) -> bool;
        fn upstream_override_host(self: Pin<&mut StreamHost>, host: &[u8], strict: bool) -> bool;
        /// Records on the metric the host registered as `id` (`kind`, `op`: the ABI's values).
        fn metric_record(
            self: Pin<&mut StreamHost>,
            id: u64,
            kind: u32,
            op: u32,
            label_values: &[RawBytes],
            value: u64,
        ) -> bool;

        fn wake(self: &Scheduler);
        /// A configuration's callout (main thread); false with `failure` if it cannot start.
        fn http_callout(
            self: &Scheduler,
            id: u64,
            cluster: &[u8],
            headers: &[RawHeader],
            body: &[u8],
            timeout_ms: u64,
            failure: &mut u32,
        ) -> bool;

        /// The configuration's streaming callouts (main thread), as the stream's above.
        #[allow(clippy::too_many_arguments)]
        fn callout_stream_start(
            self: &Scheduler,
            id: u64,
            cluster: &[u8],
            headers: &[RawHeader],
            body: &[u8],
            end_of_stream: bool,
            timeout_ms: u64,
            failure: &mut u32,
        ) -> bool;
        fn callout_stream_send(self: &Scheduler, id: u64, data: &[u8], end_of_stream: bool) -> bool;
        fn callout_stream_send_trailers(self: &Scheduler, id: u64, trailers: &[RawHeader]) -> bool;
        fn callout_stream_reset(self: &Scheduler, id: u64);
        /// Registers a metric of the configuration being created; false when refused.
        fn define_metric(
            self: &Scheduler,
            kind: u32,
            name: &[u8],
            label_names: &[RawBytes],
            id: &mut u64,
        ) -> bool;

        fn enabled(self: &LogSink, level: LogLevel) -> bool;
        fn log(self: &LogSink, level: LogLevel, message: &[u8]);
    }

    extern "Rust" {
        /// A module's filter configuration, shared by its streams on every worker thread.
        type FilterConfig;
        /// One HTTP stream through a module; dropping the box destroys the module's stream.
        type Stream;
        /// A per-route configuration (ABI 1.1), owned by the proxy's route table.
        type RouteConfig;
        /// Where a host puts a streaming callout's news that arrives while its stream is busy.
        type CalloutInbox;

        /// Copies the news (`event` an `envoyx_callout_event`, `status` an
        /// `envoyx_callout_status`) for delivery right after the stream's running call; false
        /// when the stream is gone. Any thread.
        fn defer(
            self: &CalloutInbox,
            id: u64,
            event: u32,
            status: u32,
            headers: &[RawHeader],
            data: &[RawBytes],
            end_of_stream: bool,
        ) -> bool;
        /// Copies the answer of callout `id` (`status` an `envoyx_callout_status`) for delivery
        /// right after the stream's running call, as `defer`. Any thread.
        fn defer_answer(
            self: &CalloutInbox,
            id: u64,
            status: u32,
            headers: &[RawHeader],
            body: &[RawBytes],
        ) -> bool;

        fn route_config_from_proto(bytes: &[u8]) -> Result<Box<RouteConfig>>;
        fn route_config_from_json(json: &[u8]) -> Result<Box<RouteConfig>>;

        fn filter_config_from_proto(
            bytes: &[u8],
            background: SharedPtr<Scheduler>,
        ) -> Result<Box<FilterConfig>>;
        fn filter_config_from_json(
            json: &[u8],
            background: SharedPtr<Scheduler>,
        ) -> Result<Box<FilterConfig>>;
        fn on_scheduled(self: &FilterConfig);
        fn on_callout_done(
            self: &FilterConfig,
            id: u64,
            status: u32,
            headers: &[RawHeader],
            body: &[RawBytes],
        );
        #[allow(clippy::too_many_arguments)]
        fn on_callout_event(
            self: &FilterConfig,
            id: u64,
            event: u32,
            status: u32,
            headers: &[RawHeader],
            data: &[RawBytes],
            end_of_stream: bool,
        );
        fn name(self: &FilterConfig) -> &str;
        fn module_path(self: &FilterConfig) -> String;
        fn new_stream(self: &FilterConfig, host: UniquePtr<StreamHost>) -> Result<Box<Stream>>;

        fn on_request_headers(self: &mut Stream, end_of_stream: bool) -> Result<u32>;
        fn on_request_body(self: &mut Stream, end_of_stream: bool) -> Result<u32>;
        fn on_request_trailers(self: &mut Stream) -> Result<u32>;
        fn on_response_headers(self: &mut Stream, end_of_stream: bool) -> Result<u32>;
        fn on_response_body(self: &mut Stream, end_of_stream: bool) -> Result<u32>;
        fn on_response_trailers(self: &mut Stream) -> Result<u32>;
        fn on_scheduled(self: &mut Stream) -> bool;
        fn on_callout_done(
            self: &mut Stream,
            id: u64,
            status: u32,
            headers: &[RawHeader],
            body: &[RawBytes],
        ) -> bool;
        /// News of streaming callout `id` (as for `CalloutInbox::defer`); true when it produced
        /// actions to carry out.
        fn on_callout_event(
            self: &mut Stream,
            id: u64,
            event: u32,
            status: u32,
            headers: &[RawHeader],
            data: &[RawBytes],
            end_of_stream: bool,
        ) -> bool;
        fn next_action(self: &mut Stream) -> NextAction;
        fn response_started(self: &Stream) -> bool;
        fn on_stream_complete(self: &mut Stream);
        fn body_bytes_copied(self: &Stream) -> u64;
        fn local_reply_sent(self: &Stream) -> bool;
        fn continues_ignored(self: &Stream) -> u64;

        fn set_log_sink(sink: SharedPtr<LogSink>);
    }
}

/// A filter configuration for C++: the core's, behind the `rust::Box` C++ holds. Envoy's workers
/// share one, calling `new_stream` from every worker thread at once, so it must be `Sync`.
pub struct FilterConfig(Arc<envoyx_core::FilterConfig>);

const _: () = {
    const fn shared_across_threads<T: Send + Sync>() {}
    shared_across_threads::<FilterConfig>();
};

/// Loads the module a protobuf-encoded `DynamicModuleConfig` names (once per file) and creates
/// the filter configuration. This is what Envoy hands a C++ filter factory. `background` wakes
/// the main thread for the configuration's events (then call [`FilterConfig::on_scheduled`]
/// there); a null `shared_ptr` delivers none.
pub fn filter_config_from_proto(
    bytes: &[u8],
    background: cxx::SharedPtr<ffi::Scheduler>,
) -> Result<Box<FilterConfig>, OneLine> {
    Ok(Box::new(FilterConfig(envoyx_core::FilterConfig::from_proto_bytes(
        bytes,
        config_scheduler(background),
    )?)))
}

/// A per-route configuration for C++: the core's, behind the `rust::Box` the route table holds.
pub struct RouteConfig(Arc<envoyx_core::RouteConfig>);

/// Creates a per-route configuration from a protobuf-encoded `DynamicModuleConfigPerRoute`.
pub fn route_config_from_proto(bytes: &[u8]) -> Result<Box<RouteConfig>, OneLine> {
    Ok(Box::new(RouteConfig(envoyx_core::RouteConfig::from_proto_bytes(bytes)?)))
}

/// As [`route_config_from_proto`], from the JSON form.
pub fn route_config_from_json(json: &[u8]) -> Result<Box<RouteConfig>, OneLine> {
    let text = std::str::from_utf8(json).map_err(|e| {
        envoyx_core::Error::from(envoyx_core::ConfigError::MalformedJson(format!("not UTF-8: {e}")))
    })?;
    Ok(Box::new(RouteConfig(envoyx_core::RouteConfig::from_json(text)?)))
}

/// The core's [`envoyx_core::ConfigHost`] over a C++ scheduler; None for a null one.
fn config_scheduler(background: cxx::SharedPtr<ffi::Scheduler>) -> Option<Arc<dyn envoyx_core::ConfigHost>> {
    if background.is_null() { None } else { Some(Arc::new(CxxSchedulerRef(background))) }
}

/// As [`filter_config_from_proto`], from the JSON form of a `DynamicModuleConfig`.
pub fn filter_config_from_json(
    json: &[u8],
    background: cxx::SharedPtr<ffi::Scheduler>,
) -> Result<Box<FilterConfig>, OneLine> {
    // Bytes rather than `&str`: C++ strings are not checked UTF-8, and bad UTF-8 is just one
    // more kind of malformed JSON, reported like the others.
    let text = std::str::from_utf8(json).map_err(|e| {
        envoyx_core::Error::from(envoyx_core::ConfigError::MalformedJson(format!("not UTF-8: {e}")))
    })?;
    Ok(Box::new(FilterConfig(envoyx_core::FilterConfig::from_json(text, config_scheduler(background))?)))
}

/// A core error as C++ sees it (the exception's `what()`): its message on one line, escaped as
/// every log line is (`envoyx_core::log::one_line`), since Envoy logs it and returns it in xDS
/// rejections, and a file name or config excerpt in it may hold any byte.
#[derive(Debug)]
pub struct OneLine(pub envoyx_core::Error);

impl From<envoyx_core::Error> for OneLine {
    fn from(error: envoyx_core::Error) -> Self {
        Self(error)
    }
}

impl std::fmt::Display for OneLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", envoyx_core::log::Shown(self.0.to_string().as_bytes()))
    }
}

/// [`FilterConfig::new_stream`] was given a null `std::unique_ptr<StreamHost>`.
#[derive(Debug)]
pub struct NullHost;

impl std::fmt::Display for NullHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnvoyX loader: new_stream needs a StreamHost, got a null pointer")
    }
}

impl std::error::Error for NullHost {}

impl FilterConfig {
    /// The configuration's `name` field.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The module file this configuration runs.
    pub fn module_path(&self) -> String {
        self.0.module().path().display().to_string()
    }

    /// A wake-up of the `background` scheduler reached the main thread: runs the module's next
    /// configuration event; see [`envoyx_core::FilterConfig::on_scheduled`].
    pub fn on_scheduled(&self) {
        self.0.on_scheduled();
    }

    /// The answer to the configuration's callout `id` (main thread; `status` an
    /// `envoyx_callout_status`, views valid during this call); see
    /// [`envoyx_core::FilterConfig::on_callout_done`].
    pub fn on_callout_done(&self, id: u64, status: u32, headers: &[ffi::RawHeader], body: &[ffi::RawBytes]) {
        let (headers, body) = shared_views(headers, body);
        self.0.on_callout_done(id, callout_status(status), headers, body);
    }

    /// News of the configuration's streaming callout `id` (main thread; as
    /// [`Stream::on_callout_event`]); see [`envoyx_core::FilterConfig::on_callout_event`].
    pub fn on_callout_event(
        &self,
        id: u64,
        event: u32,
        status: u32,
        headers: &[ffi::RawHeader],
        data: &[ffi::RawBytes],
        end_of_stream: bool,
    ) {
        let (headers, data) = shared_views(headers, data);
        self.0.on_callout_event(
            id,
            envoyx_core::CalloutEvent::from_abi(event, status, headers, data, end_of_stream),
        );
    }

    /// Starts a stream on `host`, which the stream owns from now on (the C++ object is deleted
    /// when the stream is dropped). Calls the module's stream-new hook.
    pub fn new_stream(&self, host: cxx::UniquePtr<ffi::StreamHost>) -> Result<Box<Stream>, NullHost> {
        if host.is_null() {
            return Err(NullHost);
        }
        Ok(Box::new(Stream { core: self.0.new_stream(Box::new(CxxHost(host))), pending: Effects::NONE }))
    }
}

/// A stream for C++: the core's state machine. Event methods return the module's status as
/// Envoy's own enum ordinal (`ENVOYX_HEADERS_*`, `ENVOYX_BODY_*`, `ENVOYX_TRAILERS_*`), and an
/// error only when the host drove the stream out of order. What the host must carry out is kept
/// here until C++ takes it with [`Stream::next_action`], after the call has returned.
pub struct Stream {
    core: envoyx_core::Stream,
    /// Actions not yet taken. A call that re-enters while C++ carries out an action adds its own
    /// under the core's rules ([`Effects::merge`]).
    pending: Effects,
}

type EventResult = Result<u32, envoyx_core::EventOrderError>;

impl Stream {
    fn keep<S: Into<u32>>(&mut self, outcome: envoyx_core::Outcome<S>) -> u32 {
        self.pending.merge(outcome.effects);
        outcome.status.into()
    }
    pub fn on_request_headers(&mut self, end_of_stream: bool) -> EventResult {
        let outcome = self.core.on_request_headers(end_of_stream)?;
        Ok(self.keep(outcome))
    }
    pub fn on_request_body(&mut self, end_of_stream: bool) -> EventResult {
        let outcome = self.core.on_request_body(end_of_stream)?;
        Ok(self.keep(outcome))
    }
    pub fn on_request_trailers(&mut self) -> EventResult {
        let outcome = self.core.on_request_trailers()?;
        Ok(self.keep(outcome))
    }
    pub fn on_response_headers(&mut self, end_of_stream: bool) -> EventResult {
        let outcome = self.core.on_response_headers(end_of_stream)?;
        Ok(self.keep(outcome))
    }
    pub fn on_response_body(&mut self, end_of_stream: bool) -> EventResult {
        let outcome = self.core.on_response_body(end_of_stream)?;
        Ok(self.keep(outcome))
    }
    pub fn on_response_trailers(&mut self) -> EventResult {
        let outcome = self.core.on_response_trailers()?;
        Ok(self.keep(outcome))
    }

    /// A wake-up of the host's `Scheduler` has reached the worker thread: the core runs the next
    /// queued item (a continue, or the module's scheduled hook); see
    /// [`envoyx_core::Stream::on_scheduled`]. Returns whether it produced actions to carry out
    /// (taken with [`Stream::next_action`]).
    pub fn on_scheduled(&mut self) -> bool {
        let effects = self.core.on_scheduled();
        let acts = !effects.is_empty();
        self.pending.merge(effects);
        acts
    }

    /// The proxy's answer to callout `id` (`status` an `envoyx_callout_status`; views valid during
    /// this call); see [`envoyx_core::Stream::on_callout_done`]. Returns whether it produced
    /// actions to carry out.
    pub fn on_callout_done(
        &mut self,
        id: u64,
        status: u32,
        headers: &[ffi::RawHeader],
        body: &[ffi::RawBytes],
    ) -> bool {
        let (headers, body) = shared_views(headers, body);
        let effects = self.core.on_callout_done(id, callout_status(status), headers, body);
        let acts = !effects.is_empty();
        self.pending.merge(effects);
        acts
    }

    /// News of the module's streaming callout `id` (`event` an `envoyx_callout_event`, `status` an
    /// `envoyx_callout_status`; views valid during this call); see
    /// [`envoyx_core::Stream::on_callout_event`]. Returns whether it produced actions to carry out.
    pub fn on_callout_event(
        &mut self,
        id: u64,
        event: u32,
        status: u32,
        headers: &[ffi::RawHeader],
        data: &[ffi::RawBytes],
        end_of_stream: bool,
    ) -> bool {
        let (headers, data) = shared_views(headers, data);
        let event = envoyx_core::CalloutEvent::from_abi(event, status, headers, data, end_of_stream);
        let effects = self.core.on_callout_event(id, event);
        let acts = !effects.is_empty();
        self.pending.merge(effects);
        acts
    }

    /// The next action to carry out (`ActionKind::None` when there is none), in the order the
    /// core's rules give: a reset or a local reply alone, otherwise request before response.
    pub fn next_action(&mut self) -> ffi::NextAction {
        let none = ffi::LocalReply { status: 0, headers: Vec::new(), body: Vec::new(), details: Vec::new() };
        let (kind, direction, reply) = match self.pending.next_action() {
            None => (ffi::ActionKind::None, Direction::Request, none),
            Some(Action::Reset) => (ffi::ActionKind::Reset, Direction::Request, none),
            Some(Action::Continue(direction)) => (ffi::ActionKind::Continue, direction, none),
            Some(Action::LocalReply(reply)) => {
                let reply = *reply;
                let headers =
                    reply.headers.into_iter().map(|(key, value)| ffi::ReplyHeader { key, value }).collect();
                let reply = ffi::LocalReply {
                    status: reply.status,
                    headers,
                    body: reply.body,
                    details: reply.details,
                };
                (ffi::ActionKind::LocalReply, Direction::Response, reply)
            }
        };
        ffi::NextAction { kind, direction: direction.into(), reply }
    }

    /// Whether the response has gone on past this filter towards the client.
    pub fn response_started(&self) -> bool {
        self.core.response_started()
    }

    /// The stream is over: the module's complete hook runs once; actions not yet taken are
    /// dropped (nothing can be done to a stream that is over).
    pub fn on_stream_complete(&mut self) {
        self.core.on_stream_complete();
        self.pending = Effects::NONE;
    }
    pub fn body_bytes_copied(&self) -> u64 {
        self.core.body_bytes_copied()
    }
    pub fn local_reply_sent(&self) -> bool {
        self.core.local_reply_sent()
    }
    pub fn continues_ignored(&self) -> u64 {
        self.core.continues_ignored()
    }
}

/// Sends every later log message of the core and the modules to a C++ sink (Envoy's logger). A
/// null sink is ignored.
pub fn set_log_sink(sink: cxx::SharedPtr<ffi::LogSink>) {
    if !sink.is_null() {
        envoyx_core::set_log_sink(Arc::new(CxxLog(sink)));
    }
}

// Safety: loader.h requires `Scheduler::wake` to be callable from any thread at any time; its
// other methods (the configuration's callouts and metrics) are called only on the main thread,
// where the core calls them.
unsafe impl Send for ffi::Scheduler {}
// Safety: as above.
unsafe impl Sync for ffi::Scheduler {}
// Safety: loader.h requires `LogSink`'s methods to be callable from any thread at any time.
unsafe impl Send for ffi::LogSink {}
// Safety: as above.
unsafe impl Sync for ffi::LogSink {}

/// The core's [`HostStream`], forwarding to the C++ host.
struct CxxHost(cxx::UniquePtr<ffi::StreamHost>);

impl CxxHost {
    fn host(&mut self) -> std::pin::Pin<&mut ffi::StreamHost> {
        // Never null: `FilterConfig::new_stream` refuses a null host.
        self.0.pin_mut()
    }
}

/// The C++ `bool f(..., size_t& total)` convention as the core's `Option<usize>`.
fn counted(available: bool, total: usize) -> Option<usize> {
    available.then_some(total)
}

impl HostStream for CxxHost {
    fn header_values(&mut self, map: HeaderMapKind, key: &[u8], out: &mut [envoyx_bytes]) -> Option<usize> {
        let mut total = 0;
        let available = self.host().header_values(map.into(), key, raw_bytes_out(out), &mut total);
        counted(available, total)
    }
    fn header_entries(&mut self, map: HeaderMapKind, out: &mut [envoyx_header]) -> Option<usize> {
        let mut total = 0;
        let available = self.host().header_entries(map.into(), raw_headers_out(out), &mut total);
        counted(available, total)
    }
    fn header_set(&mut self, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool {
        self.host().header_set(map.into(), key, value)
    }
    fn header_add(&mut self, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool {
        self.host().header_add(map.into(), key, value)
    }
    fn header_remove(&mut self, map: HeaderMapKind, key: &[u8]) -> usize {
        self.host().header_remove(map.into(), key)
    }
    fn body_length(&mut self, body: BodyKind) -> Option<usize> {
        let mut length = 0;
        let available = self.host().body_length(body.into(), &mut length);
        counted(available, length)
    }
    fn body_slices(&mut self, body: BodyKind, out: &mut [envoyx_slice]) -> Option<usize> {
        let mut total = 0;
        let available = self.host().body_slices(body.into(), raw_slices_out(out), &mut total);
        counted(available, total)
    }
    fn body_drain(&mut self, body: BodyKind, len: usize) -> bool {
        self.host().body_drain(body.into(), len)
    }
    fn body_append(&mut self, body: BodyKind, data: &[u8]) -> bool {
        self.host().body_append(body.into(), data)
    }
    fn body_prepend(&mut self, body: BodyKind, data: &[u8]) -> bool {
        self.host().body_prepend(body.into(), data)
    }
    fn body_replace(&mut self, body: BodyKind, offset: usize, len: usize, data: &[u8]) -> bool {
        self.host().body_replace(body.into(), offset, len, data)
    }
    fn scheduler(&self) -> Arc<dyn StreamScheduler> {
        Arc::new(CxxSchedulerRef(self.0.scheduler()))
    }
    fn http_callout(
        &mut self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        inbox: envoyx_core::CalloutInbox,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        let inbox = Box::new(CalloutInbox(inbox));
        start_cxx(callout, |headers, failure| {
            self.host().http_callout(
                id,
                callout.cluster,
                headers,
                callout.body,
                callout.timeout_ms,
                inbox,
                failure,
            )
        })
    }
    fn callout_stream_start(
        &mut self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        end_of_stream: bool,
        inbox: envoyx_core::CalloutInbox,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        let inbox = Box::new(CalloutInbox(inbox));
        start_cxx(callout, |headers, failure| {
            self.host().callout_stream_start(
                id,
                callout.cluster,
                headers,
                callout.body,
                end_of_stream,
                callout.timeout_ms,
                inbox,
                failure,
            )
        })
    }
    fn callout_stream_send(&mut self, id: u64, data: &[u8], end_of_stream: bool) -> bool {
        self.host().callout_stream_send(id, data, end_of_stream)
    }
    fn callout_stream_send_trailers(
        &mut self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        let trailers: Vec<ffi::RawHeader> = trailers.iter().map(|(k, v)| raw_header(k, v)).collect();
        self.host().callout_stream_send_trailers(id, &trailers)
    }
    fn callout_stream_reset(&mut self, id: u64) {
        self.host().callout_stream_reset(id)
    }
    fn metadata_set(&mut self, ns: &str, key: &str, value: envoyx_core::MetadataValue<'_>) -> bool {
        let v = value.to_abi();
        // Safety: the core's value views the module's string, valid during this call.
        let string = unsafe { v.string.as_slice() };
        self.host().metadata_set(ns.as_bytes(), key.as_bytes(), v.kind, string, v.number, v.boolean)
    }
    fn metadata_get(
        &mut self,
        source: envoyx_core::MetadataSource,
        ns: &str,
        key: &str,
        kind: envoyx_core::ValueKind,
    ) -> Option<envoyx_abi::envoyx_value> {
        let (mut string, mut number, mut boolean) = (raw_bytes(b""), 0.0, false);
        let found = self.host().metadata_get(
            source as u32,
            ns.as_bytes(),
            key.as_bytes(),
            kind as u32,
            &mut string,
            &mut number,
            &mut boolean,
        );
        let string = envoyx_bytes { ptr: string.ptr, len: string.len };
        found.then_some(envoyx_abi::envoyx_value { kind: kind as u32, string, number, boolean })
    }
    fn filter_state_set(&mut self, key: &str, value: &[u8]) -> bool {
        self.host().filter_state_set(key.as_bytes(), value)
    }
    fn filter_state_get(&mut self, key: &str) -> Option<envoyx_bytes> {
        let mut value = raw_bytes(b"");
        self.host()
            .filter_state_get(key.as_bytes(), &mut value)
            .then_some(envoyx_bytes { ptr: value.ptr, len: value.len })
    }
    fn clear_route_cache(&mut self) -> bool {
        self.host().clear_route_cache()
    }
    fn filter_state_exists(&mut self, key: &str) -> bool {
        self.host().filter_state_exists(key.as_bytes())
    }
    fn span_set_tag(&mut self, key: &str, value: &str) -> bool {
        self.host().span_set_tag(key.as_bytes(), value.as_bytes())
    }
    fn attribute(&mut self, attribute: envoyx_core::Attribute) -> Option<envoyx_abi::envoyx_value> {
        let (mut string, mut number) = (raw_bytes(b""), 0.0);
        if !self.host().attribute_get(attribute as u32, &mut string, &mut number) {
            return None;
        }
        Some(match attribute.kind() {
            envoyx_core::ValueKind::Number => envoyx_abi::envoyx_value::number(number),
            _ => envoyx_abi::envoyx_value {
                string: envoyx_bytes { ptr: string.ptr, len: string.len },
                ..envoyx_abi::envoyx_value::string(b"")
            },
        })
    }
    fn upstream_override_host(&mut self, host: &str, strict: bool) -> bool {
        self.host().upstream_override_host(host.as_bytes(), strict)
    }
    fn metric_record(
        &mut self,
        host_id: u64,
        kind: envoyx_core::MetricKind,
        op: envoyx_core::MetricOp,
        label_values: &[&[u8]],
        value: u64,
    ) -> bool {
        let values: Vec<ffi::RawBytes> = label_values.iter().map(|v| raw_bytes(v)).collect();
        self.host().metric_record(host_id, kind as u32, op as u32, &values, value)
    }
    fn route_config(&mut self) -> Option<Arc<envoyx_core::RouteConfig>> {
        // Safety: loader.h: null, or a RouteConfig the proxy keeps alive while the stream's
        // route is; the core takes its own reference here.
        unsafe { self.0.route_config().as_ref() }.map(|route| route.0.clone())
    }
}

/// The core's [`StreamScheduler`], forwarding to the C++ scheduler. A host that gives no
/// scheduler (a null `shared_ptr`) gets wake-ups (so continues and events) dropped, with a log
/// line.
struct CxxSchedulerRef(cxx::SharedPtr<ffi::Scheduler>);

impl StreamScheduler for CxxSchedulerRef {
    fn wake(&self) {
        match self.0.as_ref() {
            Some(scheduler) => scheduler.wake(),
            None => envoyx_core::log::log(
                LogLevel::Error,
                b"EnvoyX loader: the StreamHost has no Scheduler; a continue or event was dropped",
            ),
        }
    }
}

impl envoyx_core::ConfigHost for CxxSchedulerRef {
    fn wake(&self) {
        StreamScheduler::wake(self);
    }

    fn http_callout(
        &self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        let Some(scheduler) = self.0.as_ref() else { return Err(envoyx_core::CalloutStatus::Unavailable) };
        start_cxx(callout, |headers, failure| {
            scheduler.http_callout(id, callout.cluster, headers, callout.body, callout.timeout_ms, failure)
        })
    }

    fn callout_stream_start(
        &self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        end_of_stream: bool,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        let Some(scheduler) = self.0.as_ref() else { return Err(envoyx_core::CalloutStatus::Unavailable) };
        start_cxx(callout, |headers, failure| {
            let (cluster, body, timeout_ms) = (callout.cluster, callout.body, callout.timeout_ms);
            scheduler.callout_stream_start(id, cluster, headers, body, end_of_stream, timeout_ms, failure)
        })
    }

    fn callout_stream_send(&self, id: u64, data: &[u8], end_of_stream: bool) -> bool {
        self.0.as_ref().is_some_and(|scheduler| scheduler.callout_stream_send(id, data, end_of_stream))
    }

    fn callout_stream_send_trailers(
        &self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        let trailers: Vec<ffi::RawHeader> = trailers.iter().map(|(k, v)| raw_header(k, v)).collect();
        self.0.as_ref().is_some_and(|scheduler| scheduler.callout_stream_send_trailers(id, &trailers))
    }

    fn callout_stream_reset(&self, id: u64) {
        if let Some(scheduler) = self.0.as_ref() {
            scheduler.callout_stream_reset(id);
        }
    }

    fn define_metric(&self, def: &envoyx_core::MetricDef) -> Result<u64, String> {
        let scheduler = self.0.as_ref().ok_or("this host keeps no metrics")?;
        let labels: Vec<ffi::RawBytes> = def.label_names.iter().map(|l| raw_bytes(l.as_bytes())).collect();
        let mut id = 0;
        if scheduler.define_metric(def.kind as u32, def.full_name.as_bytes(), &labels, &mut id) {
            Ok(id)
        } else {
            Err("the proxy refused it".to_string())
        }
    }
}

/// The core's [`envoyx_core::LogSink`], forwarding to the C++ sink.
struct CxxLog(cxx::SharedPtr<ffi::LogSink>);

impl envoyx_core::LogSink for CxxLog {
    fn enabled(&self, level: LogLevel) -> bool {
        self.0.as_ref().is_some_and(|sink| sink.enabled(ffi::LogLevel { repr: level as u32 }))
    }
    fn log(&self, level: LogLevel, message: &[u8]) {
        if let Some(sink) = self.0.as_ref() {
            sink.log(ffi::LogLevel { repr: level as u32 }, message)
        }
    }
}

// The core's enums and the bridge's share their values (both equal the ABI's), so converting is
// copying the number; `tests::enums_match_the_abi` checks every value.
impl From<HeaderMapKind> for ffi::HeaderMapKind {
    fn from(map: HeaderMapKind) -> Self {
        Self { repr: map as u32 }
    }
}
impl From<BodyKind> for ffi::BodyKind {
    fn from(body: BodyKind) -> Self {
        Self { repr: body as u32 }
    }
}
impl From<Direction> for ffi::Direction {
    fn from(direction: Direction) -> Self {
        Self { repr: direction as u32 }
    }
}

// The views. The core hands the host the module's own output arrays (`envoyx_bytes`,
// `envoyx_header`, `envoyx_slice`); the bridge's structs have the same layout, checked here at
// compile time, so C++ writes its pointers straight into those arrays: no copy of the bytes and
// no temporary array per call.
const _: () = {
    assert!(size_of::<ffi::RawBytes>() == size_of::<envoyx_bytes>());
    assert!(align_of::<ffi::RawBytes>() == align_of::<envoyx_bytes>());
    assert!(offset_of!(ffi::RawBytes, ptr) == offset_of!(envoyx_bytes, ptr));
    assert!(offset_of!(ffi::RawBytes, len) == offset_of!(envoyx_bytes, len));
    assert!(size_of::<ffi::RawSlice>() == size_of::<envoyx_slice>());
    assert!(align_of::<ffi::RawSlice>() == align_of::<envoyx_slice>());
    assert!(offset_of!(ffi::RawSlice, ptr) == offset_of!(envoyx_slice, ptr));
    assert!(offset_of!(ffi::RawSlice, len) == offset_of!(envoyx_slice, len));
    assert!(size_of::<ffi::RawHeader>() == size_of::<envoyx_header>());
    assert!(align_of::<ffi::RawHeader>() == align_of::<envoyx_header>());
    assert!(offset_of!(ffi::RawHeader, key) == offset_of!(envoyx_header, key));
    assert!(offset_of!(ffi::RawHeader, value) == offset_of!(envoyx_header, value));
};

/// The core's views of C++ headers and body chunks (same layouts, checked above).
fn shared_views<'a>(
    headers: &'a [ffi::RawHeader],
    body: &'a [ffi::RawBytes],
) -> (&'a [envoyx_header], &'a [envoyx_bytes]) {
    // Safety: same layouts (checked above); shared views borrowed for 'a.
    unsafe {
        (
            std::slice::from_raw_parts(headers.as_ptr().cast(), headers.len()),
            std::slice::from_raw_parts(body.as_ptr().cast(), body.len()),
        )
    }
}

/// Starts `callout` through a C++ host's `start` (given the C++ views of its headers and the
/// failure to set), as the core's result.
fn start_cxx(
    callout: &envoyx_core::Callout<'_>,
    start: impl FnOnce(&[ffi::RawHeader], &mut u32) -> bool,
) -> Result<(), envoyx_core::CalloutStatus> {
    let headers: Vec<ffi::RawHeader> = callout.headers.iter().map(|(k, v)| raw_header(k, v)).collect();
    let mut failure = 0;
    if start(&headers, &mut failure) { Ok(()) } else { Err(callout_status(failure)) }
}

/// The C++ view of `bytes`, borrowing them.
fn raw_bytes(bytes: &[u8]) -> ffi::RawBytes {
    ffi::RawBytes { ptr: bytes.as_ptr(), len: bytes.len() }
}

/// The C++ view of one header, borrowing `key` and `value`.
fn raw_header(key: &[u8], value: &[u8]) -> ffi::RawHeader {
    ffi::RawHeader { key: raw_bytes(key), value: raw_bytes(value) }
}

/// The core's inbox for a C++ host ([`envoyx_core::CalloutInbox`]).
pub struct CalloutInbox(envoyx_core::CalloutInbox);

impl CalloutInbox {
    /// See [`envoyx_core::CalloutInbox::defer`].
    pub fn defer(
        &self,
        id: u64,
        event: u32,
        status: u32,
        headers: &[ffi::RawHeader],
        data: &[ffi::RawBytes],
        end_of_stream: bool,
    ) -> bool {
        let (headers, data) = shared_views(headers, data);
        self.0.defer(id, envoyx_core::CalloutEvent::from_abi(event, status, headers, data, end_of_stream))
    }

    /// See [`envoyx_core::CalloutInbox::defer_answer`].
    pub fn defer_answer(
        &self,
        id: u64,
        status: u32,
        headers: &[ffi::RawHeader],
        body: &[ffi::RawBytes],
    ) -> bool {
        let (headers, body) = shared_views(headers, body);
        self.0.defer_answer(id, callout_status(status), headers, body)
    }
}

/// A C++ `envoyx_callout_status`; an unknown value (a C++ cast) counts as a reset.
fn callout_status(status: u32) -> envoyx_core::CalloutStatus {
    envoyx_core::CalloutStatus::from_abi(status)
}

fn raw_bytes_out(out: &mut [envoyx_bytes]) -> &mut [ffi::RawBytes] {
    // Safety: same layout (checked above), both plain pointer + length with no invariant, and
    // the result borrows `out` exclusively for its lifetime.
    unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), out.len()) }
}

fn raw_headers_out(out: &mut [envoyx_header]) -> &mut [ffi::RawHeader] {
    // Safety: as in `raw_bytes_out`.
    unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), out.len()) }
}

fn raw_slices_out(out: &mut [envoyx_slice]) -> &mut [ffi::RawSlice] {
    // Safety: as in `raw_bytes_out`.
    unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), out.len()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoyx_abi::*;

    #[test]
    fn enums_match_the_abi() {
        let maps = [
            (ffi::HeaderMapKind::RequestHeaders, ENVOYX_REQUEST_HEADERS),
            (ffi::HeaderMapKind::RequestTrailers, ENVOYX_REQUEST_TRAILERS),
            (ffi::HeaderMapKind::ResponseHeaders, ENVOYX_RESPONSE_HEADERS),
            (ffi::HeaderMapKind::ResponseTrailers, ENVOYX_RESPONSE_TRAILERS),
        ];
        for (bridge, abi) in maps {
            assert_eq!(bridge.repr, abi);
            assert_eq!(ffi::HeaderMapKind::from(HeaderMapKind::from_abi(abi).unwrap()).repr, abi);
        }
        let bodies = [
            (ffi::BodyKind::RequestReceived, ENVOYX_BODY_REQUEST_RECEIVED),
            (ffi::BodyKind::RequestBuffered, ENVOYX_BODY_REQUEST_BUFFERED),
            (ffi::BodyKind::ResponseReceived, ENVOYX_BODY_RESPONSE_RECEIVED),
            (ffi::BodyKind::ResponseBuffered, ENVOYX_BODY_RESPONSE_BUFFERED),
        ];
        for (bridge, abi) in bodies {
            assert_eq!(bridge.repr, abi);
            assert_eq!(ffi::BodyKind::from(BodyKind::from_abi(abi).unwrap()).repr, abi);
        }
        let directions = [
            (ffi::Direction::Request, ENVOYX_DIRECTION_REQUEST),
            (ffi::Direction::Response, ENVOYX_DIRECTION_RESPONSE),
        ];
        for (bridge, abi) in directions {
            assert_eq!(bridge.repr, abi);
            assert_eq!(ffi::Direction::from(Direction::from_abi(abi).unwrap()).repr, abi);
        }
        let levels = [
            (ffi::LogLevel::Trace, ENVOYX_LOG_TRACE),
            (ffi::LogLevel::Debug, ENVOYX_LOG_DEBUG),
            (ffi::LogLevel::Info, ENVOYX_LOG_INFO),
            (ffi::LogLevel::Warn, ENVOYX_LOG_WARN),
            (ffi::LogLevel::Error, ENVOYX_LOG_ERROR),
            (ffi::LogLevel::Critical, ENVOYX_LOG_CRITICAL),
        ];
        for (bridge, abi) in levels {
            assert_eq!(bridge.repr, abi);
            assert_eq!(LogLevel::from_abi(abi) as u32, bridge.repr);
        }
    }

    #[test]
    fn json_that_is_not_utf8_is_malformed_json() {
        let err = filter_config_from_json(&[b'{', 0xff, b'}'], cxx::SharedPtr::null()).err().unwrap();
        assert!(err.to_string().starts_with("EnvoyX config: malformed JSON: not UTF-8"), "{err}");
    }
}
