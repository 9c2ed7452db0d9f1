//! [`HostStream`] and [`StreamScheduler`] over upstream Envoy's HTTP-filter callbacks: the
//! primitives (headers, bodies, the scheduler). Ending and resuming the stream are actions the
//! core returns; `filter.rs` carries them out.

use crate::ffi::{self, EnvoyBuffer, EnvoyFilter, HttpHeader};
use crate::log::host_log;
use envoyx_abi::{envoyx_bytes, envoyx_header, envoyx_slice};
use envoyx_core::sync::lock;
use envoyx_core::{
    BodyKind, CalloutInbox, CalloutStatus, ConfigHost, HeaderMapKind, HostStream, RouteConfig,
    StreamScheduler,
};
use std::cell::OnceCell;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

/// Whether the running Envoy can resume a response stopped inside this filter's own
/// `continue_decoding` (false on 1.38; see [`ffi::continue_is_reentrant_safe`]): what
/// `resumes_response_stopped_inside_request_continue` declares. Set at program init.
pub static REENTRANT_CONTINUE_SAFE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// State shared by a stream's host and its filter (same worker thread). It lives inside the
/// filter's own allocation (see `filter.rs`), not in one of its own.
#[derive(Default)]
pub struct Shared {
    /// The stream's scheduler, made when the core first asks for it (the module's first continue
    /// handle); streams whose module takes no handle never need one.
    pub scheduler: OnceCell<Arc<EnvoyScheduler>>,
    /// Callouts in flight: Envoy's id, the core's, and where an answer goes while the stream is
    /// busy inside a module call.
    pub callouts: std::cell::RefCell<Vec<(u64, u64, CalloutInbox)>>,
    /// The HTTP callout being started (inside Envoy's start call), which Envoy may answer before
    /// this host knows its id (its router answers a cluster without healthy hosts at once);
    /// `true` once answered.
    pub starting_callout: std::cell::RefCell<Option<(u64, CalloutInbox, bool)>>,
    /// Streaming callouts open in Envoy.
    pub callout_streams: std::cell::RefCell<Vec<OpenCalloutStream>>,
    /// The streaming callout being started (inside Envoy's start call), whose news Envoy may
    /// report before this host knows Envoy's id for it; `true` once its last news came.
    pub starting: std::cell::RefCell<Option<(OpenCalloutStream, bool)>>,
}

/// A streaming callout open in Envoy.
#[derive(Clone, Debug)]
pub struct OpenCalloutStream {
    /// Envoy's id (0 while starting).
    pub envoy_id: u64,
    /// The core's id.
    pub id: u64,
    /// Where news goes while the stream is busy inside a module call.
    pub inbox: CalloutInbox,
}

impl Shared {
    /// The streaming callout Envoy reports on as `envoy_id`; taken off the open ones when `last`.
    /// A report for an id this host does not know yet belongs to the callout being started.
    pub fn callout_stream(&self, envoy_id: u64, last: bool) -> Option<OpenCalloutStream> {
        let mut open = self.callout_streams.borrow_mut();
        if let Some(at) = open.iter().position(|c| c.envoy_id == envoy_id) {
            return Some(if last { open.swap_remove(at) } else { open[at].clone() });
        }
        let mut starting = self.starting.borrow_mut();
        let (callout, ended) = starting.as_mut()?;
        *ended |= last;
        Some(callout.clone())
    }

    /// Envoy's id of the core's open streaming callout `id`.
    fn envoy_stream_id(&self, id: u64) -> Option<u64> {
        self.callout_streams.borrow().iter().find(|c| c.id == id).map(|c| c.envoy_id)
    }

    /// The core's id of Envoy's callout `envoy_id`, which is no longer in flight, and its inbox.
    /// An answer for an id this host does not know yet belongs to the callout being started.
    pub fn take_callout(&self, envoy_id: u64) -> Option<(u64, CalloutInbox)> {
        let mut callouts = self.callouts.borrow_mut();
        if let Some(at) = callouts.iter().position(|(envoy, _, _)| *envoy == envoy_id) {
            let (_, id, inbox) = callouts.swap_remove(at);
            return Some((id, inbox));
        }
        let mut starting = self.starting_callout.borrow_mut();
        let (id, inbox, answered) = starting.as_mut()?;
        *answered = true;
        Some((*id, inbox.clone()))
    }
}

