//! One HTTP stream as upstream Envoy sees it (`filter_module_ptr`): maps upstream's hooks onto
//! the core's [`Stream`] and carries out the actions the core returns.
//!
//! Envoy can call back into a filter while one of its hooks runs: a local reply or a reset
//! completes and destroys the filter on the spot, and a continue can run this filter's response
//! hooks (a later filter answering locally). That is why the core returns those actions instead
//! of calling them: the filter carries them out after the core's `Stream` is no longer borrowed,
//! still inside the same Envoy hook. It counts how deep it is in Envoy's hooks, and when Envoy
//! destroys it from inside another hook, drops the `Stream` at once (the module's destroy runs
//! exactly once) but frees itself only when the outermost hook returns.

use crate::ffi::{self, EnvoyFilter};
use crate::host::{EnvoyStream, Shared, WAKE_EVENT};
use crate::log::host_log;
use envoyx_abi::{envoyx_bytes, envoyx_header};
use envoyx_core::{
    Action, AnswerPart, CalloutEvent, CalloutStatus, Direction, Effects, EventOrderError, FilterConfig,
    LocalReplyStatus, Outcome, ResetReason, Stream, StreamScheduler,
};
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// An event of a stream, as upstream delivers it.
#[derive(Clone, Copy, Debug)]
pub enum Event {
    RequestHeaders { end_of_stream: bool },
    RequestBody { end_of_stream: bool },
    RequestTrailers,
    ResponseHeaders { end_of_stream: bool },
    ResponseBody { end_of_stream: bool },
    ResponseTrailers,
}

impl Event {
    /// Delivers the event; returns upstream's status value, whether it stops iteration, and what
    /// to carry out.
    fn deliver(self, stream: &mut Stream) -> Result<(ffi::HookStatus, bool, Effects), EventOrderError> {
        fn split<S: Copy + Into<u32>>(
            o: Outcome<S>,
            stops: fn(S) -> bool,
        ) -> (ffi::HookStatus, bool, Effects) {
            (o.status.into(), stops(o.status), o.effects)
        }
        Ok(match self {
            Event::RequestHeaders { end_of_stream } => {
                split(stream.on_request_headers(end_of_stream)?, |s| s.stops())
            }
            Event::RequestBody { end_of_stream } => {
                split(stream.on_request_body(end_of_stream)?, |s| s.stops())
            }
            Event::RequestTrailers => split(stream.on_request_trailers()?, |s| s.stops()),
            Event::ResponseHeaders { end_of_stream } => {
                split(stream.on_response_headers(end_of_stream)?, |s| s.stops())
            }
            Event::ResponseBody { end_of_stream } => {
                split(stream.on_response_body(end_of_stream)?, |s| s.stops())
            }
            Event::ResponseTrailers => split(stream.on_response_trailers()?, |s| s.stops()),
        })
    }
}

/// This host's per-stream object: one allocation (Envoy holds it as `Box::into_raw`), which also
/// holds the state the stream's host (`EnvoyStream`) shares with it.
pub struct Filter {
    envoy: EnvoyFilter,
    config: Arc<FilterConfig>,
    /// Created at the first event (Envoy's stream callbacks are not set up before), dropped when
    /// Envoy destroys the filter.
    stream: RefCell<Option<Stream>>,
    /// Pointed at by the stream's `EnvoyStream`, so the stream is ended before the filter is
    /// freed (see [`Filter::free`]).
    shared: Shared,
    /// How many of this filter's hooks are running (more than one when Envoy re-enters).
    depth: Cell<u32>,
    /// Envoy called the destroy hook: no more Envoy calls; freed when `depth` reaches 0.
    destroyed: Cell<bool>,
}

impl Filter {
    pub fn new(envoy: EnvoyFilter, config: Arc<FilterConfig>) -> Self {
        Self {
            envoy,
            config,
            stream: RefCell::new(None),
            shared: Shared::default(),
            depth: Cell::new(0),
            destroyed: Cell::new(false),
        }
    }

