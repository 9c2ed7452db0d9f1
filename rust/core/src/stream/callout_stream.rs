//! Streaming HTTP callouts (ABI 1.1): a request to a cluster whose body the module sends in
//! chunks and whose response arrives in chunks, through the module's callout-event hook.
//!
//! The rules, all here: a streaming callout starts like a whole one ([`crate::stream::callout::begin`]:
//! same checks, same ids); the module may send request chunks and trailers until its request
//! ended, and reset the callout while it is open; its events reach the module in the order the
//! proxy produced them, the last being COMPLETE or FAILED, and none after that, after the
//! module's own reset, or after the stream completed. The proxy may answer inline, inside a
//! call the module made (a request it refuses at once); then the host cannot enter the stream,
//! which is busy, so it copies the event into the stream's queue through the [`CalloutInbox`]
//! and the core delivers it right after that call.

use std::borrow::Cow;
use std::sync::Arc;

use envoyx_abi::{envoyx_bytes, envoyx_header};

use crate::stream::callout::{CalloutArgs, CalloutStatus, InFlight};
use crate::stream::cell::{HandleShared, Hook, StreamCell, Work};
use crate::stream::validate::{self, HeaderOp};
use crate::vocab::HeaderMapKind;

/// News of a streaming callout, as the host hands it to [`crate::Stream::on_callout_event`]:
/// views into the host's memory, valid during that call.
#[derive(Clone, Copy, Debug)]
pub enum CalloutEvent<'a> {
    /// The response headers (`:status` among them).
    Headers { headers: &'a [envoyx_header], end_of_stream: bool },
    /// Response body chunks (possibly none when only the end is news).
    Data { chunks: &'a [envoyx_bytes], end_of_stream: bool },
    /// The response trailers: the response is over.
    Trailers { trailers: &'a [envoyx_header] },
    /// The request went whole and the response came whole: the last event.
    Complete,
    /// The exchange ended early: the last event.
    Failed(CalloutStatus),
}

impl<'a> CalloutEvent<'a> {
    /// The event for the ABI's values (`envoyx_callout_event`, `envoyx_callout_status`), as a
    /// host written against x/abi.h passes them; an unknown event counts as a reset.
    pub fn from_abi(
        event: u32,
        status: u32,
        headers: &'a [envoyx_header],
        data: &'a [envoyx_bytes],
        end_of_stream: bool,
    ) -> Self {
        use envoyx_abi::*;
        match event {
            ENVOYX_CALLOUT_EVENT_HEADERS => CalloutEvent::Headers { headers, end_of_stream },
            ENVOYX_CALLOUT_EVENT_DATA => CalloutEvent::Data { chunks: data, end_of_stream },
            ENVOYX_CALLOUT_EVENT_TRAILERS => CalloutEvent::Trailers { trailers: headers },
            ENVOYX_CALLOUT_EVENT_COMPLETE => CalloutEvent::Complete,
            ENVOYX_CALLOUT_EVENT_FAILED => CalloutEvent::Failed(CalloutStatus::from_abi(status)),
            _ => CalloutEvent::Failed(CalloutStatus::Reset),
        }
    }

    /// Whether nothing follows this event.
    pub fn is_last(&self) -> bool {
        matches!(self, CalloutEvent::Complete | CalloutEvent::Failed(_))
    }

    /// The ABI's `(event, status, headers, data, end_of_stream)` for the module's hook.
    fn abi(&self) -> (u32, u32, &[envoyx_header], &[envoyx_bytes], bool) {
        use envoyx_abi::*;
        let ok = ENVOYX_CALLOUT_RESPONSE;
        match *self {
            CalloutEvent::Headers { headers, end_of_stream } => {
                (ENVOYX_CALLOUT_EVENT_HEADERS, ok, headers, &[], end_of_stream)
            }
            CalloutEvent::Data { chunks, end_of_stream } => {
                (ENVOYX_CALLOUT_EVENT_DATA, ok, &[], chunks, end_of_stream)
            }
            CalloutEvent::Trailers { trailers } => (ENVOYX_CALLOUT_EVENT_TRAILERS, ok, trailers, &[], true),
            CalloutEvent::Complete => (ENVOYX_CALLOUT_EVENT_COMPLETE, ok, &[], &[], true),
            CalloutEvent::Failed(status) => (ENVOYX_CALLOUT_EVENT_FAILED, status as u32, &[], &[], true),
        }
    }
}

/// A [`CalloutEvent`] copied out of the host's memory, for delivery after the call it arrived in.
#[derive(Debug)]
pub(crate) struct OwnedCalloutEvent {
    kind: OwnedKind,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    chunks: Vec<Vec<u8>>,
}

#[derive(Clone, Copy, Debug)]
enum OwnedKind {
    Headers { end_of_stream: bool },
    Data { end_of_stream: bool },
    Trailers,
    Complete,
    Failed(CalloutStatus),
}

impl OwnedCalloutEvent {
    /// Copies `event` (whose views are valid now).
    pub(crate) fn copy(event: &CalloutEvent<'_>) -> Self {
        let header = |h: &envoyx_header| {
            // Safety: the host's views are valid during the call that handed them over
            // (`CalloutInbox::defer`), inside which this copy is made.
            unsafe { (h.key.as_slice().to_vec(), h.value.as_slice().to_vec()) }
        };
        // Safety: as for the headers.
        let chunk = |c: &envoyx_bytes| unsafe { c.as_slice().to_vec() };
        let (kind, headers, chunks) = match *event {
            CalloutEvent::Headers { headers, end_of_stream } => {
                (OwnedKind::Headers { end_of_stream }, headers.iter().map(header).collect(), Vec::new())
            }
            CalloutEvent::Data { chunks, end_of_stream } => {
                (OwnedKind::Data { end_of_stream }, Vec::new(), chunks.iter().map(chunk).collect())
            }
            CalloutEvent::Trailers { trailers } => {
                (OwnedKind::Trailers, trailers.iter().map(header).collect(), Vec::new())
            }
            CalloutEvent::Complete => (OwnedKind::Complete, Vec::new(), Vec::new()),
            CalloutEvent::Failed(status) => (OwnedKind::Failed(status), Vec::new(), Vec::new()),
        };
        Self { kind, headers, chunks }
    }

    /// Calls `f` with the event as views of this copy.
    pub fn with_views<R>(&self, f: impl FnOnce(CalloutEvent<'_>) -> R) -> R {
        let headers: Vec<envoyx_header> = self
            .headers
            .iter()
            .map(|(k, v)| envoyx_header {
                key: envoyx_bytes::from_slice(k),
                value: envoyx_bytes::from_slice(v),
            })
            .collect();
        let chunks: Vec<envoyx_bytes> = self.chunks.iter().map(|c| envoyx_bytes::from_slice(c)).collect();
        f(match self.kind {
            OwnedKind::Headers { end_of_stream } => {
                CalloutEvent::Headers { headers: &headers, end_of_stream }
            }
            OwnedKind::Data { end_of_stream } => CalloutEvent::Data { chunks: &chunks, end_of_stream },
            OwnedKind::Trailers => CalloutEvent::Trailers { trailers: &headers },
            OwnedKind::Complete => CalloutEvent::Complete,
            OwnedKind::Failed(status) => CalloutEvent::Failed(status),
        })
    }
}

/// Where a host puts a callout's answer or a streaming callout's news that reached it while the
/// stream was busy inside a module call (the proxy answered inline). Handed to the host with
/// each callout it starts ([`crate::HostStream::http_callout`],
/// [`crate::HostStream::callout_stream_start`]); `Send`, cheap to clone, and harmless after the
/// stream is gone (the answer is dropped).
#[derive(Clone)]
pub struct CalloutInbox(pub(crate) Arc<HandleShared>);

impl CalloutInbox {
    /// Copies `event` of streaming callout `id` into the stream's queue; the core delivers it to
    /// the module right after the running call, through the host's scheduler. False when the
    /// stream is gone.
    pub fn defer(&self, id: u64, event: CalloutEvent<'_>) -> bool {
        self.0.push(Work::CalloutEvent { id, event: Box::new(OwnedCalloutEvent::copy(&event)) })
    }

    /// Copies the answer of HTTP callout `id` (what [`crate::Stream::on_callout_done`] takes)
    /// into the stream's queue, delivered like [`CalloutInbox::defer`]'s news. False when the
    /// stream is gone.
    pub fn defer_answer(
        &self,
        id: u64,
        status: CalloutStatus,
        headers: &[envoyx_header],
        body: &[envoyx_bytes],
    ) -> bool {
        let answer = Box::new(crate::stream::callout::OwnedAnswer::copy(status, headers, body));
        self.0.push(Work::CalloutAnswer { id, answer })
    }
}

impl std::fmt::Debug for CalloutInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CalloutInbox")
    }
}

/// `callout_stream_start`: the id, or 0 (logged).
pub(crate) fn start(cell: &StreamCell, hook: Hook, args: CalloutArgs<'_>, end_of_stream: bool) -> u64 {
    let inbox = CalloutInbox(cell.handle().clone());
    let exported = cell.callout_event_export;
    let id = crate::stream::callout::begin(
        cell,
        hook,
        args,
        true,
        exported,
        "envoyx_on_stream_callout_event",
        |host, id, c| host.callout_stream_start(id, c, end_of_stream, inbox),
    );
    if id != 0 && end_of_stream {
        mark_request_ended(cell, id);
    }
    id
}

fn mark_request_ended(cell: &StreamCell, id: u64) {
    ended_request(&mut cell.callouts.borrow_mut(), id);
}

/// Marks the request of streaming callout `id` ended in `callouts`.
pub(crate) fn ended_request(callouts: &mut [InFlight], id: u64) {
    if let Some(c) = callouts.iter_mut().find(|c| c.id == id) {
        c.request_ended = true;
    }
}

/// The rule for sending more of a streaming callout's request: `id` is one in `callouts` that
/// is still open, and its request has not ended. The reason when not.
pub(crate) fn sendable_in(callouts: &[InFlight], id: u64) -> Result<(), &'static str> {
    match callouts.iter().find(|c| c.id == id && c.streaming) {
        None => Err("it is not a streaming callout that is still open"),
        Some(c) if c.request_ended => Err("its request already ended"),
        Some(_) => Ok(()),
    }
}

