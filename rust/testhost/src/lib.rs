//! An in-process EnvoyX host for `cargo test`.
//!
//! It loads a real compiled module through `envoyx-core`, exactly as Envoy would, and drives
//! streams with in-memory headers and multi-slice bodies, so that in-place edits across slice
//! boundaries are exercised. It behaves like Envoy's filter manager where a module can tell:
//! a stop status holds the direction until a continue; `STOP_ITERATION_AND_BUFFER` keeps the
//! chunk in the buffered body; a continue (from any thread, through the module's handle) reaches
//! the stream only when the test runs the scheduled work ([`TestStream::run_scheduled`]) and
//! forwards what was held. It carries out what the core returns (local reply, reset, continue)
//! after each call, as every host does; a local reply's response passes back through the
//! filter, as in Envoy. Once the stream was reset or answered locally, events the test still
//! drives are dropped (Envoy delivers nothing more from the client or upstream then). It records what "upstream" and "the client" would receive, local
//! replies, resets, continues, and the body bytes the module path copied.
//!
//! One simplification: after `STOP_ALL_ITERATION_*` from a headers hook, body chunks are still
//! delivered to the module (Envoy would hold them until the continue).
//!
//! ```no_run
//! use envoyx_testhost::{TestHost, build_package};
//! let host = TestHost::load(build_package("envoyx-example-headers"), "headers", "").unwrap();
//! let mut stream = host.stream();
//! stream.request_headers(&[(":path", "/"), ("x-envoyx-remove-me", "1")], true);
//! assert_eq!(stream.upstream_request_headers().get("x-envoyx-remove-me"), None);
//! ```

mod buffer;
mod callout;
mod headers;
mod metrics;
mod runtime;
mod secrets;
mod stream_info;
mod timing;
mod tracing;

pub use buffer::SliceBuffer;
pub use callout::{CalloutAnswer, CalloutStreamEvent, RecordedCallout};
pub use envoyx_build::{build_module, build_package, try_build_package, try_build_workspace_package};
pub use envoyx_core::CalloutStatus;
pub use envoyx_core::{
    AnswerPart, BodyStatus, Direction, HeadersStatus, LocalReplyStatus, LogLevel, ResetReason, RouteConfig,
    TrailersStatus,
};
pub use envoyx_core::{Attribute, MetadataSource};
pub use envoyx_core::{MetricDef, MetricKind, MetricLimits};
pub use envoyx_core::{ModuleConfig, ReloadStats};
pub use headers::HeaderMap;
pub use metrics::MetricValue;
pub use runtime::{RuntimeValue, set_runtime};
pub use secrets::set_secret;
pub use stream_info::{OBJECT_FACTORIES, StoredValue};
pub use tracing::RecordedSpan;

use envoyx_abi::{envoyx_bytes, envoyx_header, envoyx_slice};
use envoyx_core::sync::lock;
use envoyx_core::{
    Action, BodyKind, Effects, FilterConfig, HeaderMapKind, HostStream, Outcome, StreamScheduler,
};
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The buffer limit of a stream whose module set none: Envoy's default
/// `per_connection_buffer_limit_bytes` (1 MiB).
pub const DEFAULT_BUFFER_LIMIT: u64 = 1 << 20;

/// A loaded module with one filter configuration.
pub struct TestHost {
    config: Arc<FilterConfig>,
    /// Wake-ups for the configuration's events (the module's `config_handle_schedule`), run on
    /// the test's thread (the "main thread") by [`TestHost::run_config_scheduled`].
    background: Arc<ConfigBackground>,
    /// Clusters that answer a stream's callout inside the call that starts it
    /// ([`TestHost::answer_inline`]).
    inline_clusters: Arc<std::sync::Mutex<Vec<InlineCluster>>>,
}

/// A cluster that answers inside the callout's start.
#[derive(Clone, Debug)]
struct InlineCluster {
    name: String,
    answer: InlineAnswer,
}

#[derive(Clone, Debug)]
enum InlineAnswer {
    /// [`TestHost::answer_inline`]: a response, as Envoy's router answers a cluster without
    /// healthy hosts (503 "no healthy upstream") before `send` returns.
    Response { status: u16, body: Vec<u8> },
    /// [`TestHost::fail_inline_twice`]: a streaming callout's failure, reported twice.
    FailureTwice(CalloutStatus),
}

impl TestHost {
    /// Loads `module` (a `.so` path) with the given config `name` and `filter_config`.
    pub fn load(
        module: impl AsRef<Path>,
        name: &str,
        filter_config: &str,
    ) -> Result<Self, envoyx_core::Error> {
        Self::from_config(&ModuleConfig {
            file_path: module.as_ref().to_string_lossy().into_owned(),
            filter_config: filter_config.to_string(),
            ..ModuleConfig::in_process(name)
        })
    }

    /// Loads from a checked configuration.
    pub fn from_config(config: &ModuleConfig) -> Result<Self, envoyx_core::Error> {
        install_process();
        let background = Arc::new(ConfigBackground::default());
        Ok(Self {
            config: FilterConfig::new(config, Some(background.clone()))?,
            background,
            inline_clusters: Arc::default(),
        })
    }

    /// Runs a module linked into this test program, without building its `.so`: `exports` is
    /// `envoyx_sdk::module_exports::<MyConfig>()`. The module goes through the real core (ABI
    /// check, program init, the stream rules and validation) exactly as a loaded file does;
    /// `name` and `filter_config` are the configuration's. Use the `.so` path
    /// ([`TestHost::load`] with [`build_module`]) for integration tests of the artifact itself.
    ///
    /// ```ignore
    /// let host = TestHost::in_process(envoyx_sdk::module_exports::<MyConfig>(), "my_filter", "config").unwrap();
    /// ```
    pub fn in_process(
        exports: envoyx_abi::ModuleExports,
        name: &str,
        filter_config: &str,
    ) -> Result<Self, envoyx_core::Error> {
        install_process();
        let module = envoyx_core::Module::in_process(name, exports)?;
        let background = Arc::new(ConfigBackground::default());
        let config =
            FilterConfig::with_module(module, name, filter_config.as_bytes(), Some(background.clone()))?;
        Ok(Self { config, background, inline_clusters: Arc::default() })
    }

    /// [`TestHost::in_process`] with the configuration's `metric_limits` (x/config.proto): how
    /// many label-value combinations each labelled metric takes and what becomes of a record
    /// past that.
    pub fn in_process_with_limits(
        exports: envoyx_abi::ModuleExports,
        name: &str,
        filter_config: &str,
        limits: &MetricLimits,
    ) -> Result<Self, envoyx_core::Error> {
        let config = ModuleConfig {
            filter_config: filter_config.to_string(),
            metric_limits: limits.clone(),
            ..ModuleConfig::in_process(name)
        };
        Self::in_process_with_config(exports, &config)
    }

    /// [`TestHost::in_process`] with the rest of a filter configuration: its `name`,
    /// `filter_config`, `metric_limits` and `secrets` (each subscribed as a proxy would:
    /// [`set_secret`] a static one first); its module's location is not used.
    pub fn in_process_with_config(
        exports: envoyx_abi::ModuleExports,
        config: &ModuleConfig,
    ) -> Result<Self, envoyx_core::Error> {
        install_process();
        let module = envoyx_core::Module::in_process(&config.name, exports)?;
        let background = Arc::new(ConfigBackground::default());
        let config = FilterConfig::with_module_config(module, config, Some(background.clone()))?;
        Ok(Self { config, background, inline_clusters: Arc::default() })
    }

    /// Loads from the JSON form of a `DynamicModuleConfig`, as a user writes it in Envoy YAML.
    pub fn from_json(json: &str) -> Result<Self, envoyx_core::Error> {
        install_process();
        let background = Arc::new(ConfigBackground::default());
        Ok(Self {
            config: FilterConfig::from_json(json, Some(background.clone()))?,
            background,
            inline_clusters: Arc::default(),
        })
    }

