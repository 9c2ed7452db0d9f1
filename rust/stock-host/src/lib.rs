//! The stock-Envoy host: a module for upstream Envoy's own `envoy.filters.http.dynamic_modules`
//! filter that runs EnvoyX modules (`x/abi.h`) inside official Envoy binaries (1.38.3, 1.39.3,
//! 1.40.0).
//!
//! Envoy loads `libenvoyx_stock_host.so` (by `dynamic_module_config.name: envoyx_stock_host`
//! and `ENVOY_DYNAMIC_MODULES_SEARCH_PATH`, or by `module.local.filename`). The filter's
//! `filter_config` is an EnvoyX `DynamicModuleConfig` in JSON form, given either as a
//! `google.protobuf.Struct` (Envoy hands it over as JSON) or as a `google.protobuf.StringValue`
//! holding the JSON:
//!
//! ```yaml
//! - name: envoy.filters.http.dynamic_modules
//!   typed_config:
//!     "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter
//!     dynamic_module_config: { name: envoyx_stock_host, metrics_namespace: envoyx }
//!     filter_name: my_filter
//!     filter_config:
//!       "@type": type.googleapis.com/google.protobuf.Struct
//!       value: { file_path: /path/libmy_module.so, filter_config: "..." }
//! ```
//!
//! Everything generic (loading modules, the host API table, the event order) is `envoyx-core`;
//! this crate only maps upstream's hooks and callbacks onto it. Upstream's ABI is declared in
//! [`ffi`] from `docs/upstream-abi.md`.

mod any_value;
/// Which upstream attribute id carries each EnvoyX attribute, per Envoy version.
mod attribute_ids;
mod ffi;
mod filter;
mod host;
mod log;
mod reload;
mod route;
mod runtime;

use crate::ffi::{
    ConfigEnvoyPtr, ConfigModulePtr, EnvoyBuffer, EnvoyFilter, FilterEnvoyPtr, FilterModulePtr,
};
use crate::filter::{Event, Filter};
use crate::host::EnvoyConfigHost;
use crate::log::host_log;
use envoyx_core::{FilterConfig, ModuleConfig};
use std::ffi::c_char;
use std::sync::Arc;

/// This host's filter configuration (`filter_config_module_ptr`).
struct HostConfig {
    config: Arc<FilterConfig>,
    /// Wakes the main thread for the module's configuration events.
    background: Arc<EnvoyConfigHost>,
    /// Hot reload's stats (with `reload_on_file_change`).
    reload_metrics: Option<reload::ReloadMetrics>,
}

impl Drop for HostConfig {
    fn drop(&mut self) {
        // Envoy is destroying the config: its scheduler goes first, so no event can follow.
        self.background.close();
    }
}

/// The bytes of an Envoy-owned buffer.
///
/// # Safety
/// The buffer must point at `length` readable bytes for `'a` (or have length 0).
pub(crate) unsafe fn envoy_bytes<'a>(buffer: EnvoyBuffer) -> &'a [u8] {
    if buffer.ptr.is_null() || buffer.length == 0 {
        &[]
    } else {
        // Safety: forwarded from the caller.
        unsafe { std::slice::from_raw_parts(buffer.ptr.cast(), buffer.length) }
    }
}

/// Makes this shared object impossible to unload (as upstream's `do_not_close` would): the core
/// keeps process-wide state (the module registry, the log sink) and loaded EnvoyX modules, which
/// must not vanish or be initialised twice when Envoy drops its last filter config and later
/// loads the host again.
fn pin_self() {
    if !ffi::pin_this_object() {
        host_log!(
            Warn,
            "EnvoyX stock host: cannot pin itself in memory; it may be unloaded with its last filter"
        );
    }
}

