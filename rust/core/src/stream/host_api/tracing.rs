//! The table's tracing functions that hand a view back (`span_baggage_get`, `span_trace_id`):
//! decoded here, decided by `tracing.rs`. The other `span_*` calls are generated in
//! `forwarded.rs`.

use super::{view, with_stream};
use crate::stream::tracing;
use envoyx_abi::*;

/// Writes `value` to `out` (when there is one and `out` is not NULL); whether it did.
///
/// # Safety
/// `out` is NULL or writable.
unsafe fn hand_back(value: Option<envoyx_bytes>, out: *mut envoyx_bytes) -> bool {
    match value {
        // Safety: per the caller.
        Some(value) if !out.is_null() => unsafe {
            out.write(value);
            true
        },
        _ => false,
    }
}

pub(super) unsafe extern "C" fn span_baggage_get(
    stream: *mut envoyx_stream,
    key: envoyx_bytes,
    value: *mut envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; the key view is valid during the call; `value` is
    // writable or NULL.
    unsafe {
        with_stream(stream, "span_baggage_get", false, |cell, _| {
            hand_back(tracing::span_baggage_get(cell, view(key)), value)
        })
    }
}

pub(super) unsafe extern "C" fn span_trace_id(
    stream: *mut envoyx_stream,
    trace_id: *mut envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; `trace_id` is writable or NULL.
    unsafe {
        with_stream(stream, "span_trace_id", false, |cell, _| {
            hand_back(tracing::span_trace_id(cell), trace_id)
        })
    }
}
