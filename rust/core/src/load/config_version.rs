//! One version of a filter configuration: one loaded module file plus the module's object for
//! one `filter_config`, shared by every stream (and every worker thread) that started on it. A
//! [`crate::FilterConfig`] has one version, or a new one after each hot reload (`reload.rs`).

use crate::error::Error;
use crate::lifecycle::{StreamCounters, StreamCounts};
use crate::load::module::Module;
use crate::log::core_log;
use crate::stream::background::{ConfigHost, ConfigShared, ConfigWork};
use crate::stream::callout_data::CalloutStatus;
use crate::stream::error_sink::ErrorSink;
use crate::stream::metrics::MetricLimits;
use crate::stream::secrets::Secrets;
use crate::stream::setup::{Hooks, Labels, StreamConfig};
use envoyx_abi::envoyx_bytes;
use envoyx_abi::envoyx_header;
use std::ffi::c_void;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// One version of a filter configuration. Creating it calls the module's config-new hook;
/// dropping the last reference (after every stream) calls config-destroy.
pub struct ConfigVersion {
    /// The configuration's name and the module's path, for log lines (each stream points here).
    labels: Labels,
    module_config: NonNull<c_void>,
    /// The background events' queue, shared with the module's config handles.
    background: Arc<ConfigShared>,
    /// The metrics the module defined while the configuration was created.
    metrics: Box<[crate::stream::metrics::Metric]>,
    /// The secrets the configuration declares (subscribed once, shared by its versions).
    secrets: Arc<Secrets>,
    /// How many of its streams started, completed and were destroyed.
    streams: StreamCounters,
    // Declared last: the module must stay loaded until its config is destroyed.
    module: Arc<Module>,
}

// Safety: x/abi.h requires the module's config object to be thread-safe (it is used from every
// worker thread at once); the other fields are Send + Sync.
unsafe impl Send for ConfigVersion {}
// Safety: as above.
unsafe impl Sync for ConfigVersion {}

impl ConfigVersion {
    /// Creates the module's configuration object on an already loaded module (main thread).
    /// Its configuration callouts get ids from `first_callout_id` on, so that the versions of
    /// one [`crate::FilterConfig`] never share one.
    pub(crate) fn create(
        module: Arc<Module>,
        name: &str,
        filter_config: &[u8],
        scheduler: Option<Arc<dyn ConfigHost>>,
        first_callout_id: u64,
        metric_limits: &MetricLimits,
        secrets: Arc<Secrets>,
    ) -> Result<Arc<Self>, Error> {
        let background = Arc::new(ConfigShared::new(
            &module.hooks,
            module.path(),
            name,
            scheduler,
            first_callout_id,
            metric_limits,
        ));
        let mut error = ErrorSink { message: None, creating: Some(background.clone()) };
        let new = module.hooks.filter_config_new;
        let raw = error.lend(|error| {
            // Safety: the hook has the header's type; the views and `error` outlive the call.
            unsafe {
                new(envoyx_bytes::from_slice(name.as_bytes()), envoyx_bytes::from_slice(filter_config), error)
            }
        });
        match NonNull::new(raw) {
            Some(module_config) => {
                let labels = Labels { module: module.path().display().to_string(), filter: name.to_string() };
                let metrics = background.freeze_metrics();
                crate::lifecycle::config_created();
                let streams = StreamCounters::default();
                Ok(Arc::new(Self { labels, module_config, background, metrics, secrets, streams, module }))
            }
            None => {
                // Handles taken during the failed creation schedule nothing.
                background.close();
                Err(Error::ConfigRejected {
                    path: module.path().to_path_buf(),
                    name: name.to_string(),
                    reason: error.take_or("the module returned NULL without a reason"),
                })
            }
        }
    }

    /// A wake of the host's [`ConfigHost`] for this version (main thread): runs the module's configuration
    /// hook (`envoyx_on_filter_config_scheduled`) for the next queued event, if any. Main thread
    /// only.
    pub fn on_scheduled(&self) {
        match self.background.pop() {
            Some(ConfigWork::Event(event_id)) => {
                let Some(hook) = self.module.hooks.filter_config_scheduled else { return };
                // Safety: the hook has the header's type; the module config lives as long as
                // `self`.
                self.in_hook(|| unsafe { hook(self.module_config.as_ptr(), event_id) });
            }
            Some(ConfigWork::CalloutFailed { id, status }) if self.background.is_streaming(id) => {
                self.on_callout_event(id, crate::CalloutEvent::Failed(status))
            }
            Some(ConfigWork::CalloutFailed { id, status }) => self.on_callout_done(id, status, &[], &[]),
            Some(ConfigWork::CalloutEvent { id, event }) => {
                event.with_views(|event| self.on_callout_event(id, event))
            }
            None => {}
        }
    }