    /// Runs the configuration events the module scheduled so far (`envoyx_on_filter_config_
    /// scheduled`), on this thread, in order; waits up to `timeout` for the first. Returns how
    /// many wake-ups were run.
    pub fn run_config_scheduled(&self, timeout: Duration) -> usize {
        let pending = self.background.queue.take(timeout);
        for _ in 0..pending {
            self.config.on_scheduled();
        }
        pending
    }

    /// The callouts the module's configuration started that the test has not answered yet.
    pub fn pending_config_callouts(&self) -> Vec<RecordedCallout> {
        lock(&self.background.callouts).clone()
    }

    /// Answers the configuration's callout `id` (as its cluster would), on this thread (the
    /// "main thread"). Panics if `id` is not pending.
    pub fn answer_config_callout(&self, id: u64, answer: CalloutAnswer) {
        let mut callouts = lock(&self.background.callouts);
        let at =
            callouts.iter().position(|c| c.id == id).unwrap_or_else(|| panic!("no pending callout {id}"));
        callouts.remove(at);
        drop(callouts);
        callout::with_views(&answer, |status, headers, body| {
            self.config.on_callout_done(id, status, headers, body)
        });
    }

    /// Plays one step of the cluster's side of the configuration's streaming callout `id`, on
    /// this thread (the "main thread"). After `Complete` or `Failed` it is no longer pending.
    /// Panics if `id` is not a pending streaming callout.
    pub fn config_callout_stream_event(&self, id: u64, event: CalloutStreamEvent) {
        let mut callouts = lock(&self.background.callouts);
        let at = callouts
            .iter()
            .position(|c| c.id == id && c.streaming)
            .unwrap_or_else(|| panic!("no pending streaming callout {id}"));
        if event.is_last() {
            callouts.remove(at);
        }
        drop(callouts);
        event.with_views(|event| self.config.on_callout_event(id, event));
    }

    /// Starts a stream.
    pub fn stream(&self) -> TestStream {
        self.stream_on_route(None)
    }

    /// From now on a stream's HTTP callout to `cluster` is answered `status` with `body` inside
    /// the call that starts it (as Envoy's router answers a cluster without healthy hosts): the
    /// host hands the answer to the core's inbox, which delivers it right after the module's
    /// call. A streaming callout gets the same response as its events (headers, data, complete).
    /// Streams started before are affected too.
    pub fn answer_inline(&self, cluster: &str, status: u16, body: &[u8]) {
        let answer = InlineAnswer::Response { status, body: body.to_vec() };
        lock(&self.inline_clusters).push(InlineCluster { name: cluster.to_string(), answer });
    }

    /// From now on a stream's streaming callout to `cluster` fails inside the call that starts
    /// it, reported twice: FAILED(`status`) through the core's inbox, then `status` as the start
    /// call's result — what a host does when the proxy reports a failure inline and then returns
    /// an error from its start call (Envoy's `AsyncClientImpl::start` calls `onReset()` before it
    /// returns null). The core must tell the module once.
    pub fn fail_inline_twice(&self, cluster: &str, status: CalloutStatus) {
        let answer = InlineAnswer::FailureTwice(status);
        lock(&self.inline_clusters).push(InlineCluster { name: cluster.to_string(), answer });
    }

    /// Starts a stream whose route carries `route` (see [`TestHost::route_config`]): what the
    /// module gets from `Stream::route_config`.
    pub fn stream_on_route(&self, route: Option<Arc<RouteConfig>>) -> TestStream {
        let data = Rc::new(RefCell::new(StreamData::default()));
        static STREAMS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let number = STREAMS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        data.borrow_mut().info.attributes = stream_info::connection_defaults(number);
        data.borrow_mut().info.number = number;
        let queue = Arc::new(ScheduleQueue::default());
        let metrics = self.background.metrics.clone();
        let inline_clusters = self.inline_clusters.clone();
        let parts = HostParts { route, metrics, inline_clusters };
        let host = parts.host(&data, &queue);
        TestStream { core: self.config.new_stream(host), data, queue, parts }
    }

    /// A per-route configuration for this host's module (a `DynamicModuleConfigPerRoute` with
    /// `name` and `filter_config`), parsed by the module's route-config hook; an error when the
    /// module refuses it or takes none.
    pub fn route_config(
        &self,
        name: &str,
        filter_config: &str,
    ) -> Result<Arc<RouteConfig>, envoyx_core::Error> {
        RouteConfig::with_module(self.config.module().clone(), name, filter_config.as_bytes())
    }

    /// What the module recorded on its metric `name` (without the filter's prefix) for these
    /// label values, as the proxy's stats would show it; None when nothing was recorded.
    pub fn metric(&self, name: &str, label_values: &[&str]) -> Option<MetricValue> {
        self.background.metrics.value(name, label_values)
    }

    /// The metrics the module defined, in id order.
    pub fn metric_defs(&self) -> Vec<MetricDef> {
        self.background.metrics.defs()
    }

    /// The core's filter configuration.
    pub fn filter_config(&self) -> &Arc<FilterConfig> {
        &self.config
    }
}

/// A local reply the module sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedLocalReply {
    pub status: u32,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub details: String,
}

/// One direction as Envoy's filter manager sees it around this filter.
#[derive(Default)]
struct Side {
    headers: Option<HeaderMap>,
    trailers: Option<HeaderMap>,
    received: SliceBuffer,
    buffered: SliceBuffer,
    /// What passed the filter towards the next hop (upstream for requests, the client for
    /// responses).
    headers_forwarded: bool,
    /// The headers as they were when they went on (later changes do not reach the peer).
    headers_sent: Option<HeaderMap>,
    body_forwarded: Vec<u8>,
    trailers_forwarded: bool,
    /// Trailers arrived but were held by a stop.
    trailers_held: bool,
    continues: u32,
}

impl Side {
    fn forward_headers(&mut self) {
        if !self.headers_forwarded {
            self.headers_forwarded = true;
            self.headers_sent = self.headers.clone();
        }
    }

    /// Passes on everything held: headers, buffered body, held trailers.
    fn release(&mut self) {
        self.forward_headers();
        self.body_forwarded.extend(self.buffered.to_vec());
        self.buffered = SliceBuffer::default();
        if self.trailers_held {
            self.trailers_held = false;
            self.trailers_forwarded = true;
        }
    }
}

#[derive(Default)]
struct StreamData {
    request: Side,
    response: Side,
    local_reply: Option<RecordedLocalReply>,
    /// The parts of the module's own response (ABI 1.2 `send_response_*`), as carried out.
    answer: Vec<AnswerPart>,
    /// Each time the request started over (ABI 1.2 `recreate_stream`), the response headers the
    /// module handed the proxy.
    recreated: Vec<HeaderMap>,
    reset: Option<ResetReason>,
    /// The module closed the client's connection (ABI 1.2 `send_goaway_and_close`), gracefully
    /// or not; the stream was reset with it.
    goaway: Option<bool>,
    /// A reset or a local reply was carried out: like Envoy's filter manager, the host delivers
    /// nothing more from the client or the upstream to the filter.
    ended: bool,
    /// Callouts the module started that the test has not answered.
    callouts: Vec<RecordedCallout>,
    /// Streaming callouts the module reset, in order.
    callouts_reset: Vec<u64>,
    /// Metadata, filter state, routing requests.
    info: stream_info::StreamInfo,
    /// Plays a proxy that cannot resume a response stopped inside its own request continue
    /// (Envoy 1.38; [`TestStream::play_envoy_1_38_continue`]).
    cannot_resume_inside_continue: bool,
}

impl StreamData {
    fn open_stream(&mut self, id: u64) -> Option<&mut RecordedCallout> {
        self.callouts.iter_mut().find(|c| c.id == id && c.streaming)
    }
}

