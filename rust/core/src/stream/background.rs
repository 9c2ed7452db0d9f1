//! A filter configuration's background work (ABI 1.1): events a module schedules from any
//! thread through an `envoyx_config_handle`, and HTTP callouts it starts from its configuration
//! hooks, delivered on the host's main thread while the configuration lives, and never once its
//! destroy has started.
//!
//! The queue is the core's, as for streams: a host's [`ConfigHost`] only wakes the main thread,
//! once per queued item, and [`crate::FilterConfig::on_scheduled`] takes the items in order. A
//! callout's answer comes from the host through [`crate::FilterConfig::on_callout_done`], a
//! streaming callout's news through [`crate::FilterConfig::on_callout_event`] (the rules of
//! streaming callouts are `callout_stream.rs`'s, shared with streams).

use crate::log::core_log;
use crate::stream::callout::{Callout, CalloutArgs};
use crate::stream::callout_data::{self, CalloutStatus, InFlight, OwnedCalloutEvent};
use crate::stream::callout_stream;
use crate::sync::lock;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What a host does for a filter configuration on its main thread.
///
/// `wake` may be called from any thread, at any time, even after the configuration is gone;
/// each call stands for one queued item. The host must later, on its main thread, call
/// [`crate::FilterConfig::on_scheduled`] once per wake while it still has the configuration, and
/// otherwise drop the wake.
pub trait ConfigHost: Send + Sync {
    fn wake(&self);

    /// Starts the configuration's HTTP callout `id` (the core has checked it), on the main
    /// thread; its answer goes to [`crate::FilterConfig::on_callout_done`] later, on the main
    /// thread. `Err(status)` when it cannot start. Callouts in flight when the configuration is
    /// destroyed must be cancelled. Hosts without them keep the default.
    fn http_callout(&self, id: u64, callout: &Callout<'_>) -> Result<(), CalloutStatus> {
        let _ = (id, callout);
        Err(CalloutStatus::Unavailable)
    }

    /// Starts the configuration's streaming callout `id` on the main thread, as
    /// [`crate::HostStream::callout_stream_start`] does for a stream; its news goes to
    /// [`crate::FilterConfig::on_callout_event`] (which queues what arrives during one of the
    /// configuration's hooks itself: no inbox here). Open ones are reset when the configuration
    /// is destroyed. Hosts without them keep the defaults.
    fn callout_stream_start(
        &self,
        id: u64,
        callout: &Callout<'_>,
        end_of_stream: bool,
    ) -> Result<(), CalloutStatus> {
        let _ = (id, callout, end_of_stream);
        Err(CalloutStatus::Unavailable)
    }

    /// As [`crate::HostStream::callout_stream_send`].
    fn callout_stream_send(&self, id: u64, data: &[u8], end_of_stream: bool) -> bool {
        let _ = (id, data, end_of_stream);
        false
    }

