//! The exports that concern one stream (worker thread): the stream's state, running a filter hook
//! with panics caught and reported to the host (`hook_failed`), the event shims, scheduled
//! events and callouts, complete and destroy.

use crate::panics::{catch_unwind, panic_reason, report_panic};
use std::cell::{Cell, UnsafeCell};
use std::panic::AssertUnwindSafe;

use envoyx_abi::{
    envoyx_body_status, envoyx_bytes, envoyx_headers_status, envoyx_module_config, envoyx_module_stream,
    envoyx_stream, envoyx_trailers_status,
};

use crate::host::host;
use crate::{BodyStatus, Filter, FilterConfig, HeadersStatus, LogLevel, Stream, TrailersStatus, log};

/// The module's per-stream object: what `envoyx_on_stream_new` returns, boxed.
struct StreamState<F> {
    /// The user's filter. Borrowed mutably only while `in_hook` is set.
    filter: UnsafeCell<F>,
    /// A hook of this stream is running (guards against the host re-entering the module).
    in_hook: Cell<bool>,
}

/// Which hook is running, for the reason a failed hook reports.
#[derive(Clone, Copy)]
enum Hook {
    RequestHeaders,
    RequestBody,
    RequestTrailers,
    ResponseHeaders,
    ResponseBody,
    ResponseTrailers,
    Scheduled,
    CalloutDone,
    CalloutEvent,
    Watermark,
    LocalReply,
    StreamComplete,
}

impl Hook {
    fn name(self) -> &'static str {
        match self {
            Hook::RequestHeaders => "on_request_headers",
            Hook::RequestBody => "on_request_body",
            Hook::RequestTrailers => "on_request_trailers",
            Hook::ResponseHeaders => "on_response_headers",
            Hook::ResponseBody => "on_response_body",
            Hook::ResponseTrailers => "on_response_trailers",
            Hook::Scheduled => "on_scheduled",
            Hook::CalloutDone => "on_callout_done",
            Hook::CalloutEvent => "on_callout_event",
            Hook::Watermark => "on_watermark",
            Hook::LocalReply => "on_local_reply",
            Hook::StreamComplete => "on_stream_complete",
        }
    }
}

/// How running a hook went.
enum Outcome<R> {
    /// The filter returned `R`.
    Ran(R),
    /// The filter was not called (re-entered, or no host).
    Skipped,
    /// The filter panicked; the host was told (`hook_failed`) and ends the stream.
    Panicked,
}

impl<R> Outcome<R> {
    /// The status to hand back to the host.
    fn status(self, if_skipped: R, if_panicked: R) -> R {
        match self {
            Outcome::Ran(status) => status,
            Outcome::Skipped => if_skipped,
            Outcome::Panicked => if_panicked,
        }
    }
}

/// Runs one filter hook of the stream behind `module_stream`, catching panics.
///
/// # Safety
/// The host calls the hook as x/abi.h describes: on the stream's worker thread, with the stream
/// of the hook and the `module_stream` that `on_stream_new::<C>` returned for it, before
/// `on_stream_destroy`. `F` is that config's filter type.
#[inline]
unsafe fn run_hook<F: Filter, R>(
    hook: Hook,
    raw_stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    call: impl FnOnce(&mut F, &mut Stream) -> R,
) -> Outcome<R> {
    let Some(host) = host() else { return Outcome::Skipped };
    if module_stream.is_null() {
        return Outcome::Skipped;
    }
    // Safety: `module_stream` is the live `StreamState<F>` from `on_stream_new` (caller); only
    // shared references to it are made, and they stay on this thread.
    let state = unsafe { &*module_stream.cast::<StreamState<F>>() };
    // After a failed hook the host calls no hook of the stream but destroy (x/abi.h, hook_failed).
    if state.in_hook.get() {
        return Outcome::Skipped;
    }
    state.in_hook.set(true);
    // Safety: `raw_stream` is the stream of the hook running now on this thread (caller), and
    // `stream` is dropped before this function returns.
    let mut stream = unsafe { Stream::from_raw(raw_stream, host) };
    let result = catch_unwind(AssertUnwindSafe(|| {
        // Safety: `in_hook` was clear, so no other reference to the filter exists; the stream's
        // hooks all run on one thread, and a re-entered hook sees `in_hook` set and stops above.
        let filter = unsafe { &mut *state.filter.get() };
        call(filter, &mut stream)
    }));
    let outcome = match result {
        Ok(status) => Outcome::Ran(status),
        Err(payload) => {
            // The host logs the reason and ends the stream as the contract decides.
            let reason = panic_reason(hook.name(), payload);
            if !stream.hook_failed(&reason) {
                log(
                    LogLevel::Error,
                    &format!("envoyx module: {reason} (the host refused to end the stream)"),
                );
            }
            Outcome::Panicked
        }
    };
    state.in_hook.set(false);
    outcome
}

