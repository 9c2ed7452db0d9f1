//! One HTTP stream driven through a module: the one place where the stream rules live.
//!
//! Every host (stock Envoy, the custom Envoy build, the test hosts) drives a [`Stream`] with the
//! events its proxy delivers and carries out what each call returns ([`Outcome`], [`Effects`]).
//! The rules, which no host re-decides:
//!
//! - Order. Per direction: headers once, then body chunks, then trailers at most once; nothing
//!   after the stream completed. An event out of order is refused ([`EventOrderError`]) and not
//!   delivered.
//! - Ending. A module's local reply or reset is recorded during its hook and returned as an
//!   action once the hook has returned; the hook's status is then replaced by a stop, since
//!   nothing of the stream goes on. A reset wins over a local reply, a local reply over
//!   continues. A local reply is refused once the response has started (its headers went on
//!   past this filter), once the stream is ending, and outside the event hooks.
//! - Own reply. The response events of this module's own local reply pass through without
//!   reaching the module (on stock Envoy they never arrive; on other proxies they would re-enter).
//!   Request events that still arrive after the module ended the stream are stopped.
//! - Own response (ABI 1.2). A module that sends its own response (`answer.rs`) is the
//!   stream's end: its request hooks still run, but the request stays stopped whatever they
//!   return, and its own response passes this filter's response hooks without reaching it.
//! - Continue. A continue asked for through a handle reaches the stream through the host's
//!   scheduler ([`Stream::on_scheduled`]), never inside the module's call, and resumes a
//!   direction only if the module stopped it and the stream is neither ending nor complete: a
//!   second continue, a continue of a direction that is not stopped, or one after the end is
//!   ignored.
//! - Scheduled events (ABI 1.1). An event a module scheduled through a handle runs its scheduled
//!   hook between events, in the order asked for (with continues), until the stream completes;
//!   inside it every stream function works under the rules above, and `continue_stream`
//!   resumes a stopped direction once the hook returns.
//! - Validation and framing: see `validate.rs` and `framing.rs`; the host-table functions apply
//!   them to every call a module makes.

use crate::error::EventOrderError;
use crate::lifecycle::StreamEvent;
use crate::log::core_log;
use crate::status::{BodyStatus, HeadersStatus, TrailersStatus};
use crate::stream::answer;
use crate::stream::cell::{Flow, Hook, Phase, StreamCell, Work};
use crate::stream::effects::{Effects, Outcome, OwnedLocalReply};
use crate::stream::framing;
use crate::stream::host::HostStream;
use crate::stream::setup::StreamConfig;
use crate::vocab::{Direction, LocalReplyStatus};
use envoyx_abi::envoyx_stream;
use std::ffi::c_void;
use std::sync::Arc;

/// One HTTP stream through one module. Created by [`crate::ConfigVersion::new_stream`], driven by the
/// host on the stream's worker thread, destroyed by dropping it (which calls the module's
/// complete, if not yet called, then destroy: exactly once each).
pub struct Stream {
    cell: Box<StreamCell>,
    /// NULL when the module's stream-new hook failed.
    module_stream: *mut c_void,
    continues_ignored: u64,
    // Declared last: the module config (and the labels the cell points at) must outlive the
    // module stream and the cell.
    config: Arc<dyn StreamConfig>,
}

/// What a module's hook returned, reduced to what the rules need.
trait HookStatus: Copy {
    /// The status that stops the direction and holds nothing more (used once the stream ends).
    const HALT: Self;
    /// The status that lets the direction go on.
    const PASS: Self;
    fn stops(self) -> bool;
}

impl HookStatus for HeadersStatus {
    const HALT: Self = HeadersStatus::StopIteration;
    const PASS: Self = HeadersStatus::Continue;
    fn stops(self) -> bool {
        HeadersStatus::stops(self)
    }
}

impl HookStatus for BodyStatus {
    const HALT: Self = BodyStatus::StopIterationNoBuffer;
    const PASS: Self = BodyStatus::Continue;
    fn stops(self) -> bool {
        BodyStatus::stops(self)
    }
}

impl HookStatus for TrailersStatus {
    const HALT: Self = TrailersStatus::StopIteration;
    const PASS: Self = TrailersStatus::Continue;
    fn stops(self) -> bool {
        TrailersStatus::stops(self)
    }
}

