//! The `envoyx_host_api` table the core hands every module: each function checks its arguments
//! and the stream's state, then forwards to the stream's [`HostStream`](crate::HostStream).

use crate::background::ConfigShared;
use crate::cell::{HandleShared, Hook, StreamCell, Work};
use crate::control;
use crate::error::ErrorSink;
use crate::framing;
use crate::host::{BodyKind, Direction, HeaderMapKind};
use crate::log::{LogLevel, core_log};
use crate::validate::{self, HeaderOp};
use envoyx_abi::*;
use std::sync::Arc;

/// The table. It is 'static, so the pointer a module keeps is valid for as long as it is loaded.
pub(crate) static HOST_API: envoyx_host_api = envoyx_host_api {
    size: std::mem::size_of::<envoyx_host_api>() as u32,
    version: envoyx_abi_version::CURRENT,
    log_enabled,
    log,
    error_set,
    header_get,
    header_all,
    header_set,
    header_add,
    header_remove,
    body_length,
    body_slices,
    body_drain,
    body_prepend,
    body_append,
    body_replace,
    send_local_reply,
    reset_stream,
    stream_handle_new,
    stream_handle_continue,
    stream_handle_release,
    stream_handle_schedule,
    continue_stream,
    config_handle_new,
    config_handle_schedule,
    config_handle_release,
    route_config,
    http_callout,
    config_http_callout,
    callout_stream_start,
    callout_stream_send,
    callout_stream_send_trailers,
    callout_stream_reset,
    config_callout_stream_start,
    config_callout_stream_send,
    config_callout_stream_send_trailers,
    config_callout_stream_reset,
    metric_define,
    metric_record,
    metadata_set,
    metadata_get,
    filter_state_set,
    filter_state_get,
    clear_route_cache,
    upstream_override_host,
    attribute_get,
    span_set_tag,
    hook_failed,
};

/// Reads a view the module passed in.
///
/// # Safety
/// The module promises `bytes` is readable for the duration of the current call.
unsafe fn view<'a>(bytes: envoyx_bytes) -> &'a [u8] {
    // Safety: forwarded from the caller.
    unsafe { bytes.as_slice() }
}

