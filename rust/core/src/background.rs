//! A filter configuration's background work (ABI 1.1): events a module schedules from any
//! thread through an `envoyx_config_handle`, delivered on the host's main thread while the
//! configuration lives, and never once its destroy has started.
//!
//! The queue is the core's, as for streams: a host's [`ConfigScheduler`] only wakes the main
//! thread, once per queued event, and [`crate::FilterConfig::on_scheduled`] takes the events in
//! order.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Wakes the host's main thread for an event a module scheduled on a filter configuration.
///
/// `wake` may be called from any thread, at any time, even after the configuration is gone;
/// each call stands for one queued event. The host must later, on its main thread, call
/// [`crate::FilterConfig::on_scheduled`] once per wake while it still has the configuration, and
/// otherwise drop the wake.
pub trait ConfigScheduler: Send + Sync {
    fn wake(&self);
}

/// What every `envoyx_config_handle` of a configuration shares; it holds no pointer to the
/// configuration, so a handle that outlives it is harmless.
pub(crate) struct ConfigShared {
    /// Turned off (under the queue's lock) when the configuration's destroy starts, or when its
    /// creation failed.
    alive: AtomicBool,
    queue: Mutex<VecDeque<u64>>,
    /// The module exports `envoyx_on_filter_config_scheduled`.
    pub schedulable: bool,
    /// None: this host delivers no configuration events (scheduling returns false).
    scheduler: Option<Arc<dyn ConfigScheduler>>,
}

impl ConfigShared {
    pub fn new(schedulable: bool, scheduler: Option<Arc<dyn ConfigScheduler>>) -> Self {
        Self { alive: AtomicBool::new(true), queue: Mutex::default(), schedulable, scheduler }
    }

    /// Queues `event_id` and wakes the main thread. False, with nothing queued, once the
    /// configuration is being destroyed or when the host has no main-thread scheduler.
    pub fn push(&self, event_id: u64) -> Result<(), &'static str> {
        let Some(scheduler) = &self.scheduler else {
            return Err("this host delivers no filter-configuration events");
        };
        {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            if !self.alive.load(Ordering::Acquire) {
                return Err("the filter configuration is gone");
            }
            queue.push_back(event_id);
        }
        scheduler.wake();
        Ok(())
    }

    /// The next queued event, while the configuration lives (main thread).
    pub fn pop(&self) -> Option<u64> {
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
}