impl Stream {
    /// Starts a stream of `config` on `host`: calls the module's stream-new hook.
    pub(crate) fn new(config: Arc<dyn StreamConfig>, host: Box<dyn HostStream>) -> Stream {
        // Safety: this Stream keeps the configuration alive (its `config` field, dropped after
        // `cell`).
        let cell = Box::new(unsafe { StreamCell::new(host, &*config) });
        config.stream_counters().count(StreamEvent::Started);
        let mut stream = Stream { cell, module_stream: std::ptr::null_mut(), continues_ignored: 0, config };
        let (stream_new, module_config) = (stream.config.hooks().stream_new, stream.config.module_config());
        // Safety: the hook has the header's type; `module_config` is this module's live config.
        stream.module_stream = stream.call(Hook::StreamNew, |s, _| unsafe { stream_new(module_config, s) });
        // Nothing a module asks for inside stream-new is carried out: there is no request yet.
        drop(stream.cell.effects.take());
        // A module that reported its failure (`hook_failed`) was logged then.
        if stream.module_stream.is_null() && !stream.cell.module_failed.get() {
            core_log!(
                Error,
                "EnvoyX module {}: stream-new hook of filter `{}` returned NULL; the stream gets a 500",
                stream.config.labels().module,
                stream.config.name()
            );
        }
        stream
    }

    /// A new stream of this stream's configuration, on `host`: what a host that starts a request
    /// over ([`crate::Action::Recreate`]) without its proxy's help makes the new one with (the
    /// test hosts; Envoy makes its own through its filter chain).
    pub fn new_like(&self, host: Box<dyn HostStream>) -> Stream {
        Stream::new(self.config.clone(), host)
    }

    /// Runs a module hook with the stream marked as "inside `hook`".
    fn call<R>(&mut self, hook: Hook, f: impl FnOnce(*mut envoyx_stream, *mut c_void) -> R) -> R {
        self.cell.hook.set(Some(hook));
        let stream_ptr = &*self.cell as *const StreamCell as *mut envoyx_stream;
        let result = f(stream_ptr, self.module_stream);
        self.cell.hook.set(None);
        result
    }

    /// Checks that `event` may happen now and moves the direction's phase.
    fn advance(
        &mut self,
        direction: Direction,
        event: &'static str,
        expect: Phase,
        end: Option<Phase>,
    ) -> Result<Flow, EventOrderError> {
        if self.cell.completed.get() {
            return Err(EventOrderError { event, reason: "the stream is already complete" });
        }
        let flow = self.cell.flow(direction);
        if flow.phase != expect {
            let reason = match flow.phase {
                Phase::AwaitingHeaders => "headers have not arrived yet",
                Phase::Open => "headers already arrived",
                Phase::Ended => "this direction already ended",
            };
            return Err(EventOrderError { event, reason });
        }
        self.cell.update_flow(direction, |f| f.phase = end.unwrap_or(Phase::Open));
        Ok(flow)
    }

    /// The module gets no more hooks of this stream (but destroy): its stream-new hook returned
    /// NULL, or it reported a failed hook (`control::hook_failed`).
    fn failed(&self) -> bool {
        self.module_stream.is_null() || self.cell.module_failed.get()
    }