/// Runs `f` on the stream behind `stream` if a hook of it is running; otherwise logs the misuse
/// and returns `otherwise`.
///
/// # Safety
/// `stream` must be a pointer the core gave the module and whose stream is not destroyed.
unsafe fn with_stream<R>(
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

fn map_arg(map: envoyx_header_map, what: &str) -> Option<HeaderMapKind> {
    let kind = HeaderMapKind::from_abi(map);
    if kind.is_none() {
        core_log!(Error, "EnvoyX module called {what} with unknown header map {map}");
    }
    kind
}

/// The body kind, if valid and usable in `hook` (RECEIVED only inside a body hook of its
/// direction; no body at all in the complete hook).
fn body_arg(body: envoyx_body_kind, hook: Hook, what: &str) -> Option<BodyKind> {
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
unsafe fn with_map<R: Copy>(
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

unsafe extern "C" fn log_enabled(level: envoyx_log_level) -> bool {
    crate::log::enabled(LogLevel::from_abi(level))
}

unsafe extern "C" fn log(level: envoyx_log_level, message: envoyx_bytes) {
    // Safety: the module passes a view valid during the call.
    crate::log::log(LogLevel::from_abi(level), unsafe { view(message) });
}

/// The sink behind a module's `envoyx_error*`, when it is the argument of the init or
/// configuration call running now on this thread; otherwise logs that `function` was refused
/// (the pointer is NULL, or one the module kept from an earlier call: using it would touch
/// freed memory).
///
/// # Safety
/// The reference must not outlive the host function being called.
unsafe fn lent_sink<'a>(error: *mut envoyx_error, function: &str) -> Option<&'a mut ErrorSink> {
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

unsafe extern "C" fn error_set(error: *mut envoyx_error, message: envoyx_bytes) {
    // Safety: used during this call only.
    let Some(sink) = (unsafe { lent_sink(error, "error_set") }) else { return };
    // Safety: the module passes a view valid during the call.
    sink.message = Some(crate::log::Shown(unsafe { view(message) }).to_string());
}

unsafe extern "C" fn header_get(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
    values: *mut envoyx_bytes,
    values_cap: usize,
) -> usize {
    // Safety: stream pointer per the ABI; `key` valid during the call; `values` has room for
    // `values_cap` entries (or is unused when the capacity is 0).
    unsafe {
        with_stream(stream, "header_get", 0, |cell, _| {
            let Some(map) = map_arg(map, "header_get") else { return 0 };
            let out = out_slice(values, values_cap);
            cell.host.borrow_mut().header_values(map, view(key), out).unwrap_or(0)
        })
    }
}

/// The module's output array as a slice (empty when NULL or zero capacity).
///
/// # Safety
/// `ptr` must be valid for `cap` writes of `T` when non-NULL.
unsafe fn out_slice<'a, T>(ptr: *mut T, cap: usize) -> &'a mut [T] {
    if ptr.is_null() || cap == 0 {
        &mut []
    } else {
        // Safety: forwarded from the caller.
        unsafe { std::slice::from_raw_parts_mut(ptr, cap) }
    }
}

unsafe extern "C" fn header_all(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    headers: *mut envoyx_header,
    headers_cap: usize,
) -> usize {
    // Safety: as in header_get.
    unsafe {
        with_map(stream, map, "header_all", 0, |host, map| {
            host.header_entries(map, out_slice(headers, headers_cap)).unwrap_or(0)
        })
    }
}

/// Checks a header name and value a module hands in for `op` (see `validate.rs`); on refusal
/// logs it for the stream and returns None.
fn checked_header<'k>(
    cell: &StreamCell,
    map: HeaderMapKind,
    op: HeaderOp,
    what: &str,
    key: &'k [u8],
    value: Option<&[u8]>,
) -> Option<std::borrow::Cow<'k, [u8]>> {
    let writes = matches!(op, HeaderOp::Set | HeaderOp::Add);
    let checked = validate::header_name(Some(map), op, key)
        .and_then(|name| value.map_or(Ok(()), |v| validate::header_value(&name, v)).map(|()| name))
        .and_then(|name| {
            if writes { validate::header_write(cell.header_writes.get()).map(|()| name) } else { Ok(name) }
        });
    match checked {
        Ok(name) if framing::headers_gone(map, cell) => {
            cell.refuse(
                format_args!("{what} of `{}` on {map:?}", crate::log::Shown(&name)),
                &"these headers already went on past this filter: whether a change still reaches the \
                  peer would depend on timing (and `content-length` would no longer match what the \
                  peer was told); change them in the headers hook, or hold them (StopIteration) until \
                  the module knows",
            );
            None
        }
        Ok(name) => {
            if writes {
                cell.header_writes.set(cell.header_writes.get() + 1);
            }
            Some(name)
        }
        Err(refusal) => {
            cell.refuse(format_args!("{what} of `{}` on {map:?}", crate::log::Shown(key)), &refusal);
            None
        }
    }
}

unsafe extern "C" fn header_set(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
    value: envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; views valid during the call.
    unsafe {
        with_stream(stream, "header_set", false, |cell, _| {
            let Some(map) = map_arg(map, "header_set") else { return false };
            let value = view(value);
            let Some(key) = checked_header(cell, map, HeaderOp::Set, "header_set", view(key), Some(value))
            else {
                return false;
            };
            cell.host.borrow_mut().header_set(map, &key, value)
        })
    }
}

unsafe extern "C" fn header_add(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
    value: envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; views valid during the call.
    unsafe {
        with_stream(stream, "header_add", false, |cell, _| {
            let Some(map) = map_arg(map, "header_add") else { return false };
            let value = view(value);
            let Some(key) = checked_header(cell, map, HeaderOp::Add, "header_add", view(key), Some(value))
            else {
                return false;
            };
            cell.host.borrow_mut().header_add(map, &key, value)
        })
    }
}

unsafe extern "C" fn header_remove(
    stream: *mut envoyx_stream,
    map: envoyx_header_map,
    key: envoyx_bytes,
) -> usize {
    // Safety: stream pointer per the ABI; view valid during the call.
    unsafe {
        with_stream(stream, "header_remove", 0, |cell, _| {
            let Some(map) = map_arg(map, "header_remove") else { return 0 };
            let Some(key) = checked_header(cell, map, HeaderOp::Remove, "header_remove", view(key), None)
            else {
                return 0;
            };
            cell.host.borrow_mut().header_remove(map, &key)
        })
    }
}

unsafe extern "C" fn body_length(stream: *mut envoyx_stream, body: envoyx_body_kind) -> usize {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "body_length", 0, |cell, hook| {
            let Some(body) = body_arg(body, hook, "body_length") else { return 0 };
            cell.host.borrow_mut().body_length(body).unwrap_or(0)
        })
    }
}

