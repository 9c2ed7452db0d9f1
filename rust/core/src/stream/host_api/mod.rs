//! The `envoyx_host_api` table the core hands every module: each function decodes its
//! arguments, checks them and the stream's state through the rules (`control.rs`, `validate.rs`,
//! `framing.rs`, the feature files), then forwards to the stream's
//! [`HostStream`](crate::HostStream). One file per topic, in table order (this file holds the
//! table and what the topics share: finding the stream of a call, reading the module's views);
//! the plain ones, which only read views and call the rule of their name, are generated into
//! `forwarded.rs` (`cargo run -p envoyx-codegen`, docs/adding-an-abi-call.md).

use crate::log::core_log;
use crate::stream::background::ConfigShared;
use crate::stream::cell::{Hook, StreamCell};
use crate::stream::error_sink::ErrorSink;
use crate::vocab::{BodyKind, HeaderMapKind};
use envoyx_abi::*;

mod answer;
mod body;
mod callouts;
mod config_handles;
mod ending;
mod forwarded;
mod handles;
mod headers;
mod logging;
mod metrics;
mod route;
mod runtime;
mod shared;
mod stream_info;
mod tracing;
mod workers;

// Every trampoline by its ABI name, for the table below.
use answer::*;
use body::*;
use callouts::*;
use config_handles::*;
use ending::*;
use forwarded::*;
use handles::*;
use headers::*;
use logging::*;
use metrics::*;
use route::*;
use runtime::*;
use shared::*;
use stream_info::*;
use tracing::*;
use workers::*;

/// The table, made from `envoyx_abi::for_each_host_function!` (the one list of the table's
/// functions, in order): each field is the trampoline of the same name, which its topic file
/// defines. A function the list has and no topic defines does not build. It is 'static, so the
/// pointer a module keeps is valid for as long as it is loaded.
macro_rules! host_table {
    ($($name:ident $minor:literal,)*) => {
        pub(crate) static HOST_API: envoyx_host_api = envoyx_host_api {
            size: std::mem::size_of::<envoyx_host_api>() as u32,
            version: envoyx_abi_version::CURRENT,
            $($name,)*
        };
    };
}
envoyx_abi::for_each_host_function!(host_table);

/// Reads a view the module passed in.
///
/// # Safety
/// The module promises `bytes` is readable for the duration of the current call.
#[inline]
pub(super) unsafe fn view<'a>(bytes: envoyx_bytes) -> &'a [u8] {
    // Safety: forwarded from the caller.
    unsafe { bytes.as_slice() }
}

/// The module's header array as pairs of views.
///
/// # Safety
/// `headers` points at `len` entries (or is NULL with `len` 0) whose views are valid during the
/// current call.
pub(super) unsafe fn header_pairs<'a>(
    headers: *const envoyx_header,
    len: usize,
) -> impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])> {
    let entries: &[envoyx_header] = if headers.is_null() || len == 0 {
        &[]
    } else {
        // Safety: forwarded from the caller.
        unsafe { std::slice::from_raw_parts(headers, len) }
    };
    // Safety: every view is valid during the call (forwarded from the caller).
    entries.iter().map(|h| unsafe { (view(h.key), view(h.value)) })
}

/// Runs `f` on the stream behind `stream` if a hook of it is running; otherwise logs the misuse
/// and returns `otherwise`.
///
/// # Safety
/// `stream` must be a pointer the core gave the module and whose stream is not destroyed.
#[inline]
pub(super) unsafe fn with_stream<R>(
    stream: *mut envoyx_stream,
    what: &'static str,
    otherwise: R,
    f: impl FnOnce(&StreamCell, Hook) -> R,
) -> R {
    if stream.is_null() {
        core_log!(Error, "EnvoyX module called {what} with a NULL stream");
        return otherwise;
    }
    // Safety: per the ABI, the pointer is the core's StreamCell and alive (caller's contract).
    let cell = unsafe { &*(stream as *const StreamCell) };
    match cell.hook.get() {
        Some(hook) => {
            // Refusals are told apart by the host function that made them (`StreamCell::refuse`).
            let outer = cell.call.replace(what);
            let result = f(cell, hook);
            cell.call.set(outer);
            result
        }
        None => {
            core_log!(Error, "EnvoyX module called {what} outside a hook of its stream; ignored");
            otherwise
        }
    }
}

