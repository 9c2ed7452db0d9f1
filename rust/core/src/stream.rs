//! One HTTP stream driven through a module: the state machine that keeps the event order the ABI
//! promises, whatever the host does.

use crate::error::EventOrderError;
use crate::filter_config::FilterConfig;
use crate::host::{Direction, HostStream, LocalReply, StreamScheduler};
use crate::log::core_log;
use envoyx_abi::*;
use std::cell::{Cell, OnceCell, RefCell};
use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which module hook is running (the host API only works inside one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hook {
    StreamNew,
    RequestHeaders,
    RequestBody,
    RequestTrailers,
    ResponseHeaders,
    ResponseBody,
    ResponseTrailers,
    Complete,
}

impl Hook {
    /// The direction whose RECEIVED body this hook carries, if it is a body hook.
    pub fn body_direction(self) -> Option<Direction> {
        match self {
            Hook::RequestBody => Some(Direction::Request),
            Hook::ResponseBody => Some(Direction::Response),
            _ => None,
        }
    }
}

/// What the module's `envoyx_stream*` points at. Only ever reached through shared references,
/// so the module may call back into it while the core is inside a hook call.
pub(crate) struct StreamCell {
    pub host: RefCell<Box<dyn HostStream>>,
    pub hook: Cell<Option<Hook>>,
    pub bytes_copied: Cell<u64>,
    pub local_reply_sent: Cell<bool>,
    /// Made when the module asks for its first handle (`stream_handle_new`): most streams never
    /// do, and so cost neither the allocation nor the host's scheduler.
    pub handle: OnceCell<Arc<HandleShared>>,
}

/// What every `envoyx_stream_handle` of a stream shares. It holds no pointer to the stream, so
/// a handle that outlives the stream is harmless: `alive` turns false and the host's scheduler
/// drops requests for streams it no longer has.
pub(crate) struct HandleShared {
    pub alive: AtomicBool,
    pub scheduler: Arc<dyn StreamScheduler>,
}

/// What a headers hook returned. Values equal Envoy's `FilterHeadersStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum HeadersStatus {
    Continue = ENVOYX_HEADERS_CONTINUE,
    StopIteration = ENVOYX_HEADERS_STOP_ITERATION,
    ContinueAndDontEndStream = ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM,
    StopAllIterationAndBuffer = ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_BUFFER,
    StopAllIterationAndWatermark = ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_WATERMARK,
}

/// What a body hook returned. Values equal Envoy's `FilterDataStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum BodyStatus {
    Continue = ENVOYX_BODY_CONTINUE,
    StopIterationAndBuffer = ENVOYX_BODY_STOP_ITERATION_AND_BUFFER,
    StopIterationAndWatermark = ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK,
    StopIterationNoBuffer = ENVOYX_BODY_STOP_ITERATION_NO_BUFFER,
}

/// What a trailers hook returned. Values equal Envoy's `FilterTrailersStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum TrailersStatus {
    Continue = ENVOYX_TRAILERS_CONTINUE,
    StopIteration = ENVOYX_TRAILERS_STOP_ITERATION,
}

impl HeadersStatus {
    fn from_abi(value: u32) -> Option<Self> {
        Some(match value {
            ENVOYX_HEADERS_CONTINUE => Self::Continue,
            ENVOYX_HEADERS_STOP_ITERATION => Self::StopIteration,
            ENVOYX_HEADERS_CONTINUE_AND_DONT_END_STREAM => Self::ContinueAndDontEndStream,
            ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_BUFFER => Self::StopAllIterationAndBuffer,
            ENVOYX_HEADERS_STOP_ALL_ITERATION_AND_WATERMARK => Self::StopAllIterationAndWatermark,
            _ => return None,
        })
    }
    fn stops(self) -> bool {
        !matches!(self, Self::Continue | Self::ContinueAndDontEndStream)
    }
}

