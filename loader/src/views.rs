//! Between the bridge's types and the core's: enums (same values, both the ABI's), views of
//! bytes, headers and slices (same layouts, checked at compile time), callouts' statuses and
//! the inbox C++ hands late news to.

use envoyx_abi::{envoyx_bytes, envoyx_header, envoyx_slice};
use envoyx_core::{BodyKind, Direction, HeaderMapKind};
use std::mem::{align_of, offset_of, size_of};

use crate::ffi;

// The core's enums and the bridge's share their values (both equal the ABI's), so converting is
// copying the number; `tests::enums_match_the_abi` checks every value.
impl From<HeaderMapKind> for ffi::HeaderMapKind {
    fn from(map: HeaderMapKind) -> Self {
        Self { repr: map as u32 }
    }
}
impl From<BodyKind> for ffi::BodyKind {
    fn from(body: BodyKind) -> Self {
        Self { repr: body as u32 }
    }
}
impl From<Direction> for ffi::Direction {
    fn from(direction: Direction) -> Self {
        Self { repr: direction as u32 }
    }
}

// The views. The core hands the host the module's own output arrays (`envoyx_bytes`,
// `envoyx_header`, `envoyx_slice`); the bridge's structs have the same layout, checked here at
// compile time, so C++ writes its pointers straight into those arrays: no copy of the bytes and
// no temporary array per call.
const _: () = {
    assert!(size_of::<ffi::RawBytes>() == size_of::<envoyx_bytes>());
    assert!(align_of::<ffi::RawBytes>() == align_of::<envoyx_bytes>());
    assert!(offset_of!(ffi::RawBytes, ptr) == offset_of!(envoyx_bytes, ptr));
    assert!(offset_of!(ffi::RawBytes, len) == offset_of!(envoyx_bytes, len));
    assert!(size_of::<ffi::RawSlice>() == size_of::<envoyx_slice>());
    assert!(align_of::<ffi::RawSlice>() == align_of::<envoyx_slice>());
    assert!(offset_of!(ffi::RawSlice, ptr) == offset_of!(envoyx_slice, ptr));
    assert!(offset_of!(ffi::RawSlice, len) == offset_of!(envoyx_slice, len));
    assert!(size_of::<ffi::RawHeader>() == size_of::<envoyx_header>());
    assert!(align_of::<ffi::RawHeader>() == align_of::<envoyx_header>());
    assert!(offset_of!(ffi::RawHeader, key) == offset_of!(envoyx_header, key));
    assert!(offset_of!(ffi::RawHeader, value) == offset_of!(envoyx_header, value));
};

/// The core's views of C++ headers and body chunks (same layouts, checked above).
pub(crate) fn shared_views<'a>(
    headers: &'a [ffi::RawHeader],
    body: &'a [ffi::RawBytes],
) -> (&'a [envoyx_header], &'a [envoyx_bytes]) {
    // Safety: same layouts (checked above); shared views borrowed for 'a.
    unsafe {
        (
            std::slice::from_raw_parts(headers.as_ptr().cast(), headers.len()),
            std::slice::from_raw_parts(body.as_ptr().cast(), body.len()),
        )
    }
}

/// Starts `callout` through a C++ host's `start` (given the C++ views of its headers and the
/// failure to set), as the core's result.
pub(crate) fn start_cxx(
    callout: &envoyx_core::Callout<'_>,
    start: impl FnOnce(&[ffi::RawHeader], &mut u32) -> bool,
) -> Result<(), envoyx_core::CalloutStatus> {
    let headers: Vec<ffi::RawHeader> = callout.headers.iter().map(|(k, v)| raw_header(k, v)).collect();
    let mut failure = 0;
    if start(&headers, &mut failure) { Ok(()) } else { Err(callout_status(failure)) }
}

/// The C++ view of `bytes`, borrowing them.
pub(crate) fn raw_bytes(bytes: &[u8]) -> ffi::RawBytes {
    ffi::RawBytes { ptr: bytes.as_ptr(), len: bytes.len() }
}

/// The C++ view of one header, borrowing `key` and `value`.
pub(crate) fn raw_header(key: &[u8], value: &[u8]) -> ffi::RawHeader {
    ffi::RawHeader { key: raw_bytes(key), value: raw_bytes(value) }
}

/// The core's inbox for a C++ host ([`envoyx_core::CalloutInbox`]).
pub struct CalloutInbox(pub(crate) envoyx_core::CalloutInbox);

