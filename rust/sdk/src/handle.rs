//! Resuming a stream from any thread.

use std::fmt;
use std::sync::Arc;

use envoyx_abi::{envoyx_host_api, envoyx_stream_handle};

use crate::Direction;

/// A thread-safe handle for resuming a stream after a hook returned a stop status, made by
/// [`Stream::continue_handle`](crate::Stream::continue_handle).
///
/// Clone it freely and move it to any thread: clones share one host handle, which is released
/// exactly once, when the last clone is dropped. The resume itself happens later on the stream's
/// worker thread, never inside the call. Using a handle after the stream ended is harmless: the
/// calls return false and do nothing.
///
/// ```
/// use std::time::Duration;
///
/// use envoyx_sdk::{Filter, HeadersStatus, Stream};
///
/// struct WaitABit;
///
/// impl Filter for WaitABit {
///     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
///         let handle = stream.continue_handle();
///         std::thread::spawn(move || {
///             std::thread::sleep(Duration::from_millis(50));
///             if !handle.continue_request() {
///                 envoyx_sdk::debug!("stream ended while we waited");
///             }
///         });
///         HeadersStatus::StopIteration
///     }
/// }
/// ```
#[derive(Clone)]
pub struct ContinueHandle {
    inner: Arc<OwnedHandle>,
}

/// The host handle; released when dropped.
struct OwnedHandle {
    raw: *mut envoyx_stream_handle,
    host: &'static envoyx_host_api,
}

// Safety: the handle's functions (`stream_handle_continue`, `stream_handle_release`) may be
// called from any thread at any time (x/abi.h), and `OwnedHandle` has no other state.
unsafe impl Send for OwnedHandle {}
// Safety: as above; `stream_handle_continue` may be called from several threads at once.
unsafe impl Sync for OwnedHandle {}

impl Drop for OwnedHandle {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            // Safety: we own the handle (from `stream_handle_new`) and this is the only release:
            // `OwnedHandle` is dropped once, when the last `ContinueHandle` clone goes.
            unsafe { (self.host.stream_handle_release)(self.raw) }
        }
    }
}

impl ContinueHandle {
    /// Takes ownership of `raw`, as `stream_handle_new` returned it (NULL gives a handle whose
    /// calls return false).
    pub(crate) fn from_raw(raw: *mut envoyx_stream_handle, host: &'static envoyx_host_api) -> Self {
        ContinueHandle { inner: Arc::new(OwnedHandle { raw, host }) }
    }

    /// Asks the host to resume the request. False when the stream is already gone. Resuming a
    /// direction that is not stopped, or resuming twice, is ignored safely.
    ///
    /// ```
    /// use envoyx_sdk::ContinueHandle;
    ///
    /// fn release(handle: ContinueHandle) {
    ///     std::thread::spawn(move || handle.continue_request());
    /// }
    /// ```
    pub fn continue_request(&self) -> bool {
        self.continue_direction(Direction::Request)
    }

    /// Asks the host to resume the response. False when the stream is already gone.
    ///
    /// ```
    /// use envoyx_sdk::ContinueHandle;
    ///
    /// fn release(handle: ContinueHandle) {
    ///     std::thread::spawn(move || handle.continue_response());
    /// }
    /// ```
    pub fn continue_response(&self) -> bool {
        self.continue_direction(Direction::Response)
    }

    /// Asks the host to resume `direction`. False when the stream is already gone.
    ///
    /// ```
    /// use envoyx_sdk::{ContinueHandle, Direction};
    ///
    /// fn release_both(handle: &ContinueHandle) -> bool {
    ///     handle.continue_direction(Direction::Request) && handle.continue_direction(Direction::Response)
    /// }
    /// ```
    pub fn continue_direction(&self, direction: Direction) -> bool {
        if self.inner.raw.is_null() {
            return false;
        }
        // Safety: any thread may call this on a handle it owns and has not released (x/abi.h);
        // `inner` keeps the handle unreleased while `self` exists.
        unsafe { (self.inner.host.stream_handle_continue)(self.inner.raw, direction as u32) }
    }
}

impl fmt::Debug for ContinueHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContinueHandle").field("raw", &self.inner.raw).finish()
    }
}
