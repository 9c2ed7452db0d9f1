//! The table's HTTP and streaming callouts, of streams and of configurations (ABI 1.1).

use super::{config_of, header_list, view, with_stream};
use envoyx_abi::*;

/// A callout request as the module passed it.
///
/// # Safety
/// Every view valid during the current call; `headers` as for [`header_list`].
pub(super) unsafe fn callout_args<'a>(
    cluster: envoyx_bytes,
    headers: *const envoyx_header,
    headers_len: usize,
    body: envoyx_bytes,
    timeout_ms: u64,
) -> crate::stream::callout::CalloutArgs<'a> {
    // Safety: per the caller.
    unsafe {
        crate::stream::callout::CalloutArgs {
            cluster: view(cluster),
            headers: header_list(headers, headers_len).iter().map(|h| (view(h.key), view(h.value))).collect(),
            body: view(body),
            timeout_ms,
        }
    }
}

pub(super) unsafe extern "C" fn http_callout(
    stream: *mut envoyx_stream,
    cluster: envoyx_bytes,
    headers: *const envoyx_header,
    headers_len: usize,
    body: envoyx_bytes,
    timeout_ms: u64,
) -> u64 {
    // Safety: stream pointer per the ABI; `headers` points at `headers_len` entries and every view
    // is valid during the call.
    unsafe {
        with_stream(stream, "http_callout", 0, |cell, hook| {
            crate::stream::callout::start(
                cell,
                hook,
                callout_args(cluster, headers, headers_len, body, timeout_ms),
            )
        })
    }
}

pub(super) unsafe extern "C" fn config_http_callout(
    handle: *mut envoyx_config_handle,
    cluster: envoyx_bytes,
    headers: *const envoyx_header,
    headers_len: usize,
    body: envoyx_bytes,
    timeout_ms: u64,
) -> u64 {
    // Safety: a config handle is an Arc<ConfigShared> the module has not released; `headers`
    // points at `headers_len` entries and every view is valid during the call (ABI contract).
    unsafe {
        let Some(shared) = config_of(handle) else { return 0 };
        shared.start_callout(callout_args(cluster, headers, headers_len, body, timeout_ms))
    }
}

pub(super) unsafe extern "C" fn callout_stream_start(
    stream: *mut envoyx_stream,
    cluster: envoyx_bytes,
    headers: *const envoyx_header,
    headers_len: usize,
    body: envoyx_bytes,
    end_of_stream: bool,
    timeout_ms: u64,
) -> u64 {
    // Safety: as for http_callout.
    unsafe {
        with_stream(stream, "callout_stream_start", 0, |cell, hook| {
            let args = callout_args(cluster, headers, headers_len, body, timeout_ms);
            crate::stream::callout_stream::start(cell, hook, args, end_of_stream)
        })
    }
}

pub(super) unsafe extern "C" fn callout_stream_send(
    stream: *mut envoyx_stream,
    callout_id: u64,
    data: envoyx_bytes,
    end_of_stream: bool,
) -> bool {
    // Safety: stream pointer per the ABI; the view is valid during the call.
    unsafe {
        with_stream(stream, "callout_stream_send", false, |cell, _| {
            crate::stream::callout_stream::send(cell, callout_id, view(data), end_of_stream)
        })
    }
}

pub(super) unsafe extern "C" fn callout_stream_send_trailers(
    stream: *mut envoyx_stream,
    callout_id: u64,
    trailers: *const envoyx_header,
    trailers_len: usize,
) -> bool {
    // Safety: stream pointer per the ABI; `trailers` points at `trailers_len` entries whose views
    // are valid during the call.
    unsafe {
        with_stream(stream, "callout_stream_send_trailers", false, |cell, _| {
            let list: Vec<(&[u8], &[u8])> =
                header_list(trailers, trailers_len).iter().map(|h| (view(h.key), view(h.value))).collect();
            crate::stream::callout_stream::send_trailers(cell, callout_id, &list)
        })
    }
}

pub(super) unsafe extern "C" fn callout_stream_reset(stream: *mut envoyx_stream, callout_id: u64) -> bool {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "callout_stream_reset", false, |cell, _| {
            crate::stream::callout_stream::reset(cell, callout_id)
        })
    }
}

pub(super) unsafe extern "C" fn config_callout_stream_start(
    handle: *mut envoyx_config_handle,
    cluster: envoyx_bytes,
    headers: *const envoyx_header,
    headers_len: usize,
    body: envoyx_bytes,
    end_of_stream: bool,
    timeout_ms: u64,
) -> u64 {
    // Safety: the handle per the ABI; `headers` points at `headers_len` entries and every view is
    // valid during the call.
    unsafe {
        let Some(shared) = config_of(handle) else { return 0 };
        shared.start_callout_stream(
            callout_args(cluster, headers, headers_len, body, timeout_ms),
            end_of_stream,
        )
    }
}

pub(super) unsafe extern "C" fn config_callout_stream_send(
    handle: *mut envoyx_config_handle,
    callout_id: u64,
    data: envoyx_bytes,
    end_of_stream: bool,
) -> bool {
    // Safety: the handle per the ABI; the view is valid during the call.
    unsafe {
        config_of(handle)
            .is_some_and(|shared| shared.callout_stream_send(callout_id, view(data), end_of_stream))
    }
}

pub(super) unsafe extern "C" fn config_callout_stream_send_trailers(
    handle: *mut envoyx_config_handle,
    callout_id: u64,
    trailers: *const envoyx_header,
    trailers_len: usize,
) -> bool {
    // Safety: the handle per the ABI; `trailers` points at `trailers_len` entries whose views are
    // valid during the call.
    unsafe {
        let Some(shared) = config_of(handle) else { return false };
        let list: Vec<(&[u8], &[u8])> =
            header_list(trailers, trailers_len).iter().map(|h| (view(h.key), view(h.value))).collect();
        shared.callout_stream_send_trailers(callout_id, &list)
    }
}

pub(super) unsafe extern "C" fn config_callout_stream_reset(
    handle: *mut envoyx_config_handle,
    callout_id: u64,
) -> bool {
    // Safety: the handle per the ABI.
    unsafe { config_of(handle).is_some_and(|shared| shared.callout_stream_reset(callout_id)) }
}