/// Upstream's loader hook: returns the upstream ABI version this host speaks. A mismatch is only
/// a warning in Envoy, so the host answers with the running Envoy's own version (1.40.0 speaks
/// v0.2.0 and is the first to have `log_v2`; 1.38 and 1.39 speak v0.1.0).
#[unsafe(no_mangle)]
pub extern "C" fn envoy_dynamic_module_on_program_init() -> *const c_char {
    let log_v2 = ffi::LogV2::lookup();
    envoyx_core::set_log_sink(Arc::new(log::EnvoyLog::new(log_v2)));
    pin_self();
    host::REENTRANT_CONTINUE_SAFE
        .store(ffi::continue_is_reentrant_safe(), std::sync::atomic::Ordering::Relaxed);
    // Envoy answers only on its main thread, where this runs: kept for modules on every thread.
    envoyx_core::workers::set_worker_count(ffi::concurrency());
    envoyx_core::runtime::set_runtime_source(Arc::new(runtime::EnvoyRuntime::new()));
    if let Some(functions) = ffi::EnvoyFunctions::lookup() {
        envoyx_core::shared::set_proxy_functions(Arc::new(functions));
    }
    host_log!(Info, "EnvoyX stock-Envoy host {} loaded", env!("CARGO_PKG_VERSION"));
    if log_v2.is_some() { ffi::ABI_V0_2_0.as_ptr() } else { ffi::ABI_V0_1_0.as_ptr() }
}

/// Parses the EnvoyX config and creates the filter configuration; the error names the filter,
/// the module file and the reason.
fn new_host_config(
    config_envoy: ConfigEnvoyPtr,
    filter_name: &[u8],
    config: &[u8],
) -> Result<HostConfig, String> {
    let filter_name = String::from_utf8_lossy(filter_name);
    let prefix = format!("EnvoyX stock host: filter `{filter_name}`");
    let hint = "pass the EnvoyX DynamicModuleConfig (JSON) as a google.protobuf.Struct, or as a \
                google.protobuf.StringValue holding the JSON";
    if config.is_empty() {
        return Err(format!("{prefix}: `filter_config` is missing; {hint}"));
    }
    let text = std::str::from_utf8(config)
        .map_err(|e| format!("{prefix}: `filter_config` is not JSON text ({e}); {hint}"))?;
    let mut module_config = ModuleConfig::from_json(text).map_err(|e| format!("{prefix}: {e}; {hint}"))?;
    if module_config.name.is_empty() {
        module_config.name = filter_name.to_string();
    }
    let background = Arc::new(EnvoyConfigHost::new(config_envoy));
    runtime::register(&background);
    let scheduler: Arc<dyn envoyx_core::ConfigHost> = background.clone();
    let config =
        FilterConfig::new(&module_config, Some(scheduler)).map_err(|e| format!("{prefix} rejected: {e}"))?;
    host_log!(Info, "{prefix}: EnvoyX module {} ready", module_config.module_source());
    let reload_metrics = module_config
        .reload_on_file_change
        .then(|| reload::ReloadMetrics::define(config_envoy, &config.metric_prefix()))
        .flatten();
    Ok(HostConfig { config, background, reload_metrics })
}

/// Upstream's config hook. NULL makes Envoy reject the filter config; the reason is logged first,
/// since Envoy's own message does not say it.
///
/// # Safety
/// Called by Envoy with buffers valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
    config_envoy: ConfigEnvoyPtr,
    name: EnvoyBuffer,
    config: EnvoyBuffer,
) -> ConfigModulePtr {
    // Safety: Envoy's name and config buffers are valid for this call.
    let (name, config) = unsafe { (envoy_bytes(name), envoy_bytes(config)) };
    match new_host_config(config_envoy, name, config) {
        Ok(config) => Box::into_raw(Box::new(config)) as ConfigModulePtr,
        Err(message) => {
            host_log!(Error, "{message}");
            std::ptr::null()
        }
    }
}

/// # Safety
/// `config` is a pointer config_new returned; Envoy destroys it once, after its last stream.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_destroy(config: ConfigModulePtr) {
    if !config.is_null() {
        // Safety: made by Box::into_raw in config_new; destroyed once.
        drop(unsafe { Box::from_raw(config as *mut HostConfig) });
    }
}