    /// Runs `f` on the filter behind `ptr` as one hook, then frees the filter if Envoy destroyed
    /// it meanwhile and this was the outermost hook.
    ///
    /// # Safety
    /// `ptr` must come from `Box::into_raw(Box<Filter>)` and not be freed yet, and the call must
    /// be on the stream's worker thread.
    pub unsafe fn enter<R>(ptr: *const Filter, f: impl FnOnce(&Filter) -> R) -> R {
        // Safety: alive per the caller; only shared references are made while hooks run.
        let filter = unsafe { &*ptr };
        filter.depth.set(filter.depth.get() + 1);
        let result = f(filter);
        let depth = filter.depth.get() - 1;
        filter.depth.set(depth);
        if depth == 0 && filter.destroyed.get() {
            // Safety: Envoy destroyed the filter and no other hook of it is running; freed once
            // (destroy did not free it because depth was not 0).
            unsafe { Filter::free(ptr) };
        }
        result
    }

    /// Ends the stream if it is still there (Envoy destroyed the filter inside one of the
    /// module's hooks), then frees the filter. The stream goes first because its host points into
    /// this filter's `shared`, and the module's complete and destroy hooks may still use it.
    ///
    /// # Safety
    /// `ptr` comes from `Box::into_raw(Box<Filter>)`, no hook of the filter is running, and it is
    /// freed once.
    unsafe fn free(ptr: *const Filter) {
        // Safety: alive per the caller; a shared reference, as in every hook.
        let filter = unsafe { &*ptr };
        let stream = filter.stream.borrow_mut().take();
        if let Some(stream) = stream {
            end_stream(stream);
        }
        // Safety: made by Box::into_raw; nothing refers to it any more; freed once (caller).
        drop(unsafe { Box::from_raw(ptr.cast_mut()) });
    }

    /// Envoy's destroy hook.
    ///
    /// # Safety
    /// As for [`Filter::enter`]; `ptr` must not be used again by the caller.
    pub unsafe fn destroy(ptr: *const Filter) {
        // Safety: alive per the caller.
        let filter = unsafe { &*ptr };
        if filter.destroyed.replace(true) {
            return;
        }
        if let Some(scheduler) = filter.shared.scheduler.get() {
            scheduler.close();
        }
        match filter.stream.try_borrow_mut() {
            // Dropping the stream runs the module's complete hook (if not yet) and destroy hook.
            Ok(mut slot) => {
                if let Some(stream) = slot.take() {
                    end_stream(stream);
                }
            }
            Err(_) => host_log!(
                Error,
                "EnvoyX stock host: Envoy destroyed a stream while its module hook was running; the \
                 module's stream is destroyed when that hook returns"
            ),
        }
        if filter.depth.get() == 0 {
            // Safety: no hook of this filter is running; made by Box::into_raw; freed once.
            unsafe { Filter::free(ptr) };
        }
    }

    /// An event hook: delivers the event, then carries out what the core returned.
    pub fn event(&self, event: Event) -> ffi::HookStatus {
        let (status, effects) = {
            let Ok(mut slot) = self.stream.try_borrow_mut() else {
                host_log!(
                    Error,
                    "EnvoyX stock host: Envoy re-entered {event:?} inside a module hook; continuing"
                );
                return ffi::STATUS_CONTINUE;
            };
            if self.destroyed.get() {
                return ffi::STATUS_CONTINUE;
            }
            let stream = slot.get_or_insert_with(|| {
                // Safety: `shared` lives in this boxed filter, which owns the stream and ends it
                // before freeing itself (`Filter::free`).
                let host = unsafe { EnvoyStream::new(self.envoy, &self.shared) };
                self.config.new_stream(Box::new(host))
            });
            match event.deliver(stream) {
                Ok((status, stops, effects)) => {
                    // Still no Envoy call that could re-enter has been made: the filter is alive.
                    // Without a scheduler the module holds no handle, so no continue can come.
                    if let Some(scheduler) = self.shared.scheduler.get() {
                        scheduler.prepare(self.envoy, stops);
                    }
                    (status, effects)
                }
                Err(e) => {
                    host_log!(Error, "EnvoyX stock host: {e}; continuing");
                    (ffi::STATUS_CONTINUE, Effects::NONE)
                }
            }
        };
        self.carry_out(effects);
        status
    }