    /// As [`crate::HostStream::callout_stream_send_trailers`].
    fn callout_stream_send_trailers(
        &self,
        id: u64,
        trailers: &[(std::borrow::Cow<'_, [u8]>, &[u8])],
    ) -> bool {
        let _ = (id, trailers);
        false
    }

    /// As [`crate::HostStream::callout_stream_reset`].
    fn callout_stream_reset(&self, id: u64) {
        let _ = id;
    }

    /// Registers a metric the module defines while its configuration is created (main thread;
    /// the core checked the names): the host's id for it, given back to
    /// [`crate::HostStream::metric_record`], or why the proxy refused it. Hosts without metrics
    /// keep the default.
    fn define_metric(&self, def: &crate::MetricDef) -> Result<u64, String> {
        let _ = def;
        Err("this host keeps no metrics".to_string())
    }

    /// Subscribes to the generic secret `name` the configuration being created declares (main
    /// thread; the core checked the name): `sds_config` empty for a static secret of the
    /// proxy's, else where SDS serves it (an Envoy ConfigSource as JSON). The host's id for it,
    /// given back to [`crate::HostStream::secret_get`], or why the proxy refused it (the
    /// configuration is then rejected). Hosts without secrets keep the default.
    fn subscribe_secret(&self, name: &str, sds_config: &str) -> Result<u64, String> {
        let _ = (name, sds_config);
        Err("this host serves no secrets".to_string())
    }
}

/// Work for the configuration's main-thread hooks.
#[derive(Debug)]
pub(crate) enum ConfigWork {
    Event(u64),
    /// A callout that could not start, answered later like any other.
    CalloutFailed {
        id: u64,
        status: CalloutStatus,
    },
    /// A streaming callout's news that arrived during one of the configuration's hooks.
    CalloutEvent {
        id: u64,
        event: Box<OwnedCalloutEvent>,
    },
}

/// What every `envoyx_config_handle` of a configuration shares; it holds no pointer to the
/// configuration, so a handle that outlives it is harmless.
pub(crate) struct ConfigShared {
    /// Turned off (under the queue's lock) when the configuration's destroy starts, or when its
    /// creation failed.
    alive: AtomicBool,
    queue: Mutex<VecDeque<ConfigWork>>,
    /// The module exports `envoyx_on_filter_config_scheduled`.
    pub schedulable: bool,
    /// The module exports `envoyx_on_filter_config_callout_done`.
    pub callout_done_export: bool,
    /// The module exports `envoyx_on_filter_config_callout_event`.
    pub callout_event_export: bool,
    /// One of the configuration's hooks is running on the main thread (where callouts start).
    pub in_hook: AtomicBool,
    last_callout: AtomicU64,
    /// Callouts started whose end the module has not been told yet.
    callouts: Mutex<Vec<InFlight>>,
    /// None: this host delivers no configuration events (scheduling returns false).
    host: Option<Arc<dyn ConfigHost>>,
    /// The name metrics carry before their own (`<filter>.<name>`).
    pub metric_prefix: String,
    /// The metrics defined while the configuration is created.
    pub defining: crate::stream::metrics::Defining,
}

impl ConfigShared {
    /// The configuration `name` of the module at `module_path` with these hooks.
    pub fn new(
        hooks: &crate::stream::setup::Hooks,
        module_path: &std::path::Path,
        name: &str,
        host: Option<Arc<dyn ConfigHost>>,
        first_callout_id: u64,
        metric_limits: &crate::stream::metrics::MetricLimits,
    ) -> Self {
        // The configuration's name, or the module file's stem, as one stat-name segment.
        let stem = || module_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let prefix = if name.is_empty() { stem() } else { name.to_string() };
        Self {
            metric_prefix: prefix.replace(['.', ' '], "_"),
            defining: crate::stream::metrics::Defining::new(metric_limits.clone()),
            alive: AtomicBool::new(true),
            queue: Mutex::default(),
            schedulable: hooks.filter_config_scheduled.is_some(),
            callout_done_export: hooks.filter_config_callout_done.is_some(),
            callout_event_export: hooks.filter_config_callout_event.is_some(),
            in_hook: AtomicBool::new(false),
            last_callout: AtomicU64::new(first_callout_id.saturating_sub(1)),
            callouts: Mutex::default(),
            host,
        }
    }

    /// Queues `work` and wakes the main thread. An error, with nothing queued, once the
    /// configuration is being destroyed or when the host has no main thread to deliver on.
    pub fn push(&self, work: ConfigWork) -> Result<(), &'static str> {
        let Some(host) = &self.host else {
            return Err("this host delivers no filter-configuration events");
        };
        {
            let mut queue = lock(&self.queue);
            if !self.alive.load(Ordering::Acquire) {
                return Err("the filter configuration is gone");
            }
            queue.push_back(work);
        }
        host.wake();
        Ok(())
    }

    /// The next queued item, while the configuration lives (main thread).
    pub fn pop(&self) -> Option<ConfigWork> {
        let mut queue = lock(&self.queue);
        if !self.alive.load(Ordering::Acquire) {
            return None;
        }
        queue.pop_front()
    }

    /// The configuration is going: later pushes are refused and what is queued is dropped.
    pub fn close(&self) {
        let mut queue = lock(&self.queue);
        self.alive.store(false, Ordering::Release);
        queue.clear();
    }

    /// Starts a callout for the module's configuration: its id, or 0 (logged) when refused.
    pub fn start_callout(&self, args: CalloutArgs<'_>) -> u64 {
        let (exported, export) = (self.callout_done_export, "envoyx_on_filter_config_callout_done");
        self.begin("config_http_callout", args, false, exported, export, |host, id, callout| {
            host.http_callout(id, callout)
        })
    }

    /// Starts a streaming callout for the module's configuration: its id, or 0 (logged).
    pub fn start_callout_stream(&self, args: CalloutArgs<'_>, end_of_stream: bool) -> u64 {
        let (exported, export) = (self.callout_event_export, "envoyx_on_filter_config_callout_event");
        let id =
            self.begin("config_callout_stream_start", args, true, exported, export, |host, id, callout| {
                host.callout_stream_start(id, callout, end_of_stream)
            });
        if id != 0 && end_of_stream {
            callout_data::ended_request(&mut self.in_flight(), id);
        }
        id
    }

    /// What both starts share: the checks, an id, the host asked through `send`; a callout that
    /// cannot start is answered later through the queue.
    fn begin(
        &self,
        what: &str,
        args: CalloutArgs<'_>,
        streaming: bool,
        exported: bool,
        export: &str,
        send: impl FnOnce(&dyn ConfigHost, u64, &Callout<'_>) -> Result<(), CalloutStatus>,
    ) -> u64 {
        let cluster = String::from_utf8_lossy(args.cluster).into_owned();
        let refuse = |reason: &str| {
            core_log!(Warn, "EnvoyX module: {what} to `{cluster}` refused: {reason}");
            0
        };
        if !exported {
            return refuse(&format!("the module does not export {export}"));
        }
        if !self.in_hook.load(Ordering::Acquire) || !self.alive.load(Ordering::Acquire) {
            return refuse(
                "configuration callouts start from the configuration's scheduled or callout hooks, \
                 on the main thread",
            );
        }
        let Some(host) = &self.host else { return refuse("this host sends no configuration callouts") };
        let callout = match crate::stream::callout::check(args) {
            Ok(callout) => callout,
            Err(reason) => return refuse(&reason),
        };
        let id = self.last_callout.fetch_add(1, Ordering::AcqRel) + 1;
        // In flight before the host starts it: a host may learn of its end while starting it.
        self.in_flight().push(InFlight { id, streaming, request_ended: false });
        if let Err(status) = send(host.as_ref(), id, &callout) {
            // Answered later, through the queue.
            let _ = self.push(ConfigWork::CalloutFailed { id, status });
        }
        id
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, Vec<InFlight>> {
        lock(&self.callouts)
    }

    /// Checks a call on the configuration's streaming callout `id` (`rule` over the callouts in
    /// flight, inside one of its hooks); logs the refusal.
    fn allowed(&self, what: &str, id: u64, rule: fn(&[InFlight], u64) -> Result<(), &'static str>) -> bool {
        let refusal = if !self.in_hook.load(Ordering::Acquire) || !self.alive.load(Ordering::Acquire) {
            Err("only inside the configuration's hooks, on the main thread")
        } else {
            rule(&self.in_flight(), id)
        };
        if let Err(reason) = refusal {
            core_log!(Warn, "EnvoyX module: {what} on configuration callout {id} refused: {reason}");
        }
        refusal.is_ok()
    }

    /// `config_callout_stream_send`.
    pub fn callout_stream_send(&self, id: u64, data: &[u8], end_of_stream: bool) -> bool {
        let Some(host) = &self.host else { return false };
        if !self.allowed("config_callout_stream_send", id, callout_data::sendable_in) {
            return false;
        }
        if end_of_stream {
            callout_data::ended_request(&mut self.in_flight(), id);
        }
        host.callout_stream_send(id, data, end_of_stream)
    }

    /// `config_callout_stream_send_trailers`.
    pub fn callout_stream_send_trailers(&self, id: u64, trailers: &[(&[u8], &[u8])]) -> bool {
        let what = "config_callout_stream_send_trailers";
        let Some(host) = &self.host else { return false };
        if !self.allowed(what, id, callout_data::sendable_in) {
            return false;
        }
        let checked = match callout_stream::check_trailers(trailers) {
            Ok(checked) => checked,
            Err(reason) => {
                core_log!(Warn, "EnvoyX module: {what} on configuration callout {id} refused: {reason}");
                return false;
            }
        };
        callout_data::ended_request(&mut self.in_flight(), id);
        host.callout_stream_send_trailers(id, &checked)
    }

    /// `config_callout_stream_reset`: the module hears nothing more of `id`.
    pub fn callout_stream_reset(&self, id: u64) -> bool {
        let Some(host) = &self.host else { return false };
        if !self.allowed("config_callout_stream_reset", id, callout_data::open_in) {
            return false;
        }
        self.take_callout(id);
        host.callout_stream_reset(id);
        true
    }

    /// Takes `id` off the callouts in flight: what it was, or None when it is not one.
    pub fn take_callout(&self, id: u64) -> Option<InFlight> {
        let mut callouts = self.in_flight();
        let at = callouts.iter().position(|c| c.id == id)?;
        Some(callouts.swap_remove(at))
    }

    /// Whether `id` is a callout in flight.
    pub fn has_callout(&self, id: u64) -> bool {
        self.in_flight().iter().any(|c| c.id == id)
    }

    /// Whether `id` is a streaming callout in flight.
    pub fn is_streaming(&self, id: u64) -> bool {
        callout_data::open_in(&self.in_flight(), id).is_ok()
    }

    /// `metric_define` for the configuration being created.
    pub fn define_metric(&self, kind: u32, name: &[u8], label_names: &[&[u8]]) -> u64 {
        self.defining.define(&self.metric_prefix, self.host.as_deref(), kind, name, label_names)
    }

    /// The metrics defined while the configuration was created, frozen (with the configuration's
    /// overflow counter when one has labels).
    pub fn freeze_metrics(&self) -> Box<[crate::stream::metrics::Metric]> {
        self.defining.freeze(&self.metric_prefix, self.host.as_deref())
    }

    /// Whether the configuration still takes deliveries.
    pub fn alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }
}
