//! The module's own response (ABI 1.2 `send_response_headers`, `send_response_data`,
//! `send_response_trailers`): a module that answers its stream itself, as a terminal filter,
//! streaming the response over time (server-sent events, chunked output, serving from memory).
//! The rules live here once; `host_api/answer.rs` decodes the calls, and every host carries the
//! accepted parts out in order once the module's call returned ([`Action::Answer`]).
//!
//! - Start: the headers come first, from an event or async hook (not stream-new, not complete)
//!   while the request headers are still held here — they never went on, so nothing asked an
//!   upstream — and no response arrived; never after the module reset or answered locally.
//! - Then the request goes nowhere else: request hooks still run (the module may read the body as
//!   it arrives), but whatever they return the request stays stopped (a body chunk is the
//!   module's alone, nothing is held), and a continue of the request is ignored. A local reply is
//!   refused (the response started); a reset ends the response where it is.
//! - Order: headers once, then data (any number of calls, empty ones too), then trailers at most
//!   once; the part with end of stream ends the response (trailers always do), and nothing is
//!   sent after it.
//! - Checked: status 200-599 and headers as a local reply's (`validate.rs`: lower-case tokens, no
//!   pseudo-headers, at most [`validate::MAX_REPLY_HEADERS`]); trailers likewise, at least one;
//!   one data call at most [`validate::MAX_REPLY_BODY`] bytes, one hook's calls at most
//!   [`validate::MAX_ANSWER_QUEUED`] (what a hook sends waits in memory until it returns); a
//!   `content-length` the module sets is held to — data past it is refused, and so is an end
//!   short of it.
//! - The module's own response passes through this filter's response hooks, on a proxy that runs
//!   them with it, without reaching the module (`drive.rs`).
//!
//! [`Action::Answer`]: crate::Action::Answer

use crate::log::Shown;
use crate::stream::cell::{Hook, Phase, StreamCell};
use crate::stream::control;
use crate::stream::effects::AnswerPart;
use crate::stream::validate::{self, HeaderOp};
use crate::vocab::Direction;

/// Header pairs a module hands in, owned and checked.
pub(crate) type OwnedPairs = Vec<(Vec<u8>, Vec<u8>)>;

/// Where the module's own response is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum AnswerState {
    /// The module has not answered (the usual case: the request goes on to an upstream).
    #[default]
    NotStarted,
    /// Headers sent, the response open: `declared` is the `content-length` the module set,
    /// `sent` the data bytes sent so far.
    Open { declared: Option<u64>, sent: u64 },
    /// The response ended (end of stream or trailers).
    Ended,
}

/// Whether the module answers this stream itself (its headers went, whether or not it ended).
pub(crate) fn answering(cell: &StreamCell) -> bool {
    cell.answer.get() != AnswerState::NotStarted
}

/// Owned, checked header pairs of a response the module makes (its local reply's or its own
/// response's headers or trailers): names lower-cased, no pseudo-headers, values checked.
pub(crate) fn checked_pairs<'a>(
    what: &str,
    pairs: impl Iterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<OwnedPairs, String> {
    let mut owned = Vec::new();
    for (key, value) in pairs {
        let name = validate::header_name(None, HeaderOp::Add, key)
            .and_then(|name| validate::header_value(&name, value).map(|()| name))
            .map_err(|r| format!("{what} `{}`: {r}", Shown(key)))?;
        owned.push((name.into_owned(), value.to_vec()));
    }
    Ok(owned)
}

/// Why the module's response cannot start now, if it cannot.
fn start_refusal(cell: &StreamCell, hook: Hook) -> Option<String> {
    if !control::may_act(cell, hook) {
        return Some(format!(
            "a response can only be sent from an event or async hook, not from {}",
            hook.name()
        ));
    }
    if cell.ending.get() {
        return Some("the module already reset or answered this stream".to_string());
    }
    if answering(cell) {
        return Some("the module's response already started (send its headers once)".to_string());
    }
    let request = cell.flow(Direction::Request);
    if request.phase == Phase::AwaitingHeaders {
        return Some("the request headers have not arrived".to_string());
    }
    if request.headers_forwarded {
        return Some(
            "the request already went on towards the upstream: only a filter that still holds the request \
             headers (stopped them) can answer"
                .to_string(),
        );
    }
    if cell.flow(Direction::Response).phase != Phase::AwaitingHeaders || cell.response_started() {
        return Some("a response already arrived".to_string());
    }
    None
}