/// Upstream's optional config callout hook (main thread): a callout the module's configuration
/// started ended.
///
/// # Safety
/// Called by Envoy on the main thread with a config pointer config_new returned, not destroyed;
/// the headers and chunks are valid during the call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_http_callout_done(
    _config_envoy: ConfigEnvoyPtr,
    config: ConfigModulePtr,
    callout_id: u64,
    result: ffi::HttpCalloutResult,
    headers: *const ffi::HttpHeader,
    headers_size: usize,
    body_chunks: *const EnvoyBuffer,
    body_chunks_size: usize,
) {
    // Safety: a live HostConfig (Envoy cancels the config's callouts when it destroys it).
    let Some(config) = (unsafe { (config as *const HostConfig).as_ref() }) else { return };
    let Some(id) = config.background.take_callout(callout_id) else { return };
    // Safety: Envoy passes `size` valid entries (or NULL with 0), valid during this call.
    let (headers, chunks) =
        unsafe { (ffi::raw_list(headers, headers_size), ffi::raw_list(body_chunks, body_chunks_size)) };
    let (headers, chunks) = (header_views(headers), chunk_views(chunks));
    config.config.on_callout_done(id, filter::callout_status(result), &headers, &chunks);
}

/// Reports news of the config's HTTP stream `stream_id` (a configuration's streaming callout) to
/// the core, which queues it itself when it arrives during one of the configuration's hooks.
///
/// # Safety
/// Called by Envoy on the main thread with a config pointer config_new returned, not destroyed
/// (Envoy resets the config's streams after the module's config is gone and reports nothing
/// then); the event's views are valid during the call.
unsafe fn config_callout_stream_event(
    config: ConfigModulePtr,
    stream_id: u64,
    event: envoyx_core::CalloutEvent<'_>,
) {
    // Safety: per the caller.
    let Some(config) = (unsafe { (config as *const HostConfig).as_ref() }) else { return };
    if let Some(id) = config.background.stream_callout(stream_id, event.is_last()) {
        config.config.on_callout_event(id, event);
    }
}

/// Upstream's optional config HTTP-stream hooks (main thread): news of a configuration's
/// streaming callout.
///
/// # Safety
/// See [`config_callout_stream_event`]; the headers are valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_http_stream_headers(
    _config_envoy: ConfigEnvoyPtr,
    config: ConfigModulePtr,
    stream_id: u64,
    headers: *const ffi::HttpHeader,
    headers_size: usize,
    end_stream: bool,
) {
    // Safety: Envoy passes `size` valid entries (or NULL with 0), valid during this call.
    let headers = header_views(unsafe { ffi::raw_list(headers, headers_size) });
    let event = envoyx_core::CalloutEvent::Headers { headers: &headers, end_of_stream: end_stream };
    // Safety: per Envoy's contract (above).
    unsafe { config_callout_stream_event(config, stream_id, event) }
}

/// # Safety
/// See [`config_callout_stream_event`]; the buffers are valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_http_stream_data(
    _config_envoy: ConfigEnvoyPtr,
    config: ConfigModulePtr,
    stream_id: u64,
    data: *const EnvoyBuffer,
    data_count: usize,
    end_stream: bool,
) {
    // Safety: Envoy passes `count` valid buffers (or NULL with 0), valid during this call.
    let chunks = chunk_views(unsafe { ffi::raw_list(data, data_count) });
    let event = envoyx_core::CalloutEvent::Data { chunks: &chunks, end_of_stream: end_stream };
    // Safety: per Envoy's contract (above).
    unsafe { config_callout_stream_event(config, stream_id, event) }
}

/// # Safety
/// See [`config_callout_stream_event`]; the trailers are valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_http_stream_trailers(
    _config_envoy: ConfigEnvoyPtr,
    config: ConfigModulePtr,
    stream_id: u64,
    trailers: *const ffi::HttpHeader,
    trailers_size: usize,
) {
    // Safety: Envoy passes `size` valid entries (or NULL with 0), valid during this call.
    let trailers = header_views(unsafe { ffi::raw_list(trailers, trailers_size) });
    // Safety: per Envoy's contract (above).
    unsafe {
        config_callout_stream_event(
            config,
            stream_id,
            envoyx_core::CalloutEvent::Trailers { trailers: &trailers },
        )
    }
}

