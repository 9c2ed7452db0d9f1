//! The table's functions of the module's own response (ABI 1.2 `send_response_headers`,
//! `send_response_data`, `send_response_trailers`): decoded here, decided by the rules in
//! `answer.rs`.

use super::{header_pairs, view, with_stream};
use crate::stream::answer;
use envoyx_abi::*;

pub(super) unsafe extern "C" fn send_response_headers(
    stream: *mut envoyx_stream,
    status: u32,
    headers: *const envoyx_header,
    headers_len: usize,
    end_of_stream: bool,
) -> bool {
    // Safety: stream pointer per the ABI; `headers` points at `headers_len` entries and every view
    // is valid during the call.
    unsafe {
        with_stream(stream, "send_response_headers", false, |cell, hook| {
            let headers = header_pairs(headers, headers_len);
            answer::send_headers(cell, hook, status, headers, end_of_stream)
                .map_err(|reason| {
                    cell.refuse(format_args!("send_response_headers (status {status})"), &reason)
                })
                .is_ok()
        })
    }
}

pub(super) unsafe extern "C" fn send_response_data(
    stream: *mut envoyx_stream,
    data: envoyx_bytes,
    end_of_stream: bool,
) -> bool {
    // Safety: stream pointer per the ABI; `data` is valid during the call.
    unsafe {
        with_stream(stream, "send_response_data", false, |cell, hook| {
            let data = view(data);
            answer::send_data(cell, hook, data, end_of_stream)
                .map_err(|reason| {
                    cell.refuse(format_args!("send_response_data ({} bytes)", data.len()), &reason)
                })
                .is_ok()
        })
    }
}

pub(super) unsafe extern "C" fn send_response_trailers(
    stream: *mut envoyx_stream,
    trailers: *const envoyx_header,
    trailers_len: usize,
) -> bool {
    // Safety: stream pointer per the ABI; `trailers` points at `trailers_len` entries and every
    // view is valid during the call.
    unsafe {
        with_stream(stream, "send_response_trailers", false, |cell, hook| {
            let trailers = header_pairs(trailers, trailers_len);
            answer::send_trailers(cell, hook, trailers)
                .map_err(|reason| cell.refuse(format_args!("send_response_trailers"), &reason))
                .is_ok()
        })
    }
}
