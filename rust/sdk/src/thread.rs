//! Threads for a module's background work that leave nothing behind on the proxy's threads, so
//! that a hot-reloaded version of the module can be unloaded once its streams are done.
//!
//! `std::thread::spawn` stores, on the thread that calls it, a thread-local value with a
//! destructor (std's spawn hooks). A destructor is module code, so the dynamic loader (glibc)
//! keeps the module mapped until that thread exits; called from a hook, that thread is one of
//! Envoy's, which lives as long as Envoy. [`spawn`] creates the thread with `pthread_create`
//! instead, touching nothing of the caller's; the new thread registers a destructor of its own,
//! which keeps the module mapped exactly until the thread has finished running its code.
//!
//! The same holds for a module's own `thread_local!` values with `Drop` used from a hook: they
//! keep the module in memory until Envoy's thread exits (EnvoyX logs it when a drained version
//! stays mapped).
//!
//! A thread that registers no such destructor — one a C library the module links starts, or a
//! raw `pthread_create` — is not seen by the dynamic loader: if it still runs when the host
//! unmaps the module, it runs unmapped code and the proxy dies. The host unmaps a module only
//! when it says it may (`envoyx_on_program_unload`, which the SDK exports): call
//! [`keep_module_mapped`] when the module starts such threads, and this version stays mapped.

use std::ffi::{c_int, c_ulong, c_void};

// glibc and musl on Linux: `pthread_t` is an unsigned long.
#[allow(non_camel_case_types)]
type pthread_t = c_ulong;

unsafe extern "C" {
    fn pthread_create(
        thread: *mut pthread_t,
        attributes: *const c_void,
        start: extern "C" fn(*mut c_void) -> *mut c_void,
        argument: *mut c_void,
    ) -> c_int;
    fn pthread_detach(thread: pthread_t) -> c_int;
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// Set by [`keep_module_mapped`].
static KEEP_MAPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Keeps this loaded module mapped until the process exits, even after its last configuration
/// is gone (a hot-reloaded version that drained, a configuration removed): for a module that
/// starts threads the dynamic loader cannot see (a C library's, a raw `pthread_create`), which
/// could still run its code. Threads from Rust's std or [`spawn`] need nothing. Costs the
/// module's memory for each version kept.
pub fn keep_module_mapped() {
    KEEP_MAPPED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether [`keep_module_mapped`] was called.
pub(crate) fn module_kept_mapped() -> bool {
    KEEP_MAPPED.load(std::sync::atomic::Ordering::Relaxed)
}

/// A destructor registered on the new thread: the dynamic loader counts it against the module,
/// so the module is not unmapped while the thread still runs its code.
struct KeepsModuleMapped;

impl Drop for KeepsModuleMapped {
    fn drop(&mut self) {}
}

thread_local! {
    static KEEPS_MODULE_MAPPED: KeepsModuleMapped = const { KeepsModuleMapped };
}

extern "C" fn run(argument: *mut c_void) -> *mut c_void {
    // Safety: `argument` is the `Box<Job>` that `spawn` leaked for this thread alone.
    let job = unsafe { Box::from_raw(argument.cast::<Job>()) };
    KEEPS_MODULE_MAPPED.with(|_| {});
    // A panic must not unwind into pthread's frames; it is logged as one line.
    if let Err(payload) = crate::panics::catch_unwind(std::panic::AssertUnwindSafe(job)) {
        crate::panics::report_panic("a job of envoyx_sdk::thread::spawn", payload);
    }
    std::ptr::null_mut()
}

/// Runs `job` on a new, detached thread (for background work of a hook: continuing a stream
/// later, refreshing a configuration). Unlike `std::thread::spawn`, it leaves no thread-local
/// destructor on the calling thread, so the module can still be unloaded after a hot reload. A
/// panic in `job` ends the thread and is logged through the host as one line.
pub fn spawn(job: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let job: Box<Job> = Box::new(Box::new(job));
    let argument = Box::into_raw(job).cast::<c_void>();
    let mut thread: pthread_t = 0;
    // Safety: `run` has pthread's start-routine type and takes ownership of `argument`; the
    // default attributes (NULL) make a joinable thread, detached below.
    let created = unsafe { pthread_create(&mut thread, std::ptr::null(), run, argument) };
    if created != 0 {
        // Safety: the thread was not created, so `argument` is still ours.
        drop(unsafe { Box::from_raw(argument.cast::<Job>()) });
        return Err(std::io::Error::from_raw_os_error(created));
    }
    // Safety: `thread` was just created and is neither joined nor detached yet.
    unsafe { pthread_detach(thread) };
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_job_runs_on_another_thread() {
        let (send, receive) = std::sync::mpsc::channel();
        let caller = std::thread::current().id();
        super::spawn(move || send.send(std::thread::current().id()).unwrap()).unwrap();
        let ran_on = receive.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        assert_ne!(ran_on, caller);
    }

    #[test]
    fn a_panicking_job_ends_only_its_thread() {
        let (send, receive) = std::sync::mpsc::channel::<()>();
        super::spawn(move || {
            let _keep = send;
            panic!("boom in a background job");
        })
        .unwrap();
        // The sender is dropped by the unwinding job: the channel closes, nothing else happens.
        assert!(receive.recv_timeout(std::time::Duration::from_secs(10)).is_err());
    }
}
