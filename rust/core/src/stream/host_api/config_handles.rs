//! The table's configuration handles (`config_handle_*`, ABI 1.1).

use super::lent_sink;
use crate::log::core_log;
use crate::stream::background::ConfigShared;
use envoyx_abi::*;
use std::sync::Arc;

pub(super) unsafe extern "C" fn config_handle_new(creating: *mut envoyx_error) -> *mut envoyx_config_handle {
    // Safety: used during this call only.
    let Some(sink) = (unsafe { lent_sink(creating, "config_handle_new") }) else {
        return std::ptr::null_mut();
    };
    let Some(shared) = &sink.creating else {
        core_log!(Error, "EnvoyX module called config_handle_new outside envoyx_on_filter_config_new");
        return std::ptr::null_mut();
    };
    if !shared.schedulable {
        core_log!(
            Error,
            "EnvoyX module called config_handle_new but does not export envoyx_on_filter_config_scheduled"
        );
        return std::ptr::null_mut();
    }
    Arc::into_raw(shared.clone()) as *mut envoyx_config_handle
}

pub(super) unsafe extern "C" fn config_handle_schedule(
    handle: *mut envoyx_config_handle,
    event_id: u64,
) -> bool {
    if handle.is_null() {
        return false;
    }
    // Safety: a config handle is an Arc<ConfigShared> the module has not released (ABI contract).
    let shared = unsafe { &*(handle as *const ConfigShared) };
    match shared.push(crate::stream::background::ConfigWork::Event(event_id)) {
        Ok(()) => true,
        Err(reason) => {
            core_log!(Debug, "EnvoyX module: config_handle_schedule({event_id}) does nothing: {reason}");
            false
        }
    }
}

pub(super) unsafe extern "C" fn config_handle_release(handle: *mut envoyx_config_handle) {
    if !handle.is_null() {
        // Safety: made by Arc::into_raw in config_handle_new; released once (ABI contract).
        drop(unsafe { Arc::from_raw(handle as *const ConfigShared) });
    }
}
