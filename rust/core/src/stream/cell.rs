//! What a module's `envoyx_stream*` points at: one stream's state as the host table sees it.
//!
//! The [`crate::Stream`] owns it and drives the events; the host-table functions
//! (`host_api/`) reach it through the module's pointer while a hook runs. It is only ever
//! reached through shared references (interior mutability), so the module may call back into it
//! while the core is inside a hook call.

use crate::log::LogLevel;
use crate::stream::effects::Effects;
use crate::stream::host::{HostStream, StreamScheduler};
use crate::stream::setup::{Labels, StreamConfig};
use crate::sync::lock;
use crate::vocab::{Direction, HeaderMapKind};
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Which module hook is running (the host table only works inside one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hook {
    StreamNew,
    RequestHeaders,
    RequestBody,
    RequestTrailers,
    ResponseHeaders,
    ResponseBody,
    ResponseTrailers,
    /// `envoyx_on_stream_scheduled`: an event the module scheduled through a handle, run on the
    /// worker thread outside any event.
    Scheduled,
    /// `envoyx_on_stream_callout_done`: an HTTP callout the module started finished.
    CalloutDone,
    /// `envoyx_on_stream_callout_event`: news of a streaming callout the module started.
    CalloutEvent,
    /// `envoyx_on_stream_watermark` (ABI 1.2): a peer's side went above or below its watermark.
    Watermark,
    /// `envoyx_on_stream_local_reply` (ABI 1.2): a local reply is being made, inside the proxy's
    /// call that makes it.
    LocalReply,
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

    /// The hook's name in log lines, as the SDKs call it.
    pub fn name(self) -> &'static str {
        match self {
            Hook::StreamNew => "stream_new",
            Hook::RequestHeaders => "request_headers",
            Hook::RequestBody => "request_body",
            Hook::RequestTrailers => "request_trailers",
            Hook::ResponseHeaders => "response_headers",
            Hook::ResponseBody => "response_body",
            Hook::ResponseTrailers => "response_trailers",
            Hook::Scheduled => "scheduled",
            Hook::CalloutDone => "callout_done",
            Hook::CalloutEvent => "callout_event",
            Hook::Watermark => "watermark",
            Hook::LocalReply => "local_reply",
            Hook::Complete => "stream_complete",
        }
    }
}

/// Where one direction of the stream is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    AwaitingHeaders,
    /// Headers seen; body chunks or trailers may follow.
    Open,
    /// End of stream seen.
    Ended,
}

/// One direction's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flow {
    pub phase: Phase,
    /// The last hook of this direction returned a stop status and nothing resumed it yet.
    pub stopped: bool,
    /// The headers went on past this filter (towards the upstream for the request, the client
    /// for the response): changing them now changes nothing on the wire.
    pub headers_forwarded: bool,
    /// The module changed the body's length while the headers were held (the core took their
    /// `content-length` off and sets the exact one when they go on at the end of the body).
    pub length_changed: bool,
    /// The direction ended with trailers (chunked framing: no `content-length` is set).
    pub ended_by_trailers: bool,
}

impl Flow {
    pub const NEW: Flow = Flow {
        phase: Phase::AwaitingHeaders,
        stopped: false,
        headers_forwarded: false,
        length_changed: false,
        ended_by_trailers: false,
    };
}

/// Work for the stream's worker thread, taken between events: what a module asked for through a
/// handle on any thread, and completions that must not reach the module inside the call that
/// caused them.
#[derive(Debug)]
pub(crate) enum Work {
    /// `stream_handle_continue`.
    Continue(Direction),
    /// `stream_handle_schedule`: run the module's scheduled hook with this event id.
    Event(u64),
    /// A callout that could not start: its failure, delivered like any other completion but
    /// never inside the call that started it.
    CalloutFailed { id: u64, status: crate::CalloutStatus },
    /// News of a streaming callout that reached the host while the stream was busy inside a
    /// module call (the proxy answered inline), copied to be delivered after it.
    CalloutEvent { id: u64, event: Box<crate::stream::callout_data::OwnedCalloutEvent> },
    /// The answer of an HTTP callout that reached the host while the stream was busy, likewise.
    CalloutAnswer { id: u64, answer: Box<crate::stream::callout_data::OwnedAnswer> },
    /// A watermark change for the module's watermark hook (`flow_control.rs`).
    Watermark { direction: Direction, above: bool },
}

/// What every `envoyx_stream_handle` of a stream shares. It holds no pointer to the stream, so
/// a handle that outlives the stream is harmless: `alive` turns false, nothing more is queued,
/// and the host's scheduler drops wake-ups for streams it no longer has.
///
/// The queue is the core's: a host's scheduler only wakes the stream's worker thread, once per
/// queued item, and [`crate::Stream::on_scheduled`] takes the items in order. So every host
/// delivers continues and events alike, in the order the module asked for them.
pub(crate) struct HandleShared {
    pub alive: AtomicBool,
    /// The module exports the scheduled hook (events may be queued).
    pub schedulable: bool,
    pub queue: Mutex<VecDeque<Work>>,
    pub scheduler: Arc<dyn StreamScheduler>,
}

