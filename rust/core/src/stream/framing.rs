//! Body length and framing never silently disagree.
//!
//! A direction's headers may carry `content-length`. If a module changes the body's length
//! (drain, prepend, append, replace by a different length) after those headers went on, the peer
//! would get a body that disagrees with the length it was promised: bytes lost, or extra bytes
//! read as the start of the next request on a keep-alive HTTP/1.1 connection. So:
//!
//! - While the direction's headers are held by this filter (its headers hook returned a stop
//!   status and nothing resumed it), a length change is allowed; the core takes `content-length`
//!   off the held headers at once, and when the headers go on after the whole body was seen (the
//!   body ended without trailers) it sets `content-length` to the body's final length.
//!   Otherwise the headers leave without it (chunked on HTTP/1.1).
//! - Once the headers went on carrying `content-length`, a length-changing call is refused
//!   (returns false, the body is unchanged) with a warning naming the module, the hook and the
//!   fix. Headers that went on without `content-length` (the module removed it in its headers
//!   hook, or the request had none) allow any change. Setting or removing `content-length` on
//!   headers that already went on is refused too: it would change nothing on the wire and only
//!   hide what the peer was told from this check.

use crate::stream::cell::{Flow, Hook, Phase, StreamCell, headers_of};
use crate::vocab::{BodyKind, Direction, HeaderMapKind};

const CONTENT_LENGTH: &[u8] = b"content-length";

/// Whether `map` holds headers that already went on. The host table then refuses every change
/// of them (x/abi.h): whether it still reached the peer would depend on timing, and a changed
/// `content-length` would hide from the checks below what the peer was told.
pub(crate) fn headers_gone(map: HeaderMapKind, cell: &StreamCell) -> bool {
    match map {
        HeaderMapKind::RequestHeaders => cell.flow(Direction::Request).headers_forwarded,
        HeaderMapKind::ResponseHeaders => cell.flow(Direction::Response).headers_forwarded,
        HeaderMapKind::RequestTrailers | HeaderMapKind::ResponseTrailers => false,
    }
}

/// Whether a call that changes the length of `body` may go ahead; logs the refusal if not.
pub(crate) fn allow_length_change(cell: &StreamCell, body: BodyKind, what: &str) -> bool {
    let direction = body.direction();
    if !cell.flow(direction).headers_forwarded {
        return true;
    }
    let mut host = cell.host.borrow_mut();
    let mut value = [envoyx_abi::envoyx_bytes::EMPTY];
    if host.header_values(headers_of(direction), CONTENT_LENGTH, &mut value).unwrap_or(0) == 0 {
        return true;
    }
    drop(host);
    // Safety: the host's view is valid until the map changes; it has not.
    let length = crate::log::Shown(unsafe { value[0].as_slice() }).to_string();
    let (side, hook) = match direction {
        Direction::Request => ("request", "request_headers"),
        Direction::Response => ("response", "response_headers"),
    };
    cell.refuse(
        format_args!("{what} on the {side} body"),
        &format_args!(
            "it would change the body's length after the {side} headers went on with content-length: \
             {length}, so the peer would get a body that disagrees with them; fix: return StopIteration \
             (or StopAllIterationAndBuffer) from the {hook} hook until the body is final (EnvoyX then \
             corrects content-length), or remove content-length in the {hook} hook (the SDK's \
             `will_change_{side}_body_length()`)"
        ),
    );
    false
}

/// After a successful length change of `body`: takes `content-length` off the held headers.
pub(crate) fn length_changed(cell: &StreamCell, body: BodyKind) {
    let direction = body.direction();
    if cell.flow(direction).headers_forwarded {
        return;
    }
    cell.host.borrow_mut().header_remove(headers_of(direction), CONTENT_LENGTH);
    cell.update_flow(direction, |f| f.length_changed = true);
}

/// The direction's headers are going on now. If the module changed the body's length while they
/// were held and the whole body has been seen, sets `content-length` to its final length:
/// what was buffered plus, when the headers go on from a body hook, the chunk it carries.
#[inline]
pub(crate) fn headers_released(cell: &StreamCell, direction: Direction, with_received: bool) {
    let slot = &cell.flows[direction as usize];
    let mut flow: Flow = slot.get();
    if flow.headers_forwarded {
        return;
    }
    flow.headers_forwarded = true;
    slot.set(flow);
    if flow.length_changed && flow.phase == Phase::Ended && !flow.ended_by_trailers {
        set_final_length(cell, direction, with_received);
    }
}

/// Sets `content-length` on the direction's headers to the body's final length (see
/// [`headers_released`]); out of line, as few streams change a body's length.
#[cold]
fn set_final_length(cell: &StreamCell, direction: Direction, with_received: bool) {
    let (buffered, received) = match direction {
        Direction::Request => (BodyKind::RequestBuffered, BodyKind::RequestReceived),
        Direction::Response => (BodyKind::ResponseBuffered, BodyKind::ResponseReceived),
    };
    let mut host = cell.host.borrow_mut();
    let mut length = host.body_length(buffered).unwrap_or(0);
    if with_received {
        length += host.body_length(received).unwrap_or(0);
    }
    host.header_set(headers_of(direction), CONTENT_LENGTH, length.to_string().as_bytes());
}

/// `trailers_add` (x/abi.h): trailers for a direction that had none, only in its body hook whose
/// chunk ends it — where a proxy can still add them (Envoy's `addDecodedTrailers` /
/// `addEncodedTrailers` work only there). The direction then ends with trailers, so the core
/// sets no `content-length` for it (chunked framing carries trailers on HTTP/1.1).
pub(crate) fn trailers_add(cell: &StreamCell, map: u32) -> bool {
    let (map, direction) = match HeaderMapKind::from_abi(map) {
        Some(map @ HeaderMapKind::RequestTrailers) => (map, Direction::Request),
        Some(map @ HeaderMapKind::ResponseTrailers) => (map, Direction::Response),
        _ => {
            cell.refuse(
                format_args!("trailers_add of map {map}"),
                &"the map must be ENVOYX_REQUEST_TRAILERS or ENVOYX_RESPONSE_TRAILERS",
            );
            return false;
        }
    };
    let what = format_args!("trailers_add on {map:?}");
    let side = match direction {
        Direction::Request => "request",
        Direction::Response => "response",
    };
    let hook = cell.hook.get();
    if hook.and_then(Hook::body_direction) != Some(direction) {
        cell.refuse(
            what,
            &format_args!(
                "trailers can be added only in the {side}_body hook whose chunk ends the {side} \
                 (end_of_stream true): after it the {side} has ended"
            ),
        );
        return false;
    }
    let flow = cell.flow(direction);
    if flow.phase != Phase::Ended {
        cell.refuse(
            what,
            &format_args!(
                "this {side}_body chunk does not end the {side} (end_of_stream is false): add them in \
                 the hook whose chunk does; trailers that arrive later come to the {side}_trailers hook"
            ),
        );
        return false;
    }
    if !cell.host.borrow_mut().trailers_add(map) {
        cell.refuse(
            what,
            &"this proxy cannot add trailers to a direction that had none (stock Envoy's \
              dynamic-modules filter offers no way to: envoyproxy/envoy#42559; EnvoyX's custom \
              Envoy build and the test hosts can)",
        );
        return false;
    }
    cell.update_flow(direction, |f| f.ended_by_trailers = true);
    true
}