unsafe extern "C" fn body_slices(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    slices: *mut envoyx_slice,
    slices_cap: usize,
) -> usize {
    // Safety: stream pointer per the ABI; `slices` has room for `slices_cap` entries.
    unsafe {
        with_stream(stream, "body_slices", 0, |cell, hook| {
            let Some(body) = body_arg(body, hook, "body_slices") else { return 0 };
            cell.host.borrow_mut().body_slices(body, out_slice(slices, slices_cap)).unwrap_or(0)
        })
    }
}

unsafe extern "C" fn body_drain(stream: *mut envoyx_stream, body: envoyx_body_kind, len: usize) -> bool {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "body_drain", false, |cell, hook| {
            let Some(body) = body_arg(body, hook, "body_drain") else { return false };
            let Some(total) = cell.host.borrow_mut().body_length(body) else { return false };
            let len = len.min(total);
            if len == 0 {
                return true;
            }
            if !framing::allow_length_change(cell, body, "body_drain") {
                return false;
            }
            let done = cell.host.borrow_mut().body_drain(body, len);
            if done {
                framing::length_changed(cell, body);
            }
            done
        })
    }
}

/// Shared by prepend, append and replace: the bytes a module hands in are copied into the
/// host's buffer, and counted, since the zero-copy promise is about what the path copies. A call
/// that changes the body's length is checked against its headers' framing first (`framing.rs`).
unsafe fn body_insert(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    data: envoyx_bytes,
    what: &'static str,
    // How many bytes the call takes out of the body, or None when it cannot be done (a range
    // outside the body).
    removes: impl FnOnce(&mut dyn crate::HostStream, BodyKind) -> Option<usize>,
    f: impl FnOnce(&mut dyn crate::HostStream, BodyKind, &[u8]) -> bool,
) -> bool {
    // Safety: stream pointer per the ABI; `data` valid during the call.
    unsafe {
        with_stream(stream, what, false, |cell, hook| {
            let Some(body) = body_arg(body, hook, what) else { return false };
            let data = view(data);
            let Some(removed) = removes(&mut **cell.host.borrow_mut(), body) else { return false };
            let changes_length = removed != data.len();
            if changes_length && !framing::allow_length_change(cell, body, what) {
                return false;
            }
            let done = f(&mut **cell.host.borrow_mut(), body, data);
            if done {
                cell.bytes_copied.set(cell.bytes_copied.get() + data.len() as u64);
                if changes_length {
                    framing::length_changed(cell, body);
                }
            }
            done
        })
    }
}

unsafe extern "C" fn body_prepend(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    data: envoyx_bytes,
) -> bool {
    // Safety: forwarded ABI contract.
    unsafe {
        body_insert(
            stream,
            body,
            data,
            "body_prepend",
            |_, _| Some(0),
            |h, b, d| d.is_empty() || h.body_prepend(b, d),
        )
    }
}

unsafe extern "C" fn body_append(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    data: envoyx_bytes,
) -> bool {
    // Safety: forwarded ABI contract.
    unsafe {
        body_insert(
            stream,
            body,
            data,
            "body_append",
            |_, _| Some(0),
            |h, b, d| d.is_empty() || h.body_append(b, d),
        )
    }
}

unsafe extern "C" fn body_replace(
    stream: *mut envoyx_stream,
    body: envoyx_body_kind,
    offset: usize,
    len: usize,
    data: envoyx_bytes,
) -> bool {
    // Safety: forwarded ABI contract.
    unsafe {
        body_insert(
            stream,
            body,
            data,
            "body_replace",
            |h, b| {
                let total = h.body_length(b)?;
                offset.checked_add(len).is_some_and(|end| end <= total).then_some(len)
            },
            |h, b, d| h.body_replace(b, offset, len, d),
        )
    }
}