/// # Safety
/// See [`config_callout_stream_event`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_http_stream_complete(
    _config_envoy: ConfigEnvoyPtr,
    config: ConfigModulePtr,
    stream_id: u64,
) {
    // Safety: per Envoy's contract (above).
    unsafe { config_callout_stream_event(config, stream_id, envoyx_core::CalloutEvent::Complete) }
}

/// # Safety
/// See [`config_callout_stream_event`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_http_stream_reset(
    _config_envoy: ConfigEnvoyPtr,
    config: ConfigModulePtr,
    stream_id: u64,
    _reason: ffi::HttpStreamResetReason,
) {
    let event = envoyx_core::CalloutEvent::Failed(envoyx_core::CalloutStatus::Reset);
    // Safety: per Envoy's contract (above).
    unsafe { config_callout_stream_event(config, stream_id, event) }
}

/// Upstream's optional config-scheduled hook (main thread): an event the module scheduled on its
/// filter configuration; the core takes the next one from its queue.
///
/// # Safety
/// Called by Envoy on the main thread with a config pointer config_new returned, not destroyed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_config_scheduled(
    _config_envoy: ConfigEnvoyPtr,
    config: ConfigModulePtr,
    event_id: u64,
) {
    // Safety: a live HostConfig (Envoy deletes the config's scheduler before destroying it).
    let Some(config) = (unsafe { (config as *const HostConfig).as_ref() }) else { return };
    match event_id {
        host::WAKE_EVENT => config.config.on_scheduled(),
        host::RUNTIME_REFRESH_EVENT => runtime::refresh(),
        _ => {}
    }
}

/// # Safety
/// Called by Envoy on the stream's worker thread with a live config and filter pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_new(
    config: ConfigModulePtr,
    filter_envoy: FilterEnvoyPtr,
) -> FilterModulePtr {
    // Safety: `config` is a live HostConfig (Envoy keeps it until its streams are gone).
    let Some(config) = (unsafe { (config as *const HostConfig).as_ref() }) else {
        return std::ptr::null();
    };
    // Safety: Envoy's filter pointer for this stream; the Filter uses it only on this worker
    // thread, before Envoy's destroy hook.
    let Some(envoy) = (unsafe { EnvoyFilter::new(filter_envoy) }) else {
        return std::ptr::null();
    };
    if let (Some(metrics), Some(now)) = (&config.reload_metrics, config.config.reload_stats()) {
        metrics.publish(now, envoy);
    }
    Box::into_raw(Box::new(Filter::new(envoy, config.config.clone()))) as FilterModulePtr
}

/// Runs an event hook on the filter behind `filter`.
///
/// # Safety
/// `filter` is a pointer on_http_filter_new returned and Envoy has not destroyed; worker thread.
unsafe fn event(filter: FilterModulePtr, event: Event) -> ffi::HookStatus {
    if filter.is_null() {
        return ffi::STATUS_CONTINUE;
    }
    // Safety: forwarded from the caller.
    unsafe { Filter::enter(filter.cast(), |f| f.event(event)) }
}

/// # Safety
/// Called by Envoy on the worker thread with the filter's pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    end_of_stream: bool,
) -> ffi::HookStatus {
    // Safety: Envoy's live filter pointer, on its worker thread.
    unsafe { event(filter, Event::RequestHeaders { end_of_stream }) }
}

/// # Safety
/// Called by Envoy on the worker thread with the filter's pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_body(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    end_of_stream: bool,
) -> ffi::HookStatus {
    // Safety: Envoy's live filter pointer, on its worker thread.
    unsafe { event(filter, Event::RequestBody { end_of_stream }) }
}

/// # Safety
/// Called by Envoy on the worker thread with the filter's pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_trailers(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
) -> ffi::HookStatus {
    // Safety: Envoy's live filter pointer, on its worker thread.
    unsafe { event(filter, Event::RequestTrailers) }
}

