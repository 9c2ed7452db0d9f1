//! The table's body functions (`body_length` ... `body_replace`): views of the host's slices;
//! inserted bytes are copied and counted, length changes checked against framing.

use super::{body_arg, out_slice, view, with_stream};
use crate::stream::framing;
use crate::vocab::BodyKind;
use envoyx_abi::*;

pub(super) unsafe extern "C" fn body_length(stream: *mut envoyx_stream, body: envoyx_body_kind) -> usize {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "body_length", 0, |cell, hook| {
            let Some(body) = body_arg(body, hook, "body_length") else { return 0 };
            cell.host.borrow_mut().body_length(body).unwrap_or(0)
        })
    }
}

pub(super) unsafe extern "C" fn body_slices(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    slices: *mut envoyx_slice,
    slices_cap: usize,
) -> usize {
    // Safety: stream pointer per the ABI; `slices` has room for `slices_cap` entries.
    unsafe {
        with_stream(stream, "body_slices", 0, |cell, hook| {
            let Some(body) = body_arg(body, hook, "body_slices") else { return 0 };
            cell.host.borrow_mut().body_slices(body, out_slice(slices, slices_cap)).unwrap_or(0)
        })
    }
}

pub(super) unsafe extern "C" fn body_drain(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    len: usize,
) -> bool {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "body_drain", false, |cell, hook| {
            let Some(body) = body_arg(body, hook, "body_drain") else { return false };
            let Some(total) = cell.host.borrow_mut().body_length(body) else { return false };
            let len = len.min(total);
            if len == 0 {
                return true;
            }
            if !framing::allow_length_change(cell, body, "body_drain") {
                return false;
            }
            let done = cell.host.borrow_mut().body_drain(body, len);
            if done {
                framing::length_changed(cell, body);
            }
            done
        })
    }
}

/// Shared by prepend, append and replace: the bytes a module hands in are copied into the
/// host's buffer, and counted, since the zero-copy promise is about what the path copies. A call
/// that changes the body's length is checked against its headers' framing first (`framing.rs`).
pub(super) unsafe fn body_insert(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    data: envoyx_bytes,
    what: &'static str,
    // How many bytes the call takes out of the body, or None when it cannot be done (a range
    // outside the body).
    removes: impl FnOnce(&mut dyn crate::HostStream, BodyKind) -> Option<usize>,
    f: impl FnOnce(&mut dyn crate::HostStream, BodyKind, &[u8]) -> bool,
) -> bool {
    // Safety: stream pointer per the ABI; `data` valid during the call.
    unsafe {
        with_stream(stream, what, false, |cell, hook| {
            let Some(body) = body_arg(body, hook, what) else { return false };
            let data = view(data);
            let Some(removed) = removes(&mut **cell.host.borrow_mut(), body) else { return false };
            let changes_length = removed != data.len();
            if changes_length && !framing::allow_length_change(cell, body, what) {
                return false;
            }
            let done = f(&mut **cell.host.borrow_mut(), body, data);
            if done {
                cell.bytes_copied.set(cell.bytes_copied.get() + data.len() as u64);
                if changes_length {
                    framing::length_changed(cell, body);
                }
            }
            done
        })
    }
}

pub(super) unsafe extern "C" fn body_prepend(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    data: envoyx_bytes,
) -> bool {
    // Safety: forwarded ABI contract.
    unsafe {
        body_insert(
            stream,
            body,
            data,
            "body_prepend",
            |_, _| Some(0),
            |h, b, d| d.is_empty() || h.body_prepend(b, d),
        )
    }
}

pub(super) unsafe extern "C" fn body_append(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    data: envoyx_bytes,
) -> bool {
    // Safety: forwarded ABI contract.
    unsafe {
        body_insert(
            stream,
            body,
            data,
            "body_append",
            |_, _| Some(0),
            |h, b, d| d.is_empty() || h.body_append(b, d),
        )
    }
}

pub(super) unsafe extern "C" fn body_replace(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    offset: usize,
    len: usize,
    data: envoyx_bytes,
) -> bool {
    // Safety: forwarded ABI contract.
    unsafe {
        body_insert(
            stream,
            body,
            data,
            "body_replace",
            |h, b| {
                let total = h.body_length(b)?;
                offset.checked_add(len).is_some_and(|end| end <= total).then_some(len)
            },
            |h, b, d| h.body_replace(b, offset, len, d),
        )
    }
}