/// A checked trailer: its name (lower-cased) and value.
pub(crate) type Trailer<'a> = (Cow<'a, [u8]>, &'a [u8]);

/// Checks the trailers that end a streaming callout's request (as request trailers: lower-cased
/// tokens, valid values, no pseudo-headers); the refusal names the trailer.
pub(crate) fn check_trailers<'a>(trailers: &[(&'a [u8], &'a [u8])]) -> Result<Vec<Trailer<'a>>, String> {
    trailers
        .iter()
        .map(|&(key, value)| {
            validate::header_name(Some(HeaderMapKind::RequestTrailers), HeaderOp::Set, key)
                .and_then(|name| validate::header_value(&name, value).map(|()| (name, value)))
                .map_err(|refusal| format!("trailer `{}`: {refusal}", crate::log::Shown(key)))
        })
        .collect()
}

/// Checks that the module may send more of callout `id`'s request; the refusal is logged.
fn sendable(cell: &StreamCell, what: &str, id: u64) -> bool {
    let refusal = if cell.completed.get() {
        Err("the stream is over")
    } else {
        sendable_in(&cell.callouts.borrow(), id)
    };
    match refusal {
        Err(reason) => {
            cell.refuse(format_args!("{what} on callout {id}"), &reason);
            false
        }
        Ok(()) => true,
    }
}