/// # Safety
/// Called by Envoy on the worker thread with the filter's pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_response_headers(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    end_of_stream: bool,
) -> ffi::HookStatus {
    // Safety: Envoy's live filter pointer, on its worker thread.
    unsafe { event(filter, Event::ResponseHeaders { end_of_stream }) }
}

/// # Safety
/// Called by Envoy on the worker thread with the filter's pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_response_body(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    end_of_stream: bool,
) -> ffi::HookStatus {
    // Safety: Envoy's live filter pointer, on its worker thread.
    unsafe { event(filter, Event::ResponseBody { end_of_stream }) }
}

/// # Safety
/// Called by Envoy on the worker thread with the filter's pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_response_trailers(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
) -> ffi::HookStatus {
    // Safety: Envoy's live filter pointer, on its worker thread.
    unsafe { event(filter, Event::ResponseTrailers) }
}

/// # Safety
/// Called by Envoy on the worker thread with the filter's pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_stream_complete(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
) {
    if !filter.is_null() {
        // Safety: Envoy's live filter pointer, on its worker thread.
        unsafe { Filter::enter(filter.cast(), Filter::complete) }
    }
}

/// # Safety
/// Called by Envoy once per filter, on the worker thread; the pointer is not used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_destroy(filter: FilterModulePtr) {
    if !filter.is_null() {
        // Safety: Envoy's live filter pointer, destroyed once, on its worker thread.
        unsafe { Filter::destroy(filter.cast()) }
    }
}

/// # Safety
/// Called by Envoy on the worker thread with the filter's pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_scheduled(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    event_id: u64,
) {
    if !filter.is_null() {
        // Safety: Envoy's live filter pointer, on its worker thread.
        unsafe { Filter::enter(filter.cast(), |f| f.scheduled(event_id)) }
    }
}

/// Upstream's callout hook: a callout the module started ended (worker thread).
///
/// # Safety
/// Called by Envoy with its live filter pointer; the headers and chunks are valid during the call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_http_callout_done(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    callout_id: u64,
    result: ffi::HttpCalloutResult,
    headers: *const ffi::HttpHeader,
    headers_size: usize,
    body_chunks: *const EnvoyBuffer,
    body_chunks_size: usize,
) {
    if filter.is_null() {
        return;
    }
    // Safety: Envoy passes `size` valid entries (or NULL with 0), valid during this call.
    let (headers, chunks) =
        unsafe { (ffi::raw_list(headers, headers_size), ffi::raw_list(body_chunks, body_chunks_size)) };
    // Safety: Envoy's live filter pointer, on its worker thread.
    unsafe { Filter::enter(filter.cast(), |f| f.callout_done(callout_id, result, headers, chunks)) }
}

/// Reports news of Envoy's HTTP stream `stream_id` (a streaming callout) to the filter.
///
/// # Safety
/// `filter` is NULL or Envoy's live filter pointer, on its worker thread; the event's views are
/// valid during the call.
unsafe fn callout_stream_event(
    filter: FilterModulePtr,
    stream_id: u64,
    event: envoyx_core::CalloutEvent<'_>,
) {
    if !filter.is_null() {
        // Safety: per the caller.
        unsafe { Filter::enter(filter.cast(), |f| f.callout_stream_event(stream_id, event)) }
    }
}

/// The views of Envoy's header list.
fn header_views(headers: &[ffi::HttpHeader]) -> Vec<envoyx_abi::envoyx_header> {
    headers.iter().map(ffi::HttpHeader::view).collect()
}

/// The views of Envoy's buffers.
fn chunk_views(chunks: &[EnvoyBuffer]) -> Vec<envoyx_abi::envoyx_bytes> {
    chunks.iter().map(EnvoyBuffer::view).collect()
}