/// EnvoyX's status of a callout Envoy refused to start.
fn init_failure(result: ffi::CalloutInitResult) -> CalloutStatus {
    if result == ffi::CALLOUT_INIT_CLUSTER_NOT_FOUND {
        return CalloutStatus::NoCluster;
    }
    host_log!(Debug, "EnvoyX stock host: Envoy refused a callout (init result {result})");
    CalloutStatus::Unavailable
}

/// This host's per-route configuration (`per_route_config_module_ptr`): the core's, made by
/// `on_http_filter_per_route_config_new`, destroyed by Envoy with its route table.
pub struct HostRouteConfig {
    pub config: Arc<RouteConfig>,
}

/// One stream's host: Envoy's callbacks for the filter `envoy`.
pub struct EnvoyStream {
    pub envoy: EnvoyFilter,
    shared: NonNull<Shared>,
    /// The module's open child spans, by the core's numbers (ABI 1.2 `span_*`). The core finishes
    /// every one before the stream ends.
    child_spans: Vec<(u64, ffi::SpanPtr)>,
    /// What `span_baggage_get` and `span_trace_id` last handed out (their views point here).
    trace_text: Vec<u8>,
}

impl EnvoyStream {
    /// # Safety
    /// `shared` must outlive the returned host and every core `Stream` that owns it. The filter
    /// guarantees that: the `Shared` is a field of the boxed filter that owns the `Stream`, and
    /// the filter ends its stream before it frees itself (`filter.rs`).
    pub unsafe fn new(envoy: EnvoyFilter, shared: &Shared) -> Self {
        Self { envoy, shared: NonNull::from(shared), child_spans: Vec::new(), trace_text: Vec::new() }
    }

    fn shared(&self) -> &Shared {
        // Safety: alive for as long as this host (see `new`); only shared references are made.
        unsafe { self.shared.as_ref() }
    }

    /// Runs `f` on the span `id` names, if there is one; whether there was.
    fn on_span(&self, id: u64, f: impl FnOnce(EnvoyFilter, ffi::SpanPtr)) -> bool {
        let span = self.span(id);
        if span.is_null() {
            return false;
        }
        f(self.envoy, span);
        true
    }

    /// The span `id` names: the active span for 0 (null without a tracer), else an open child.
    fn span(&self, id: u64) -> ffi::SpanPtr {
        if id == 0 {
            return self.envoy.active_span();
        }
        self.child_spans.iter().find(|(open, _)| *open == id).map_or(std::ptr::null_mut(), |(_, span)| *span)
    }
}

// EnvoyX's header-map and body-kind values equal upstream's header-type and body-type values
// (request/response × headers/trailers; received/buffered × request/response).
const _: () = {
    assert!(HeaderMapKind::RequestHeaders as u32 == 0 && HeaderMapKind::RequestTrailers as u32 == 1);
    assert!(HeaderMapKind::ResponseHeaders as u32 == 2 && HeaderMapKind::ResponseTrailers as u32 == 3);
    assert!(BodyKind::RequestReceived as u32 == 0 && BodyKind::RequestBuffered as u32 == 1);
    assert!(BodyKind::ResponseReceived as u32 == 2 && BodyKind::ResponseBuffered as u32 == 3);
    // `envoyx_header` and Envoy's header struct are both {ptr, len, ptr, len}.
    assert!(size_of::<envoyx_header>() == size_of::<HttpHeader>());
    assert!(align_of::<envoyx_header>() == align_of::<HttpHeader>());
};

fn header_type(map: HeaderMapKind) -> ffi::HeaderType {
    map as ffi::HeaderType
}

fn body_type(body: BodyKind) -> ffi::BodyType {
    body as ffi::BodyType
}

fn view(buffer: EnvoyBuffer) -> envoyx_bytes {
    envoyx_bytes { ptr: buffer.ptr.cast(), len: buffer.length }
}

/// How many body slices are read without allocating.
const INLINE_SLICES: usize = 16;

