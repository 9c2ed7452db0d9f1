//! Reaching a stream or a filter configuration from any thread: resume a stream, or schedule a
//! call back into it or into the configuration.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use envoyx_abi::{envoyx_config_handle, envoyx_error, envoyx_host_api, envoyx_stream_handle};

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
///         let _ = envoyx_sdk::thread::spawn(move || {
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
    inner: Arc<OwnedHandle<envoyx_stream_handle>>,
}

/// The name this handle had in ABI 1.0 SDKs, when it could only resume a stream.
pub type ContinueHandle = StreamHandle;

/// A host handle (stream or configuration); released when dropped.
struct OwnedHandle<T> {
    raw: *mut T,
    host: &'static envoyx_host_api,
    release: unsafe extern "C" fn(*mut T),
}

// Safety: a handle's functions (`*_handle_continue`, `*_handle_schedule`, `*_handle_release`)
// may be called from any thread at any time (x/abi.h), and `OwnedHandle` has no other state.
unsafe impl<T> Send for OwnedHandle<T> {}
// Safety: as above; they may be called from several threads at once.
unsafe impl<T> Sync for OwnedHandle<T> {}

impl<T> Drop for OwnedHandle<T> {
    fn drop(&mut self) {
        if !self.raw.is_null() {
            // Safety: we own the handle (from its `*_handle_new`) and this is the only release:
            // `OwnedHandle` is dropped once, when the last clone of its wrapper goes.
            unsafe { (self.release)(self.raw) }
        }
    }
}

impl StreamHandle {
    /// Takes ownership of `raw`, as `stream_handle_new` returned it (NULL gives a handle whose
    /// calls return false).
    pub(crate) fn from_raw(raw: *mut envoyx_stream_handle, host: &'static envoyx_host_api) -> Self {
        StreamHandle { inner: Arc::new(OwnedHandle { raw, host, release: host.stream_handle_release }) }
    }

    /// Asks the host to resume the request. False when the stream is already gone. Resuming a
    /// direction that is not stopped, or resuming twice, is ignored safely.
    ///
    /// ```
    /// use envoyx_sdk::ContinueHandle;
    ///
    /// fn release(handle: ContinueHandle) {
    ///     let _ = envoyx_sdk::thread::spawn(move || {
    ///         handle.continue_request();
    ///     });
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
    ///     let _ = envoyx_sdk::thread::spawn(move || {
    ///         handle.continue_response();
    ///     });
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
    ///     let _ = envoyx_sdk::thread::spawn(move || {
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

/// A thread-safe (`Send + Sync`) handle to a filter configuration, for background work that
/// outlives streams (refreshing keys, reloading a policy): [`schedule`](Self::schedule) from any
/// thread runs [`FilterConfig::on_scheduled`](crate::FilterConfig::on_scheduled) on the host's
/// main thread, while the configuration lives and never after it is dropped.
///
/// Take it inside [`FilterConfig::new`](crate::FilterConfig::new) with
/// [`ConfigHandle::for_new_config`] and keep it (in the configuration, or in the thread doing
/// the work). Clones share one host handle, released when the last goes.
///
/// ```
/// use std::sync::RwLock;
///
/// use envoyx_sdk::{ConfigHandle, Filter, FilterConfig};
///
/// const REFRESH: u64 = 1;
///
/// struct Keys {
///     keys: RwLock<Vec<String>>,
/// }
///
/// struct UsesKeys;
/// impl Filter for UsesKeys {}
///
/// impl FilterConfig for Keys {
///     type Filter = UsesKeys;
///
///     fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
///         if let Some(handle) = ConfigHandle::for_new_config() {
///             let _ = envoyx_sdk::thread::spawn(move || {
///                 // ... fetch new keys somewhere, then:
///                 handle.schedule(REFRESH);
///             });
///         }
///         Ok(Keys { keys: RwLock::new(vec!["k1".into()]) })
///     }
///
///     fn new_filter(&self) -> UsesKeys {
///         UsesKeys
///     }
///
///     fn on_scheduled(&self, event_id: u64) {
///         if event_id == REFRESH {
///             self.keys.write().unwrap().push("k2".into());
///         }
///     }
/// }
/// ```
#[derive(Clone)]
pub struct ConfigHandle {
    inner: Arc<OwnedHandle<envoyx_config_handle>>,
}

thread_local! {
    /// While the SDK runs `FilterConfig::new`: the host's `error` argument of that call, which
    /// identifies the configuration being created (`config_handle_new`).
    static CREATING: Cell<*mut envoyx_error> = const { Cell::new(std::ptr::null_mut()) };
}

/// Marks the configuration being created on this thread for [`ConfigHandle::for_new_config`]
/// until the guard drops.
pub(crate) struct Creating(());

impl Creating {
    pub(crate) fn enter(error: *mut envoyx_error) -> Self {
        CREATING.with(|c| c.set(error));
        Creating(())
    }
}

/// The host's `error` argument of the `envoyx_on_filter_config_new` call running on this thread
/// (NULL outside `FilterConfig::new`).
pub(crate) fn creating() -> *mut envoyx_error {
    CREATING.with(Cell::get)
}

impl Drop for Creating {
    fn drop(&mut self) {
        CREATING.with(|c| c.set(std::ptr::null_mut()));
    }
}

impl ConfigHandle {
    /// Inside [`FilterConfig::new`](crate::FilterConfig::new): a handle to the configuration
    /// being created. None elsewhere, or when the host does not deliver configuration events
    /// (then [`schedule`](Self::schedule) would do nothing anyway).
    pub fn for_new_config() -> Option<ConfigHandle> {
        let creating = creating();
        let host = crate::host::host()?;
        if creating.is_null() {
            return None;
        }
        // Safety: `creating` is the host's error argument of the `envoyx_on_filter_config_new`
        // call running on this thread (set by the dispatcher around `FilterConfig::new`).
        let raw = unsafe { (host.config_handle_new)(creating) };
        (!raw.is_null()).then(|| ConfigHandle {
            inner: Arc::new(OwnedHandle { raw, host, release: host.config_handle_release }),
        })
    }

