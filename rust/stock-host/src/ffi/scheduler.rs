//! Envoy's HTTP-filter schedulers, of a stream (worker thread) or of a filter configuration (main
//! thread).

use std::ffi::c_void;
use std::ptr::NonNull;

use super::*;

/// A scheduler that wakes the main thread for a filter configuration (`on_http_filter_config_
/// scheduled`). Main thread, with the `config_envoy` pointer Envoy passed to config_new.
pub fn new_config_scheduler(config_envoy: ConfigEnvoyPtr) -> Option<Scheduler> {
    // Safety: Envoy's live filter config, on the main thread (config_new).
    NonNull::new(unsafe { envoy_dynamic_module_callback_http_filter_config_scheduler_new(config_envoy) })
        .map(|ptr| Scheduler { ptr, of: SchedulerOf::Config })
}

/// Whose scheduler: a stream's (worker thread) or a filter configuration's (main thread).
#[derive(Clone, Copy)]
enum SchedulerOf {
    Stream,
    Config,
}

/// An Envoy HTTP-filter scheduler: [`Scheduler::commit`] from any thread makes Envoy call
/// `on_http_filter_scheduled` on the stream's worker thread (or `on_http_filter_config_scheduled`
/// on the main thread), or nothing once the filter (config) is gone. Dropping it deletes it.
pub struct Scheduler {
    ptr: NonNull<c_void>,
    of: SchedulerOf,
}

// Safety: Envoy's scheduler commit may be called from any thread; delete happens once, in Drop.
unsafe impl Send for Scheduler {}
// Safety: as above; `commit` takes `&self` and Envoy's commit only posts to a dispatcher.
unsafe impl Sync for Scheduler {}

impl Scheduler {
    /// The scheduler `scheduler_new` made for a stream (worker thread).
    pub(super) fn of_stream(ptr: NonNull<c_void>) -> Self {
        Scheduler { ptr, of: SchedulerOf::Stream }
    }

    pub fn commit(&self, event_id: u64) {
        let commit = match self.of {
            SchedulerOf::Stream => envoy_dynamic_module_callback_http_filter_scheduler_commit,
            SchedulerOf::Config => envoy_dynamic_module_callback_http_filter_config_scheduler_commit,
        };
        // Safety: the scheduler is alive until Drop; commit is callable from any thread.
        unsafe { commit(self.ptr.as_ptr(), event_id) }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        let delete = match self.of {
            SchedulerOf::Stream => envoy_dynamic_module_callback_http_filter_scheduler_delete,
            SchedulerOf::Config => envoy_dynamic_module_callback_http_filter_config_scheduler_delete,
        };
        // Safety: made by the matching scheduler_new, deleted exactly once, here.
        unsafe { delete(self.ptr.as_ptr()) }
    }
}

unsafe extern "C" {
    fn envoy_dynamic_module_callback_http_filter_scheduler_new(filter: FilterEnvoyPtr) -> SchedulerPtr;
    fn envoy_dynamic_module_callback_http_filter_scheduler_commit(scheduler: SchedulerPtr, event_id: u64);
    fn envoy_dynamic_module_callback_http_filter_scheduler_delete(scheduler: SchedulerPtr);
    fn envoy_dynamic_module_callback_http_filter_config_scheduler_new(config: ConfigEnvoyPtr)
    -> SchedulerPtr;
    fn envoy_dynamic_module_callback_http_filter_config_scheduler_commit(
        scheduler: SchedulerPtr,
        event_id: u64,
    );
    fn envoy_dynamic_module_callback_http_filter_config_scheduler_delete(scheduler: SchedulerPtr);
}

impl EnvoyFilter {
    /// A scheduler that wakes this stream on its worker thread. Must be called inside an event
    /// hook (Envoy reads the stream's dispatcher, which `on_http_filter_new` does not have yet).
    pub fn new_scheduler(self) -> Option<Scheduler> {
        // Safety: live filter on its worker thread, inside an event hook (see above).
        NonNull::new(unsafe { envoy_dynamic_module_callback_http_filter_scheduler_new(self.raw()) })
            .map(Scheduler::of_stream)
    }
}