impl StreamData {
    fn side(&mut self, direction: Direction) -> &mut Side {
        match direction {
            Direction::Request => &mut self.request,
            Direction::Response => &mut self.response,
        }
    }

    fn map(&mut self, map: HeaderMapKind) -> Option<&mut HeaderMap> {
        match map {
            HeaderMapKind::RequestHeaders => self.request.headers.as_mut(),
            HeaderMapKind::RequestTrailers => self.request.trailers.as_mut(),
            HeaderMapKind::ResponseHeaders => self.response.headers.as_mut(),
            HeaderMapKind::ResponseTrailers => self.response.trailers.as_mut(),
        }
    }

    fn body(&mut self, body: BodyKind) -> &mut SliceBuffer {
        match body {
            BodyKind::RequestReceived => &mut self.request.received,
            BodyKind::RequestBuffered => &mut self.request.buffered,
            BodyKind::ResponseReceived => &mut self.response.received,
            BodyKind::ResponseBuffered => &mut self.response.buffered,
        }
    }
}

/// Wake-ups for work the module queued from any thread (continues, scheduled events) wait here
/// until the test pumps them on its own thread (the stream's "worker thread").
#[derive(Default)]
struct ScheduleQueue {
    pending: Mutex<usize>,
    ready: Condvar,
}

impl ScheduleQueue {
    /// Takes every pending wake-up, waiting up to `timeout` for the first; returns how many.
    fn take(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut pending = lock(&self.pending);
        while *pending == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return 0;
            }
            pending = self.ready.wait_timeout(pending, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        std::mem::take(&mut *pending)
    }

    fn wake(&self) {
        *lock(&self.pending) += 1;
        self.ready.notify_all();
    }
}

impl StreamScheduler for ScheduleQueue {
    fn wake(&self) {
        ScheduleQueue::wake(self);
    }
}

/// The test host's main thread for a filter configuration: wake-ups the test pumps
/// ([`TestHost::run_config_scheduled`]) and callouts the test answers
/// ([`TestHost::answer_config_callout`]).
#[derive(Default)]
struct ConfigBackground {
    queue: ScheduleQueue,
    callouts: Mutex<Vec<RecordedCallout>>,
    /// The configuration's metrics, shared with its streams' hosts.
    metrics: Arc<metrics::MetricStore>,
}

impl envoyx_core::ConfigHost for ConfigBackground {
    fn wake(&self) {
        self.queue.wake();
    }

    fn http_callout(
        &self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        lock(&self.callouts).push(RecordedCallout::of(id, callout));
        Ok(())
    }

    fn callout_stream_start(
        &self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        end_of_stream: bool,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        let recorded = RecordedCallout::streaming(id, callout, end_of_stream);
        lock(&self.callouts).push(recorded);
        Ok(())
    }

    fn callout_stream_send(&self, id: u64, bytes: &[u8], end_of_stream: bool) -> bool {
        let mut callouts = lock(&self.callouts);
        let Some(callout) = callouts.iter_mut().find(|c| c.id == id && c.streaming) else { return false };
        callout.body.extend_from_slice(bytes);
        callout.request_ended |= end_of_stream;
        true
    }

    fn callout_stream_send_trailers(
        &self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        let mut callouts = lock(&self.callouts);
        let Some(callout) = callouts.iter_mut().find(|c| c.id == id && c.streaming) else { return false };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        callout.trailers = Some(trailers.iter().map(|(k, v)| (text(k), text(v))).collect());
        callout.request_ended = true;
        true
    }

    fn callout_stream_reset(&self, id: u64) {
        lock(&self.callouts).retain(|c| c.id != id);
    }

    fn define_metric(&self, def: &MetricDef) -> Result<u64, String> {
        Ok(self.metrics.define(def))
    }

    fn subscribe_secret(&self, name: &str, sds_config: &str) -> Result<u64, String> {
        secrets::subscribe(name, sds_config)
    }
}

/// The [`HostStream`] the core calls on behalf of the module.
/// What every stream host of one test stream shares: a stream that starts over gets a new host
/// made of the same parts.
#[derive(Clone)]
struct HostParts {
    route: Option<Arc<RouteConfig>>,
    metrics: Arc<metrics::MetricStore>,
    inline_clusters: Arc<std::sync::Mutex<Vec<InlineCluster>>>,
}

impl HostParts {
    fn host(&self, data: &Rc<RefCell<StreamData>>, queue: &Arc<ScheduleQueue>) -> Box<TestHostStream> {
        Box::new(TestHostStream {
            data: data.clone(),
            queue: queue.clone(),
            route: self.route.clone(),
            metrics: self.metrics.clone(),
            inline_clusters: self.inline_clusters.clone(),
        })
    }
}

struct TestHostStream {
    data: Rc<RefCell<StreamData>>,
    queue: Arc<ScheduleQueue>,
    /// The per-route configuration the stream's route carries (what a proxy would resolve).
    route: Option<Arc<RouteConfig>>,
    /// The configuration's metrics.
    metrics: Arc<metrics::MetricStore>,
    /// See [`TestHost::answer_inline`].
    inline_clusters: Arc<std::sync::Mutex<Vec<InlineCluster>>>,
}

impl TestHostStream {
    /// What the cluster of `callout` answers inside its start, when the test made it do so.
    fn inline_answer(&self, callout: &envoyx_core::Callout<'_>) -> Option<InlineAnswer> {
        lock(&self.inline_clusters)
            .iter()
            .find(|c| c.name.as_bytes() == callout.cluster)
            .map(|c| c.answer.clone())
    }
}

/// A `:status` header viewing `status`.
fn status_header(status: &str) -> envoyx_header {
    envoyx_header {
        key: envoyx_bytes::from_slice(b":status"),
        value: envoyx_bytes::from_slice(status.as_bytes()),
    }
}

impl HostStream for TestHostStream {
    fn resumes_response_stopped_inside_request_continue(&self) -> bool {
        !self.data.borrow().cannot_resume_inside_continue
    }