unsafe extern "C" fn send_local_reply(
    stream: *mut envoyx_stream,
    status: u32,
    headers: *const envoyx_header,
    headers_len: usize,
    body: envoyx_bytes,
    details: envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; `headers` points at `headers_len` entries and every view
    // is valid during the call.
    unsafe {
        with_stream(stream, "send_local_reply", false, |cell, hook| {
            let entries: &[envoyx_header] = if headers.is_null() || headers_len == 0 {
                &[]
            } else {
                std::slice::from_raw_parts(headers, headers_len)
            };
            let pairs = entries.iter().map(|h| (view(h.key), view(h.value)));
            match control::local_reply(cell, hook, status, pairs, view(body), view(details)) {
                Ok(reply) => {
                    control::record_reply(cell, reply);
                    true
                }
                Err(reason) => {
                    cell.refuse(format_args!("send_local_reply (status {status})"), &reason);
                    false
                }
            }
        })
    }
}

unsafe extern "C" fn reset_stream(stream: *mut envoyx_stream) {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "reset_stream", (), |cell, hook| {
            if let Err(reason) = control::reset(cell, hook) {
                cell.refuse(format_args!("reset_stream"), &reason);
            }
        })
    }
}

unsafe extern "C" fn stream_handle_new(stream: *mut envoyx_stream) -> *mut envoyx_stream_handle {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "stream_handle_new", std::ptr::null_mut(), |cell, _| {
            Arc::into_raw(cell.handle().clone()) as *mut envoyx_stream_handle
        })
    }
}

