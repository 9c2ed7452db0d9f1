//! The table's worker functions (`worker_count`, `worker_index`, ABI 1.2).

use super::with_stream;
use envoyx_abi::*;

pub(super) unsafe extern "C" fn worker_count() -> u32 {
    crate::workers::worker_count()
}

pub(super) unsafe extern "C" fn worker_index(stream: *mut envoyx_stream) -> u32 {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "worker_index", u32::MAX, |cell, _| {
            cell.host.borrow_mut().worker_index().unwrap_or(u32::MAX)
        })
    }
}