/// `envoyx_on_stream_new`: makes the stream's filter with [`FilterConfig::new_filter`].
///
/// # Safety
/// `config` is what `on_filter_config_new::<C>` returned and is not yet destroyed (x/abi.h).
pub unsafe extern "C" fn on_stream_new<C: FilterConfig>(
    config: *mut envoyx_module_config,
    raw_stream: *mut envoyx_stream,
) -> *mut envoyx_module_stream {
    if config.is_null() {
        return std::ptr::null_mut();
    }
    // Safety: `config` is a live `C` (caller); `C: Sync`, so sharing it across workers is fine.
    let config = unsafe { &*config.cast::<C>() };
    let result = catch_unwind(AssertUnwindSafe(|| {
        Box::new(StreamState { filter: UnsafeCell::new(config.new_filter()), in_hook: Cell::new(false) })
    }));
    match result {
        Ok(state) => Box::into_raw(state).cast(),
        Err(payload) => {
            let reason = panic_reason("FilterConfig::new_filter", payload);
            // Safety: `raw_stream` is the stream of the hook running now on this thread, and the
            // `Stream` is dropped at once.
            let reported =
                host().is_some_and(|host| unsafe { Stream::from_raw(raw_stream, host) }.hook_failed(&reason));
            if !reported {
                log(LogLevel::Error, &format!("envoyx module: {reason}"));
            }
            std::ptr::null_mut()
        }
    }
}

/// The six event shims (`envoyx_on_request_headers` ... `envoyx_on_response_trailers`): each runs
/// its hook of the filter through [`run_hook`] and turns what happened into the ABI status
/// (the status on a skip, the stop status after a panic, whose stream was ended).
macro_rules! event_shim {
    ($(#[$doc:meta])* $name:ident, $hook:ident, $abi:ty, $on_skip:expr, $on_panic:expr $(, $end:ident)?) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// Called by the host as x/abi.h describes: on the stream's worker thread, with the stream
        /// of the hook and the `module_stream` that `on_stream_new::<C>` returned, before destroy.
        pub unsafe extern "C" fn $name<C: FilterConfig>(
            stream: *mut envoyx_stream,
            module_stream: *mut envoyx_module_stream,
            $($end: bool,)?
        ) -> $abi {
            // Safety: forwarded from the caller.
            let outcome = unsafe {
                run_hook::<C::Filter, _>(Hook::$hook, stream, module_stream, |filter, stream| {
                    filter.$name(stream $(, $end)?)
                })
            };
            outcome.status($on_skip, $on_panic) as u32
        }
    };
}

event_shim!(
    /// `envoyx_on_request_headers`.
    on_request_headers, RequestHeaders, envoyx_headers_status,
    HeadersStatus::Continue, HeadersStatus::StopIteration, end_of_stream
);
event_shim!(
    /// `envoyx_on_request_body`.
    on_request_body, RequestBody, envoyx_body_status,
    BodyStatus::Continue, BodyStatus::StopIterationNoBuffer, end_of_stream
);
event_shim!(
    /// `envoyx_on_request_trailers`.
    on_request_trailers, RequestTrailers, envoyx_trailers_status,
    TrailersStatus::Continue, TrailersStatus::StopIteration
);
event_shim!(
    /// `envoyx_on_response_headers`.
    on_response_headers, ResponseHeaders, envoyx_headers_status,
    HeadersStatus::Continue, HeadersStatus::StopIteration, end_of_stream
);
event_shim!(
    /// `envoyx_on_response_body`.
    on_response_body, ResponseBody, envoyx_body_status,
    BodyStatus::Continue, BodyStatus::StopIterationNoBuffer, end_of_stream
);
event_shim!(
    /// `envoyx_on_response_trailers`.
    on_response_trailers, ResponseTrailers, envoyx_trailers_status,
    TrailersStatus::Continue, TrailersStatus::StopIteration
);

/// `envoyx_on_stream_complete`.
///
/// # Safety
/// Called by the host as x/abi.h describes: on the stream's worker thread, with the stream of
/// the hook and the `module_stream` that `on_stream_new::<C>` returned, before destroy.
pub unsafe extern "C" fn on_stream_complete<C: FilterConfig>(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
) {
    // Safety: forwarded from the caller.
    unsafe {
        run_hook::<C::Filter, _>(Hook::StreamComplete, stream, module_stream, |filter, stream| {
            filter.on_stream_complete(stream)
        });
    }
}

/// `envoyx_on_stream_scheduled`: an event the filter scheduled with [`crate::StreamHandle::schedule`].
///
/// # Safety
/// Called by the host as x/abi.h describes: on the stream's worker thread, with the stream of
/// the hook and the `module_stream` that `on_stream_new::<C>` returned, before destroy.
pub unsafe extern "C" fn on_stream_scheduled<C: FilterConfig>(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    event_id: u64,
) {
    // Safety: forwarded from the caller.
    unsafe {
        run_hook::<C::Filter, _>(Hook::Scheduled, stream, module_stream, |filter, stream| {
            filter.on_scheduled(stream, event_id)
        });
    }
}

/// `envoyx_on_stream_callout_done`: a callout's answer, to [`Filter::on_callout_done`].
///
/// # Safety
/// Called by the host as x/abi.h describes: on the stream's worker thread, with the stream of
/// the hook and the `module_stream` that `on_stream_new::<C>` returned, before destroy; the
/// views are valid during the call.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn on_stream_callout_done<C: FilterConfig>(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    callout_id: u64,
    status: u32,
    headers: *const envoyx_abi::envoyx_header,
    headers_len: usize,
    body: *const envoyx_bytes,
    body_len: usize,
) {
    // Safety: the host passes `len` valid entries (or NULL with 0), valid during this call,
    // which outlives the filter's use of them.
    let result = unsafe { crate::callout::result(status, headers, headers_len, body, body_len) };
    // Safety: forwarded from the caller.
    unsafe {
        run_hook::<C::Filter, _>(Hook::CalloutDone, stream, module_stream, |filter, stream| {
            filter.on_callout_done(stream, callout_id, result)
        });
    }
}