    fn header_values(&mut self, map: HeaderMapKind, key: &[u8], out: &mut [envoyx_bytes]) -> Option<usize> {
        Some(self.data.borrow_mut().map(map)?.value_views(key, out))
    }
    fn header_entries(&mut self, map: HeaderMapKind, out: &mut [envoyx_header]) -> Option<usize> {
        Some(self.data.borrow_mut().map(map)?.entry_views(out))
    }
    fn header_set(&mut self, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool {
        self.data.borrow_mut().map(map).map(|m| m.set(key, value)).is_some()
    }
    fn header_add(&mut self, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool {
        self.data.borrow_mut().map(map).map(|m| m.add(key, value)).is_some()
    }
    fn header_remove(&mut self, map: HeaderMapKind, key: &[u8]) -> usize {
        self.data.borrow_mut().map(map).map_or(0, |m| m.remove(key))
    }
    fn body_length(&mut self, body: BodyKind) -> Option<usize> {
        Some(self.data.borrow_mut().body(body).len())
    }
    fn body_slices(&mut self, body: BodyKind, out: &mut [envoyx_slice]) -> Option<usize> {
        Some(self.data.borrow_mut().body(body).views(out))
    }
    fn body_drain(&mut self, body: BodyKind, len: usize) -> bool {
        self.data.borrow_mut().body(body).drain(len);
        true
    }
    fn body_append(&mut self, body: BodyKind, data: &[u8]) -> bool {
        self.data.borrow_mut().body(body).append(data);
        true
    }
    fn body_prepend(&mut self, body: BodyKind, data: &[u8]) -> bool {
        self.data.borrow_mut().body(body).prepend(data);
        true
    }
    fn body_replace(&mut self, body: BodyKind, offset: usize, len: usize, data: &[u8]) -> bool {
        self.data.borrow_mut().body(body).replace(offset, len, data)
    }
    fn scheduler(&self) -> Arc<dyn StreamScheduler> {
        self.queue.clone()
    }
    fn route_config(&mut self) -> Option<Arc<RouteConfig>> {
        self.route.clone()
    }
    fn metadata_set(&mut self, ns: &str, key: &str, value: envoyx_core::MetadataValue<'_>) -> bool {
        let entry = (MetadataSource::Dynamic, ns.to_string(), key.to_string());
        self.data.borrow_mut().info.metadata.insert(entry, value.into());
        true
    }
    fn metadata_get(
        &mut self,
        source: MetadataSource,
        ns: &str,
        key: &str,
        kind: envoyx_core::ValueKind,
    ) -> Option<envoyx_abi::envoyx_value> {
        self.data.borrow().info.metadata_get(source, ns, key, kind)
    }
    fn filter_state_set(&mut self, key: &str, value: &[u8]) -> bool {
        self.data.borrow_mut().info.filter_state_set(key, Some(value))
    }
    fn filter_state_get(&mut self, key: &str) -> Option<envoyx_bytes> {
        self.data.borrow().info.filter_state_get(key)
    }
    fn filter_state_set_typed(&mut self, key: &str, value: &[u8]) -> bool {
        self.data.borrow_mut().info.filter_state_set_typed(key, value)
    }
    fn filter_state_serialized(&mut self, key: &str) -> Option<envoyx_bytes> {
        self.data.borrow().info.filter_state_serialized(key)
    }
    fn filter_state_exists(&mut self, key: &str) -> bool {
        self.data.borrow().info.filter_state.contains_key(key)
    }
    fn clear_route_cache(&mut self) -> bool {
        self.data.borrow_mut().info.route_cache_cleared += 1;
        true
    }
    fn worker_index(&mut self) -> Option<u32> {
        Some(0)
    }
    fn refresh_route_cluster(&mut self) -> bool {
        self.data.borrow_mut().info.route_cluster_refreshed += 1;
        true
    }
    fn buffer_limit(&mut self) -> u64 {
        self.data.borrow().info.buffer_limit.unwrap_or(DEFAULT_BUFFER_LIMIT)
    }
    fn set_buffer_limit(&mut self, limit: u64) -> bool {
        self.data.borrow_mut().info.buffer_limit = Some(limit);
        true
    }
    fn upstream_hosts_attempted(&mut self, out: &mut [envoyx_abi::envoyx_bytes]) -> usize {
        let data = self.data.borrow();
        let sent = data.request.headers_forwarded;
        let hosts: Vec<&str> = match &data.info.hosts_attempted {
            Some(hosts) => hosts.iter().map(String::as_str).collect(),
            None if sent => vec![stream_info::UPSTREAM_HOST],
            None => Vec::new(),
        };
        // Views of the stream's own strings (or a constant), which outlive the hook.
        for (view, host) in out.iter_mut().zip(&hosts) {
            *view = envoyx_abi::envoyx_bytes::from_slice(host.as_bytes());
        }
        hosts.len()
    }
    fn metadata_set_typed(&mut self, ns: &str, any: &[u8]) -> bool {
        let Ok(any) = <prost_types::Any as prost::Message>::decode(any) else { return false };
        let entry = (any.type_url, any.value);
        self.data.borrow_mut().info.typed_metadata.insert((MetadataSource::Dynamic, ns.to_string()), entry);
        true
    }
    fn metadata_typed(
        &mut self,
        source: MetadataSource,
        ns: &str,
    ) -> Option<(envoyx_abi::envoyx_bytes, envoyx_abi::envoyx_bytes)> {
        let data = self.data.borrow();
        // Views of the map's own bytes, which stay put until the entry changes.
        let (url, value) = data.info.typed_metadata.get(&(source, ns.to_string()))?;
        Some((
            envoyx_abi::envoyx_bytes::from_slice(url.as_bytes()),
            envoyx_abi::envoyx_bytes::from_slice(value),
        ))
    }
    fn metadata_names(
        &mut self,
        source: MetadataSource,
        ns: Option<&str>,
        out: &mut [envoyx_abi::envoyx_bytes],
    ) -> Option<usize> {
        let data = self.data.borrow();
        // Sorted (a HashMap has no order a test could rely on); views of the map's keys, which
        // stay put until their entry is removed.
        let mut names: Vec<&String> = (data.info.metadata.keys())
            .filter(|(s, n, _)| *s == source && ns.is_none_or(|ns| n == ns))
            .map(|(_, n, k)| if ns.is_some() { k } else { n })
            .collect();
        names.sort();
        names.dedup();
        for (view, name) in out.iter_mut().zip(&names) {
            *view = envoyx_abi::envoyx_bytes::from_slice(name.as_bytes());
        }
        Some(names.len())
    }
    fn secret_get(&mut self, id: u64) -> Option<envoyx_abi::envoyx_bytes> {
        // Kept in the stream until the next read, so the view stays valid for the hook.
        let value = secrets::value(id)?;
        let view = envoyx_abi::envoyx_bytes::from_slice(&value);
        self.data.borrow_mut().info.secret_read = Some(value);
        Some(view)
    }
    fn timing(&mut self, timing: u32) -> Option<i64> {
        self.data.borrow().info.timing.get(timing)
    }
    fn trailers_add(&mut self, map: HeaderMapKind) -> bool {
        // As Envoy's addDecodedTrailers/addEncodedTrailers: the trailers follow the body that
        // ended the direction, held until the body goes on.
        let direction = match map {
            HeaderMapKind::RequestTrailers => Direction::Request,
            HeaderMapKind::ResponseTrailers => Direction::Response,
            HeaderMapKind::RequestHeaders | HeaderMapKind::ResponseHeaders => return false,
        };
        let mut data = self.data.borrow_mut();
        let side = data.side(direction);
        if side.trailers.is_none() {
            side.trailers = Some(HeaderMap::default());
            side.trailers_held = true;
        }
        true
    }
    fn span_set_tag(&mut self, key: &str, value: &str) -> bool {
        self.data.borrow_mut().info.tracer.tag(0, key, value)
    }
    fn span_start_child(&mut self, parent: u64, id: u64, operation: &str) -> bool {
        self.data.borrow_mut().info.tracer.start_child(parent, id, operation)
    }
    fn span_tag(&mut self, span: u64, key: &str, value: &str) -> bool {
        self.data.borrow_mut().info.tracer.tag(span, key, value)
    }
    fn span_log(&mut self, span: u64, event: &str) -> bool {
        self.data.borrow_mut().info.tracer.log(span, event)
    }
    fn span_set_sampled(&mut self, span: u64, sampled: bool) -> bool {
        self.data.borrow_mut().info.tracer.set_sampled(span, sampled)
    }
    fn span_finish(&mut self, span: u64) -> bool {
        self.data.borrow_mut().info.tracer.finish(span)
    }
    fn span_baggage_set(&mut self, key: &str, value: &str) -> bool {
        self.data.borrow_mut().info.tracer.set_baggage(key, value)
    }
    fn span_baggage_get(&mut self, key: &str) -> Option<envoyx_bytes> {
        self.data.borrow_mut().info.tracer.baggage(key)
    }
    fn span_trace_id(&mut self) -> Option<envoyx_bytes> {
        self.data.borrow_mut().info.tracer.trace_id()
    }
    fn attribute(&mut self, attribute: Attribute) -> Option<envoyx_abi::envoyx_value> {
        let mut data = self.data.borrow_mut();
        if data.info.attributes.contains_key(&attribute) {
            return data.info.attribute(attribute);
        }
        if attribute == Attribute::ResponseCode {
            // Once there is a response: its status.
            let code: f64 = data.response.headers.as_ref()?.get(":status")?.parse().ok()?;
            return Some(envoyx_abi::envoyx_value::number(code));
        }
        // The request line's attributes, from the request headers as they are now.
        let value = stream_info::from_request(attribute, data.request.headers.as_ref()?)?;
        data.info.derived(attribute, value)
    }
    fn upstream_override_host(&mut self, host: &str, strict: bool) -> bool {
        self.data.borrow_mut().info.upstream_host = Some((host.to_string(), strict));
        true
    }
    fn metric_record(
        &mut self,
        host_id: u64,
        kind: envoyx_core::MetricKind,
        op: envoyx_core::MetricOp,
        label_values: &[&[u8]],
        value: u64,
    ) -> bool {
        self.metrics.record(host_id, kind, op, label_values, value)
    }
    fn http_callout(
        &mut self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        inbox: envoyx_core::CalloutInbox,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        if let Some(InlineAnswer::Response { status, body }) = self.inline_answer(callout) {
            // Answered inside this call, while the stream is busy: through the inbox.
            let status = status.to_string();
            let headers = [status_header(&status)];
            let body = [envoyx_bytes::from_slice(&body)];
            inbox.defer_answer(id, envoyx_core::CalloutStatus::Response, &headers, &body);
            return Ok(());
        }
        self.data.borrow_mut().callouts.push(RecordedCallout::of(id, callout));
        Ok(())
    }
    fn callout_stream_start(
        &mut self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        end_of_stream: bool,
        inbox: envoyx_core::CalloutInbox,
    ) -> Result<(), envoyx_core::CalloutStatus> {
        use envoyx_core::CalloutEvent;
        match self.inline_answer(callout) {
            Some(InlineAnswer::FailureTwice(status)) => {
                inbox.defer(id, CalloutEvent::Failed(status));
                return Err(status);
            }
            Some(InlineAnswer::Response { status, body }) => {
                // The whole response inside this call, as Envoy's router answers a cluster
                // without healthy hosts inside the async stream's sendHeaders: through the
                // inbox, in order.
                let status = status.to_string();
                let headers = [status_header(&status)];
                let body = [envoyx_bytes::from_slice(&body)];
                inbox.defer(id, CalloutEvent::Headers { headers: &headers, end_of_stream: false });
                inbox.defer(id, CalloutEvent::Data { chunks: &body, end_of_stream: true });
                inbox.defer(id, CalloutEvent::Complete);
                return Ok(());
            }
            None => {}
        }
        // Otherwise the test plays the cluster later, never inside the module's call.
        self.data.borrow_mut().callouts.push(RecordedCallout::streaming(id, callout, end_of_stream));
        Ok(())
    }
    fn callout_stream_send(&mut self, id: u64, bytes: &[u8], end_of_stream: bool) -> bool {
        let mut data = self.data.borrow_mut();
        let Some(callout) = data.open_stream(id) else { return false };
        callout.body.extend_from_slice(bytes);
        callout.request_ended |= end_of_stream;
        true
    }
    fn callout_stream_send_trailers(
        &mut self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        let mut data = self.data.borrow_mut();
        let Some(callout) = data.open_stream(id) else { return false };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        callout.trailers = Some(trailers.iter().map(|(k, v)| (text(k), text(v))).collect());
        callout.request_ended = true;
        true
    }
    fn callout_stream_reset(&mut self, id: u64) {
        let mut data = self.data.borrow_mut();
        data.callouts.retain(|c| c.id != id);
        data.callouts_reset.push(id);
    }
}

/// One stream on a [`TestHost`]. Dropping it destroys the module's stream state (exactly once).
pub struct TestStream {
    // Declared first so the module's stream is destroyed while `data` is still alive.
    core: envoyx_core::Stream,
    data: Rc<RefCell<StreamData>>,
    queue: Arc<ScheduleQueue>,
    parts: HostParts,
}

fn order<T>(result: Result<T, envoyx_core::EventOrderError>) -> T {
    result.unwrap_or_else(|e| panic!("test drove the stream out of order: {e}"))
}

impl TestStream {
    /// Carries out what the core returned, as Envoy's filter manager would. A local reply is
    /// recorded and, as in Envoy, its response is run through this filter's response hooks
    /// (which the core passes through without reaching the module again).
    fn carry_out(&mut self, effects: Effects) {
        for action in effects {
            match action {
                Action::Reset(reason) => {
                    let mut data = self.data.borrow_mut();
                    data.reset = Some(reason);
                    data.ended = true;
                }
                Action::GoAway { graceful } => {
                    // As Envoy's sendGoAwayAndClose: the stream ends (reset) with its connection.
                    let mut data = self.data.borrow_mut();
                    data.goaway = Some(graceful);
                    data.reset = Some(ResetReason::Local);
                    data.ended = true;
                }
                Action::Continue(direction) => {
                    let mut data = self.data.borrow_mut();
                    let side = data.side(direction);
                    side.continues += 1;
                    side.release();
                }
                Action::LocalReply(reply) => {
                    // As in Envoy, every filter hears of the reply first, this one included.
                    if self.core.on_local_reply(reply.status, &reply.details, false)
                        == LocalReplyStatus::Reset
                    {
                        let mut data = self.data.borrow_mut();
                        data.reset = Some(ResetReason::Local);
                        data.ended = true;
                        continue;
                    }
                    let headers = HeaderMap::from_pairs(&reply.headers);
                    self.data.borrow_mut().local_reply = Some(RecordedLocalReply {
                        status: reply.status,
                        headers: headers.clone(),
                        body: reply.body.clone(),
                        details: String::from_utf8_lossy(&reply.details).into_owned(),
                    });
                    let mut reply_headers = headers;
                    reply_headers.set(b":status", reply.status.to_string().as_bytes());
                    self.data.borrow_mut().response = Side::default();
                    self.headers(Direction::Response, reply_headers, reply.body.is_empty());
                    if !reply.body.is_empty() {
                        self.body(Direction::Response, SliceBuffer::from_slices(&[&reply.body]), true);
                    }
                    self.data.borrow_mut().ended = true;
                }
                Action::Recreate(response_headers) => {
                    self.start_over(response_headers);
                    // The new stream's own calls carried out its actions.
                    return;
                }
                // The module's own response: recorded, and, as Envoy's filter manager would run
                // it, each part goes through this filter's response hooks (which the core passes
                // through) to the client.
                Action::Answer(part) => {
                    self.data.borrow_mut().answer.push(part.clone());
                    match part {
                        AnswerPart::Headers { status, headers, end_of_stream } => {
                            let mut headers = HeaderMap::from_pairs(&headers);
                            headers.set(b":status", status.to_string().as_bytes());
                            self.headers(Direction::Response, headers, end_of_stream);
                        }
                        AnswerPart::Data { data, end_of_stream } => {
                            self.body(Direction::Response, SliceBuffer::from_slices(&[&data]), end_of_stream);
                        }
                        AnswerPart::Trailers(trailers) => {
                            self.trailers(Direction::Response, HeaderMap::from_pairs(&trailers));
                        }
                    }
                }
            }
        }
    }

    /// Starts the request over, as Envoy's recreateStream does: this stream ends (the module's
    /// complete and destroy hooks run), and a new one of the same configuration gets the request
    /// headers as they are now, ending the request.
    fn start_over(&mut self, response_headers: Vec<(Vec<u8>, Vec<u8>)>) {
        let request = {
            let mut data = self.data.borrow_mut();
            data.recreated.push(HeaderMap::from_pairs(&response_headers));
            data.request.headers.clone().unwrap_or_default()
        };
        let next = self.core.new_like(self.parts.host(&self.data, &self.queue));
        // The old stream ends here, as Envoy ends it.
        drop(std::mem::replace(&mut self.core, next));
        {
            let mut data = self.data.borrow_mut();
            data.request = Side::default();
            data.response = Side::default();
            data.local_reply = None;
            data.answer.clear();
            data.ended = false;
        }
        self.headers(Direction::Request, request, true);
    }

    /// Whether the stream was reset or answered locally (events from the test are then dropped).
    fn ended(&self) -> bool {
        self.data.borrow().ended
    }

    fn headers(&mut self, direction: Direction, headers: HeaderMap, end_of_stream: bool) -> HeadersStatus {
        if self.ended() {
            return HeadersStatus::StopIteration;
        }
        self.data.borrow_mut().side(direction).headers = Some(headers);
        self.mark_received(direction, true, end_of_stream);
        let Outcome { status, effects } = order(match direction {
            Direction::Request => self.core.on_request_headers(end_of_stream),
            Direction::Response => self.core.on_response_headers(end_of_stream),
        });
        if !status.stops() {
            self.data.borrow_mut().side(direction).forward_headers();
            if direction == Direction::Response {
                self.data.borrow_mut().info.timing.first(envoyx_abi::ENVOYX_TIMING_FIRST_DOWNSTREAM_TX);
            }
        }
        self.carry_out(effects);
        status
    }

    /// Records the moments a received event of `direction` makes (its headers, its end).
    fn mark_received(&mut self, direction: Direction, headers: bool, end_of_stream: bool) {
        use envoyx_abi::*;
        let timing = &mut self.data.borrow_mut().info.timing;
        match direction {
            Direction::Request if headers => timing.last(ENVOYX_TIMING_LAST_DOWNSTREAM_HEADER_RX),
            Direction::Response => timing.first(ENVOYX_TIMING_FIRST_UPSTREAM_RX),
            Direction::Request => {}
        }
        if end_of_stream {
            timing.last(match direction {
                Direction::Request => ENVOYX_TIMING_LAST_DOWNSTREAM_RX,
                Direction::Response => ENVOYX_TIMING_LAST_UPSTREAM_RX,
            });
        }
    }

    fn body(&mut self, direction: Direction, chunk: SliceBuffer, end_of_stream: bool) -> BodyStatus {
        if self.ended() {
            return BodyStatus::StopIterationNoBuffer;
        }
        self.data.borrow_mut().side(direction).received = chunk;
        self.mark_received(direction, false, end_of_stream);
        let Outcome { status, effects } = order(match direction {
            Direction::Request => self.core.on_request_body(end_of_stream),
            Direction::Response => self.core.on_response_body(end_of_stream),
        });
        {
            let mut data = self.data.borrow_mut();
            let side = data.side(direction);
            let mut received = std::mem::take(&mut side.received);
            match status {
                BodyStatus::Continue => {
                    side.buffered.move_from(&mut received);
                    side.release();
                }
                BodyStatus::StopIterationAndBuffer | BodyStatus::StopIterationAndWatermark => {
                    side.buffered.move_from(&mut received)
                }
                BodyStatus::StopIterationNoBuffer => {}
            }
        }
        self.carry_out(effects);
        status
    }

    fn trailers(&mut self, direction: Direction, trailers: HeaderMap) -> TrailersStatus {
        if self.ended() {
            return TrailersStatus::StopIteration;
        }
        self.data.borrow_mut().side(direction).trailers = Some(trailers);
        self.mark_received(direction, false, true);
        let Outcome { status, effects } = order(match direction {
            Direction::Request => self.core.on_request_trailers(),
            Direction::Response => self.core.on_response_trailers(),
        });
        {
            let mut data = self.data.borrow_mut();
            let side = data.side(direction);
            side.trailers_held = true;
            if status == TrailersStatus::Continue {
                side.release();
            }
        }
        self.carry_out(effects);
        status
    }

    /// Delivers request headers. `end_of_stream`: the request has no body or trailers.
    pub fn request_headers(&mut self, headers: &[(&str, &str)], end_of_stream: bool) -> HeadersStatus {
        self.headers(Direction::Request, HeaderMap::from_pairs(headers), end_of_stream)
    }

    /// Delivers one request body chunk made of the given slices.
    pub fn request_body<S: AsRef<[u8]>>(&mut self, slices: &[S], end_of_stream: bool) -> BodyStatus {
        self.body(Direction::Request, SliceBuffer::from_slices(slices), end_of_stream)
    }

    /// Delivers one request body chunk given as a [`SliceBuffer`].
    pub fn request_body_buffer(&mut self, chunk: SliceBuffer, end_of_stream: bool) -> BodyStatus {
        self.body(Direction::Request, chunk, end_of_stream)
    }

    /// Delivers request trailers (they end the request).
    pub fn request_trailers(&mut self, trailers: &[(&str, &str)]) -> TrailersStatus {
        self.trailers(Direction::Request, HeaderMap::from_pairs(trailers))
    }

    pub fn response_headers(&mut self, headers: &[(&str, &str)], end_of_stream: bool) -> HeadersStatus {
        self.headers(Direction::Response, HeaderMap::from_pairs(headers), end_of_stream)
    }

    /// From now on this host plays Envoy 1.38: it cannot resume a response the filter stopped
    /// while the host was carrying out the filter's request continue (see
    /// `HostStream::resumes_response_stopped_inside_request_continue`).
    pub fn play_envoy_1_38_continue(&mut self) {
        self.data.borrow_mut().cannot_resume_inside_continue = true;
    }

    /// Response headers that arrive while the host carries out the filter's request continue,
    /// as when a later filter answers locally inside Envoy's `continueDecoding`.
    pub fn response_headers_inside_request_continue(
        &mut self,
        headers: &[(&str, &str)],
        end_of_stream: bool,
    ) -> HeadersStatus {
        self.core.carrying_out_continue(Direction::Request, true);
        let status = self.response_headers(headers, end_of_stream);
        self.core.carrying_out_continue(Direction::Request, false);
        status
    }

    pub fn response_body<S: AsRef<[u8]>>(&mut self, slices: &[S], end_of_stream: bool) -> BodyStatus {
        self.body(Direction::Response, SliceBuffer::from_slices(slices), end_of_stream)
    }

    pub fn response_body_buffer(&mut self, chunk: SliceBuffer, end_of_stream: bool) -> BodyStatus {
        self.body(Direction::Response, chunk, end_of_stream)
    }

    pub fn response_trailers(&mut self, trailers: &[(&str, &str)]) -> TrailersStatus {
        self.trailers(Direction::Response, HeaderMap::from_pairs(trailers))
    }

    /// The callouts the module started that the test has not answered yet, oldest first.
    pub fn pending_callouts(&self) -> Vec<RecordedCallout> {
        self.data.borrow().callouts.clone()
    }

    /// Answers the module's callout `id` (as its cluster would) and carries out what the
    /// module's callout-done hook asked for. Panics if `id` is not pending.
    pub fn answer_callout(&mut self, id: u64, answer: CalloutAnswer) {
        let mut data = self.data.borrow_mut();
        let at = data
            .callouts
            .iter()
            .position(|c| c.id == id)
            .unwrap_or_else(|| panic!("no pending callout {id}"));
        data.callouts.remove(at);
        drop(data);
        let effects = callout::deliver(&mut self.core, id, &answer);
        self.carry_out(effects);
    }

    /// Plays one step of the cluster's side of the module's streaming callout `id` and carries
    /// out what the module's callout-event hook asked for. After `Complete` or `Failed` the
    /// callout is no longer pending. Panics if `id` is not a pending streaming callout.
    pub fn callout_stream_event(&mut self, id: u64, event: CalloutStreamEvent) {
        let mut data = self.data.borrow_mut();
        let at = data
            .callouts
            .iter()
            .position(|c| c.id == id && c.streaming)
            .unwrap_or_else(|| panic!("no pending streaming callout {id}"));
        if event.is_last() {
            data.callouts.remove(at);
        }
        drop(data);
        let effects = event.with_views(|event| self.core.on_callout_event(id, event));
        self.carry_out(effects);
    }

    /// The stream's metadata at `key` of namespace `ns` in `source` (dynamic: what the module
    /// set).
    pub fn metadata(&self, source: MetadataSource, ns: &str, key: &str) -> Option<StoredValue> {
        self.data.borrow().info.metadata.get(&(source, ns.to_string(), key.to_string())).cloned()
    }

    /// Gives the stream route or cluster metadata (what the proxy's configuration would carry),
    /// or dynamic metadata as an earlier filter would have set it.
    pub fn set_source_metadata(&mut self, source: MetadataSource, ns: &str, key: &str, value: StoredValue) {
        self.data.borrow_mut().info.metadata.insert((source, ns.to_string(), key.to_string()), value);
    }

    /// Gives the stream typed metadata (what a route's or a cluster's `typed_filter_metadata`
    /// would carry): namespace `ns` of `source` holds an Any of `type_url` with the serialized
    /// message `value` (ABI 1.2 `metadata_get_typed`).
    pub fn set_typed_metadata(&mut self, source: MetadataSource, ns: &str, type_url: &str, value: &[u8]) {
        let entry = (type_url.to_string(), value.to_vec());
        self.data.borrow_mut().info.typed_metadata.insert((source, ns.to_string()), entry);
    }

    /// The stream's filter state `key` (None too for an object that is not a string).
    pub fn filter_state(&self, key: &str) -> Option<Vec<u8>> {
        self.data.borrow().info.filter_state.get(key).cloned().flatten()
    }

    /// Gives the stream filter state `key` as another filter would have set it before this one
    /// (read-only): `Some(value)` a string, None an object of the proxy's that is not a string
    /// (it exists, but reads as absent).
    pub fn preset_filter_state(&mut self, key: &str, value: Option<&[u8]>) {
        self.data.borrow_mut().info.filter_state_set(key, value);
    }

    /// Gives the stream filter state as the proxy would have set it: an object that is not a
    /// string (it reads as absent through `filter_state_get`) whose serialized form is
    /// `serialized` (ABI 1.2 `filter_state_get_serialized`).
    pub fn preset_filter_state_object(&mut self, key: &str, serialized: &[u8]) {
        let info = &mut self.data.borrow_mut().info;
        if info.filter_state_set(key, None) {
            info.filter_state_serialized.insert(key.to_string(), serialized.to_vec());
        }
    }

    /// How many times the stream's filter state was set over a key it had: what Envoy counts as
    /// its own bug (`server.envoy_bug_failures`, fatal in its debug builds). The core must keep
    /// this at 0.
    pub fn envoy_bugs(&self) -> u32 {
        self.data.borrow().info.envoy_bugs
    }

    /// Gives the stream an attribute (over the test host's connection defaults: client
    /// 127.0.0.1:50000 to 127.0.0.1:10000 over HTTP/1.1; the response code is the response's
    /// `:status` once there is one).
    pub fn set_attribute(&mut self, attribute: Attribute, value: StoredValue) {
        self.data.borrow_mut().info.attributes.insert(attribute, value);
    }

    /// Gives the stream a span, as a proxy with a tracer would (off by default: no span, and
    /// `set_span_tag` returns false).
    pub fn enable_tracing(&mut self) {
        let mut data = self.data.borrow_mut();
        let number = data.info.number;
        data.info.tracer.enable(number);
    }

    /// The tags the module set on the stream's span, in order.
    pub fn span_tags(&self) -> Vec<(String, String)> {
        self.data.borrow().info.tracer.active_tags.clone()
    }

    /// The child spans the module started (ABI 1.2), in order, finished or not.
    pub fn spans(&self) -> Vec<RecordedSpan> {
        self.data.borrow().info.tracer.spans.clone()
    }

    /// The baggage on the stream's span, and the sampling decision the module set on it.
    pub fn baggage(&self) -> Vec<(String, String)> {
        self.data.borrow().info.tracer.baggage.clone()
    }

    pub fn span_sampled(&self) -> Option<bool> {
        self.data.borrow().info.tracer.active_sampled
    }

    /// The trace id of the stream's span once tracing is on: 32 hex digits of the stream's
    /// number.
    pub fn trace_id(&self) -> String {
        self.data.borrow().info.tracer.trace_id.clone()
    }

    /// How many times the module asked for the route to be picked again.
    pub fn route_cache_cleared(&self) -> u32 {
        self.data.borrow().info.route_cache_cleared
    }

    /// The stream's buffer limit: what the module set (ABI 1.2 `set_buffer_limit`), else
    /// [`DEFAULT_BUFFER_LIMIT`]. The test host records it; it buffers without a bound.
    pub fn buffer_limit(&self) -> u64 {
        self.data.borrow().info.buffer_limit.unwrap_or(DEFAULT_BUFFER_LIMIT)
    }

    /// Plays a local reply made after this filter — Envoy's router (503 `no_healthy_upstream`),
    /// a later filter — as Envoy does: the module hears of it first (ABI 1.2
    /// `envoyx_on_stream_local_reply`) and may have the stream reset instead; otherwise the reply
    /// (`status`, `content-type: text/plain` and `body`) runs through this filter's response
    /// hooks to the client. Returns whether the reply went out (false: the stream was reset).
    pub fn proxy_local_reply(&mut self, status: u32, details: &str, body: &[u8]) -> bool {
        if self.core.on_local_reply(status, details.as_bytes(), false) == LocalReplyStatus::Reset {
            let mut data = self.data.borrow_mut();
            data.reset = Some(ResetReason::Local);
            data.ended = true;
            return false;
        }
        self.data.borrow_mut().response = Side::default();
        let status = status.to_string();
        let mut headers = vec![(":status", status.as_str())];
        if !body.is_empty() {
            headers.push(("content-type", "text/plain"));
        }
        self.headers(Direction::Response, HeaderMap::from_pairs(&headers), body.is_empty());
        if !body.is_empty() {
            self.body(Direction::Response, SliceBuffer::from_slices(&[body]), true);
        }
        self.data.borrow_mut().ended = true;
        true
    }

    /// Plays the proxy's flow-control news (ABI 1.2): its buffer towards `direction`'s peer (the
    /// client, for [`Direction::Response`]) went above its high watermark (`above`) or below its
    /// low one. The core hands the module the changes through the stream's queue: run them with
    /// [`TestStream::run_scheduled`].
    pub fn watermark(&mut self, direction: Direction, above: bool) {
        self.core.on_watermark(direction, above);
    }

    /// How many times the module asked for the route's cluster to be picked again.
    pub fn route_cluster_refreshed(&self) -> u32 {
        self.data.borrow().info.route_cluster_refreshed
    }

    /// The upstream host the module asked for, and whether strictly.
    pub fn upstream_host(&self) -> Option<(String, bool)> {
        self.data.borrow().info.upstream_host.clone()
    }

    /// The streaming callouts the module reset, in order.
    pub fn callouts_reset(&self) -> Vec<u64> {
        self.data.borrow().callouts_reset.clone()
    }

    /// Ends the stream (the module's complete hook). Dropping the stream does this too.
    pub fn complete(&mut self) {
        self.data.borrow_mut().info.timing.last(envoyx_abi::ENVOYX_TIMING_REQUEST_COMPLETE);
        self.core.on_stream_complete();
    }

    /// Runs the work (continues, scheduled events) the module queued so far, on this thread, in
    /// the order asked for. Returns how many items were delivered to the stream (including
    /// ignored continues).
    pub fn run_scheduled(&mut self) -> usize {
        self.run_pending(self.queue.take(Duration::ZERO))
    }

    /// Waits up to `timeout` for at least one item of work from another thread and runs it (and
    /// any others pending). Returns false on timeout.
    pub fn wait_scheduled(&mut self, timeout: Duration) -> bool {
        self.wait_and_run_scheduled(timeout) > 0
    }

    /// [`TestStream::wait_scheduled`], returning how many items ran (0 on timeout).
    pub fn wait_and_run_scheduled(&mut self, timeout: Duration) -> usize {
        self.run_pending(self.queue.take(timeout))
    }

    fn run_pending(&mut self, pending: usize) -> usize {
        for _ in 0..pending {
            let effects = self.core.on_scheduled();
            self.carry_out(effects);
        }
        pending
    }

    fn side<R>(&self, direction: Direction, f: impl FnOnce(&Side) -> R) -> R {
        let mut data = self.data.borrow_mut();
        f(data.side(direction))
    }

    /// The request headers upstream got: as they were when they went on past the filter, or
    /// as they are now while the filter holds them.
    pub fn upstream_request_headers(&self) -> HeaderMap {
        self.side(Direction::Request, |s| {
            s.headers_sent.clone().or_else(|| s.headers.clone()).unwrap_or_default()
        })
    }

    /// The response headers the client got (as [`TestStream::upstream_request_headers`]).
    pub fn client_response_headers(&self) -> HeaderMap {
        self.side(Direction::Response, |s| {
            s.headers_sent.clone().or_else(|| s.headers.clone()).unwrap_or_default()
        })
    }

    pub fn upstream_request_trailers(&self) -> Option<HeaderMap> {
        self.side(Direction::Request, |s| s.trailers.clone())
    }

    pub fn client_response_trailers(&self) -> Option<HeaderMap> {
        self.side(Direction::Response, |s| s.trailers.clone())
    }

    /// Whether the request headers got past the filter (not held by a stop).
    pub fn request_headers_forwarded(&self) -> bool {
        self.side(Direction::Request, |s| s.headers_forwarded)
    }

    /// Whether the response headers got past the filter.
    pub fn response_headers_forwarded(&self) -> bool {
        self.side(Direction::Response, |s| s.headers_forwarded)
    }

    /// The request body bytes that got past the filter (what upstream receives).
    pub fn upstream_request_body(&self) -> Vec<u8> {
        self.side(Direction::Request, |s| s.body_forwarded.clone())
    }

    /// The response body bytes that got past the filter (what the client receives).
    pub fn client_response_body(&self) -> Vec<u8> {
        self.side(Direction::Response, |s| s.body_forwarded.clone())
    }

    /// The body the host is holding for a direction (buffered by stops).
    pub fn buffered_body(&self, direction: Direction) -> Vec<u8> {
        self.side(direction, |s| s.buffered.to_vec())
    }

    /// Sets the upstream hosts the request was sent to, in attempt order (ABI 1.2
    /// `upstream_hosts_attempted`), as a proxy's retries would; without it the test host reports
    /// one attempt once the request headers went on.
    pub fn set_upstream_hosts_attempted(&mut self, hosts: &[&str]) {
        self.data.borrow_mut().info.hosts_attempted = Some(hosts.iter().map(|h| h.to_string()).collect());
    }

    /// Sets the stream's moment `timing` (an `envoyx_timing` id) to `ns`: the start as Unix
    /// nanoseconds, any other as an offset from it — what a proxy would have recorded (the test
    /// host records the request's headers and end, the response's first byte, end and first
    /// byte on to the client, and the completion itself).
    pub fn set_timing(&mut self, timing: u32, ns: i64) {
        self.data.borrow_mut().info.timing.set(timing, ns);
    }

    /// Whether trailers of a direction got past the filter.
    pub fn trailers_forwarded(&self, direction: Direction) -> bool {
        self.side(direction, |s| s.trailers_forwarded)
    }

    /// How many continues resumed a direction.
    pub fn continues(&self, direction: Direction) -> u32 {
        self.side(direction, |s| s.continues)
    }

    /// The parts of the response the module sent itself (ABI 1.2 `send_response_headers`,
    /// `_data`, `_trailers`), in order, as the host carried them out; empty when it did not
    /// answer. The client got them too ([`TestStream::client_response_headers`], `_body`,
    /// `_trailers`).
    pub fn module_response(&self) -> Vec<AnswerPart> {
        self.data.borrow().answer.clone()
    }

    /// Each time the module started the request over (ABI 1.2 `recreate_stream`), the response
    /// headers it handed the proxy (empty when none). The stream goes on as the new one.
    pub fn recreated(&self) -> Vec<HeaderMap> {
        self.data.borrow().recreated.clone()
    }

    pub fn local_reply(&self) -> Option<RecordedLocalReply> {
        self.data.borrow().local_reply.clone()
    }

    pub fn was_reset(&self) -> bool {
        self.data.borrow().reset.is_some()
    }

    /// Whether the module closed the client's connection (ABI 1.2 `send_goaway_and_close`), and
    /// if so whether gracefully; the stream then also reads as reset ([`TestStream::was_reset`]).
    pub fn goaway(&self) -> Option<bool> {
        self.data.borrow().goaway
    }

    /// What the reset told the client, if the stream was reset: [`ResetReason::Refused`] after
    /// a module's `reset_stream_with_reason` with ENVOYX_RESET_REFUSED (HTTP/2 REFUSED_STREAM in
    /// Envoy), else [`ResetReason::Local`].
    pub fn reset_reason(&self) -> Option<ResetReason> {
        self.data.borrow().reset
    }

    /// Body bytes the module path copied (see [`envoyx_core::Stream::body_bytes_copied`]).
    pub fn body_bytes_copied(&self) -> u64 {
        self.core.body_bytes_copied()
    }

    /// The core's stream, for tests of the state machine itself.
    pub fn core(&mut self) -> &mut envoyx_core::Stream {
        &mut self.core
    }
}

/// Every log message modules and the core wrote in this process, as (level, text).
pub fn logs() -> Vec<(LogLevel, String)> {
    lock(&install_log_recorder().messages).clone()
}

/// Forgets the log messages recorded so far (a long-running driver such as a fuzz target keeps
/// the recorder from growing without bound).
pub fn clear_logs() {
    lock(&install_log_recorder().messages).clear();
}

/// `limit` stretched for a slow run: multiplied by `ENVOYX_TEST_SLOWDOWN` (a whole number, 1 when
/// unset), which `ci/memcheck.sh` sets because valgrind runs the tests many times slower. For
/// the deadlines tests wait on work from other threads with; not for figures.
pub fn patience(limit: Duration) -> Duration {
    let factor = std::env::var("ENVOYX_TEST_SLOWDOWN").ok().and_then(|f| f.parse::<u32>().ok()).unwrap_or(1);
    limit * factor.max(1)
}

/// Whether any log message so far contains `needle`.
pub fn logged(needle: &str) -> bool {
    logs().iter().any(|(_, m)| m.contains(needle))
}

struct LogRecorder {
    messages: Mutex<Vec<(LogLevel, String)>>,
    echo: bool,
}

impl envoyx_core::LogSink for LogRecorder {
    fn enabled(&self, _level: LogLevel) -> bool {
        true
    }
    fn log(&self, level: LogLevel, message: &[u8]) {
        let text = String::from_utf8_lossy(message).into_owned();
        if self.echo {
            eprintln!("[envoyx][{level:?}] {text}");
        }
        lock(&self.messages).push((level, text));
    }
}

/// Records every message; echoes them to stderr when `ENVOYX_TEST_LOG` is set.
/// What the test host sets up for the whole process before a module loads: the log recorder,
/// one worker thread (the test's: `worker_count` 1, every stream's `worker_index` 0) and the
/// runtime the tests fill ([`set_runtime`]).
fn install_process() {
    install_log_recorder();
    envoyx_core::workers::set_worker_count(1);
    runtime::install();
}

fn install_log_recorder() -> Arc<LogRecorder> {
    static RECORDER: OnceLock<Arc<LogRecorder>> = OnceLock::new();
    RECORDER
        .get_or_init(|| {
            let recorder = Arc::new(LogRecorder {
                messages: Mutex::new(Vec::new()),
                echo: std::env::var_os("ENVOYX_TEST_LOG").is_some(),
            });
            envoyx_core::set_log_sink(recorder.clone());
            recorder
        })
        .clone()
}