unsafe extern "C" fn stream_handle_continue(
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

unsafe extern "C" fn stream_handle_schedule(handle: *mut envoyx_stream_handle, event_id: u64) -> bool {
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

unsafe extern "C" fn config_http_callout(
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

/// The configuration behind `handle`, or None for a NULL handle.
///
/// # Safety
/// A non-NULL handle is an `Arc<ConfigShared>` the module has not released (ABI contract).
unsafe fn config_of<'a>(handle: *mut envoyx_config_handle) -> Option<&'a ConfigShared> {
    // Safety: per the caller.
    unsafe { (handle as *const ConfigShared).as_ref() }
}

unsafe extern "C" fn config_callout_stream_start(
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

unsafe extern "C" fn config_callout_stream_send(
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

unsafe extern "C" fn config_callout_stream_send_trailers(
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

unsafe extern "C" fn config_callout_stream_reset(handle: *mut envoyx_config_handle, callout_id: u64) -> bool {
    // Safety: the handle per the ABI.
    unsafe { config_of(handle).is_some_and(|shared| shared.callout_stream_reset(callout_id)) }
}

unsafe extern "C" fn continue_stream(stream: *mut envoyx_stream, direction: envoyx_direction) -> bool {
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

unsafe extern "C" fn stream_handle_release(handle: *mut envoyx_stream_handle) {
    if !handle.is_null() {
        // Safety: made by Arc::into_raw in stream_handle_new; released once (ABI contract).
        drop(unsafe { Arc::from_raw(handle as *const HandleShared) });
    }
}

unsafe extern "C" fn config_handle_new(creating: *mut envoyx_error) -> *mut envoyx_config_handle {
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

/// The module's list of views (NULL with 0 is empty).
///
/// # Safety
/// `views` points at `len` views valid during the current call (or is NULL).
unsafe fn view_list<'a>(views: *const envoyx_bytes, len: usize) -> Vec<&'a [u8]> {
    if views.is_null() || len == 0 {
        return Vec::new();
    }
    // Safety: per the caller.
    unsafe { std::slice::from_raw_parts(views, len).iter().map(|v| view(*v)).collect() }
}

unsafe extern "C" fn metric_define(
    creating: *mut envoyx_error,
    kind: envoyx_metric_kind,
    name: envoyx_bytes,
    label_names: *const envoyx_bytes,
    label_names_len: usize,
) -> u64 {
    // Safety: used during this call only.
    let Some(sink) = (unsafe { lent_sink(creating, "metric_define") }) else { return 0 };
    let Some(shared) = &sink.creating else {
        core_log!(
            Error,
            "EnvoyX module called metric_define outside envoyx_on_filter_config_new (metrics are \
             defined while a configuration is created); refused"
        );
        return 0;
    };
    // Safety: the views are valid during this call.
    unsafe { shared.define_metric(kind, view(name), &view_list(label_names, label_names_len)) }
}

unsafe extern "C" fn metric_record(
    stream: *mut envoyx_stream,
    metric_id: u64,
    label_values: *const envoyx_bytes,
    label_values_len: usize,
    op: envoyx_metric_op,
    value: u64,
) -> bool {
    // Safety: stream pointer per the ABI; the views are valid during the call.
    unsafe {
        with_stream(stream, "metric_record", false, |cell, _| {
            crate::metrics::record(cell, metric_id, &view_list(label_values, label_values_len), op, value)
        })
    }
}

unsafe extern "C" fn metadata_set(
    stream: *mut envoyx_stream,
    ns: envoyx_bytes,
    key: envoyx_bytes,
    value: envoyx_value,
) -> bool {
    // Safety: stream pointer per the ABI; the views are valid during the call.
    unsafe {
        with_stream(stream, "metadata_set", false, |cell, _| {
            crate::stream_info::metadata_set(cell, view(ns), view(key), &value)
        })
    }
}

unsafe extern "C" fn metadata_get(
    stream: *mut envoyx_stream,
    source: envoyx_metadata_source,
    ns: envoyx_bytes,
    key: envoyx_bytes,
    kind: envoyx_value_kind,
    out: *mut envoyx_value,
) -> bool {
    // Safety: stream pointer per the ABI; the views are valid during the call; `out` is
    // writable or NULL.
    unsafe {
        with_stream(stream, "metadata_get", false, |cell, _| {
            match crate::stream_info::metadata_get(cell, source, view(ns), view(key), kind) {
                Some(value) if !out.is_null() => {
                    out.write(value);
                    true
                }
                _ => false,
            }
        })
    }
}

unsafe extern "C" fn filter_state_set(
    stream: *mut envoyx_stream,
    key: envoyx_bytes,
    value: envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; the views are valid during the call.
    unsafe {
        with_stream(stream, "filter_state_set", false, |cell, _| {
            crate::stream_info::filter_state_set(cell, view(key), view(value))
        })
    }
}

unsafe extern "C" fn filter_state_get(
    stream: *mut envoyx_stream,
    key: envoyx_bytes,
    out: *mut envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; the view is valid during the call; `out` is writable
    // or NULL.
    unsafe {
        with_stream(stream, "filter_state_get", false, |cell, _| {
            match crate::stream_info::filter_state_get(cell, view(key)) {
                Some(value) if !out.is_null() => {
                    out.write(value);
                    true
                }
                _ => false,
            }
        })
    }
}

unsafe extern "C" fn clear_route_cache(stream: *mut envoyx_stream) -> bool {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "clear_route_cache", false, |cell, _| crate::stream_info::clear_route_cache(cell))
    }
}

unsafe extern "C" fn upstream_override_host(
    stream: *mut envoyx_stream,
    host: envoyx_bytes,
    strict: bool,
) -> bool {
    // Safety: stream pointer per the ABI; the view is valid during the call.
    unsafe {
        with_stream(stream, "upstream_override_host", false, |cell, _| {
            crate::stream_info::upstream_override_host(cell, view(host), strict)
        })
    }
}

unsafe extern "C" fn attribute_get(
    stream: *mut envoyx_stream,
    attribute: envoyx_attribute,
    out: *mut envoyx_value,
) -> bool {
    // Safety: stream pointer per the ABI; `out` is writable or NULL.
    unsafe {
        with_stream(stream, "attribute_get", false, |cell, _| match crate::attributes::get(cell, attribute) {
            Some(value) if !out.is_null() => {
                out.write(value);
                true
            }
            _ => false,
        })
    }
}

unsafe extern "C" fn span_set_tag(
    stream: *mut envoyx_stream,
    key: envoyx_bytes,
    value: envoyx_bytes,
) -> bool {
    // Safety: stream pointer per the ABI; the views are valid during the call.
    unsafe {
        with_stream(stream, "span_set_tag", false, |cell, _| {
            crate::stream_info::span_set_tag(cell, view(key), view(value))
        })
    }
}

unsafe extern "C" fn config_handle_schedule(handle: *mut envoyx_config_handle, event_id: u64) -> bool {
    if handle.is_null() {
        return false;
    }
    // Safety: a config handle is an Arc<ConfigShared> the module has not released (ABI contract).
    let shared = unsafe { &*(handle as *const ConfigShared) };
    match shared.push(crate::background::ConfigWork::Event(event_id)) {
        Ok(()) => true,
        Err(reason) => {
            core_log!(Debug, "EnvoyX module: config_handle_schedule({event_id}) does nothing: {reason}");
            false
        }
    }
}

unsafe extern "C" fn config_handle_release(handle: *mut envoyx_config_handle) {
    if !handle.is_null() {
        // Safety: made by Arc::into_raw in config_handle_new; released once (ABI contract).
        drop(unsafe { Arc::from_raw(handle as *const ConfigShared) });
    }
}

unsafe extern "C" fn route_config(stream: *mut envoyx_stream) -> *const envoyx_module_route_config {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "route_config", std::ptr::null(), |cell, _| {
            let Some(route) = cell.host.borrow_mut().route_config() else { return std::ptr::null() };
            let Some(module_route_config) = route.parse_for(cell.module_id) else {
                cell.refuse(
                    format_args!("route_config"),
                    &format_args!(
                        "the per-route config `{}` that applies here is for module {}, not this filter's",
                        route.name(),
                        route.module().path().display()
                    ),
                );
                return std::ptr::null();
            };
            let mut held = cell.routes.borrow_mut();
            if !held.iter().any(|r| Arc::ptr_eq(r, &route)) {
                held.push(route);
            }
            module_route_config
        })
    }
}

/// The module's header list (NULL with 0 is empty).
///
/// # Safety
/// `headers` points at `len` entries valid during the current call (or is NULL).
unsafe fn header_list<'a>(headers: *const envoyx_header, len: usize) -> &'a [envoyx_header] {
    if headers.is_null() || len == 0 {
        &[]
    } else {
        // Safety: per the caller.
        unsafe { std::slice::from_raw_parts(headers, len) }
    }
}

/// A callout request as the module passed it.
///
/// # Safety
/// Every view valid during the current call; `headers` as for [`header_list`].
unsafe fn callout_args<'a>(
    cluster: envoyx_bytes,
    headers: *const envoyx_header,
    headers_len: usize,
    body: envoyx_bytes,
    timeout_ms: u64,
) -> crate::callout::CalloutArgs<'a> {
    // Safety: per the caller.
    unsafe {
        crate::callout::CalloutArgs {
            cluster: view(cluster),
            headers: header_list(headers, headers_len).iter().map(|h| (view(h.key), view(h.value))).collect(),
            body: view(body),
            timeout_ms,
        }
    }
}

unsafe extern "C" fn http_callout(
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
            crate::callout::start(cell, hook, callout_args(cluster, headers, headers_len, body, timeout_ms))
        })
    }
}