/// Upstream's HTTP-stream hooks (worker thread): news of a streaming callout.
///
/// # Safety
/// Called by Envoy with its live filter pointer; the headers are valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_headers(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    stream_id: u64,
    headers: *const ffi::HttpHeader,
    headers_size: usize,
    end_stream: bool,
) {
    // Safety: Envoy passes `size` valid entries (or NULL with 0), valid during this call.
    let headers = header_views(unsafe { ffi::raw_list(headers, headers_size) });
    let event = envoyx_core::CalloutEvent::Headers { headers: &headers, end_of_stream: end_stream };
    // Safety: per Envoy's contract (above).
    unsafe { callout_stream_event(filter, stream_id, event) }
}

/// # Safety
/// As for the headers hook; the buffers are valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_data(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    stream_id: u64,
    data: *const EnvoyBuffer,
    data_count: usize,
    end_stream: bool,
) {
    // Safety: Envoy passes `count` valid buffers (or NULL with 0), valid during this call.
    let chunks = chunk_views(unsafe { ffi::raw_list(data, data_count) });
    let event = envoyx_core::CalloutEvent::Data { chunks: &chunks, end_of_stream: end_stream };
    // Safety: per Envoy's contract (above).
    unsafe { callout_stream_event(filter, stream_id, event) }
}

/// # Safety
/// As for the headers hook.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_trailers(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    stream_id: u64,
    trailers: *const ffi::HttpHeader,
    trailers_size: usize,
) {
    // Safety: Envoy passes `size` valid entries (or NULL with 0), valid during this call.
    let trailers = header_views(unsafe { ffi::raw_list(trailers, trailers_size) });
    // Safety: per Envoy's contract (above).
    unsafe {
        callout_stream_event(filter, stream_id, envoyx_core::CalloutEvent::Trailers { trailers: &trailers })
    }
}

/// # Safety
/// As for the headers hook.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_complete(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    stream_id: u64,
) {
    // Safety: per Envoy's contract (above).
    unsafe { callout_stream_event(filter, stream_id, envoyx_core::CalloutEvent::Complete) }
}

/// # Safety
/// As for the headers hook. Envoy passes no detailed reason (every reset is a reset).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_reset(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    stream_id: u64,
    _reason: ffi::HttpStreamResetReason,
) {
    let event = envoyx_core::CalloutEvent::Failed(envoyx_core::CalloutStatus::Reset);
    // Safety: per Envoy's contract (above).
    unsafe { callout_stream_event(filter, stream_id, event) }
}

/// Upstream's optional local-reply hook (Envoy's `onLocalReply`): to the core, which asks the
/// module (ABI 1.2 `envoyx_on_stream_local_reply`). Returns upstream's status: 0 continue, 1
/// reset the stream instead (the values of `envoyx_local_reply_status`).
///
/// # Safety
/// Called by Envoy on the worker thread with the filter's pointers; `details` is valid during the
/// call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_local_reply(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
    response_code: u32,
    details: EnvoyBuffer,
    reset_imminent: bool,
) -> u32 {
    if filter.is_null() {
        return 0;
    }
    // Safety: Envoy's view, valid during this call.
    let details = unsafe { envoy_bytes(details) };
    // Safety: Envoy's live filter pointer, on its worker thread.
    unsafe { Filter::enter(filter.cast(), |f| f.local_reply(response_code, details, reset_imminent) as u32) }
}

/// Envoy's downstream watermark hooks (the client reads slower than the response comes): to
/// the core, which hands the module the changes (ABI 1.2 `envoyx_on_stream_watermark`).
///
/// # Safety
/// Called by Envoy on the worker thread with the filter's pointers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
) {
    if !filter.is_null() {
        // Safety: Envoy's live filter pointer, on its worker thread.
        unsafe { Filter::enter(filter.cast(), |f| f.watermark(true)) }
    }
}

/// # Safety
/// As the above-watermark hook.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
    _filter_envoy: FilterEnvoyPtr,
    filter: FilterModulePtr,
) {
    if !filter.is_null() {
        // Safety: Envoy's live filter pointer, on its worker thread.
        unsafe { Filter::enter(filter.cast(), |f| f.watermark(false)) }
    }
}