impl HandleShared {
    /// Queues `work` and wakes the worker thread; false (nothing queued) once the stream is gone.
    pub fn push(&self, work: Work) -> bool {
        {
            let mut queue = lock(&self.queue);
            // Checked under the lock: the stream turns `alive` off under it too, so nothing is
            // queued after the stream took its last item.
            if !self.alive.load(Ordering::Acquire) {
                return false;
            }
            queue.push_back(work);
        }
        self.scheduler.wake();
        true
    }

    /// The next queued item (worker thread).
    pub fn pop(&self) -> Option<Work> {
        lock(&self.queue).pop_front()
    }

    /// The stream is gone: later pushes are refused and what is queued is dropped.
    pub fn close(&self) {
        let mut queue = lock(&self.queue);
        self.alive.store(false, Ordering::Release);
        queue.clear();
    }
}

pub(crate) struct StreamCell {
    pub host: RefCell<Box<dyn HostStream>>,
    pub hook: Cell<Option<Hook>>,
    pub bytes_copied: Cell<u64>,
    /// Indexed by `Direction as usize`.
    pub flows: [Cell<Flow>; 2],
    /// What the module asked for during the running call, returned to the host when it ends.
    pub effects: RefCell<Effects>,
    /// The module reset the stream or answered it locally: nothing resumes it any more.
    pub ending: Cell<bool>,
    /// This module answered locally: the response events that follow are its own reply's,
    /// passed through without reaching the module again.
    pub own_reply: Cell<bool>,
    /// The module's own response (ABI 1.2 `send_response_*`, `answer.rs`).
    pub answer: Cell<crate::stream::answer::AnswerState>,
    /// The child spans the module has open (`tracing.rs`), and the last number handed out.
    pub open_spans: RefCell<Vec<u64>>,
    pub last_span: Cell<u64>,
    /// A request body chunk or trailers arrived (a request that cannot start over:
    /// `control::recreate`).
    pub request_had_body: Cell<bool>,
    /// How many times the proxy said each direction's peer side is above its high watermark,
    /// less the times it said below (`flow_control.rs`); indexed by `Direction as usize`.
    pub watermarks: [Cell<u32>; 2],
    pub completed: Cell<bool>,
    /// The host is carrying out a continue of the request (`Stream::carrying_out_continue`):
    /// response events may arrive inside the proxy's continue call.
    pub continuing_request: Cell<bool>,
    /// The warning that a response went on by itself (a proxy that could not resume it) was
    /// logged for this stream.
    pub warned_unresumable: Cell<bool>,
    /// The module reported a failed hook (`hook_failed`): it gets no hook of this stream but
    /// destroy.
    pub module_failed: Cell<bool>,
    /// The host function the module is calling (`header_set`, `metadata_set`, ...), which names
    /// the kind of a refusal; "" outside one.
    pub call: Cell<&'static str>,
    /// The kinds of refusal (host functions) already logged at warn level on this stream; later
    /// refusals of a kind go to debug.
    warned: RefCell<Vec<&'static str>>,
    /// Header sets and adds the module made on this stream (bounded: `validate::header_write`).
    pub header_writes: Cell<u32>,
    /// Points at the stream's configuration (its labels, its metrics), which the `Stream`
    /// keeps alive (by an `Arc`) for longer than this cell.
    config: NonNull<dyn StreamConfig>,
    /// The module exports `envoyx_on_stream_scheduled` (ABI 1.1), so events may be scheduled.
    pub schedulable: bool,
    /// The module exports `envoyx_on_stream_callout_done` (ABI 1.1), so it may start callouts.
    pub callout_done_export: bool,
    /// The module exports `envoyx_on_stream_callout_event` (ABI 1.1), so it may start
    /// streaming callouts.
    pub callout_event_export: bool,
    /// The stream's module, only compared with a per-route configuration's (never read).
    pub module_id: *const (),
    /// The per-route configurations the module was handed: kept alive for the whole stream, as
    /// x/abi.h promises, even if the route changes meanwhile.
    pub routes: RefCell<Vec<Arc<crate::RouteConfig>>>,
    /// Callout ids handed out so far (ids start at 1; 0 means "not started").
    pub last_callout: Cell<u64>,
    /// Callouts started whose end the module has not been told yet.
    pub callouts: RefCell<Vec<crate::stream::callout_data::InFlight>>,
    /// Made when the module asks for its first handle (`stream_handle_new`): most streams never
    /// do, and so cost neither the allocation nor the host's scheduler.
    pub handle: OnceCell<Arc<HandleShared>>,
}

