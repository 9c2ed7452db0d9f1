//! The host's function table, stored once at program init, and small helpers shared by the safe
//! wrappers that call it.

use std::mem::{offset_of, size_of};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use envoyx_abi::{
    ENVOYX_ABI_VERSION_MAJOR, envoyx_bytes, envoyx_error, envoyx_host_api, envoyx_stream_handle,
};

/// The table `envoyx_on_program_init` received; NULL before that.
static HOST: AtomicPtr<envoyx_host_api> = AtomicPtr::new(ptr::null_mut());

/// Size of one function pointer in the table.
const FN_SIZE: usize = size_of::<unsafe extern "C" fn(*mut envoyx_stream_handle)>();

/// The table size the SDK needs: every function of its ABI (`envoyx_abi::HOST_FUNCTIONS`, the
/// one list of the table), up to the last one — what the module reports as
/// `envoyx_module_host_api_size`, so a host refuses it before init if its table is shorter.
pub(crate) const REQUIRED_TABLE_SIZE: usize = size_of::<envoyx_host_api>();

/// The host's table, once program init has stored it.
pub(crate) fn host() -> Option<&'static envoyx_host_api> {
    let table = HOST.load(Ordering::Acquire);
    // Safety: only `install` stores into HOST, and only a non-NULL table whose `size` covers the
    // whole struct; the host keeps it alive as long as the module is loaded (x/abi.h).
    unsafe { table.as_ref() }
}

/// Checks the table the host passed to `envoyx_on_program_init` and stores it.
/// `Err` says what is wrong with it.
///
/// # Safety
/// `table` is NULL or points at a host table that lives as long as the module stays loaded and
/// whose first `size` bytes are readable.
pub(crate) unsafe fn install(table: *const envoyx_host_api) -> Result<(), String> {
    if table.is_null() {
        return Err("the host function table is NULL".to_owned());
    }
    // Safety: the caller guarantees `size` and `version`, the table's first fields, are readable;
    // reading the fields through the raw pointer makes no reference to the whole struct.
    let (size, version) = unsafe { ((*table).size as usize, (*table).version) };
    if version.major != ENVOYX_ABI_VERSION_MAJOR {
        return Err(format!(
            "the host speaks ABI {}.{} but this module (envoyx-sdk) was built for ABI {}.x",
            version.major, version.minor, ENVOYX_ABI_VERSION_MAJOR
        ));
    }
    if size < REQUIRED_TABLE_SIZE {
        let missing: Vec<&str> =
            envoyx_abi::HOST_FUNCTIONS.iter().filter(|f| !f.in_table_of(size)).map(|f| f.name).collect();
        return Err(format!(
            "the host function table (ABI {}.{}) is {size} bytes but this module (envoyx-sdk, ABI \
             {ENVOYX_ABI_VERSION_MAJOR}.{}) needs {REQUIRED_TABLE_SIZE}: it lacks {}",
            version.major,
            version.minor,
            envoyx_abi::ENVOYX_ABI_VERSION_MINOR,
            missing.join(", ")
        ));
    }
    HOST.store(table.cast_mut(), Ordering::Release);
    Ok(())
}

/// Reports `message` through the table's `error_set`, if the table has that function.
///
/// # Safety
/// Same as [`install`] for `table`; `error` is the handle the host passed to the current call.
pub(crate) unsafe fn set_error(table: *const envoyx_host_api, error: *mut envoyx_error, message: &str) {
    if table.is_null() {
        return;
    }
    // Safety: as in `install`, `size` is readable.
    let size = unsafe { (*table).size } as usize;
    if offset_of!(envoyx_host_api, error_set) + FN_SIZE > size {
        return;
    }
    // Safety: `size` covers `error_set`, so it is a valid function (x/abi.h); the host gave us
    // `error` for this call, and it copies the message.
    unsafe { ((*table).error_set)(error, envoyx_bytes::from_slice(message.as_bytes())) }
}

/// Calls `fill(buffer, capacity)` with ever larger buffers until the count it returns fits, and
/// returns the filled buffer. This is the ABI's "returns the total, call again with more room"
/// pattern (`header_get`, `header_all`, `body_slices`).
///
/// # Safety
/// `fill` must write the first `min(returned, capacity)` elements of the buffer.
pub(crate) unsafe fn collect_views<T>(
    first_capacity: usize,
    mut fill: impl FnMut(*mut T, usize) -> usize,
) -> Vec<T> {
    let mut views: Vec<T> = Vec::with_capacity(first_capacity);
    loop {
        let capacity = views.capacity();
        let total = fill(views.as_mut_ptr(), capacity);
        if total <= capacity {
            // Safety: the caller guarantees `fill` wrote the first `total` elements, and
            // `total <= capacity`.
            unsafe { views.set_len(total) };
            return views;
        }
        views.reserve_exact(total);
    }
}
