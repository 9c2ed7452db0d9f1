//! The proxy's worker threads (ABI 1.2): how many there are and which one a stream runs on, for
//! per-worker state (one slot per worker, no lock between them).

use crate::Stream;
use crate::host::host;

/// How many worker threads the proxy runs streams on (Envoy's `--concurrency`); None when the
/// host does not know, or before it initialised the module. Any thread, from the module's
/// program init on.
///
/// ```
/// let slots = envoyx_sdk::worker_count().unwrap_or(1);
/// # let _ = slots;
/// ```
pub fn worker_count() -> Option<u32> {
    // Safety: `worker_count` may be called from any thread at any time (x/abi.h).
    let count = unsafe { (host()?.worker_count)() };
    (count > 0).then_some(count)
}

impl Stream {
    /// The index of the worker thread this stream runs on, from 0 to [`worker_count`] - 1 (every
    /// hook of a stream runs on the same worker); None when the host does not say.
    pub fn worker_index(&self) -> Option<u32> {
        // Safety: inside a hook of this stream on its worker thread (a `Stream` exists only
        // there, after the host initialised the module).
        let index = unsafe { (host()?.worker_index)(self.as_raw()) };
        (index != u32::MAX).then_some(index)
    }
}