    /// Delivers one event: checks its order, decides whether it reaches the module at all, calls
    /// the module's hook, and applies the rules to what the hook returned and asked for.
    fn event<S: HookStatus>(
        &mut self,
        direction: Direction,
        (event, hook): (&'static str, Hook),
        end: Option<Phase>,
        trailers: bool,
        call: impl FnOnce(*mut envoyx_stream, *mut c_void) -> u32,
        from_abi: fn(u32) -> Option<S>,
    ) -> Result<Outcome<S>, EventOrderError> {
        self.advance(
            direction,
            event,
            if hook_is_headers(hook) { Phase::AwaitingHeaders } else { Phase::Open },
            end,
        )?;
        if trailers {
            self.cell.update_flow(direction, |f| f.ended_by_trailers = true);
        }
        if direction == Direction::Request && !hook_is_headers(hook) {
            self.cell.request_had_body.set(true);
        }
        if self.cell.ending.get() {
            // The module reset or answered the stream: the response that follows is its own
            // reply's, which goes on untouched; nothing more of the request does.
            let status = if direction == Direction::Response { S::PASS } else { S::HALT };
            return Ok(Outcome { status, effects: Effects::NONE });
        }
        if direction == Direction::Response && answer::answering(&self.cell) {
            // The module's own response passing through this filter's response hooks (a proxy
            // that runs them with it): it goes on untouched.
            return Ok(Outcome { status: S::PASS, effects: Effects::NONE });
        }
        if self.failed() {
            if direction == Direction::Request && hook_is_headers(hook) {
                return Ok(Outcome { status: S::HALT, effects: self.fail_stream() });
            }
            return Ok(Outcome { status: S::PASS, effects: Effects::NONE });
        }
        let raw = self.call(hook, call);
        let status = from_abi(raw).unwrap_or_else(|| self.unknown_status(event, raw, S::PASS));
        Ok(self.after_hook(direction, status, hook.body_direction().is_some()))
    }

    /// Applies the rules to a hook's status and what the module asked for during it.
    fn after_hook<S: HookStatus>(
        &mut self,
        direction: Direction,
        status: S,
        in_body_hook: bool,
    ) -> Outcome<S> {
        let effects = self.cell.effects.take();
        if effects.ends_stream() {
            self.ended_by_module();
            return Outcome { status: S::HALT, effects };
        }
        let status = if direction == Direction::Request && answer::answering(&self.cell) {
            // The module answers the stream itself: its request goes nowhere else.
            S::HALT
        } else if status.stops() && crate::stream::control::unresumable_stop(&self.cell, direction) {
            S::PASS
        } else {
            status
        };
        let stops = status.stops();
        self.cell.update_flow(direction, |f| f.stopped = stops);
        if !stops {
            framing::headers_released(&self.cell, direction, in_body_hook);
        }
        Outcome { status, effects }
    }

    fn unknown_status<S>(&self, event: &str, raw: u32, fallback: S) -> S {
        core_log!(
            Error,
            "EnvoyX module {}: {event} hook returned unknown status {raw}; continuing",
            self.config.labels().module
        );
        fallback
    }

    /// Answers a stream whose module state could not be created.
    fn fail_stream(&mut self) -> Effects {
        self.cell.ending.set(true);
        self.cell.own_reply.set(true);
        let mut effects = Effects::NONE;
        effects.record_reply(OwnedLocalReply {
            status: 500,
            headers: vec![],
            body: b"EnvoyX module failed to create its stream state\n".to_vec(),
            details: b"envoyx_stream_new_failed".to_vec(),
        });
        effects
    }

    /// Request headers arrived. `end_of_stream`: no body or trailers follow.
    pub fn on_request_headers(
        &mut self,
        end_of_stream: bool,
    ) -> Result<Outcome<HeadersStatus>, EventOrderError> {
        let hook_fn = self.config.hooks().request_headers;
        let end = end_of_stream.then_some(Phase::Ended);
        self.event(
            Direction::Request,
            ("request_headers", Hook::RequestHeaders),
            end,
            false,
            // Safety: the hook has the header's type; both pointers are this stream's and alive.
            |s, m| unsafe { hook_fn(s, m, end_of_stream) },
            HeadersStatus::from_abi,
        )
    }

    /// A request body chunk arrived (the host's RECEIVED request body).
    pub fn on_request_body(&mut self, end_of_stream: bool) -> Result<Outcome<BodyStatus>, EventOrderError> {
        let hook_fn = self.config.hooks().request_body;
        let end = end_of_stream.then_some(Phase::Ended);
        self.event(
            Direction::Request,
            ("request_body", Hook::RequestBody),
            end,
            false,
            // Safety: the hook has the header's type; both pointers are this stream's and alive.
            |s, m| unsafe { hook_fn(s, m, end_of_stream) },
            BodyStatus::from_abi,
        )
    }

    /// Request trailers arrived; they end the request.
    pub fn on_request_trailers(&mut self) -> Result<Outcome<TrailersStatus>, EventOrderError> {
        let hook_fn = self.config.hooks().request_trailers;
        self.event(
            Direction::Request,
            ("request_trailers", Hook::RequestTrailers),
            Some(Phase::Ended),
            true,
            // Safety: the hook has the header's type; both pointers are this stream's and alive.
            |s, m| unsafe { hook_fn(s, m) },
            TrailersStatus::from_abi,
        )
    }

    /// Response headers arrived.
    pub fn on_response_headers(
        &mut self,
        end_of_stream: bool,
    ) -> Result<Outcome<HeadersStatus>, EventOrderError> {
        let hook_fn = self.config.hooks().response_headers;
        let end = end_of_stream.then_some(Phase::Ended);
        self.event(
            Direction::Response,
            ("response_headers", Hook::ResponseHeaders),
            end,
            false,
            // Safety: the hook has the header's type; both pointers are this stream's and alive.
            |s, m| unsafe { hook_fn(s, m, end_of_stream) },
            HeadersStatus::from_abi,
        )
    }

    /// A response body chunk arrived.
    pub fn on_response_body(&mut self, end_of_stream: bool) -> Result<Outcome<BodyStatus>, EventOrderError> {
        let hook_fn = self.config.hooks().response_body;
        let end = end_of_stream.then_some(Phase::Ended);
        self.event(
            Direction::Response,
            ("response_body", Hook::ResponseBody),
            end,
            false,
            // Safety: the hook has the header's type; both pointers are this stream's and alive.
            |s, m| unsafe { hook_fn(s, m, end_of_stream) },
            BodyStatus::from_abi,
        )
    }

    /// Response trailers arrived; they end the response.
    pub fn on_response_trailers(&mut self) -> Result<Outcome<TrailersStatus>, EventOrderError> {
        let hook_fn = self.config.hooks().response_trailers;
        self.event(
            Direction::Response,
            ("response_trailers", Hook::ResponseTrailers),
            Some(Phase::Ended),
            true,
            // Safety: the hook has the header's type; both pointers are this stream's and alive.
            |s, m| unsafe { hook_fn(s, m) },
            TrailersStatus::from_abi,
        )
    }

    /// The module reset or answered the stream in the call that just returned.
    fn ended_by_module(&self) {
        if self.cell.own_reply.get() {
            // The reply's response starts afresh (a response that had arrived and was held is
            // replaced by it).
            self.cell.flows[Direction::Response as usize].set(Flow::NEW);
        }
    }

    /// The host's scheduler woke the stream (see [`crate::StreamScheduler`]): runs the next item
    /// the module queued through a handle, on any thread, and returns what to carry out.
    ///
    /// - A continue resumes its direction if the module had stopped it and the stream is
    ///   neither ending nor complete; otherwise it is ignored.
    /// - An event runs the module's scheduled hook (`envoyx_on_stream_scheduled`), unless the
    ///   stream is complete; the hook may use every stream function, under the same rules as an
    ///   event hook, and resume stopped directions with `continue_stream`.
    pub fn on_scheduled(&mut self) -> Effects {
        let Some(work) = self.cell.handle.get().and_then(|handle| handle.pop()) else {
            return Effects::NONE;
        };
        match work {
            Work::Continue(direction) => self.scheduled_continue(direction),
            Work::Event(event_id) => self.scheduled_event(event_id),
            Work::CalloutFailed { id, status } if crate::stream::callout::is_streaming(&self.cell, id) => {
                self.on_callout_event(id, crate::CalloutEvent::Failed(status))
            }
            Work::CalloutFailed { id, status } => self.on_callout_done(id, status, &[], &[]),
            Work::CalloutEvent { id, event } => event.with_views(|event| self.on_callout_event(id, event)),
            Work::CalloutAnswer { id, answer } => {
                answer.with_views(|headers, body| self.on_callout_done(id, answer.status, headers, body))
            }
            Work::Watermark { direction, above } => self.watermark_hook(direction, above),
        }
    }

    /// The proxy's flow-control news (ABI 1.2): its buffer towards `direction`'s peer (the client
    /// for [`Direction::Response`]) went above its high watermark (`above`) or back below its
    /// low one. The core counts what the proxy says and queues only the changes for the
    /// module's watermark hook (`flow_control.rs`), which runs from the stream's queue like a
    /// scheduled event: the host wakes the stream (its [`crate::StreamScheduler`]) and carries out
    /// what [`Stream::on_scheduled`] then returns. Nothing to carry out now. Ignored for a module
    /// without the hook and once the stream completed.
    pub fn on_watermark(&mut self, direction: Direction, above: bool) {
        if self.cell.completed.get() || self.failed() || self.config.hooks().stream_watermark.is_none() {
            return;
        }
        if let Some(work) = crate::stream::flow_control::watermark_change(&self.cell, direction, above) {
            self.cell.handle().push(work);
        }
    }

    /// A local reply is being made on the stream (ABI 1.2), inside the proxy's call that makes
    /// it: the proxy's own, another filter's or this module's. Runs the module's local-reply hook
    /// with `status`, `details` (a view valid during this call) and whether a reset will follow
    /// instead; returns whether the module wants the stream reset instead of the reply. Inside
    /// the hook nothing that would end or resume the stream is accepted (`control::may_act`),
    /// so there is nothing to carry out. A module without the hook, a failed one, or a stream
    /// already complete lets the reply go on.
    pub fn on_local_reply(&mut self, status: u32, details: &[u8], reset_imminent: bool) -> LocalReplyStatus {
        let Some(hook_fn) = self.config.hooks().stream_local_reply else { return LocalReplyStatus::Continue };
        if self.cell.completed.get() || self.failed() {
            return LocalReplyStatus::Continue;
        }
        let details = envoyx_abi::envoyx_bytes::from_slice(details);
        // Safety: the hook has the header's type; both pointers are this stream's and alive; the
        // details view is valid during this call.
        let raw =
            self.call(Hook::LocalReply, |s, m| unsafe { hook_fn(s, m, status, details, reset_imminent) });
        drop(self.cell.effects.take());
        if self.failed() {
            return LocalReplyStatus::Continue;
        }
        LocalReplyStatus::from_abi(raw)
            .unwrap_or_else(|| self.unknown_status("local_reply", raw, LocalReplyStatus::Continue))
    }

    fn watermark_hook(&mut self, direction: Direction, above: bool) -> Effects {
        let Some(hook_fn) = self.config.hooks().stream_watermark else { return Effects::NONE };
        // Safety: the hook has the header's type; both pointers are this stream's and alive.
        self.run_async(Hook::Watermark, |s, m| unsafe { hook_fn(s, m, direction as u32, above) })
    }

    /// The host's news of the module's streaming callout `id` (ABI 1.1): runs the module's
    /// callout-event hook with it (the views are the host's, valid during this call) unless the
    /// stream is complete or `id` is not a streaming callout still open (it ended, or the module
    /// reset it); returns what to carry out. After COMPLETE or FAILED the callout is over.
    pub fn on_callout_event(&mut self, id: u64, event: crate::CalloutEvent<'_>) -> Effects {
        let open = if event.is_last() {
            crate::stream::callout::take(&self.cell, id).is_some_and(|c| c.streaming)
        } else {
            crate::stream::callout::is_streaming(&self.cell, id)
        };
        if !open {
            core_log!(
                Debug,
                "EnvoyX stream of filter `{}`: news of unknown streaming callout {id} dropped",
                self.config.name()
            );
            return Effects::NONE;
        }
        let Some(hook_fn) = self.config.hooks().stream_callout_event else { return Effects::NONE };
        let (kind, status, headers, headers_len, data, data_len, end) =
            crate::stream::callout_stream::hook_args(&event);
        self.run_async(Hook::CalloutEvent, |s, m| {
            // Safety: the hook has the header's type; both stream pointers are this stream's and
            // alive; the views are the host's (or the queued copy's), valid during this call.
            unsafe { hook_fn(s, m, id, kind, status, headers, headers_len, data, data_len, end) }
        })
    }

    /// The host's answer to the module's callout `id` (ABI 1.1): runs the module's callout-done
    /// hook with it (the views are the host's, valid during this call) unless the stream is
    /// complete or `id` is not a callout in flight; returns what to carry out.
    pub fn on_callout_done(
        &mut self,
        id: u64,
        status: crate::CalloutStatus,
        headers: &[envoyx_abi::envoyx_header],
        body: &[envoyx_abi::envoyx_bytes],
    ) -> Effects {
        if crate::stream::callout::take(&self.cell, id).is_none_or(|c| c.streaming) {
            core_log!(
                Debug,
                "EnvoyX stream of filter `{}`: answer to unknown callout {id} dropped",
                self.config.name()
            );
            return Effects::NONE;
        }
        let Some(hook_fn) = self.config.hooks().stream_callout_done else { return Effects::NONE };
        let (headers_ptr, body_ptr) = (headers.as_ptr(), body.as_ptr());
        let (headers_len, body_len) = (headers.len(), body.len());
        self.run_async(Hook::CalloutDone, |s, m| {
            // Safety: the hook has the header's type; both stream pointers are this stream's and
            // alive; the views are the host's, valid during this call.
            unsafe { hook_fn(s, m, id, status as u32, headers_ptr, headers_len, body_ptr, body_len) }
        })
    }

    fn scheduled_continue(&mut self, direction: Direction) -> Effects {
        if !crate::stream::control::resumable(&self.cell, direction) {
            self.continues_ignored += 1;
            core_log!(
                Debug,
                "EnvoyX stream of filter `{}`: continue of {direction:?} ignored (not stopped, or the \
                 stream is ending or over)",
                self.config.name()
            );
            return Effects::NONE;
        }
        self.resumed(direction);
        let mut effects = Effects::NONE;
        effects.record_continue(direction);
        effects
    }

    fn scheduled_event(&mut self, event_id: u64) -> Effects {
        // Events are only queued for modules that export the hook (`stream_handle_schedule`).
        let Some(hook_fn) = self.config.hooks().stream_scheduled else { return Effects::NONE };
        // Safety: the hook has the header's type; both pointers are this stream's and alive.
        self.run_async(Hook::Scheduled, |s, m| unsafe { hook_fn(s, m, event_id) })
    }

    /// Runs a hook on work the module started (a scheduled event, a callout's answer), unless
    /// the stream is complete, and applies the rules to what the module asked for in it.
    fn run_async(&mut self, hook: Hook, call: impl FnOnce(*mut envoyx_stream, *mut c_void)) -> Effects {
        if self.cell.completed.get() || self.failed() {
            return Effects::NONE;
        }
        self.call(hook, call);
        let effects = self.cell.effects.take();
        if effects.ends_stream() {
            self.ended_by_module();
        } else {
            // `continue_stream` accepted only directions that were stopped.
            for direction in effects.continues() {
                self.resumed(direction);
            }
        }
        effects
    }

    /// A stopped direction goes on now: its headers (if held) leave with the right framing.
    fn resumed(&mut self, direction: Direction) {
        self.cell.update_flow(direction, |f| f.stopped = false);
        framing::headers_released(&self.cell, direction, false);
    }

    /// The host is carrying out (`true`) a continue of `direction` the core returned, or is done
    /// with it (`false`): a proxy may deliver the other direction's events inside its continue
    /// call. A host whose proxy cannot resume a response stopped there
    /// ([`crate::HostStream::resumes_response_stopped_inside_request_continue`]) says so around
    /// its continue call, and the core lets such a response go on at once.
    pub fn carrying_out_continue(&mut self, direction: Direction, carrying_out: bool) {
        if direction == Direction::Request {
            self.cell.continuing_request.set(carrying_out);
        }
    }

    /// The stream is over. Calls the module's complete hook once; later calls do nothing. Events
    /// after this are refused; nothing the module asks for in the complete hook is carried out.
    pub fn on_stream_complete(&mut self) {
        if !self.cell.completed.get() {
            self.config.stream_counters().count(StreamEvent::Completed);
        }
        self.complete();
    }

    /// Completes the stream once, whether the host said so or it is being destroyed.
    fn complete(&mut self) {
        if self.cell.completed.replace(true) {
            return;
        }
        if let Some(handle) = self.cell.handle.get() {
            // What is still queued is dropped; later requests are refused.
            handle.close();
        }
        if !self.failed() {
            let hook_fn = self.config.hooks().stream_complete;
            // Safety: the hook has the header's type; both pointers are this stream's and alive.
            self.call(Hook::Complete, |s, m| unsafe { hook_fn(s, m) });
        }
        drop(self.cell.effects.take());
        crate::stream::tracing::finish_open_spans(&self.cell);
    }

    /// Body bytes copied on the module's behalf so far (what prepend, append and replace brought
    /// in). Reading or rewriting slices in place copies nothing and adds nothing here.
    pub fn body_bytes_copied(&self) -> u64 {
        self.cell.bytes_copied.get()
    }

    /// How many continues arrived when they could do nothing (and so were ignored).
    pub fn continues_ignored(&self) -> u64 {
        self.continues_ignored
    }

    /// Whether the module answered this stream with a local reply.
    pub fn local_reply_sent(&self) -> bool {
        self.cell.own_reply.get()
    }

    /// Whether the response has gone on past this filter towards the client.
    pub fn response_started(&self) -> bool {
        self.cell.response_started()
    }

    /// The name of the filter configuration this stream belongs to (for logs).
    pub fn config_name(&self) -> &str {
        self.config.name()
    }
}

fn hook_is_headers(hook: Hook) -> bool {
    matches!(hook, Hook::RequestHeaders | Hook::ResponseHeaders)
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.complete();
        if !self.module_stream.is_null() {
            let destroy = self.config.hooks().stream_destroy;
            // Safety: the module stream is alive and is destroyed exactly once, here.
            unsafe { destroy(self.module_stream) };
            self.module_stream = std::ptr::null_mut();
        }
        self.config.stream_counters().count(StreamEvent::Destroyed);
    }
}