    /// Inside [`FilterConfig::on_scheduled`](crate::FilterConfig::on_scheduled) or
    /// [`FilterConfig::on_callout_done`](crate::FilterConfig::on_callout_done) (the main
    /// thread): an HTTP callout for the configuration, as
    /// [`Stream::http_callout`](crate::Stream::http_callout) does for a stream; answered in
    /// `FilterConfig::on_callout_done`. `None` when refused (a warning names why).
    pub fn http_callout(
        &self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: std::time::Duration,
    ) -> Option<crate::CalloutId> {
        crate::callout::send(cluster, headers, body, timeout, |cluster, headers, count, body, timeout_ms| {
            // Safety: a handle we own and have not released; the views are valid during the call.
            unsafe {
                (self.inner.host.config_http_callout)(
                    self.inner.raw,
                    cluster,
                    headers,
                    count,
                    body,
                    timeout_ms,
                )
            }
        })
    }

    /// Inside one of the configuration's main-thread hooks: a streaming callout for the
    /// configuration, as [`Stream::start_callout_stream`](crate::Stream::start_callout_stream)
    /// does for a stream; its events go to
    /// [`FilterConfig::on_callout_event`](crate::FilterConfig::on_callout_event) while the
    /// configuration lives (open ones are reset when it is dropped). For background work that
    /// listens: a long poll, a stream of policy updates. `None` when refused (a warning names why).
    pub fn start_callout_stream(
        &self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        end_of_stream: bool,
        timeout: std::time::Duration,
    ) -> Option<crate::CalloutId> {
        crate::callout::send(cluster, headers, body, timeout, |cluster, headers, count, body, timeout_ms| {
            // Safety: a handle we own and have not released; the views are valid during the call.
            unsafe {
                (self.inner.host.config_callout_stream_start)(
                    self.inner.raw,
                    cluster,
                    headers,
                    count,
                    body,
                    end_of_stream,
                    timeout_ms,
                )
            }
        })
    }

    /// As [`Stream::start_grpc_call`](crate::Stream::start_grpc_call), for the configuration
    /// (inside one of its main-thread hooks; the events go to
    /// [`FilterConfig::on_callout_event`](crate::FilterConfig::on_callout_event)).
    pub fn start_grpc_call(
        &self,
        cluster: &str,
        call: &crate::grpc::GrpcCall<'_>,
    ) -> Option<crate::grpc::GrpcUnary> {
        crate::grpc::start(cluster, call, |headers, body| {
            self.start_callout_stream(cluster, headers, body, true, call.timeout)
        })
    }

    /// As [`Stream::callout_stream_send`](crate::Stream::callout_stream_send), for the
    /// configuration's streaming callout `id` (inside one of its main-thread hooks).
    pub fn callout_stream_send(&self, id: crate::CalloutId, data: &[u8], end_of_stream: bool) -> bool {
        let data = envoyx_abi::envoyx_bytes::from_slice(data);
        // Safety: a handle we own and have not released; the view is valid during the call.
        unsafe { (self.inner.host.config_callout_stream_send)(self.inner.raw, id, data, end_of_stream) }
    }

    /// As [`Stream::callout_stream_send_trailers`](crate::Stream::callout_stream_send_trailers),
    /// for the configuration's streaming callout `id`.
    pub fn callout_stream_send_trailers(&self, id: crate::CalloutId, trailers: &[(&str, &str)]) -> bool {
        let views = crate::callout::header_views(trailers);
        // Safety: a handle we own and have not released; the views are valid during the call.
        unsafe {
            (self.inner.host.config_callout_stream_send_trailers)(
                self.inner.raw,
                id,
                views.as_ptr(),
                views.len(),
            )
        }
    }

    /// As [`Stream::callout_stream_reset`](crate::Stream::callout_stream_reset), for the
    /// configuration's streaming callout `id`.
    pub fn callout_stream_reset(&self, id: crate::CalloutId) -> bool {
        // Safety: a handle we own and have not released.
        unsafe { (self.inner.host.config_callout_stream_reset)(self.inner.raw, id) }
    }

    /// Asks the host to call [`FilterConfig::on_scheduled`](crate::FilterConfig::on_scheduled)
    /// with `event_id` on its main thread. False (nothing scheduled) once the configuration is
    /// being dropped, or on a host that delivers no configuration events.
    pub fn schedule(&self, event_id: u64) -> bool {
        // Safety: any thread may call this on a handle it owns and has not released (x/abi.h);
        // `inner` keeps it unreleased while `self` exists.
        unsafe { (self.inner.host.config_handle_schedule)(self.inner.raw, event_id) }
    }
}

impl fmt::Debug for ConfigHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigHandle").field("raw", &self.inner.raw).finish()
    }
}
