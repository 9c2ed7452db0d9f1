//! The C++ face of the EnvoyX core, over [cxx](https://cxx.rs), for the EnvoyX Envoy extension.
//!
//! C++ implements the host: a `StreamHost` per HTTP stream (headers and body slices: the
//! primitives), a thread-safe `Scheduler` that carries continues requested on any thread back
//! to the stream's worker thread. C++ calls the core: create a filter config from a
//! `DynamicModuleConfig` (protobuf bytes or JSON), start a stream on a host, deliver its events,
//! and after each call carry out the actions the core returns (`Stream::next_action`: reset,
//! local reply, continue), which is where the stream rules were applied. Loading (one `dlopen` per file, `do_not_dlclose`, symbol and ABI checks) stays in the
//! core, so every host shares one implementation.
//!
//! The C++ side is `include/envoyx/loader.h` (the host interfaces) and the header cxx generates
//! from this file, `envoyx-loader/src/lib.rs.h` (everything declared in `extern "Rust"` below).
//! A core error becomes a C++ `rust::Error` exception whose `what()` is the core's message.
//!
//! This file is the bridge alone (the types and functions each side sees); the Rust side of
//! each lives beside it: `config.rs` (filter and per-route configurations, errors), `stream.rs`
//! (a stream and its actions), `host.rs` (the core's host over C++'s `StreamHost`),
//! `config_host.rs` (the stream's scheduler and the configuration's host over C++'s `Scheduler`
//! and `ConfigHost`), `log.rs`
//! (the log sink), `views.rs` (enums, views and callout statuses between the two sides).

mod config;
mod config_host;
mod host;
mod log;
mod stream;
mod views;

