//! The table's functions that end a stream (`send_local_reply`, `reset_stream`, `hook_failed`,
//! `reset_stream_with_reason`, `recreate_stream`, `send_goaway_and_close`):
//! decoded here, decided by the rules in `control.rs`.

use super::{header_pairs, view, with_stream};
use crate::stream::control;
use envoyx_abi::*;

pub(super) unsafe extern "C" fn send_local_reply(
    stream: *mut envoyx_stream,
    status: u32,
    headers: *const envoyx_header,
    headers_len: usize,
    body: envoyx_bytes,
    details: envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; `headers` points at `headers_len` entries and every view
    // is valid during the call.
    unsafe {
        with_stream(stream, "send_local_reply", false, |cell, hook| {
            let pairs = header_pairs(headers, headers_len);
            match control::local_reply(cell, hook, status, pairs, view(body), view(details)) {
                Ok(reply) => {
                    control::record_reply(cell, reply);
                    true
                }
                Err(reason) => {
                    cell.refuse(format_args!("send_local_reply (status {status})"), &reason);
                    false
                }
            }
        })
    }
}

pub(super) unsafe extern "C" fn reset_stream(stream: *mut envoyx_stream) {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "reset_stream", (), |cell, hook| {
            if let Err(reason) = control::reset(cell, hook, crate::vocab::ResetReason::Local) {
                cell.refuse(format_args!("reset_stream"), &reason);
            }
        })
    }
}

pub(super) unsafe extern "C" fn hook_failed(stream: *mut envoyx_stream, reason: envoyx_bytes) -> bool {
    // Safety: stream pointer per the ABI; `reason` is valid during the call.
    unsafe {
        with_stream(stream, "hook_failed", false, |cell, hook| {
            control::hook_failed(cell, hook, view(reason));
            true
        })
    }
}

pub(super) unsafe extern "C" fn reset_stream_with_reason(
    stream: *mut envoyx_stream,
    reason: envoyx_reset_reason,
    details: envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; `details` is valid during the call.
    unsafe {
        with_stream(stream, "reset_stream_with_reason", false, |cell, hook| {
            control::reset_with_reason(cell, hook, reason, view(details))
        })
    }
}

pub(super) unsafe extern "C" fn send_goaway_and_close(stream: *mut envoyx_stream, graceful: bool) -> bool {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "send_goaway_and_close", false, |cell, hook| {
            control::send_goaway_and_close(cell, hook, graceful)
        })
    }
}

pub(super) unsafe extern "C" fn recreate_stream(
    stream: *mut envoyx_stream,
    response_headers: *const envoyx_header,
    response_headers_len: usize,
) -> bool {
    // Safety: stream pointer per the ABI; `response_headers` points at `response_headers_len`
    // entries and every view is valid during the call.
    unsafe {
        with_stream(stream, "recreate_stream", false, |cell, hook| {
            let pairs = header_pairs(response_headers, response_headers_len);
            control::recreate(cell, hook, pairs)
                .map_err(|reason| cell.refuse(format_args!("recreate_stream"), &reason))
                .is_ok()
        })
    }
}
