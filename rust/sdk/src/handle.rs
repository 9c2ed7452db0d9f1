//! Reaching a stream from any thread: resume it, or schedule a call back into it.

use std::fmt;
use std::sync::Arc;

use envoyx_abi::{envoyx_host_api, envoyx_stream_handle};

use crate::Direction;

/// A thread-safe (`Send + Sync`) handle to a stream, made by [`Stream::handle`](crate::Stream::handle):
/// from any thread it resumes a direction a hook stopped ([`continue_request`](Self::continue_request))
/// or schedules a call of [`Filter::on_scheduled`](crate::Filter::on_scheduled) on the stream's
/// worker thread ([`schedule`](Self::schedule)), where the filter can decide with the whole
/// stream API: answer 401, set a header, reset, continue.
///
/// Clone it freely and move it to any thread: clones share one host handle, which is released
/// exactly once, when the last clone is dropped. What it asks for happens later on the stream's
/// worker thread, never inside the call, in the order asked for. Using a handle after the stream
/// ended is harmless: the calls return false and do nothing.
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
pub struct StreamHandle {
    inner: Arc<OwnedHandle>,
}

/// The name this handle had in ABI 1.0 SDKs, when it could only resume a stream.
pub type ContinueHandle = StreamHandle;

/// The host handle; released when dropped.
struct OwnedHandle {
    raw: *mut envoyx_stream_handle,
    host: &'static envoyx_host_api,
}

// Safety: the handle's functions (`stream_handle_continue`, `stream_handle_schedule`,
// `stream_handle_release`) may be called from any thread at any time (x/abi.h), and
// `OwnedHandle` has no other state.
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

impl StreamHandle {
    /// Takes ownership of `raw`, as `stream_handle_new` returned it (NULL gives a handle whose
    /// calls return false).
    pub(crate) fn from_raw(raw: *mut envoyx_stream_handle, host: &'static envoyx_host_api) -> Self {
        StreamHandle { inner: Arc::new(OwnedHandle { raw, host }) }
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

    /// Asks the host to call [`Filter::on_scheduled`](crate::Filter::on_scheduled) with
    /// `event_id` on the stream's worker thread. False when the stream is already gone (then
    /// nothing is scheduled); an event still queued when the stream completes is dropped.
    ///
    /// ```
    /// use envoyx_sdk::StreamHandle;
    ///
    /// const TOKEN_CHECKED: u64 = 7;
    ///
    /// fn check_in_background(handle: StreamHandle) {
    ///     std::thread::spawn(move || {
    ///         // ... the slow work ...
    ///         handle.schedule(TOKEN_CHECKED);
    ///     });
    /// }
    /// ```
    pub fn schedule(&self, event_id: u64) -> bool {
        if self.inner.raw.is_null() {
            return false;
        }
        // Safety: as in `continue_direction`.
        unsafe { (self.inner.host.stream_handle_schedule)(self.inner.raw, event_id) }
    }
}

impl fmt::Debug for StreamHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamHandle").field("raw", &self.inner.raw).finish()
    }
}