impl StreamCell {
    /// # Safety
    /// `config` must outlive the cell.
    pub unsafe fn new(host: Box<dyn HostStream>, config: &(dyn StreamConfig + 'static)) -> Self {
        let hooks = config.hooks();
        let (schedulable, callout_done_export, callout_event_export, module_id) = (
            hooks.stream_scheduled.is_some(),
            hooks.stream_callout_done.is_some(),
            hooks.stream_callout_event.is_some(),
            config.module_id(),
        );
        Self {
            host: RefCell::new(host),
            hook: Cell::new(None),
            bytes_copied: Cell::new(0),
            flows: [Cell::new(Flow::NEW), Cell::new(Flow::NEW)],
            effects: RefCell::new(Effects::NONE),
            ending: Cell::new(false),
            own_reply: Cell::new(false),
            answer: Cell::new(crate::stream::answer::AnswerState::NotStarted),
            request_had_body: Cell::new(false),
            open_spans: RefCell::new(Vec::new()),
            last_span: Cell::new(0),
            watermarks: [Cell::new(0), Cell::new(0)],
            completed: Cell::new(false),
            continuing_request: Cell::new(false),
            warned_unresumable: Cell::new(false),
            module_failed: Cell::new(false),
            call: Cell::new(""),
            warned: RefCell::new(Vec::new()),
            header_writes: Cell::new(0),
            config: NonNull::from(config),
            schedulable,
            callout_done_export,
            callout_event_export,
            module_id,
            routes: RefCell::new(Vec::new()),
            last_callout: Cell::new(0),
            callouts: RefCell::new(Vec::new()),
            handle: OnceCell::new(),
        }
    }

    /// The stream's handle state, made on first use (a module's first handle, or a callout that
    /// failed to start and must be delivered through the queue).
    pub fn handle(&self) -> &Arc<HandleShared> {
        self.handle.get_or_init(|| {
            // Not borrowed: the core holds the host only inside a host function, and a module
            // calls host functions one at a time.
            let scheduler = self.host.borrow().scheduler();
            Arc::new(HandleShared {
                alive: AtomicBool::new(true),
                schedulable: self.schedulable,
                queue: Mutex::default(),
                scheduler,
            })
        })
    }

    /// Whether `hook` runs outside the stream's events, on work the module started (a scheduled
    /// event, a callout's completion): where `continue_stream` resumes what a hook stopped.
    pub fn is_async(hook: Hook) -> bool {
        matches!(hook, Hook::Scheduled | Hook::CalloutDone | Hook::CalloutEvent | Hook::Watermark)
    }

    fn config(&self) -> &dyn StreamConfig {
        // Safety: alive for longer than the cell (see `new`); only shared references are made.
        unsafe { self.config.as_ref() }
    }

    pub fn labels(&self) -> &Labels {
        self.config().labels()
    }

    /// The metrics the stream's configuration defined, id 1 first.
    pub fn metrics(&self) -> &[crate::stream::metrics::Metric] {
        self.config().metrics()
    }

    /// The secrets the stream's configuration declares.
    pub fn secrets(&self) -> &crate::stream::secrets::Secrets {
        self.config().secrets()
    }

    pub fn flow(&self, direction: Direction) -> Flow {
        self.flows[direction as usize].get()
    }

    pub fn update_flow(&self, direction: Direction, f: impl FnOnce(&mut Flow)) {
        let cell = &self.flows[direction as usize];
        let mut flow = cell.get();
        f(&mut flow);
        cell.set(flow);
    }

    /// Whether the response has gone on towards the client (so a local reply is too late).
    pub fn response_started(&self) -> bool {
        self.flow(Direction::Response).headers_forwarded
    }

    /// Logs that a module call was refused: at warn level the first time on this stream for
    /// this kind of call (the host function being called: `header_set`, `metadata_set`, ...),
    /// naming the module, the filter, the hook, what was refused and why; at debug level after
    /// that, so a module refused on every request cannot flood the log, while an operator still
    /// sees each kind of mistake once per stream.
    pub fn refuse(&self, what: fmt::Arguments<'_>, reason: &dyn fmt::Display) {
        let call = self.call.get();
        let first = {
            let mut warned = self.warned.borrow_mut();
            let first = !warned.contains(&call);
            if first {
                warned.push(call);
            }
            first
        };
        let level = if first { LogLevel::Warn } else { LogLevel::Debug };
        if crate::log::enabled(level) {
            let labels = self.labels();
            let hook = self.hook.get().map_or("(no hook)", Hook::name);
            let kind = if call.is_empty() { "refusals" } else { call };
            let more = if first {
                format!(" (further {kind} refusals on this stream are logged at debug level)")
            } else {
                String::new()
            };
            let message = format!(
                "EnvoyX module {} (filter `{}`), {hook} hook: {what} refused: {reason}{more}",
                labels.module, labels.filter
            );
            crate::log::log(level, message.as_bytes());
        }
    }
}

/// The header map that carries a direction's headers.
pub(crate) fn headers_of(direction: Direction) -> HeaderMapKind {
    match direction {
        Direction::Request => HeaderMapKind::RequestHeaders,
        Direction::Response => HeaderMapKind::ResponseHeaders,
    }
}