/// `callout_stream_send`.
pub(crate) fn send(cell: &StreamCell, id: u64, data: &[u8], end_of_stream: bool) -> bool {
    if !sendable(cell, "callout_stream_send", id) {
        return false;
    }
    if end_of_stream {
        mark_request_ended(cell, id);
    }
    cell.host.borrow_mut().callout_stream_send(id, data, end_of_stream)
}

/// `callout_stream_send_trailers`.
pub(crate) fn send_trailers(cell: &StreamCell, id: u64, trailers: &[(&[u8], &[u8])]) -> bool {
    let what = "callout_stream_send_trailers";
    if !sendable(cell, what, id) {
        return false;
    }
    let checked = match check_trailers(trailers) {
        Ok(checked) => checked,
        Err(reason) => {
            cell.refuse(format_args!("{what} on callout {id}"), &reason);
            return false;
        }
    };
    mark_request_ended(cell, id);
    cell.host.borrow_mut().callout_stream_send_trailers(id, &checked)
}

/// `callout_stream_reset`: the module hears nothing more of `id`.
pub(crate) fn reset(cell: &StreamCell, id: u64) -> bool {
    if let Err(reason) = open_in(&cell.callouts.borrow(), id) {
        cell.refuse(format_args!("callout_stream_reset on callout {id}"), &reason);
        return false;
    }
    crate::stream::callout::take(cell, id);
    cell.host.borrow_mut().callout_stream_reset(id);
    true
}

/// The rule for resetting a streaming callout: `id` is one in `callouts` that is still open.
pub(crate) fn open_in(callouts: &[InFlight], id: u64) -> Result<(), &'static str> {
    if callouts.iter().any(|c| c.id == id && c.streaming) {
        Ok(())
    } else {
        Err("it is not a streaming callout that is still open")
    }
}

/// The module hook's arguments for `event`: kind, status, headers, data, end of stream.
#[allow(clippy::type_complexity)]
pub(crate) fn hook_args(
    event: &CalloutEvent<'_>,
) -> (u32, u32, *const envoyx_header, usize, *const envoyx_bytes, usize, bool) {
    let (kind, status, headers, data, end) = event.abi();
    (kind, status, headers.as_ptr(), headers.len(), data.as_ptr(), data.len(), end)
}