impl HostStream for EnvoyStream {
    fn header_values(&mut self, map: HeaderMapKind, key: &[u8], out: &mut [envoyx_bytes]) -> Option<usize> {
        let map = header_type(map);
        let (first, count) = self.envoy.header(map, key, 0);
        for (index, slot) in out.iter_mut().enumerate().take(count) {
            let value = if index == 0 { first } else { self.envoy.header(map, key, index).0 };
            *slot = value.map_or(envoyx_bytes::EMPTY, view);
        }
        Some(count)
    }

    fn header_entries(&mut self, map: HeaderMapKind, out: &mut [envoyx_header]) -> Option<usize> {
        let map = header_type(map);
        let total = self.envoy.headers_size(map);
        if total == 0 || out.is_empty() {
            return Some(total);
        }
        if out.len() >= total {
            // Safety: `envoyx_header` and `HttpHeader` have the same layout (asserted above), and
            // `out` has at least `total` elements.
            let dst = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<HttpHeader>(), total) };
            return self.envoy.headers(map, dst).then_some(total);
        }
        let mut all = vec![HttpHeader::EMPTY; total];
        if !self.envoy.headers(map, &mut all) {
            return None;
        }
        for (slot, h) in out.iter_mut().zip(&all) {
            *slot = envoyx_header {
                key: envoyx_bytes { ptr: h.key_ptr.cast(), len: h.key_length },
                value: envoyx_bytes { ptr: h.value_ptr.cast(), len: h.value_length },
            };
        }
        Some(total)
    }

    // The core has checked names and values (never empty: stock Envoy would remove the header).
    fn header_set(&mut self, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool {
        self.envoy.set_header(header_type(map), key, value)
    }

    fn header_add(&mut self, map: HeaderMapKind, key: &[u8], value: &[u8]) -> bool {
        self.envoy.add_header(header_type(map), key, value)
    }

    fn header_remove(&mut self, map: HeaderMapKind, key: &[u8]) -> usize {
        let map = header_type(map);
        let (_, count) = self.envoy.header(map, key, 0);
        if count > 0 && !self.envoy.remove_header(map, key) {
            return 0;
        }
        count
    }

    fn body_length(&mut self, body: BodyKind) -> Option<usize> {
        Some(self.envoy.body_size(body_type(body)))
    }

    fn body_slices(&mut self, body: BodyKind, out: &mut [envoyx_slice]) -> Option<usize> {
        let body = body_type(body);
        let count = self.envoy.body_chunks_size(body);
        if count == 0 {
            return Some(0);
        }
        let mut inline = [EnvoyBuffer::EMPTY; INLINE_SLICES];
        let mut heap = Vec::new();
        let chunks = if count <= INLINE_SLICES {
            &mut inline[..count]
        } else {
            heap.resize(count, EnvoyBuffer::EMPTY);
            &mut heap[..]
        };
        if !self.envoy.body_chunks(body, chunks) {
            return None;
        }
        // Envoy's slices point into its own buffer memory, which it owns mutably: they are the
        // writable zero-copy views x/abi.h promises. Empty slices are not reported.
        let mut total = 0;
        for chunk in chunks.iter().filter(|c| c.length > 0) {
            if let Some(slot) = out.get_mut(total) {
                *slot = envoyx_slice { ptr: chunk.ptr.cast_mut().cast(), len: chunk.length };
            }
            total += 1;
        }
        Some(total)
    }

    fn body_drain(&mut self, body: BodyKind, len: usize) -> bool {
        len == 0 || self.envoy.drain_body(body_type(body), len)
    }

    fn body_append(&mut self, body: BodyKind, data: &[u8]) -> bool {
        data.is_empty() || self.envoy.append_body(body_type(body), data)
    }

    fn http_callout(
        &mut self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        inbox: CalloutInbox,
    ) -> Result<(), CalloutStatus> {
        let headers: Vec<(&[u8], &[u8])> = callout.headers.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
        let shared = self.shared();
        *shared.starting_callout.borrow_mut() = Some((id, inbox, false));
        let started = self.envoy.http_callout(callout.cluster, &headers, callout.body, callout.timeout_ms);
        let (id, inbox, answered) = shared.starting_callout.borrow_mut().take().expect("set above");
        if answered {
            // Envoy answered inside its start call (then reports "cannot create request"): the
            // answer went to the inbox (`Filter::callout_done`), and reaches the module next.
            return Ok(());
        }
        let envoy_id = started.map_err(init_failure)?;
        shared.callouts.borrow_mut().push((envoy_id, id, inbox));
        Ok(())
    }

    fn callout_stream_start(
        &mut self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        end_of_stream: bool,
        inbox: CalloutInbox,
    ) -> Result<(), CalloutStatus> {
        let headers: Vec<(&[u8], &[u8])> = callout.headers.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
        let shared = self.shared();
        *shared.starting.borrow_mut() = Some((OpenCalloutStream { envoy_id: 0, id, inbox }, false));
        let started = self.envoy.start_http_stream(
            callout.cluster,
            &headers,
            callout.body,
            end_of_stream,
            callout.timeout_ms,
        );
        let (mut callout, ended) = shared.starting.borrow_mut().take().expect("set above");
        let envoy_id = started.map_err(init_failure)?;
        // Envoy may have reported the whole exchange (a failure) inside its start call.
        if !ended {
            callout.envoy_id = envoy_id;
            shared.callout_streams.borrow_mut().push(callout);
        }
        Ok(())
    }

    fn callout_stream_send(&mut self, id: u64, data: &[u8], end_of_stream: bool) -> bool {
        let Some(envoy_id) = self.shared().envoy_stream_id(id) else { return false };
        self.envoy.http_stream_send_data(envoy_id, data, end_of_stream)
    }

    fn callout_stream_send_trailers(
        &mut self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        let Some(envoy_id) = self.shared().envoy_stream_id(id) else { return false };
        let trailers: Vec<(&[u8], &[u8])> = trailers.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
        self.envoy.http_stream_send_trailers(envoy_id, &trailers)
    }

    fn callout_stream_reset(&mut self, id: u64) {
        let removed = {
            let mut open = self.shared().callout_streams.borrow_mut();
            open.iter().position(|c| c.id == id).map(|at| open.swap_remove(at))
        };
        if let Some(callout) = removed {
            // Envoy reports the reset inside this call; the core drops it (the callout is over).
            self.envoy.reset_http_stream(callout.envoy_id);
        }
    }

    fn metadata_set(&mut self, ns: &str, key: &str, value: envoyx_core::MetadataValue<'_>) -> bool {
        self.envoy.set_metadata(ns, key, value);
        true
    }

    fn metadata_get(
        &mut self,
        source: envoyx_core::MetadataSource,
        ns: &str,
        key: &str,
        kind: envoyx_core::ValueKind,
    ) -> Option<envoyx_abi::envoyx_value> {
        self.envoy.metadata(source, ns, key, kind)
    }

    fn filter_state_set(&mut self, key: &str, value: &[u8]) -> bool {
        self.envoy.set_filter_state(key, value)
    }

    fn filter_state_get(&mut self, key: &str) -> Option<envoyx_bytes> {
        self.envoy.filter_state(key)
    }

    fn filter_state_set_typed(&mut self, key: &str, value: &[u8]) -> bool {
        self.envoy.set_filter_state_typed(key, value)
    }

    fn filter_state_serialized(&mut self, key: &str) -> Option<envoyx_bytes> {
        self.envoy.filter_state_serialized(key)
    }

    fn filter_state_exists(&mut self, key: &str) -> bool {
        self.envoy.has_filter_state(key)
    }

    fn clear_route_cache(&mut self) -> bool {
        self.envoy.clear_route_cache();
        true
    }

    fn worker_index(&mut self) -> Option<u32> {
        Some(self.envoy.worker_index())
    }

    fn refresh_route_cluster(&mut self) -> bool {
        self.envoy.refresh_route_cluster();
        true
    }

    fn span_start_child(&mut self, parent: u64, id: u64, operation: &str) -> bool {
        let parent = self.span(parent);
        if parent.is_null() {
            return false;
        }
        // Safety: `parent` is the active span or an open child of this stream.
        let child = unsafe { self.envoy.spawn_child_span(parent, operation) };
        if child.is_null() {
            return false;
        }
        self.child_spans.push((id, child));
        true
    }

    fn span_tag(&mut self, span: u64, key: &str, value: &str) -> bool {
        // Safety: the active span or an open child of this stream.
        self.on_span(span, |envoy, span| unsafe { envoy.tag_span(span, key, value) })
    }

    fn span_log(&mut self, span: u64, event: &str) -> bool {
        // Safety: the active span or an open child of this stream.
        self.on_span(span, |envoy, span| unsafe { envoy.log_on_span(span, event) })
    }

    fn span_set_sampled(&mut self, span: u64, sampled: bool) -> bool {
        // Safety: the active span or an open child of this stream.
        self.on_span(span, |envoy, span| unsafe { envoy.set_span_sampled(span, sampled) })
    }

    fn span_finish(&mut self, span: u64) -> bool {
        let Some(at) = self.child_spans.iter().position(|(open, _)| *open == span) else { return false };
        let (_, child) = self.child_spans.swap_remove(at);
        // Safety: an open child of this stream, forgotten here: finished once.
        unsafe { self.envoy.finish_span(child) };
        true
    }

    fn span_baggage_set(&mut self, key: &str, value: &str) -> bool {
        // Safety: the active span.
        self.on_span(0, |envoy, active| unsafe { envoy.set_baggage(active, key, value) })
    }

    fn span_baggage_get(&mut self, key: &str) -> Option<envoyx_bytes> {
        let active = self.span(0);
        // Safety: the active span.
        let found = !active.is_null() && unsafe { self.envoy.baggage(active, key, &mut self.trace_text) };
        found.then(|| envoyx_bytes::from_slice(&self.trace_text))
    }

    fn span_trace_id(&mut self) -> Option<envoyx_bytes> {
        let active = self.span(0);
        // Safety: the active span.
        let found = !active.is_null() && unsafe { self.envoy.trace_id(active, &mut self.trace_text) };
        found.then(|| envoyx_bytes::from_slice(&self.trace_text))
    }

    fn buffer_limit(&mut self) -> u64 {
        self.envoy.buffer_limit()
    }

    fn set_buffer_limit(&mut self, limit: u64) -> bool {
        self.envoy.set_buffer_limit(limit);
        true
    }

    fn span_set_tag(&mut self, key: &str, value: &str) -> bool {
        self.envoy.set_span_tag(key, value)
    }

    fn attribute(&mut self, attribute: envoyx_core::Attribute) -> Option<envoyx_abi::envoyx_value> {
        self.envoy.attribute(attribute)
    }

    fn attribute_unserved(&self, attribute: envoyx_core::Attribute) -> Option<String> {
        ffi::attribute_unserved(attribute)
    }

    fn timing(&mut self, timing: u32) -> Option<i64> {
        self.envoy.timing(timing)
    }

    fn metadata_typed(
        &mut self,
        source: envoyx_core::MetadataSource,
        ns: &str,
    ) -> Option<(envoyx_abi::envoyx_bytes, envoyx_abi::envoyx_bytes)> {
        self.envoy.metadata_typed(source, ns)
    }

    fn metadata_set_struct(&mut self, ns: &str, encoded: &[u8]) -> bool {
        self.envoy.set_metadata_struct(ns, encoded)
    }

    fn metadata_set_typed(&mut self, ns: &str, any: &[u8]) -> bool {
        self.envoy.set_metadata_typed(ns, any)
    }

    fn metadata_names(
        &mut self,
        source: envoyx_core::MetadataSource,
        ns: Option<&str>,
        out: &mut [envoyx_abi::envoyx_bytes],
    ) -> Option<usize> {
        Some(self.envoy.metadata_names(source, ns, out))
    }

    fn upstream_hosts_attempted(&mut self, out: &mut [envoyx_abi::envoyx_bytes]) -> usize {
        self.envoy.upstream_hosts_attempted(out)
    }

    fn secret_get(&mut self, id: u64) -> Option<envoyx_abi::envoyx_bytes> {
        self.envoy.secret(id)
    }

    fn unserved(&self, call: &str) -> Option<String> {
        let (served, what) = match call {
            "timing_get" => (ffi::serves_timing(), "serves no stream timing to"),
            "upstream_hosts_attempted" => {
                (ffi::serves_hosts_attempted(), "serves no list of upstream hosts attempted to")
            }
            "metadata_get_typed" => (ffi::serves_typed_metadata(), "serves no typed metadata to"),
            "metadata_set_typed" => (ffi::takes_typed_metadata(), "takes no typed metadata from"),
            _ => return None,
        };
        (!served).then(|| format!("Envoy 1.{} {what} modules; Envoy 1.40 and later do", ffi::envoy_minor()))
    }

    fn upstream_override_host(&mut self, host: &str, strict: bool) -> bool {
        self.envoy.set_upstream_override_host(host, strict)
    }

    fn metric_record(
        &mut self,
        host_id: u64,
        kind: envoyx_core::MetricKind,
        op: envoyx_core::MetricOp,
        label_values: &[&[u8]],
        value: u64,
    ) -> bool {
        let id = usize::try_from(host_id).unwrap_or(usize::MAX);
        match self.envoy.record_metric(kind, op, id, label_values, value) {
            Ok(()) => true,
            Err(result) => {
                host_log!(Debug, "EnvoyX stock host: Envoy refused a metric record (result {result})");
                false
            }
        }
    }

    fn route_config(&mut self) -> Option<Arc<RouteConfig>> {
        let ptr = self.envoy.most_specific_route_config().cast::<HostRouteConfig>();
        // Safety: Envoy hands back what `per_route_config_new` returned (a HostRouteConfig), alive
        // while the stream's route is.
        unsafe { ptr.as_ref() }.map(|route| route.config.clone())
    }

    fn resumes_response_stopped_inside_request_continue(&self) -> bool {
        // False on Envoy 1.38 (see `ffi::continue_is_reentrant_safe`); read once at program init.
        REENTRANT_CONTINUE_SAFE.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn scheduler(&self) -> Arc<dyn StreamScheduler> {
        self.shared().scheduler.get_or_init(|| Arc::new(EnvoyScheduler::new_for_handle())).clone()
    }
}

/// A stream's [`StreamScheduler`] over Envoy's HTTP-filter scheduler. It exists only once the
/// module took a handle (the only way work reaches [`StreamScheduler`]).
///
/// Envoy's scheduler can only be created inside an event hook, so it is created lazily: at the
/// end of the event hook in which the module took its first handle, when a later hook returns a
/// stop status (only then can a continue matter), or when work was queued before it existed.
/// Until then, wake-ups are counted here and committed on creation. Each commit is one wake-up
/// (event id 0): what to do is in the core's queue ([`envoyx_core::Stream::on_scheduled`]).
#[derive(Default)]
pub struct EnvoyScheduler {
    state: Mutex<SchedulerState>,
}

#[derive(Default)]
struct SchedulerState {
    scheduler: Option<ffi::Scheduler>,
    /// Wake-ups asked for before the scheduler existed.
    waiting: usize,
    /// Made for a handle during the current hook: Envoy's scheduler is created when the hook
    /// ends, whatever it returns (a direction an earlier hook stopped may be resumed by it).
    fresh: bool,
    /// The filter is gone: wake-ups are dropped.
    closed: bool,
}

/// The event id of every commit: the core's queue says what the wake-up is for.
pub const WAKE_EVENT: u64 = 0;
/// The config-scheduler event that refreshes the workers' copy of Envoy's runtime
/// (`crate::runtime`), on the main thread.
pub const RUNTIME_REFRESH_EVENT: u64 = 1;

impl StreamScheduler for EnvoyScheduler {
    fn wake(&self) {
        let mut state = lock(&self.state);
        if state.closed {
            return;
        }
        match &state.scheduler {
            Some(scheduler) => scheduler.commit(WAKE_EVENT),
            None => state.waiting += 1,
        }
    }
}

impl EnvoyScheduler {
    /// For the stream's first handle, inside one of its hooks.
    fn new_for_handle() -> Self {
        Self { state: Mutex::new(SchedulerState { fresh: true, ..SchedulerState::default() }) }
    }

    /// On the worker thread, inside an event hook of `envoy`'s stream: creates Envoy's scheduler
    /// if `needed`, just made for a handle, or a wake-up is waiting, and commits the waiting
    /// wake-ups.
    pub fn prepare(&self, envoy: EnvoyFilter, needed: bool) {
        let mut state = lock(&self.state);
        let waiting = state.waiting > 0;
        let fresh = std::mem::take(&mut state.fresh);
        if state.closed || !(needed || fresh || waiting) {
            return;
        }
        if state.scheduler.is_none() {
            state.scheduler = envoy.new_scheduler();
            if state.scheduler.is_none() {
                host_log!(
                    Error,
                    "EnvoyX stock host: Envoy returned no scheduler; continues and events will be lost"
                );
                return;
            }
        }
        let SchedulerState { scheduler: Some(scheduler), waiting, .. } = &mut *state else { return };
        for _ in 0..std::mem::take(waiting) {
            scheduler.commit(WAKE_EVENT);
        }
    }

    /// The filter is being destroyed (worker thread): deletes Envoy's scheduler; later wake-ups
    /// are dropped.
    pub fn close(&self) {
        let scheduler = {
            let mut state = lock(&self.state);
            state.closed = true;
            state.scheduler.take()
        };
        drop(scheduler);
    }
}

/// A filter configuration's [`ConfigHost`] over Envoy's config scheduler (made in
/// config_new on the main thread): each wake is one commit (event id [`WAKE_EVENT`]); Envoy then
/// calls `on_http_filter_config_scheduled` on the main thread, where the core takes the next
/// queued event. Closed when Envoy destroys the config: later wakes do nothing.
pub struct EnvoyConfigHost {
    scheduler: Mutex<Option<ffi::Scheduler>>,
    /// Envoy's filter config, for callouts (main thread only).
    config_envoy: ConfigEnvoy,
    /// Callouts in flight: Envoy's id and the core's.
    callouts: Mutex<Vec<(u64, u64)>>,
    /// Streaming callouts open in Envoy: Envoy's id and the core's.
    streams: Mutex<Vec<(u64, u64)>>,
    /// The streaming callout being started (the core's id), whose news Envoy may report before
    /// this host knows Envoy's id for it; `true` once its last news came.
    starting: Mutex<Option<(u64, bool)>>,
}

/// Envoy's filter-config pointer, used only on the main thread (config callouts), where Envoy
/// keeps it alive as long as this host's config.
struct ConfigEnvoy(ffi::ConfigEnvoyPtr);

// Safety: the pointer is only dereferenced by Envoy, in calls made on the main thread (the core
// starts configuration callouts only inside the configuration's main-thread hooks).
unsafe impl Send for ConfigEnvoy {}
// Safety: as above.
unsafe impl Sync for ConfigEnvoy {}

impl EnvoyConfigHost {
    pub fn new(config_envoy: ffi::ConfigEnvoyPtr) -> Self {
        Self {
            scheduler: Mutex::new(ffi::new_config_scheduler(config_envoy)),
            config_envoy: ConfigEnvoy(config_envoy),
            callouts: Mutex::default(),
            streams: Mutex::default(),
            starting: Mutex::default(),
        }
    }

    /// The core's id of the streaming callout Envoy reports on as `envoy_id`; taken off the open
    /// ones when `last`. A report for an id this host does not know yet belongs to the one being
    /// started.
    pub fn stream_callout(&self, envoy_id: u64, last: bool) -> Option<u64> {
        let mut open = lock(&self.streams);
        if let Some(at) = open.iter().position(|(envoy, _)| *envoy == envoy_id) {
            return Some(if last { open.swap_remove(at).1 } else { open[at].1 });
        }
        let mut starting = lock(&self.starting);
        let (id, ended) = starting.as_mut()?;
        *ended |= last;
        Some(*id)
    }

    fn envoy_stream_id(&self, id: u64) -> Option<u64> {
        lock(&self.streams).iter().find(|(_, core)| *core == id).map(|(envoy, _)| *envoy)
    }

    /// The core's id of Envoy's configuration callout `envoy_id`, which is no longer in flight.
    pub fn take_callout(&self, envoy_id: u64) -> Option<u64> {
        let mut callouts = lock(&self.callouts);
        let at = callouts.iter().position(|(envoy, _)| *envoy == envoy_id)?;
        Some(callouts.swap_remove(at).1)
    }

    /// Posts `event` to the main thread through the configuration's scheduler; false once closed.
    pub fn commit(&self, event: u64) -> bool {
        lock(&self.scheduler).as_ref().map(|scheduler| scheduler.commit(event)).is_some()
    }

    /// Envoy is destroying the configuration (main thread): deletes Envoy's scheduler.
    pub fn close(&self) {
        let scheduler = lock(&self.scheduler).take();
        drop(scheduler);
    }
}

impl ConfigHost for EnvoyConfigHost {
    fn define_metric(&self, def: &envoyx_core::MetricDef) -> Result<u64, String> {
        let labels: Vec<&[u8]> = def.label_names.iter().map(|l| l.as_bytes()).collect();
        // Safety: the core defines metrics only inside the module's config-new hook, on the main
        // thread: inside Envoy's config hook, or for a hot-reloaded version in a scheduled event,
        // where Envoy refuses new stats (Frozen) and the core reuses the first version's ids.
        let defined = unsafe {
            ffi::config_define_metric(self.config_envoy.0, def.kind, def.full_name.as_bytes(), &labels)
        };
        defined.map(|id| id as u64).map_err(|result| format!("Envoy refused it (metrics result {result})"))
    }

    fn subscribe_secret(&self, name: &str, sds_config: &str) -> Result<u64, String> {
        // Safety: the core subscribes while the configuration is created, inside Envoy's
        // config-new hook on the main thread (filter configs are created nowhere else here).
        unsafe { ffi::subscribe_secret(self.config_envoy.0, name, sds_config) }
    }

    fn wake(&self) {
        if let Some(scheduler) = &*lock(&self.scheduler) {
            scheduler.commit(WAKE_EVENT);
        }
    }

    fn http_callout(&self, id: u64, callout: &envoyx_core::Callout<'_>) -> Result<(), CalloutStatus> {
        let headers: Vec<(&[u8], &[u8])> = callout.headers.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
        // Safety: the core starts configuration callouts only inside the configuration's hooks,
        // on the main thread, while Envoy's config lives.
        let started = unsafe {
            ffi::config_http_callout(
                self.config_envoy.0,
                callout.cluster,
                &headers,
                callout.body,
                callout.timeout_ms,
            )
        };
        let envoy_id = started.map_err(init_failure)?;
        lock(&self.callouts).push((envoy_id, id));
        Ok(())
    }

    fn callout_stream_start(
        &self,
        id: u64,
        callout: &envoyx_core::Callout<'_>,
        end_of_stream: bool,
    ) -> Result<(), CalloutStatus> {
        let headers: Vec<(&[u8], &[u8])> = callout.headers.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
        *lock(&self.starting) = Some((id, false));
        // Safety: the core starts configuration callouts only inside the configuration's hooks,
        // on the main thread, while Envoy's config lives.
        let started = unsafe {
            ffi::config_start_http_stream(
                self.config_envoy.0,
                callout.cluster,
                &headers,
                callout.body,
                end_of_stream,
                callout.timeout_ms,
            )
        };
        let (_, ended) = lock(&self.starting).take().expect("set above");
        let envoy_id = started.map_err(init_failure)?;
        // Envoy may have reported the whole exchange (a failure) inside its start call.
        if !ended {
            lock(&self.streams).push((envoy_id, id));
        }
        Ok(())
    }

    fn callout_stream_send(&self, id: u64, data: &[u8], end_of_stream: bool) -> bool {
        let Some(envoy_id) = self.envoy_stream_id(id) else { return false };
        // Safety: as for callout_stream_start (the core sends only inside the configuration's hooks).
        unsafe { ffi::config_stream_send_data(self.config_envoy.0, envoy_id, data, end_of_stream) }
    }

    fn callout_stream_send_trailers(
        &self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        let Some(envoy_id) = self.envoy_stream_id(id) else { return false };
        let trailers: Vec<(&[u8], &[u8])> = trailers.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
        // Safety: as for callout_stream_send.
        unsafe { ffi::config_stream_send_trailers(self.config_envoy.0, envoy_id, &trailers) }
    }

    fn callout_stream_reset(&self, id: u64) {
        let removed = {
            let mut open = lock(&self.streams);
            open.iter().position(|(_, core)| *core == id).map(|at| open.swap_remove(at).0)
        };
        if let Some(envoy_id) = removed {
            // Safety: as for callout_stream_send. Envoy reports the reset inside this call; the
            // core drops it (the callout is over).
            unsafe { ffi::config_reset_http_stream(self.config_envoy.0, envoy_id) }
        }
    }
}