impl CalloutInbox {
    /// See [`envoyx_core::CalloutInbox::defer`].
    pub fn defer(
        &self,
        id: u64,
        event: u32,
        status: u32,
        headers: &[ffi::RawHeader],
        data: &[ffi::RawBytes],
        end_of_stream: bool,
    ) -> bool {
        let (headers, data) = shared_views(headers, data);
        self.0.defer(id, envoyx_core::CalloutEvent::from_abi(event, status, headers, data, end_of_stream))
    }

    /// See [`envoyx_core::CalloutInbox::defer_answer`].
    pub fn defer_answer(
        &self,
        id: u64,
        status: u32,
        headers: &[ffi::RawHeader],
        body: &[ffi::RawBytes],
    ) -> bool {
        let (headers, body) = shared_views(headers, body);
        self.0.defer_answer(id, callout_status(status), headers, body)
    }
}

/// A C++ `envoyx_callout_status`; an unknown value (a C++ cast) counts as a reset.
pub(crate) fn callout_status(status: u32) -> envoyx_core::CalloutStatus {
    envoyx_core::CalloutStatus::from_abi(status)
}

pub(crate) fn raw_bytes_out(out: &mut [envoyx_bytes]) -> &mut [ffi::RawBytes] {
    // Safety: same layout (checked above), both plain pointer + length with no invariant, and
    // the result borrows `out` exclusively for its lifetime.
    unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), out.len()) }
}

pub(crate) fn raw_headers_out(out: &mut [envoyx_header]) -> &mut [ffi::RawHeader] {
    // Safety: as in `raw_bytes_out`.
    unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), out.len()) }
}

pub(crate) fn raw_slices_out(out: &mut [envoyx_slice]) -> &mut [ffi::RawSlice] {
    // Safety: as in `raw_bytes_out`.
    unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast(), out.len()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoyx_abi::*;
    use envoyx_core::LogLevel;

    #[test]
    fn enums_match_the_abi() {
        let maps = [
            (ffi::HeaderMapKind::RequestHeaders, ENVOYX_REQUEST_HEADERS),
            (ffi::HeaderMapKind::RequestTrailers, ENVOYX_REQUEST_TRAILERS),
            (ffi::HeaderMapKind::ResponseHeaders, ENVOYX_RESPONSE_HEADERS),
            (ffi::HeaderMapKind::ResponseTrailers, ENVOYX_RESPONSE_TRAILERS),
        ];
        for (bridge, abi) in maps {
            assert_eq!(bridge.repr, abi);
            assert_eq!(ffi::HeaderMapKind::from(HeaderMapKind::from_abi(abi).unwrap()).repr, abi);
        }
        let bodies = [
            (ffi::BodyKind::RequestReceived, ENVOYX_BODY_REQUEST_RECEIVED),
            (ffi::BodyKind::RequestBuffered, ENVOYX_BODY_REQUEST_BUFFERED),
            (ffi::BodyKind::ResponseReceived, ENVOYX_BODY_RESPONSE_RECEIVED),
            (ffi::BodyKind::ResponseBuffered, ENVOYX_BODY_RESPONSE_BUFFERED),
        ];
        for (bridge, abi) in bodies {
            assert_eq!(bridge.repr, abi);
            assert_eq!(ffi::BodyKind::from(BodyKind::from_abi(abi).unwrap()).repr, abi);
        }
        let directions = [
            (ffi::Direction::Request, ENVOYX_DIRECTION_REQUEST),
            (ffi::Direction::Response, ENVOYX_DIRECTION_RESPONSE),
        ];
        for (bridge, abi) in directions {
            assert_eq!(bridge.repr, abi);
            assert_eq!(ffi::Direction::from(Direction::from_abi(abi).unwrap()).repr, abi);
        }
        let levels = [
            (ffi::LogLevel::Trace, ENVOYX_LOG_TRACE),
            (ffi::LogLevel::Debug, ENVOYX_LOG_DEBUG),
            (ffi::LogLevel::Info, ENVOYX_LOG_INFO),
            (ffi::LogLevel::Warn, ENVOYX_LOG_WARN),
            (ffi::LogLevel::Error, ENVOYX_LOG_ERROR),
            (ffi::LogLevel::Critical, ENVOYX_LOG_CRITICAL),
        ];
        for (bridge, abi) in levels {
            assert_eq!(bridge.repr, abi);
            assert_eq!(LogLevel::from_abi(abi) as u32, bridge.repr);
        }
    }
}
