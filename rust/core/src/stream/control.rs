//! How a module changes its stream's course: a local reply, a reset, a continue, a failed hook.
//! The rules of each live here once; the host-table functions (`host_api/`) decode a module's
//! call and apply them, and [`crate::Stream`] applies them to what the module queued through a
//! handle. What is accepted is recorded in the cell's effects and carried out by the host once
//! the module's call has returned (see `effects.rs`).
//!
//! - Local reply: only from an event or async hook (not stream-new, not complete), once per
//!   stream, before the response started (the module's own response, `answer.rs`, starts it
//!   too); status, details, headers and size checked (`validate.rs`).
//! - Reset: from an event or async hook; wins over a local reply.
//! - Continue: resumes a direction only if the module stopped it and the stream is neither
//!   ending nor complete; at most once per direction per call.
//! - A stop that could never be resumed (a response stopped inside the host's own request
//!   continue, on a proxy that cannot resume it: Envoy 1.38) goes on at once, with a warning.
//! - Failed hook (ABI 1.2): the core, not the module, decides how the stream ends — 500 while
//!   the response has not started on the request side (request hooks, scheduled, callout and
//!   watermark hooks), a reset on the response side or once the response started, nothing in
//!   stream-new (the module returns NULL) or complete; afterwards the module gets no hook but
//!   destroy.

use crate::log::{Shown, core_log};
use crate::stream::answer;
use crate::stream::cell::{Hook, StreamCell};
use crate::stream::effects::OwnedLocalReply;
use crate::stream::validate::{self, HeaderOp};
use crate::vocab::{Direction, ResetReason};

/// The details of the local reply that ends a stream whose hook failed.
pub(crate) const FAILED_HOOK_DETAILS: &[u8] = b"envoyx_module_panic";

/// Whether `hook` may change the stream's course (reply, reset, start a callout): an event or
/// async hook (not stream-new, not complete, not the local-reply news, which says what it wants
/// by its return) of a stream that is not complete.
pub(crate) fn may_act(cell: &StreamCell, hook: Hook) -> bool {
    !matches!(hook, Hook::StreamNew | Hook::Complete | Hook::LocalReply) && !cell.completed.get()
}

/// Why a local reply cannot be sent now, if it cannot.
fn reply_refusal(cell: &StreamCell, hook: Hook) -> Option<String> {
    if !may_act(cell, hook) {
        return Some(format!("a local reply can only be sent from an event hook, not from {}", hook.name()));
    }
    if cell.ending.get() {
        return Some("the module already reset or answered this stream".to_string());
    }
    if answer::answering(cell) {
        return Some("the module's own response already started (send_response_headers)".to_string());
    }
    if cell.response_started() {
        return Some("the response already started (its headers went on to the client)".to_string());
    }
    None
}

/// Checks a local reply the module asks for during `hook` (the rules above, then
/// `validate.rs`) and copies it.
pub(crate) fn local_reply<'a>(
    cell: &StreamCell,
    hook: Hook,
    status: u32,
    headers: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    body: &[u8],
    details: &[u8],
) -> Result<OwnedLocalReply, String> {
    if let Some(refusal) = reply_refusal(cell, hook) {
        return Err(refusal);
    }
    validate::reply_status(status).map_err(|r| r.to_string())?;
    validate::reply_details(details).map_err(|r| r.to_string())?;
    let headers: Vec<(&[u8], &[u8])> = headers.collect();
    validate::reply_size(headers.len(), body.len()).map_err(|r| r.to_string())?;
    let headers = answer::checked_pairs("header", headers.into_iter())?;
    Ok(OwnedLocalReply { status, headers, body: body.to_vec(), details: details.to_vec() })
}

/// Records an accepted local reply: the stream is ending, and the response events that follow
/// are the reply's own.
pub(crate) fn record_reply(cell: &StreamCell, reply: OwnedLocalReply) {
    cell.ending.set(true);
    cell.own_reply.set(true);
    cell.effects.borrow_mut().record_reply(reply);
}