    /// Envoy's scheduled hook: work the module queued on another thread (a continue, an event
    /// for its scheduled hook) reached the worker thread; the core takes the next item.
    pub fn scheduled(&self, event_id: u64) {
        if event_id != WAKE_EVENT {
            host_log!(Error, "EnvoyX stock host: unknown scheduled event {event_id}; ignored");
            return;
        }
        let effects = {
            let Ok(mut slot) = self.stream.try_borrow_mut() else {
                // Envoy ran its scheduler inside a module call: the item stays in the core's
                // queue; wake again so it is taken after that call.
                if let Some(scheduler) = self.shared.scheduler.get() {
                    scheduler.wake();
                }
                return;
            };
            match slot.as_mut() {
                Some(stream) => stream.on_scheduled(),
                None => Effects::NONE,
            }
        };
        self.carry_out(effects);
    }

    /// Envoy's downstream watermark hooks: its buffer towards the client went above its high
    /// watermark (`above`) or below its low one. The core counts them and queues the changes for
    /// the module (delivered through the scheduler, as `scheduled` runs them); nothing to carry
    /// out now. Envoy writes to the client only while this host carries out actions, after the
    /// module's call returned, so the stream is never busy here; if it were, the news is logged.
    pub fn watermark(&self, above: bool) {
        let Ok(mut slot) = self.stream.try_borrow_mut() else {
            host_log!(
                Error,
                "EnvoyX stock host: a downstream watermark arrived inside a module call; dropped"
            );
            return;
        };
        if let Some(stream) = slot.as_mut() {
            stream.on_watermark(Direction::Response, above);
        }
    }

    /// Envoy's local-reply hook (`StreamFilterBase::onLocalReply`): a local reply is being made
    /// on the stream; the core asks the module. Returns whether to reset instead. Envoy makes
    /// replies only outside the module's calls (the core returns the module's own as an action),
    /// so the stream is free here; if it were not, the reply goes on and that is logged.
    pub fn local_reply(&self, status: u32, details: &[u8], reset_imminent: bool) -> LocalReplyStatus {
        let Ok(mut slot) = self.stream.try_borrow_mut() else {
            host_log!(Error, "EnvoyX stock host: a local reply was made inside a module call; it goes on");
            return LocalReplyStatus::Continue;
        };
        match slot.as_mut() {
            Some(stream) => stream.on_local_reply(status, details, reset_imminent),
            None => LocalReplyStatus::Continue,
        }
    }

    /// Envoy's callout hook: Envoy's callout `envoy_id` ended with `result`; the core delivers it
    /// to the module (as views of Envoy's headers and body chunks) if it is still in flight.
    pub fn callout_done(
        &self,
        envoy_id: u64,
        result: ffi::HttpCalloutResult,
        headers: &[ffi::HttpHeader],
        chunks: &[ffi::EnvoyBuffer],
    ) {
        let Some((id, inbox)) = self.shared.take_callout(envoy_id) else { return };
        let status = callout_status(result);
        let headers: Vec<envoyx_header> = headers.iter().map(ffi::HttpHeader::view).collect();
        let chunks: Vec<envoyx_bytes> = chunks.iter().map(ffi::EnvoyBuffer::view).collect();
        let effects = {
            let Ok(mut slot) = self.stream.try_borrow_mut() else {
                // Envoy answered inside a module call (even inside the callout's start): the core
                // delivers the copy right after that call.
                inbox.defer_answer(id, status, &headers, &chunks);
                return;
            };
            match slot.as_mut() {
                Some(stream) => stream.on_callout_done(id, status, &headers, &chunks),
                None => Effects::NONE,
            }
        };
        self.carry_out(effects);
    }

    /// Envoy's news of its HTTP stream `envoy_id` (a streaming callout). Delivered to the core
    /// now when the stream is free; when Envoy reports inside a module call (it answered inline),
    /// copied into the core's queue, which delivers it right after that call.
    pub fn callout_stream_event(&self, envoy_id: u64, event: CalloutEvent<'_>) {
        let Some(callout) = self.shared.callout_stream(envoy_id, event.is_last()) else { return };
        let effects = {
            let Ok(mut slot) = self.stream.try_borrow_mut() else {
                callout.inbox.defer(callout.id, event);
                return;
            };
            match slot.as_mut() {
                Some(stream) => stream.on_callout_event(callout.id, event),
                None => Effects::NONE,
            }
        };
        self.carry_out(effects);
    }

    /// Envoy's stream-complete hook.
    pub fn complete(&self) {
        match self.stream.try_borrow_mut() {
            Ok(mut slot) => {
                if let Some(stream) = slot.as_mut() {
                    stream.on_stream_complete();
                }
            }
            Err(_) => host_log!(Error, "EnvoyX stock host: Envoy completed a stream inside its module hook"),
        }
    }