/// The `content-length` among `headers`, if any: Err if it is not one decimal number.
fn declared_length(headers: &OwnedPairs) -> Result<Option<u64>, String> {
    let mut lengths = headers.iter().filter(|(name, _)| name == b"content-length").map(|(_, value)| value);
    let Some(value) = lengths.next() else { return Ok(None) };
    if lengths.next().is_some() {
        return Err("more than one `content-length`".to_string());
    }
    std::str::from_utf8(value)
        .ok()
        .filter(|text| text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| format!("`content-length` {} is not a decimal number", Shown(value)))
}

/// `send_response_headers`: starts the module's own response (the rules above). Err with the
/// reason when refused.
pub(crate) fn send_headers<'a>(
    cell: &StreamCell,
    hook: Hook,
    status: u32,
    headers: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
    end_of_stream: bool,
) -> Result<(), String> {
    if let Some(refusal) = start_refusal(cell, hook) {
        return Err(refusal);
    }
    validate::reply_status(status).map_err(|r| r.to_string())?;
    validate::bounded("the response's number of headers", headers.len(), validate::MAX_REPLY_HEADERS)
        .map_err(|r| r.to_string())?;
    let headers = checked_pairs("header", headers)?;
    let declared = declared_length(&headers)?;
    if end_of_stream && declared.is_some_and(|length| length != 0) {
        return Err(format!(
            "the headers end the response, but its content-length says {} bytes follow",
            declared.unwrap_or_default()
        ));
    }
    cell.answer.set(if end_of_stream { AnswerState::Ended } else { AnswerState::Open { declared, sent: 0 } });
    // The response started: a local reply is too late from now on.
    cell.update_flow(Direction::Response, |flow| flow.headers_forwarded = true);
    cell.effects.borrow_mut().record_answer(AnswerPart::Headers { status, headers, end_of_stream });
    Ok(())
}

/// The open response's `content-length` (if any) and data sent so far: Err when no response is
/// open for `hook` to add to.
fn open_response(cell: &StreamCell, hook: Hook) -> Result<(Option<u64>, u64), String> {
    if !control::may_act(cell, hook) {
        return Err(format!(
            "a response can only be sent from an event or async hook, not from {}",
            hook.name()
        ));
    }
    if cell.ending.get() {
        return Err("the module reset the stream".to_string());
    }
    match cell.answer.get() {
        AnswerState::NotStarted => Err("no response started: send its headers first".to_string()),
        AnswerState::Ended => Err("the module's response already ended".to_string()),
        AnswerState::Open { declared, sent } => Ok((declared, sent)),
    }
}

/// `send_response_data`: the next bytes of the module's open response (copied).
pub(crate) fn send_data(
    cell: &StreamCell,
    hook: Hook,
    data: &[u8],
    end_of_stream: bool,
) -> Result<(), String> {
    let (declared, sent) = open_response(cell, hook)?;
    validate::bounded("one call's response data in bytes", data.len(), validate::MAX_REPLY_BODY)
        .map_err(|r| r.to_string())?;
    let queued = cell.effects.borrow().answer_bytes() + data.len();
    validate::bounded("the response data sent in one hook, in bytes", queued, validate::MAX_ANSWER_QUEUED)
        .map_err(|r| r.to_string())?;
    let total = sent + data.len() as u64;
    if let Some(length) = declared {
        if total > length {
            return Err(format!("{total} bytes would pass the response's content-length {length}"));
        }
        if end_of_stream && total != length {
            return Err(format!("the response would end at {total} bytes, its content-length says {length}"));
        }
    }
    cell.answer.set(if end_of_stream {
        AnswerState::Ended
    } else {
        AnswerState::Open { declared, sent: total }
    });
    cell.effects.borrow_mut().record_answer(AnswerPart::Data { data: data.to_vec(), end_of_stream });
    Ok(())
}

/// `send_response_trailers`: ends the module's open response with trailers.
pub(crate) fn send_trailers<'a>(
    cell: &StreamCell,
    hook: Hook,
    trailers: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<(), String> {
    let (declared, sent) = open_response(cell, hook)?;
    if trailers.len() == 0 {
        return Err(
            "no trailers: end the response with send_response_data and end of stream instead".to_string()
        );
    }
    validate::bounded("the response's number of trailers", trailers.len(), validate::MAX_REPLY_HEADERS)
        .map_err(|r| r.to_string())?;
    let trailers = checked_pairs("trailer", trailers)?;
    if let Some(length) = declared.filter(|length| *length != sent) {
        return Err(format!("the response would end at {sent} bytes, its content-length says {length}"));
    }
    cell.answer.set(AnswerState::Ended);
    cell.effects.borrow_mut().record_answer(AnswerPart::Trailers(trailers));
    Ok(())
}