/// `recreate_stream` (ABI 1.2): starts the request over, the safe semantics — only a request
/// whose headers ended it (nothing to replay), only while no response started, never after the
/// module reset, answered or started its own response. `response_headers` (what made the module
/// start over; for the proxy's access log) are checked as response headers (`:status` allowed).
/// Err with the reason when refused.
pub(crate) fn recreate<'a>(
    cell: &StreamCell,
    hook: Hook,
    response_headers: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<(), String> {
    if !may_act(cell, hook) {
        return Err(format!(
            "a stream can only start over from an event or async hook, not from {}",
            hook.name()
        ));
    }
    if cell.ending.get() || answer::answering(cell) {
        return Err("the module already reset or answered this stream".to_string());
    }
    let request = cell.flow(Direction::Request);
    if request.phase != crate::stream::cell::Phase::Ended {
        return Err(
            "the request has not ended: only a request whose headers ended it starts over".to_string()
        );
    }
    if cell.request_had_body.get() {
        return Err("the request carried a body or trailers, which cannot be replayed".to_string());
    }
    if cell.response_started() {
        return Err("the response already started (its headers went on to the client)".to_string());
    }
    validate::bounded("the response headers' number", response_headers.len(), validate::MAX_REPLY_HEADERS)
        .map_err(|r| r.to_string())?;
    let mut owned = Vec::new();
    for (key, value) in response_headers {
        let name =
            validate::header_name(Some(crate::vocab::HeaderMapKind::ResponseHeaders), HeaderOp::Set, key)
                .and_then(|name| validate::header_value(&name, value).map(|()| name))
                .map_err(|r| format!("response header `{}`: {r}", Shown(key)))?;
        owned.push((name.into_owned(), value.to_vec()));
    }
    cell.ending.set(true);
    cell.own_reply.set(false);
    cell.effects.borrow_mut().record_recreate(owned);
    Ok(())
}

/// Resets the stream with `reason`, if `hook` may: Err with the reason otherwise.
pub(crate) fn reset(cell: &StreamCell, hook: Hook, reason: ResetReason) -> Result<(), &'static str> {
    if !may_act(cell, hook) {
        return Err("the stream can only be reset from an event hook");
    }
    cell.ending.set(true);
    cell.own_reply.set(false);
    cell.effects.borrow_mut().record_reset(reason);
    Ok(())
}

/// `send_goaway_and_close` (ABI 1.2): where a reset may be asked for, the stream ends as by a
/// reset and the host closes the client's connection. False when refused (logged).
pub(crate) fn send_goaway_and_close(cell: &StreamCell, hook: Hook, graceful: bool) -> bool {
    if !may_act(cell, hook) {
        cell.refuse(
            format_args!("send_goaway_and_close"),
            &"the client's connection can only be closed from an event hook",
        );
        return false;
    }
    cell.ending.set(true);
    cell.own_reply.set(false);
    cell.effects.borrow_mut().record_goaway(graceful);
    true
}

/// `reset_stream_with_reason` (ABI 1.2): the reason and details checked, then [`reset`]; the
/// details go to the log at debug level, with the module and the filter. False when refused
/// (logged).
pub(crate) fn reset_with_reason(cell: &StreamCell, hook: Hook, reason: u32, details: &[u8]) -> bool {
    let what = format_args!("reset_stream_with_reason (reason {reason})");
    let Some(reason) = ResetReason::from_abi(reason) else {
        cell.refuse(what, &"unknown reason: ENVOYX_RESET_LOCAL (0) or ENVOYX_RESET_REFUSED (1)");
        return false;
    };
    if let Err(refusal) = validate::reset_details(details) {
        cell.refuse(what, &refusal);
        return false;
    }
    if let Err(refusal) = reset(cell, hook, reason) {
        cell.refuse(what, &refusal);
        return false;
    }
    let labels = cell.labels();
    core_log!(
        Debug,
        "EnvoyX module {} (filter `{}`) reset the stream ({reason:?}): {}",
        labels.module,
        labels.filter,
        Shown(details)
    );
    true
}

/// Whether a continue of `direction` would resume anything now: the module stopped it, the
/// stream is neither ending nor complete, and (for the request) the module does not answer the
/// stream itself (`answer.rs`: its request goes nowhere else).
pub(crate) fn resumable(cell: &StreamCell, direction: Direction) -> bool {
    let answered_here = direction == Direction::Request && answer::answering(cell);
    !cell.completed.get() && !cell.ending.get() && cell.flow(direction).stopped && !answered_here
}

