//! The proxy's worker threads (ABI 1.2 `worker_count`): how many there are, as the host learned
//! it on its main thread (Envoy answers only there), kept for modules on every thread.

use std::sync::atomic::{AtomicU32, Ordering};

static WORKER_COUNT: AtomicU32 = AtomicU32::new(0);

/// The host tells how many worker threads its proxy runs (Envoy's `--concurrency`); call it on
/// the main thread before modules ask, e.g. at the host's own program init.
pub fn set_worker_count(count: u32) {
    WORKER_COUNT.store(count, Ordering::Relaxed);
}

/// How many worker threads the proxy runs; 0 when the host has not said.
pub fn worker_count() -> u32 {
    WORKER_COUNT.load(Ordering::Relaxed)
}