impl BodyStatus {
    fn from_abi(value: u32) -> Option<Self> {
        Some(match value {
            ENVOYX_BODY_CONTINUE => Self::Continue,
            ENVOYX_BODY_STOP_ITERATION_AND_BUFFER => Self::StopIterationAndBuffer,
            ENVOYX_BODY_STOP_ITERATION_AND_WATERMARK => Self::StopIterationAndWatermark,
            ENVOYX_BODY_STOP_ITERATION_NO_BUFFER => Self::StopIterationNoBuffer,
            _ => return None,
        })
    }
}

impl TrailersStatus {
    fn from_abi(value: u32) -> Option<Self> {
        Some(match value {
            ENVOYX_TRAILERS_CONTINUE => Self::Continue,
            ENVOYX_TRAILERS_STOP_ITERATION => Self::StopIteration,
            _ => return None,
        })
    }
}

/// Where one direction of the stream is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    AwaitingHeaders,
    /// Headers seen; body chunks or trailers may follow.
    Open,
    /// End of stream seen.
    Ended,
}

#[derive(Clone, Copy, Debug)]
struct DirectionState {
    phase: Phase,
    /// The last hook of this direction returned a stop status and nothing resumed it yet.
    stopped: bool,
}

impl DirectionState {
    const NEW: Self = Self { phase: Phase::AwaitingHeaders, stopped: false };
}

/// One HTTP stream through one module. Created by [`FilterConfig::new_stream`], driven by the
/// host on the stream's worker thread, destroyed by dropping it (which calls the module's
/// complete, if not yet called, then destroy: exactly once each).
pub struct Stream {
    cell: Box<StreamCell>,
    /// NULL when the module's stream-new hook failed.
    module_stream: *mut c_void,
    request: DirectionState,
    response: DirectionState,
    completed: bool,
    continues_ignored: u64,
    // Declared last: the module config must outlive the module stream.
    config: Arc<FilterConfig>,
}

impl Stream {
    pub(crate) fn new(config: Arc<FilterConfig>, host: Box<dyn HostStream>) -> Stream {
        let cell = Box::new(StreamCell {
            host: RefCell::new(host),
            hook: Cell::new(None),
            bytes_copied: Cell::new(0),
            local_reply_sent: Cell::new(false),
            handle: OnceCell::new(),
        });
        let mut stream = Stream {
            cell,
            module_stream: std::ptr::null_mut(),
            request: DirectionState::NEW,
            response: DirectionState::NEW,
            completed: false,
            continues_ignored: 0,
            config,
        };
        let (stream_new, module_config) =
            (stream.config.module().hooks.stream_new, stream.config.module_config());
        // Safety: the hook has the header's type; `module_config` is this module's live config.
        stream.module_stream = stream.call(Hook::StreamNew, |s, _| unsafe { stream_new(module_config, s) });
        if stream.module_stream.is_null() {
            core_log!(
                Error,
                "EnvoyX module {}: stream-new hook of filter `{}` returned NULL; the stream gets a 500",
                stream.config.module().path().display(),
                stream.config.name()
            );
        }
        stream
    }

    /// Runs a module hook with the stream marked as "inside `hook`".
    fn call<R>(&mut self, hook: Hook, f: impl FnOnce(*mut envoyx_stream, *mut c_void) -> R) -> R {
        self.cell.hook.set(Some(hook));
        let stream_ptr = &*self.cell as *const StreamCell as *mut envoyx_stream;
        let result = f(stream_ptr, self.module_stream);
        self.cell.hook.set(None);
        result
    }

    fn direction(&mut self, direction: Direction) -> &mut DirectionState {
        match direction {
            Direction::Request => &mut self.request,
            Direction::Response => &mut self.response,
        }
    }