/// `envoyx_on_stream_callout_event`: news of a streaming callout, to [`Filter::on_callout_event`].
///
/// # Safety
/// As for [`on_stream_callout_done`].
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn on_stream_callout_event<C: FilterConfig>(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    callout_id: u64,
    event: u32,
    status: u32,
    headers: *const envoyx_abi::envoyx_header,
    headers_len: usize,
    data: *const envoyx_bytes,
    data_len: usize,
    end_of_stream: bool,
) {
    // Safety: the host passes `len` valid entries (or NULL with 0), valid during this call,
    // which outlives the filter's use of them.
    let event = unsafe {
        crate::callout::CalloutEvent::from_abi(
            event,
            status,
            headers,
            headers_len,
            data,
            data_len,
            end_of_stream,
        )
    };
    // Safety: forwarded from the caller.
    unsafe {
        run_hook::<C::Filter, _>(Hook::CalloutEvent, stream, module_stream, |filter, stream| {
            filter.on_callout_event(stream, callout_id, event)
        });
    }
}

/// `envoyx_on_stream_watermark` (ABI 1.2): flow-control news, to [`Filter::on_watermark`].
///
/// # Safety
/// Called by the host as x/abi.h describes: on the stream's worker thread, with the stream of
/// the hook and the `module_stream` that `on_stream_new::<C>` returned, before destroy.
pub unsafe extern "C" fn on_stream_watermark<C: FilterConfig>(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    direction: u32,
    above: bool,
) {
    // A direction a later host might add reads as the response's (the only one sent today).
    let direction = if direction == 0 { crate::Direction::Request } else { crate::Direction::Response };
    // Safety: forwarded from the caller.
    unsafe {
        run_hook::<C::Filter, _>(Hook::Watermark, stream, module_stream, |filter, stream| {
            filter.on_watermark(stream, direction, above)
        });
    }
}

/// `envoyx_on_stream_local_reply` (ABI 1.2): news of a local reply, to
/// [`Filter::on_local_reply`]; a panic there lets the reply go on.
///
/// # Safety
/// Called by the host as x/abi.h describes: on the stream's worker thread, with the stream of
/// the hook and the `module_stream` that `on_stream_new::<C>` returned, before destroy; `details`
/// is valid during the call.
pub unsafe extern "C" fn on_stream_local_reply<C: FilterConfig>(
    stream: *mut envoyx_stream,
    module_stream: *mut envoyx_module_stream,
    status: u32,
    details: envoyx_bytes,
    reset_imminent: bool,
) -> u32 {
    // Safety: the host's view is valid during this call.
    let details = String::from_utf8_lossy(unsafe { details.as_slice() });
    let status = u16::try_from(status).unwrap_or(u16::MAX);
    // Safety: forwarded from the caller.
    let outcome = unsafe {
        run_hook::<C::Filter, _>(Hook::LocalReply, stream, module_stream, |filter, stream| {
            filter.on_local_reply(stream, status, &details, reset_imminent)
        })
    };
    let go_on = crate::LocalReplyStatus::Continue;
    outcome.status(go_on, go_on) as u32
}

/// `envoyx_on_stream_destroy`: drops the stream's filter.
///
/// # Safety
/// `module_stream` is NULL or what `on_stream_new::<C>` returned, destroyed exactly once, on the
/// stream's worker thread (x/abi.h).
pub unsafe extern "C" fn on_stream_destroy<C: FilterConfig>(module_stream: *mut envoyx_module_stream) {
    if module_stream.is_null() {
        return;
    }
    let state = module_stream.cast::<StreamState<C::Filter>>();
    // Safety: `state` is the live box from `on_stream_new` (caller); a shared look at one flag.
    if unsafe { (*state).in_hook.get() } {
        // The host broke the contract by destroying the stream inside one of its hooks; leaking
        // the filter is the only safe answer.
        log(
            LogLevel::Error,
            "envoyx module: stream destroyed while one of its hooks was running; leaking it",
        );
        return;
    }
    // Safety: the box came from `Box::into_raw` in `on_stream_new`, no hook is running, and
    // destroy is called once, after which the host never passes it again (caller).
    let state = unsafe { Box::from_raw(state) };
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(state))) {
        report_panic("dropping the Filter", payload);
    }
}