#[inline]
pub(super) fn map_arg(map: envoyx_header_map, what: &str) -> Option<HeaderMapKind> {
    let kind = HeaderMapKind::from_abi(map);
    if kind.is_none() {
        core_log!(Error, "EnvoyX module called {what} with unknown header map {map}");
    }
    kind
}

/// The body kind, if valid and usable in `hook` (RECEIVED only inside a body hook of its
/// direction; no body at all in the complete hook).
#[inline]
pub(super) fn body_arg(body: envoyx_body_kind, hook: Hook, what: &str) -> Option<BodyKind> {
    let Some(kind) = BodyKind::from_abi(body) else {
        core_log!(Error, "EnvoyX module called {what} with unknown body kind {body}");
        return None;
    };
    let usable = match hook {
        Hook::Complete => false,
        _ if kind.is_received() => hook.body_direction() == Some(kind.direction()),
        _ => true,
    };
    usable.then_some(kind)
}

/// [`with_stream`] for the header functions: also checks the header-map argument, and hands `f`
/// the host and the map.
///
/// # Safety
/// As for [`with_stream`].
#[inline]
pub(super) unsafe fn with_map<R: Copy>(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    what: &'static str,
    otherwise: R,
    f: impl FnOnce(&mut dyn crate::HostStream, HeaderMapKind) -> R,
) -> R {
    // Safety: forwarded from the caller.
    unsafe {
        with_stream(stream, what, otherwise, |cell, _| match map_arg(map, what) {
            Some(map) => f(&mut **cell.host.borrow_mut(), map),
            None => otherwise,
        })
    }
}

/// The module's output array as a slice (empty when NULL or zero capacity).
///
/// # Safety
/// `ptr` must be valid for `cap` writes of `T` when non-NULL.
#[inline]
pub(super) unsafe fn out_slice<'a, T>(ptr: *mut T, cap: usize) -> &'a mut [T] {
    if ptr.is_null() || cap == 0 {
        &mut []
    } else {
        // Safety: forwarded from the caller.
        unsafe { std::slice::from_raw_parts_mut(ptr, cap) }
    }
}

/// The configuration behind `handle`, or None for a NULL handle.
///
/// # Safety
/// A non-NULL handle is an `Arc<ConfigShared>` the module has not released (ABI contract).
pub(super) unsafe fn config_of<'a>(handle: *mut envoyx_config_handle) -> Option<&'a ConfigShared> {
    // Safety: per the caller.
    unsafe { (handle as *const ConfigShared).as_ref() }
}

/// The module's list of views (NULL with 0 is empty).
///
/// # Safety
/// `views` points at `len` views valid during the current call (or is NULL).
pub(super) unsafe fn view_list<'a>(views: *const envoyx_bytes, len: usize) -> Vec<&'a [u8]> {
    if views.is_null() || len == 0 {
        return Vec::new();
    }
    // Safety: per the caller.
    unsafe { std::slice::from_raw_parts(views, len).iter().map(|v| view(*v)).collect() }
}

/// The module's header list (NULL with 0 is empty).
///
/// # Safety
/// `headers` points at `len` entries valid during the current call (or is NULL).
pub(super) unsafe fn header_list<'a>(headers: *const envoyx_header, len: usize) -> &'a [envoyx_header] {
    if headers.is_null() || len == 0 {
        &[]
    } else {
        // Safety: per the caller.
        unsafe { std::slice::from_raw_parts(headers, len) }
    }
}

/// The sink behind a module's `envoyx_error*`, when it is the argument of the init or
/// configuration call running now on this thread; otherwise logs that `function` was refused
/// (the pointer is NULL, or one the module kept from an earlier call: using it would touch
/// freed memory).
///
/// # Safety
/// The reference must not outlive the host function being called.
pub(super) unsafe fn lent_sink<'a>(error: *mut envoyx_error, function: &str) -> Option<&'a mut ErrorSink> {
    // Safety: forwarded from the caller.
    let sink = unsafe { ErrorSink::lent(error) };
    if sink.is_none() {
        core_log!(
            Error,
            "EnvoyX module called {function} with an error argument that is not the one of the \
             envoyx_on_program_init, envoyx_on_filter_config_new or envoyx_on_route_config_new call \
             running now on this thread (NULL, or kept from an earlier call); refused"
        );
    }
    sink
}
