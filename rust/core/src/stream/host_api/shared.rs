//! The table's functions for what the process's modules share (ABI 1.2): any thread, no
//! stream; the rules are `crate::shared`.

use super::view;
use envoyx_abi::*;

pub(super) unsafe extern "C" fn shared_data_get(
    key: envoyx_bytes,
    buffer: envoyx_slice,
    len: *mut usize,
    cas: *mut u64,
) -> envoyx_shared_status {
    if len.is_null() || cas.is_null() {
        crate::log::refused_once("shared_data_get", "`len` and `cas` must not be NULL");
        return ENVOYX_SHARED_REFUSED;
    }
    // Safety: the module's buffer is writable for its length during the call (x/abi.h); a NULL
    // pointer comes with length 0.
    let buffer = unsafe { buffer.as_mut_slice() };
    // Safety: the module's view of the key is valid during the call.
    let read = crate::shared::shared_data_get(unsafe { view(key) }, buffer);
    // Safety: both are the module's, writable and non-null (checked above).
    unsafe {
        len.write(read.len);
        cas.write(read.cas);
    }
    read.status
}

pub(super) unsafe extern "C" fn shared_data_set(
    key: envoyx_bytes,
    value: envoyx_bytes,
    cas: u64,
) -> envoyx_shared_status {
    // Safety: the module's views are valid during the call.
    crate::shared::shared_data_set(unsafe { view(key) }, unsafe { view(value) }, cas)
}

pub(super) unsafe extern "C" fn function_register(name: envoyx_bytes, function: envoyx_function) -> bool {
    // Safety: the module's view of the name is valid during the call.
    crate::shared::function_register(unsafe { view(name) }, function)
}

pub(super) unsafe extern "C" fn function_get(name: envoyx_bytes) -> envoyx_function {
    // Safety: the module's view of the name is valid during the call.
    crate::shared::function_get(unsafe { view(name) })
}
