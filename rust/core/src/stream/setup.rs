//! What a stream needs of the configuration it runs on, and what that configuration gives it:
//! the module's hooks, its configuration object, names for log lines, metrics, counters. The load
//! wing's `ConfigVersion` implements [`StreamConfig`] and starts streams with it; the stream wing
//! needs nothing else of it (nor of module loading).

use envoyx_abi::*;
use std::ffi::c_void;

/// The module's exported functions, resolved once at load.
#[derive(Clone, Copy)]
pub(crate) struct Hooks {
    pub filter_config_new: envoyx_on_filter_config_new_fn,
    pub filter_config_destroy: envoyx_on_filter_config_destroy_fn,
    pub stream_new: envoyx_on_stream_new_fn,
    pub request_headers: envoyx_on_headers_fn,
    pub request_body: envoyx_on_body_fn,
    pub request_trailers: envoyx_on_trailers_fn,
    pub response_headers: envoyx_on_headers_fn,
    pub response_body: envoyx_on_body_fn,
    pub response_trailers: envoyx_on_trailers_fn,
    pub stream_complete: envoyx_on_stream_complete_fn,
    pub stream_destroy: envoyx_on_stream_destroy_fn,
    /// Optional (ABI 1.1).
    pub stream_scheduled: Option<envoyx_on_stream_scheduled_fn>,
    /// Optional (ABI 1.1).
    pub filter_config_scheduled: Option<envoyx_on_filter_config_scheduled_fn>,
    /// Optional (ABI 1.1).
    pub stream_callout_done: Option<envoyx_on_stream_callout_done_fn>,
    /// Optional (ABI 1.1).
    pub stream_callout_event: Option<envoyx_on_stream_callout_event_fn>,
    /// Optional (ABI 1.1).
    pub filter_config_callout_done: Option<envoyx_on_filter_config_callout_done_fn>,
    /// Optional (ABI 1.1).
    pub filter_config_callout_event: Option<envoyx_on_filter_config_callout_event_fn>,
    /// Optional (ABI 1.2).
    pub stream_watermark: Option<envoyx_on_stream_watermark_fn>,
    /// Optional (ABI 1.2).
    pub stream_local_reply: Option<envoyx_on_stream_local_reply_fn>,
    /// Optional (ABI 1.1), both or neither.
    pub route_config_new: Option<envoyx_on_route_config_new_fn>,
    pub route_config_destroy: Option<envoyx_on_route_config_destroy_fn>,
    /// Optional (ABI 1.1): the module says whether it may be unmapped (its threads finished).
    pub program_unload: Option<envoyx_on_program_unload_fn>,
}

/// Names for log lines: which module file and which filter configuration.
pub(crate) struct Labels {
    pub module: String,
    pub filter: String,
}

/// A filter configuration as its streams see it. Implemented by the load wing's `ConfigVersion`,
/// which a stream keeps alive (an `Arc<dyn StreamConfig>`) for as long as it lives: the module
/// stays loaded and its configuration object valid.
pub(crate) trait StreamConfig: Send + Sync {
    /// The configuration's name (for logs).
    fn name(&self) -> &str;
    /// The module's hooks.
    fn hooks(&self) -> &Hooks;
    /// The module's object for this configuration, handed to each stream's stream-new hook.
    fn module_config(&self) -> *mut c_void;
    /// Names for log lines.
    fn labels(&self) -> &Labels;
    /// The metrics the module defined for this configuration, id 1 first.
    fn metrics(&self) -> &[crate::stream::metrics::Metric];
    /// The secrets the configuration declares, as its host subscribed to them.
    fn secrets(&self) -> &crate::stream::secrets::Secrets;
    /// How many of its streams started, completed and were destroyed.
    fn stream_counters(&self) -> &crate::lifecycle::StreamCounters;
    /// Which loaded module this is, only compared with a per-route configuration's parse
    /// ([`crate::RouteConfig`]) so a stream gets its own module's.
    fn module_id(&self) -> *const ();
}
