//! The table's stream handles (`stream_handle_*`) and `continue_stream`.

use super::with_stream;
use crate::log::core_log;
use crate::stream::cell::{HandleShared, StreamCell, Work};
use crate::stream::control;
use crate::vocab::Direction;
use envoyx_abi::*;
use std::sync::Arc;

pub(super) unsafe extern "C" fn stream_handle_new(stream: *mut envoyx_stream) -> *mut envoyx_stream_handle {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "stream_handle_new", std::ptr::null_mut(), |cell, _| {
            Arc::into_raw(cell.handle().clone()) as *mut envoyx_stream_handle
        })
    }
}

pub(super) unsafe extern "C" fn stream_handle_continue(
    handle: *mut envoyx_stream_handle,
    direction: envoyx_direction,
) -> bool {
    if handle.is_null() {
        return false;
    }
    // Safety: a handle is an Arc<HandleShared> the module has not released (ABI contract).
    let shared = unsafe { &*(handle as *const HandleShared) };
    let Some(direction) = Direction::from_abi(direction) else {
        core_log!(Error, "EnvoyX module asked to continue unknown direction {direction}");
        return false;
    };
    shared.push(Work::Continue(direction))
}

pub(super) unsafe extern "C" fn stream_handle_release(handle: *mut envoyx_stream_handle) {
    if !handle.is_null() {
        // Safety: made by Arc::into_raw in stream_handle_new; released once (ABI contract).
        drop(unsafe { Arc::from_raw(handle as *const HandleShared) });
    }
}

pub(super) unsafe extern "C" fn stream_handle_schedule(
    handle: *mut envoyx_stream_handle,
    event_id: u64,
) -> bool {
    if handle.is_null() {
        return false;
    }
    // Safety: a handle is an Arc<HandleShared> the module has not released (ABI contract).
    let shared = unsafe { &*(handle as *const HandleShared) };
    if !shared.schedulable {
        core_log!(
            Error,
            "EnvoyX module called stream_handle_schedule but does not export envoyx_on_stream_scheduled; \
             nothing scheduled"
        );
        return false;
    }
    shared.push(Work::Event(event_id))
}

pub(super) unsafe extern "C" fn continue_stream(
    stream: *mut envoyx_stream,
    direction: envoyx_direction,
) -> bool {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "continue_stream", false, |cell, hook| {
            let Some(direction) = Direction::from_abi(direction) else {
                core_log!(Error, "EnvoyX module asked to continue unknown direction {direction}");
                return false;
            };
            if !StreamCell::is_async(hook) {
                cell.refuse(
                    format_args!("continue_stream"),
                    &"it only works in the scheduled and callout-done hooks; an event hook continues by \
                      returning a CONTINUE status",
                );
                return false;
            }
            let mut effects = cell.effects.borrow_mut();
            if !control::resumable(cell, direction) || effects.continues().any(|d| d == direction) {
                core_log!(
                    Debug,
                    "EnvoyX module {}: continue_stream of {direction:?} does nothing (not stopped, already \
                     continued, or the stream is ending)",
                    cell.labels().module
                );
                return false;
            }
            effects.record_continue(direction);
            true
        })
    }
}