    /// The host's answer to the configuration's callout `id` (main thread; the views are the
    /// host's, valid during this call): runs the module's configuration callout-done hook unless
    /// the configuration's destroy has started or `id` is not in flight.
    pub fn on_callout_done(
        &self,
        id: u64,
        status: CalloutStatus,
        headers: &[envoyx_header],
        body: &[envoyx_bytes],
    ) {
        if !self.background.alive() || self.background.take_callout(id).is_none_or(|c| c.streaming) {
            return;
        }
        let Some(hook) = self.module.hooks.filter_config_callout_done else { return };
        let config = self.module_config.as_ptr();
        // Safety: the hook has the header's type; the module config lives as long as `self`; the
        // views are valid during this call.
        self.in_hook(|| unsafe {
            hook(config, id, status as u32, headers.as_ptr(), headers.len(), body.as_ptr(), body.len())
        });
    }

    /// The host's news of the configuration's streaming callout `id` (main thread; the views are
    /// the host's, valid during this call): runs the module's configuration callout-event hook
    /// unless the configuration's destroy has started or `id` is not a streaming callout still
    /// open. News that arrives while one of the configuration's hooks runs (the proxy answering
    /// inside the module's call) is copied and delivered after it, through the queue.
    pub fn on_callout_event(&self, id: u64, event: crate::CalloutEvent<'_>) {
        if !self.background.alive() {
            return;
        }
        if self.background.in_hook.load(Ordering::Acquire) {
            let event = Box::new(crate::stream::callout_data::OwnedCalloutEvent::copy(&event));
            let _ = self.background.push(ConfigWork::CalloutEvent { id, event });
            return;
        }
        let open = if event.is_last() {
            self.background.take_callout(id).is_some_and(|c| c.streaming)
        } else {
            self.background.is_streaming(id)
        };
        if !open {
            return;
        }
        let Some(hook) = self.module.hooks.filter_config_callout_event else { return };
        let config = self.module_config.as_ptr();
        let (kind, status, headers, headers_len, data, data_len, end) =
            crate::stream::callout_stream::hook_args(&event);
        // Safety: the hook has the header's type; the module config lives as long as `self`; the
        // views are valid during this call.
        self.in_hook(|| unsafe { hook(config, id, kind, status, headers, headers_len, data, data_len, end) });
    }

    /// Runs one of the configuration's main-thread hooks (where callouts may start).
    fn in_hook(&self, call: impl FnOnce()) {
        self.background.in_hook.store(true, Ordering::Release);
        call();
        self.background.in_hook.store(false, Ordering::Release);
    }

    /// The configuration's name (for logs).
    pub fn name(&self) -> &str {
        &self.labels.filter
    }

    /// The metrics the module defined, in id order (id 1 first).
    pub fn metric_defs(&self) -> impl Iterator<Item = &crate::MetricDef> {
        self.metrics.iter().map(|m| &m.def)
    }

    /// Whether the configuration callout `id` is this version's and still in flight.
    pub(crate) fn has_callout(&self, id: u64) -> bool {
        self.background.has_callout(id)
    }

    /// The first segment of the module's metric names.
    pub fn metric_prefix(&self) -> &str {
        &self.background.metric_prefix
    }

    /// The loaded module.
    pub fn module(&self) -> &Arc<Module> {
        &self.module
    }

    /// How many of this version's streams started, were completed and were destroyed so far.
    pub fn stream_counts(&self) -> StreamCounts {
        self.streams.counts()
    }
}

impl ConfigVersion {
    /// Starts a stream on `host`: calls the module's stream-new hook.
    pub fn new_stream(self: &Arc<Self>, host: Box<dyn crate::HostStream>) -> crate::Stream {
        crate::Stream::new(self.clone(), host)
    }
}

impl StreamConfig for ConfigVersion {
    fn name(&self) -> &str {
        &self.labels.filter
    }

    fn hooks(&self) -> &Hooks {
        &self.module.hooks
    }

    fn module_config(&self) -> *mut c_void {
        self.module_config.as_ptr()
    }

    fn labels(&self) -> &Labels {
        &self.labels
    }

    fn metrics(&self) -> &[crate::stream::metrics::Metric] {
        &self.metrics
    }

    fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    fn stream_counters(&self) -> &StreamCounters {
        &self.streams
    }

    fn module_id(&self) -> *const () {
        Arc::as_ptr(&self.module).cast()
    }
}

impl Drop for ConfigVersion {
    fn drop(&mut self) {
        // No event is delivered once destroy has started; later scheduling returns false.
        self.background.close();
        let destroy = self.module.hooks.filter_config_destroy;
        // Safety: every stream holds an Arc to this config, so none is alive; destroyed once.
        unsafe { destroy(self.module_config.as_ptr()) };
        crate::lifecycle::config_destroyed();
        // Every stream holds this version, so all are destroyed; `completed` falls short by the
        // streams the host destroyed without reporting them complete.
        core_log!(
            Info,
            "{}{}` (module {}{}{}; in this process: {}",
            crate::lifecycle::DESTROYED_PREFIX,
            self.labels.filter,
            self.labels.module,
            crate::lifecycle::DESTROYED_MARK,
            self.streams.counts(),
            crate::lifecycle::totals()
        );
    }
}