/// Whether a stop of `direction` the module just returned could never be resumed, so the
/// stream must go on at once: a response stopped while the host carries out this filter's
/// request continue, on a proxy that cannot resume it later
/// ([`crate::HostStream::resumes_response_stopped_inside_request_continue`]: Envoy 1.38). Logs
/// one warning per stream.
pub(crate) fn unresumable_stop(cell: &StreamCell, direction: Direction) -> bool {
    if direction != Direction::Response || !cell.continuing_request.get() {
        return false;
    }
    if cell.host.borrow().resumes_response_stopped_inside_request_continue() {
        return false;
    }
    if !cell.warned_unresumable.replace(true) {
        let labels = cell.labels();
        core_log!(
            Warn,
            "EnvoyX module {} (filter `{}`): the module stopped the response while its request was \
             being continued (a later filter answered locally); this proxy (Envoy 1.38) could \
             never resume it, so the response goes on now",
            labels.module,
            labels.filter
        );
    }
    true
}

/// What the core did about a failed hook, for its log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FailureEnd {
    /// A local reply 500.
    Reply500,
    /// The stream was reset.
    Reset,
    /// The module had already ended the stream in this hook, or it was already over.
    AlreadyEnding,
    /// Stream-new: the module returns NULL and the stream gets the 500 of a stream that could
    /// not be created.
    NotCreated,
    /// The complete hook: the exchange is over.
    Nothing,
}

/// The module's hook `hook` failed (ABI 1.2 `hook_failed`): ends the stream as the contract
/// decides, stops every later hook but destroy, and logs one error line with `reason`.
pub(crate) fn hook_failed(cell: &StreamCell, hook: Hook, reason: &[u8]) -> FailureEnd {
    let end = failure_end(cell, hook);
    match end {
        FailureEnd::Reply500 => record_reply(
            cell,
            OwnedLocalReply {
                status: 500,
                headers: vec![],
                body: vec![],
                details: FAILED_HOOK_DETAILS.to_vec(),
            },
        ),
        FailureEnd::Reset => {
            // Allowed: `failure_end` chose a reset only for event and async hooks.
            let _ = reset(cell, hook, ResetReason::Local);
        }
        FailureEnd::AlreadyEnding | FailureEnd::NotCreated | FailureEnd::Nothing => {}
    }
    cell.module_failed.set(true);
    let labels = cell.labels();
    let what = match end {
        FailureEnd::Reply500 => "the stream is answered 500",
        FailureEnd::Reset => "the stream is reset",
        FailureEnd::AlreadyEnding => "the stream was already ending",
        FailureEnd::NotCreated => "the stream gets a 500 when the hook returns NULL",
        FailureEnd::Nothing => "the exchange was already over",
    };
    core_log!(
        Error,
        "EnvoyX module {} (filter `{}`): the {} hook failed: {}; {what}, and the module gets no \
         further hook of this stream",
        labels.module,
        labels.filter,
        hook.name(),
        Shown(reason)
    );
    end
}

fn failure_end(cell: &StreamCell, hook: Hook) -> FailureEnd {
    if cell.ending.get() {
        return FailureEnd::AlreadyEnding;
    }
    match hook {
        Hook::StreamNew => FailureEnd::NotCreated,
        Hook::Complete => FailureEnd::Nothing,
        // A local reply is ending the stream already; it goes on.
        Hook::LocalReply => FailureEnd::AlreadyEnding,
        _ if cell.completed.get() => FailureEnd::Nothing,
        Hook::ResponseHeaders | Hook::ResponseBody | Hook::ResponseTrailers => FailureEnd::Reset,
        Hook::RequestHeaders
        | Hook::RequestBody
        | Hook::RequestTrailers
        | Hook::Scheduled
        | Hook::CalloutDone
        | Hook::CalloutEvent
        | Hook::Watermark => {
            if reply_refusal(cell, hook).is_none() {
                FailureEnd::Reply500
            } else {
                FailureEnd::Reset
            }
        }
    }
}
