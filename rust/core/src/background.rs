//! A filter configuration's background work (ABI 1.1): events a module schedules from any
//! thread through an `envoyx_config_handle`, and HTTP callouts it starts from its configuration
//! hooks, delivered on the host's main thread while the configuration lives, and never once its
//! destroy has started.
//!
//! The queue is the core's, as for streams: a host's [`ConfigHost`] only wakes the main thread,
//! once per queued item, and [`crate::FilterConfig::on_scheduled`] takes the items in order. A
//! callout's answer comes from the host through [`crate::FilterConfig::on_callout_done`].

use crate::callout::{Callout, CalloutArgs, CalloutStatus};
use crate::log::core_log;
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
}

/// Work for the configuration's main-thread hooks.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ConfigWork {
    Event(u64),
    /// A callout that could not start, answered later like any other.
    CalloutFailed {
        id: u64,
        status: CalloutStatus,
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
    /// One of the configuration's hooks is running on the main thread (where callouts start).
    pub in_hook: AtomicBool,
    last_callout: AtomicU64,
    /// Callouts started and not yet answered.
    callouts: Mutex<Vec<u64>>,
    /// None: this host delivers no configuration events (scheduling returns false).
    host: Option<Arc<dyn ConfigHost>>,
}

impl ConfigShared {
    pub fn new(schedulable: bool, callout_done_export: bool, host: Option<Arc<dyn ConfigHost>>) -> Self {
        Self {
            alive: AtomicBool::new(true),
            queue: Mutex::default(),
            schedulable,
            callout_done_export,
            in_hook: AtomicBool::new(false),
            last_callout: AtomicU64::new(0),
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
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
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
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if !self.alive.load(Ordering::Acquire) {
            return None;
        }
        queue.pop_front()
    }

    /// The configuration is going: later pushes are refused and what is queued is dropped.
    pub fn close(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        self.alive.store(false, Ordering::Release);
        queue.clear();
    }

    /// Starts a callout for the module's configuration: its id, or 0 (logged) when refused.
    pub fn start_callout(&self, args: CalloutArgs<'_>) -> u64 {
        let cluster = String::from_utf8_lossy(args.cluster).into_owned();
        let refuse = |reason: &str| {
            core_log!(Warn, "EnvoyX module: config_http_callout to `{cluster}` refused: {reason}");
            0
        };
        if !self.callout_done_export {
            return refuse("the module does not export envoyx_on_filter_config_callout_done");
        }
        if !self.in_hook.load(Ordering::Acquire) || !self.alive.load(Ordering::Acquire) {
            return refuse(
                "configuration callouts start from the configuration's scheduled or callout-done hook, \
                 on the main thread",
            );
        }
        let Some(host) = &self.host else { return refuse("this host sends no configuration callouts") };
        let callout = match crate::callout::check(args) {
            Ok(callout) => callout,
            Err(reason) => return refuse(&reason),
        };
        let id = self.last_callout.fetch_add(1, Ordering::AcqRel) + 1;
        self.callouts.lock().unwrap_or_else(|e| e.into_inner()).push(id);
        if let Err(status) = host.http_callout(id, &callout) {
            // Answered later, through the queue.
            let _ = self.push(ConfigWork::CalloutFailed { id, status });
        }
        id
    }

    /// Takes `id` off the callouts in flight; false when it is not one.
    pub fn take_callout(&self, id: u64) -> bool {
        let mut callouts = self.callouts.lock().unwrap_or_else(|e| e.into_inner());
        match callouts.iter().position(|c| *c == id) {
            Some(at) => {
                callouts.swap_remove(at);
                true
            }
            None => false,
        }
    }

    /// Whether the configuration still takes deliveries.
    pub fn alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }
}