unsafe extern "C" fn callout_stream_start(
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
            crate::callout_stream::start(cell, hook, args, end_of_stream)
        })
    }
}

unsafe extern "C" fn callout_stream_send(
    stream: *mut envoyx_stream,
    callout_id: u64,
    data: envoyx_bytes,
    end_of_stream: bool,
) -> bool {
    // Safety: stream pointer per the ABI; the view is valid during the call.
    unsafe {
        with_stream(stream, "callout_stream_send", false, |cell, _| {
            crate::callout_stream::send(cell, callout_id, view(data), end_of_stream)
        })
    }
}

unsafe extern "C" fn callout_stream_send_trailers(
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
            crate::callout_stream::send_trailers(cell, callout_id, &list)
        })
    }
}

unsafe extern "C" fn callout_stream_reset(stream: *mut envoyx_stream, callout_id: u64) -> bool {
    // Safety: stream pointer per the ABI.
    unsafe {
        with_stream(stream, "callout_stream_reset", false, |cell, _| {
            crate::callout_stream::reset(cell, callout_id)
        })
    }
}

unsafe extern "C" fn hook_failed(stream: *mut envoyx_stream, reason: envoyx_bytes) -> bool {
    // Safety: stream pointer per the ABI; `reason` is valid during the call.
    unsafe {
        with_stream(stream, "hook_failed", false, |cell, hook| {
            control::hook_failed(cell, hook, view(reason));
            true
        })
    }
}