    /// Tells the stream (if any, and not in use) that a request continue is being carried out.
    fn say_carrying_out(&self, carrying_out: bool) {
        if let Ok(mut slot) = self.stream.try_borrow_mut()
            && let Some(stream) = slot.as_mut()
        {
            stream.carrying_out_continue(Direction::Request, carrying_out);
        }
    }

    /// Carries out what the core returned. Each Envoy call may re-enter this filter, even destroy
    /// it, so `destroyed` is checked before every one.
    fn carry_out(&self, effects: Effects) {
        // Most events produce nothing to carry out; this check keeps them at one comparison.
        if effects.is_empty() {
            return;
        }
        for action in effects {
            if self.destroyed.get() {
                return;
            }
            match action {
                Action::Reset(reason) => {
                    self.envoy.reset_stream(reason == ResetReason::Refused, b"envoyx_module_reset")
                }
                Action::GoAway { graceful } => self.envoy.send_goaway_and_close(graceful),
                Action::LocalReply(reply) => {
                    self.envoy.send_response(reply.status, &reply.headers, &reply.body, &reply.details)
                }
                Action::Continue(Direction::Request) => {
                    // Envoy may run this filter's response hooks inside the call (a later filter
                    // answers locally); the core applies what this Envoy can resume there
                    // (`EnvoyStream::resumes_response_stopped_inside_request_continue`).
                    self.say_carrying_out(true);
                    self.envoy.continue_decoding();
                    self.say_carrying_out(false);
                }
                Action::Continue(Direction::Response) => self.envoy.continue_encoding(),
                Action::Answer(AnswerPart::Headers { status, headers, end_of_stream }) => {
                    self.envoy.send_response_headers(status, &headers, end_of_stream)
                }
                Action::Answer(AnswerPart::Data { data, end_of_stream }) => {
                    self.envoy.send_response_data(&data, end_of_stream)
                }
                Action::Answer(AnswerPart::Trailers(trailers)) => {
                    self.envoy.send_response_trailers(&trailers)
                }
                Action::Recreate(response_headers) => {
                    if !self.envoy.recreate_stream(&response_headers) {
                        // The core's rules match Envoy's; should Envoy still refuse, the stream
                        // must not hang.
                        host_log!(
                            Error,
                            "EnvoyX stock host: Envoy refused to start the request over; resetting it"
                        );
                        if !self.destroyed.get() {
                            self.envoy.reset_stream(false, b"envoyx_recreate_refused");
                        }
                    }
                }
            }
        }
    }
}

/// EnvoyX's status of an Envoy callout result.
pub fn callout_status(result: ffi::HttpCalloutResult) -> CalloutStatus {
    match result {
        ffi::CALLOUT_SUCCESS => CalloutStatus::Response,
        ffi::CALLOUT_EXCEED_RESPONSE_BUFFER_LIMIT => CalloutStatus::TooLarge,
        ffi::CALLOUT_RESET => CalloutStatus::Reset,
        // Anything a later Envoy adds: no response either.
        _ => CalloutStatus::Reset,
    }
}

/// What precedes the count in the line [`end_stream`] logs; `envoyx-harness` parses it
/// (`body_bytes_copied`), so the e2e tests and the benchmark can read the figure from a real
/// Envoy's log.
pub const BYTES_COPIED_LOG: &str = "body bytes copied: ";

/// Ends a stream (the module's complete and destroy hooks run as it drops) and, at debug level,
/// logs the core's zero-copy counter: the body bytes the path copied on the module's behalf
/// (prepend, append, replace); 0 for in-place edits. With Envoy's `dynamic_modules` logger above
/// debug this costs one level check per stream: Envoy's own `log_enabled`, called directly
/// rather than through the core's sink lock.
fn end_stream(stream: Stream) {
    if ffi::log_enabled(envoyx_core::LogLevel::Debug as ffi::LogLevel) {
        let message = format!(
            "EnvoyX stream of filter `{}` ends; {BYTES_COPIED_LOG}{}",
            stream.config_name(),
            stream.body_bytes_copied()
        );
        let line = envoyx_core::log::one_line(message.as_bytes());
        ffi::log(envoyx_core::LogLevel::Debug as ffi::LogLevel, line.as_bytes());
    }
    drop(stream);
}