    /// Checks that `event` may happen now and moves the direction's phase.
    fn advance(
        &mut self,
        direction: Direction,
        event: &'static str,
        expect: Phase,
        end_of_stream: bool,
    ) -> Result<(), EventOrderError> {
        if self.completed {
            return Err(EventOrderError { event, reason: "the stream is already complete" });
        }
        let state = self.direction(direction);
        if state.phase != expect {
            let reason = match state.phase {
                Phase::AwaitingHeaders => "headers have not arrived yet",
                Phase::Open => "headers already arrived",
                Phase::Ended => "this direction already ended",
            };
            return Err(EventOrderError { event, reason });
        }
        state.phase = if end_of_stream { Phase::Ended } else { Phase::Open };
        Ok(())
    }

    fn failed(&self) -> bool {
        self.module_stream.is_null()
    }

    fn headers(
        &mut self,
        direction: Direction,
        end_of_stream: bool,
    ) -> Result<HeadersStatus, EventOrderError> {
        let (event, hook, hook_fn) = match direction {
            Direction::Request => {
                ("request_headers", Hook::RequestHeaders, self.config.module().hooks.request_headers)
            }
            Direction::Response => {
                ("response_headers", Hook::ResponseHeaders, self.config.module().hooks.response_headers)
            }
        };
        self.advance(direction, event, Phase::AwaitingHeaders, end_of_stream)?;
        if self.failed() {
            if direction == Direction::Request {
                self.fail_stream();
                return Ok(HeadersStatus::StopIteration);
            }
            return Ok(HeadersStatus::Continue);
        }
        // Safety: the hook has the header's type; both pointers are this stream's, alive.
        let raw = self.call(hook, |s, m| unsafe { hook_fn(s, m, end_of_stream) });
        let status = HeadersStatus::from_abi(raw)
            .unwrap_or_else(|| self.unknown_status(event, raw, HeadersStatus::Continue));
        self.direction(direction).stopped = status.stops();
        Ok(status)
    }

    fn body(&mut self, direction: Direction, end_of_stream: bool) -> Result<BodyStatus, EventOrderError> {
        let (event, hook, hook_fn) = match direction {
            Direction::Request => {
                ("request_body", Hook::RequestBody, self.config.module().hooks.request_body)
            }
            Direction::Response => {
                ("response_body", Hook::ResponseBody, self.config.module().hooks.response_body)
            }
        };
        self.advance(direction, event, Phase::Open, end_of_stream)?;
        if self.failed() {
            return Ok(BodyStatus::Continue);
        }
        // Safety: as in `headers`.
        let raw = self.call(hook, |s, m| unsafe { hook_fn(s, m, end_of_stream) });
        let status = BodyStatus::from_abi(raw)
            .unwrap_or_else(|| self.unknown_status(event, raw, BodyStatus::Continue));
        self.direction(direction).stopped = status != BodyStatus::Continue;
        Ok(status)
    }

    fn trailers(&mut self, direction: Direction) -> Result<TrailersStatus, EventOrderError> {
        let (event, hook, hook_fn) = match direction {
            Direction::Request => {
                ("request_trailers", Hook::RequestTrailers, self.config.module().hooks.request_trailers)
            }
            Direction::Response => {
                ("response_trailers", Hook::ResponseTrailers, self.config.module().hooks.response_trailers)
            }
        };
        self.advance(direction, event, Phase::Open, true)?;
        if self.failed() {
            return Ok(TrailersStatus::Continue);
        }
        // Safety: as in `headers`.
        let raw = self.call(hook, |s, m| unsafe { hook_fn(s, m) });
        let status = TrailersStatus::from_abi(raw)
            .unwrap_or_else(|| self.unknown_status(event, raw, TrailersStatus::Continue));
        self.direction(direction).stopped = status == TrailersStatus::StopIteration;
        Ok(status)
    }

    fn unknown_status<S>(&self, event: &str, raw: u32, fallback: S) -> S {
        core_log!(
            Error,
            "EnvoyX module {}: {event} hook returned unknown status {raw}; continuing",
            self.config.module().path().display()
        );
        fallback
    }