pub use config::*;
pub use log::*;
pub use stream::*;
pub use views::CalloutInbox;

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
        /// The module's own response (ABI 1.2), its parts in order: headers, status and headers
        /// in `NextAction::reply`, ending the response when `NextAction::end_of_stream`
        /// (encodeHeaders from the decoder side; the core checked them).
        AnswerHeaders = 4,
        /// Its next data, in `NextAction::reply.body` (encodeData; `end_of_stream` as above).
        AnswerData = 5,
        /// Its trailers, in `NextAction::reply.headers`; they end it (encodeTrailers).
        AnswerTrailers = 6,
        /// Start the request over (recreateStream; ABI 1.2 `recreate_stream`), handing the
        /// proxy `NextAction::reply.headers` as the response that caused it (none when empty).
        Recreate = 7,
        /// End the stream and close the client's connection (sendGoAwayAndClose; ABI 1.2
        /// `send_goaway_and_close`), gracefully when `NextAction::end_of_stream`.
        GoAway = 8,
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

    /// What a reset tells the client. Values equal `envoyx_reset_reason` (ABI 1.2).
    #[repr(u32)]
    enum ResetReason {
        /// Envoy's LocalReset.
        Local = 0,
        /// Envoy's LocalRefusedStreamReset (HTTP/2 REFUSED_STREAM: the client may retry).
        Refused = 1,
    }

    /// The next action. `direction` is set for `Continue`, `reply` for `LocalReply` and the
    /// `Answer*` kinds (empty otherwise), `reset_reason` for `Reset` (`Local` otherwise),
    /// `end_of_stream` for `AnswerHeaders` and `AnswerData`, and whether a `GoAway` is graceful.
    struct NextAction {
        kind: ActionKind,
        direction: Direction,
        reply: LocalReply,
        reset_reason: ResetReason,
        end_of_stream: bool,
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
        type ConfigHost;
        /// Where the core's and the modules' log messages go, implemented in C++.
        type LogSink;
        /// The proxy's runtime (ABI 1.2 `runtime_get`), implemented in C++.
        type Runtime;

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
        fn body_length(self: Pin<&mut StreamHost>, body: BodyKind, length: &mut usize) -> bool;
        fn body_slices(
            self: Pin<&mut StreamHost>,
            body: BodyKind,
            out: &mut [RawSlice],
            total: &mut usize,
        ) -> bool;
        fn body_prepend(self: Pin<&mut StreamHost>, body: BodyKind, data: &[u8]) -> bool;
        fn body_replace(
            self: Pin<&mut StreamHost>,
            body: BodyKind,
            offset: usize,
            len: usize,
            data: &[u8],
        ) -> bool;
        // @generated begin: the plain HostStream primitives (cargo run -p envoyx-codegen)
        fn header_set(self: Pin<&mut StreamHost>, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool;
        fn header_add(self: Pin<&mut StreamHost>, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool;
        fn header_remove(self: Pin<&mut StreamHost>, map: HeaderMapKind, key: &[u8]) -> usize;
        fn body_drain(self: Pin<&mut StreamHost>, body: BodyKind, len: usize) -> bool;
        fn body_append(self: Pin<&mut StreamHost>, body: BodyKind, data: &[u8]) -> bool;
        fn callout_stream_send(self: Pin<&mut StreamHost>, id: u64, data: &[u8], end_of_stream: bool)
        -> bool;
        fn callout_stream_reset(self: Pin<&mut StreamHost>, id: u64);
        fn filter_state_set(self: Pin<&mut StreamHost>, key: &[u8], value: &[u8]) -> bool;
        fn clear_route_cache(self: Pin<&mut StreamHost>) -> bool;
        fn refresh_route_cluster(self: Pin<&mut StreamHost>) -> bool;
        fn upstream_override_host(self: Pin<&mut StreamHost>, host: &[u8], strict: bool) -> bool;
        fn span_set_tag(self: Pin<&mut StreamHost>, key: &[u8], value: &[u8]) -> bool;
        fn buffer_limit(self: Pin<&mut StreamHost>) -> u64;
        fn set_buffer_limit(self: Pin<&mut StreamHost>, limit: u64) -> bool;
        fn filter_state_set_typed(self: Pin<&mut StreamHost>, key: &[u8], value: &[u8]) -> bool;
        fn metadata_set_struct(self: Pin<&mut StreamHost>, ns: &[u8], encoded: &[u8]) -> bool;
        fn metadata_set_typed(self: Pin<&mut StreamHost>, ns: &[u8], any: &[u8]) -> bool;
        fn trailers_add(self: Pin<&mut StreamHost>, map: HeaderMapKind) -> bool;
        fn span_start_child(self: Pin<&mut StreamHost>, parent: u64, id: u64, operation: &[u8]) -> bool;
        fn span_tag(self: Pin<&mut StreamHost>, span: u64, key: &[u8], value: &[u8]) -> bool;
        fn span_log(self: Pin<&mut StreamHost>, span: u64, event: &[u8]) -> bool;
        fn span_set_sampled(self: Pin<&mut StreamHost>, span: u64, sampled: bool) -> bool;
        fn span_finish(self: Pin<&mut StreamHost>, span: u64) -> bool;
        fn span_baggage_set(self: Pin<&mut StreamHost>, key: &[u8], value: &[u8]) -> bool;
        // @generated end
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
        fn callout_stream_send_trailers(self: Pin<&mut StreamHost>, id: u64, trailers: &[RawHeader]) -> bool;
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
        fn filter_state_get(self: Pin<&mut StreamHost>, key: &[u8], value: &mut RawBytes) -> bool;
        fn filter_state_exists(self: Pin<&mut StreamHost>, key: &[u8]) -> bool;
        /// The serialized form of the filter-state object at `key` into `value` (ABI 1.2).
        fn filter_state_serialized(self: Pin<&mut StreamHost>, key: &[u8], value: &mut RawBytes) -> bool;
        /// Baggage `key` of the active span into `value` (a view valid until the next tracing
        /// call or the call's end); false when absent or without a tracer (ABI 1.2).
        fn span_baggage_get(self: Pin<&mut StreamHost>, key: &[u8], value: &mut RawBytes) -> bool;
        /// The active span's trace id into `value`, as span_baggage_get (ABI 1.2).
        fn span_trace_id(self: Pin<&mut StreamHost>, value: &mut RawBytes) -> bool;
        fn attribute_get(
            self: Pin<&mut StreamHost>,
            attribute: u32,
            string: &mut RawBytes,
            number: &mut f64,
        ) -> bool;
        /// The stream's moment `timing` (an envoyx_timing id) into `ns`, if known (ABI 1.2).
        fn timing_get(self: Pin<&mut StreamHost>, timing: u32, ns: &mut i64) -> bool;
        /// Namespace `ns` of `source`'s typed metadata: its Any's type URL and value (ABI 1.2).
        fn metadata_typed(
            self: Pin<&mut StreamHost>,
            source: u32,
            ns: &[u8],
            type_url: &mut RawBytes,
            value: &mut RawBytes,
        ) -> bool;
        /// The namespaces of `source`'s metadata, or (`keys`) the keys of its namespace `ns`,
        /// into `out` (views valid as metadata_get's strings); returns how many there are.
        fn metadata_names(
            self: Pin<&mut StreamHost>,
            source: u32,
            ns: &[u8],
            keys: bool,
            out: &mut [RawBytes],
        ) -> usize;
        /// The addresses of the upstream hosts the request was sent to, in attempt order, into
        /// `out`; returns how many there are (ABI 1.2).
        fn upstream_hosts_attempted(self: Pin<&mut StreamHost>, out: &mut [RawBytes]) -> usize;
        /// The secret the configuration subscribed to as `id` into `value` (ABI 1.2).
        fn secret_get(self: Pin<&mut StreamHost>, id: u64, value: &mut RawBytes) -> bool;
        /// Records on the metric the host registered as `id` (`kind`, `op`: the ABI's values).
        fn worker_index(self: Pin<&mut StreamHost>, index: &mut u32) -> bool;
        fn metric_record(
            self: Pin<&mut StreamHost>,
            id: u64,
            kind: u32,
            op: u32,
            label_values: &[RawBytes],
            value: u64,
        ) -> bool;

        fn wake(self: &Scheduler);

        fn wake(self: &ConfigHost);
        /// A configuration's callout (main thread); false with `failure` if it cannot start.
        fn http_callout(
            self: &ConfigHost,
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
            self: &ConfigHost,
            id: u64,
            cluster: &[u8],
            headers: &[RawHeader],
            body: &[u8],
            end_of_stream: bool,
            timeout_ms: u64,
            failure: &mut u32,
        ) -> bool;
        fn callout_stream_send(self: &ConfigHost, id: u64, data: &[u8], end_of_stream: bool) -> bool;
        fn callout_stream_send_trailers(self: &ConfigHost, id: u64, trailers: &[RawHeader]) -> bool;
        fn callout_stream_reset(self: &ConfigHost, id: u64);
        /// Registers a metric of the configuration being created; false when refused.
        fn define_metric(
            self: &ConfigHost,
            kind: u32,
            name: &[u8],
            label_names: &[RawBytes],
            id: &mut u64,
        ) -> bool;
        /// Subscribes the configuration being created to a generic secret (ABI 1.2); false
        /// when the proxy refuses.
        fn subscribe_secret(self: &ConfigHost, name: &[u8], sds_config: &[u8], id: &mut u64) -> bool;

        fn enabled(self: &LogSink, level: LogLevel) -> bool;
        fn log(self: &LogSink, level: LogLevel, message: &[u8]);
        fn log_at(self: &LogSink, level: LogLevel, message: &[u8], file: &[u8], line: u32) -> bool;

        fn boolean(self: &Runtime, key: &[u8], value: &mut bool) -> bool;
        fn number(self: &Runtime, key: &[u8], value: &mut f64) -> bool;
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
            background: SharedPtr<ConfigHost>,
        ) -> Result<Box<FilterConfig>>;
        fn filter_config_from_json(
            json: &[u8],
            background: SharedPtr<ConfigHost>,
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
        /// The proxy's flow-control news (ABI 1.2): its buffer towards `direction`'s peer (the
        /// client for `Response`) went above its high watermark or below its low one. The core
        /// queues the changes for the module and wakes the stream's Scheduler; nothing to carry
        /// out now.
        fn on_watermark(self: &mut Stream, direction: Direction, above: bool);
        /// A local reply is being made on the stream (ABI 1.2; Envoy's `onLocalReply`), inside the
        /// proxy's call that makes it: the module's answer, an `envoyx_local_reply_status` (1:
        /// reset the stream instead). Nothing to carry out.
        fn on_local_reply(self: &mut Stream, status: u32, details: &[u8], reset_imminent: bool) -> u32;
        fn next_action(self: &mut Stream) -> NextAction;
        /// A new stream of this stream's configuration on `host`: how a host that starts a
        /// request over without its proxy's help (a test host) makes the new one.
        fn new_like(self: &Stream, host: UniquePtr<StreamHost>) -> Result<Box<Stream>>;
        fn response_started(self: &Stream) -> bool;
        fn on_stream_complete(self: &mut Stream);
        fn body_bytes_copied(self: &Stream) -> u64;
        fn local_reply_sent(self: &Stream) -> bool;
        fn continues_ignored(self: &Stream) -> u64;

        fn set_log_sink(sink: SharedPtr<LogSink>);
        /// How many worker threads the proxy runs (Envoy's `--concurrency`), for modules'
        /// `worker_count` (ABI 1.2). Main thread, before streams start.
        fn set_worker_count(count: u32);
        /// The proxy's runtime for modules' `runtime_get` (ABI 1.2), from now on. Any thread.
        fn set_runtime(runtime: SharedPtr<Runtime>);
    }
}

// Safety: loader.h requires `Scheduler::wake` to be callable from any thread at any time.
unsafe impl Send for ffi::Scheduler {}
// Safety: as above.
unsafe impl Sync for ffi::Scheduler {}
// Safety: loader.h requires `ConfigHost::wake` to be callable from any thread at any time; its
// other methods (the configuration's callouts and metrics) are called only on the main thread,
// where the core calls them.
unsafe impl Send for ffi::ConfigHost {}
// Safety: as above.
unsafe impl Sync for ffi::ConfigHost {}
// Safety: loader.h requires `LogSink`'s methods to be callable from any thread at any time.
unsafe impl Send for ffi::LogSink {}
// Safety: as above.
unsafe impl Sync for ffi::LogSink {}
// Safety: loader.h requires `Runtime`'s methods to be callable from any thread at any time.
unsafe impl Send for ffi::Runtime {}
// Safety: as above.
unsafe impl Sync for ffi::Runtime {}
