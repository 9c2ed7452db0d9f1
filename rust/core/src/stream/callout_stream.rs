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

use crate::stream::callout::CalloutArgs;
use crate::stream::callout_data::{
    CalloutEvent, CalloutStatus, OwnedCalloutEvent, ended_request, open_in, sendable_in,
};
use crate::stream::cell::{HandleShared, Hook, StreamCell, Work};
use crate::stream::validate::{self, HeaderOp};
use crate::vocab::HeaderMapKind;

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
        let answer = Box::new(crate::stream::callout_data::OwnedAnswer::copy(status, headers, body));
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

/// The module hook's arguments for `event`: kind, status, headers, data, end of stream.
#[allow(clippy::type_complexity)]
pub(crate) fn hook_args(
    event: &CalloutEvent<'_>,
) -> (u32, u32, *const envoyx_header, usize, *const envoyx_bytes, usize, bool) {
    let (kind, status, headers, data, end) = event.abi();
    (kind, status, headers.as_ptr(), headers.len(), data.as_ptr(), data.len(), end)
}