    /// Answers a stream whose module state could not be created.
    fn fail_stream(&mut self) {
        self.cell.host.borrow_mut().send_local_reply(LocalReply {
            status: 500,
            headers: &[],
            body: b"EnvoyX module failed to create its stream state\n",
            details: b"envoyx_stream_new_failed",
        });
    }

    /// Request headers arrived. `end_of_stream`: no body or trailers follow.
    pub fn on_request_headers(&mut self, end_of_stream: bool) -> Result<HeadersStatus, EventOrderError> {
        self.headers(Direction::Request, end_of_stream)
    }

    /// A request body chunk arrived (the host's RECEIVED request body).
    pub fn on_request_body(&mut self, end_of_stream: bool) -> Result<BodyStatus, EventOrderError> {
        self.body(Direction::Request, end_of_stream)
    }

    /// Request trailers arrived; they end the request.
    pub fn on_request_trailers(&mut self) -> Result<TrailersStatus, EventOrderError> {
        self.trailers(Direction::Request)
    }

    /// Response headers arrived.
    pub fn on_response_headers(&mut self, end_of_stream: bool) -> Result<HeadersStatus, EventOrderError> {
        self.headers(Direction::Response, end_of_stream)
    }

    /// A response body chunk arrived.
    pub fn on_response_body(&mut self, end_of_stream: bool) -> Result<BodyStatus, EventOrderError> {
        self.body(Direction::Response, end_of_stream)
    }

    /// Response trailers arrived; they end the response.
    pub fn on_response_trailers(&mut self) -> Result<TrailersStatus, EventOrderError> {
        self.trailers(Direction::Response)
    }

    /// A continue the module asked for (through a handle, on any thread) has reached the worker
    /// thread. Resumes the direction if the module had stopped it; otherwise (not stopped, already
    /// resumed, stream complete) does nothing. Returns whether it resumed.
    pub fn on_scheduled(&mut self, direction: Direction) -> bool {
        let completed = self.completed;
        let state = self.direction(direction);
        if completed || !state.stopped {
            self.continues_ignored += 1;
            core_log!(
                Debug,
                "EnvoyX stream: continue of {direction:?} ignored (not stopped or already over)"
            );
            return false;
        }
        state.stopped = false;
        self.cell.host.borrow_mut().continue_stream(direction);
        true
    }

    /// The stream is over. Calls the module's complete hook once; later calls do nothing. Events
    /// after this are refused.
    pub fn on_stream_complete(&mut self) {
        if self.completed {
            return;
        }
        self.completed = true;
        if !self.failed() {
            let hook_fn = self.config.module().hooks.stream_complete;
            // Safety: the hook has the header's type; both pointers are this stream's, alive.
            self.call(Hook::Complete, |s, m| unsafe { hook_fn(s, m) });
        }
    }

    /// Body bytes copied on the module's behalf so far (what prepend, append and replace brought
    /// in). Reading or rewriting slices in place copies nothing and adds nothing here.
    pub fn body_bytes_copied(&self) -> u64 {
        self.cell.bytes_copied.get()
    }

    /// How many continues arrived for a direction that was not stopped (and so did nothing).
    pub fn continues_ignored(&self) -> u64 {
        self.continues_ignored
    }

    /// Whether the module answered this stream with a local reply.
    pub fn local_reply_sent(&self) -> bool {
        self.cell.local_reply_sent.get()
    }

    /// The filter configuration this stream belongs to.
    pub fn config(&self) -> &Arc<FilterConfig> {
        &self.config
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.on_stream_complete();
        if let Some(handle) = self.cell.handle.get() {
            handle.alive.store(false, Ordering::Release);
        }
        if !self.failed() {
            let destroy = self.config.module().hooks.stream_destroy;
            // Safety: the module stream is alive and is destroyed exactly once, here.
            unsafe { destroy(self.module_stream) };
            self.module_stream = std::ptr::null_mut();
        }
    }
}
