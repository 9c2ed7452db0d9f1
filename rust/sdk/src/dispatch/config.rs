//! The exports that concern the program and its configurations (main thread): ABI version,
//! program init and unload, filter and per-route configurations, their scheduled events and
//! callouts.

use crate::panics::{catch_unwind, report_panic};
use std::any::Any;
use std::panic::AssertUnwindSafe;

use envoyx_abi::{
    envoyx_abi_version, envoyx_bytes, envoyx_error, envoyx_host_api, envoyx_module_config,
    envoyx_module_route_config,
};

use crate::host::{self, host};
use crate::{FilterConfig, RouteConfig};

/// `envoyx_module_abi_version`: the ABI this SDK was built for. Cannot panic.
pub extern "C" fn module_abi_version() -> envoyx_abi_version {
    envoyx_abi_version::CURRENT
}

/// Installs the SDK's panic hook (`panics.rs`), from the exported `envoyx_on_program_init` of a
/// module loaded from its file. A module linked into a program (the in-process test mode) leaves
/// the program's panic hook alone, so a test's or the host's own panics print as usual.
pub fn install_panic_hook() {
    crate::panics::install();
}

/// `envoyx_module_host_api_size`: the host table this SDK needs (all of its ABI's), so that a
/// host with a shorter one refuses the module at load instead of the module failing later.
pub extern "C" fn module_host_api_size() -> usize {
    crate::host::REQUIRED_TABLE_SIZE
}

/// `envoyx_on_program_unload`: whether the host may unmap the module. Yes, unless the module
/// called [`crate::thread::keep_module_mapped`]: the threads Rust's std and
/// [`crate::thread::spawn`] start keep the module mapped themselves while they run.
pub extern "C" fn on_program_unload() -> bool {
    !crate::thread::module_kept_mapped()
}

/// `envoyx_on_program_init`: checks and stores the host table.
///
/// # Safety
/// Called by the host as x/abi.h describes: `table` lives while the module is loaded, `error`
/// is valid during the call.
pub unsafe extern "C" fn on_program_init(table: *const envoyx_host_api, error: *mut envoyx_error) -> bool {
    // Safety: `table` is the host's table (caller).
    match catch_unwind(|| unsafe { host::install(table) }) {
        Ok(Ok(())) => true,
        Ok(Err(reason)) => {
            // Safety: `table` and `error` come from the host for this call (caller).
            unsafe { host::set_error(table, error, &reason) };
            false
        }
        Err(payload) => {
            let message = report_panic("envoyx_on_program_init", payload);
            // Safety: as above.
            unsafe { host::set_error(table, error, &format!("panicked: {message}")) };
            false
        }
    }
}

/// `envoyx_on_filter_config_new`: builds `C` from the name and config bytes.
///
/// # Safety
/// Called by the host as x/abi.h describes: `name` and `config` are valid views during the
/// call, `error` is the host's error handle for it, program init has succeeded.
pub unsafe extern "C" fn on_filter_config_new<C: FilterConfig>(
    name: envoyx_bytes,
    config: envoyx_bytes,
    error: *mut envoyx_error,
) -> *mut envoyx_module_config {
    let Some(host) = host() else { return std::ptr::null_mut() };
    // Safety: both views are valid during this call (caller), and are not used after it.
    let (name, config) = unsafe { (name.as_slice(), config.as_slice()) };
    let result = catch_unwind(|| {
        let _creating = crate::handle::Creating::enter(error);
        C::new(&String::from_utf8_lossy(name), config).map(Box::new)
    });
    let reason = match result {
        Ok(Ok(config)) => return Box::into_raw(config).cast(),
        Ok(Err(reason)) => reason,
        Err(payload) => format!("panicked: {}", report_panic("FilterConfig::new", payload)),
    };
    // Safety: `host` is the stored host table and `error` the handle for this call (caller).
    unsafe { host::set_error(host, error, &reason) };
    std::ptr::null_mut()
}

/// A per-route configuration as the SDK hands it to the host: boxed as `Any`, so that
/// [`crate::Stream::route_config`] can check the type the filter asks for.
type RouteBox = Box<dyn Any + Send + Sync>;

/// `envoyx_on_route_config_new`: builds `R` from the per-route configuration's name and bytes.
///
/// # Safety
/// As for [`on_filter_config_new`].
pub unsafe extern "C" fn on_route_config_new<R: RouteConfig>(
    name: envoyx_bytes,
    config: envoyx_bytes,
    error: *mut envoyx_error,
) -> *mut envoyx_module_route_config {
    let Some(host) = host() else { return std::ptr::null_mut() };
    // Safety: both views are valid during this call (caller), and are not used after it.
    let (name, config) = unsafe { (name.as_slice(), config.as_slice()) };
    let result = catch_unwind(|| R::new(&String::from_utf8_lossy(name), config));
    let reason = match result {
        Ok(Ok(route)) => {
            let route: RouteBox = Box::new(route);
            return Box::into_raw(Box::new(route)).cast();
        }
        Ok(Err(reason)) => reason,
        Err(payload) => format!("panicked: {}", report_panic("RouteConfig::new", payload)),
    };
    // Safety: `host` is the stored host table and `error` the handle for this call (caller).
    unsafe { host::set_error(host, error, &reason) };
    std::ptr::null_mut()
}

/// `envoyx_on_route_config_destroy`: drops what `on_route_config_new` made.
///
/// # Safety
/// `config` is NULL or what `on_route_config_new` returned, destroyed once (x/abi.h).
pub unsafe extern "C" fn on_route_config_destroy(config: *mut envoyx_module_route_config) {
    if config.is_null() {
        return;
    }
    // Safety: made by `Box::into_raw` in `on_route_config_new`; no stream uses it any more.
    let route = unsafe { Box::from_raw(config.cast::<RouteBox>()) };
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(route))) {
        report_panic("dropping the RouteConfig", payload);
    }
}

/// The per-route configuration behind the host's pointer, if it is an `R`.
///
/// # Safety
/// `config` is NULL or a pointer `on_route_config_new` returned that is still alive for `'a`.
pub(crate) unsafe fn route_config_ref<'a, R: RouteConfig>(
    config: *const envoyx_module_route_config,
) -> Option<&'a R> {
    // Safety: per the caller, a live `RouteBox` or NULL.
    let route = unsafe { config.cast::<RouteBox>().as_ref() }?;
    route.downcast_ref::<R>()
}

/// `envoyx_on_filter_config_destroy`: drops the `C` made by `on_filter_config_new`.
///
/// # Safety
/// `config` is NULL or what `on_filter_config_new::<C>` returned, destroyed once, after all its
/// streams (x/abi.h).
pub unsafe extern "C" fn on_filter_config_destroy<C: FilterConfig>(config: *mut envoyx_module_config) {
    if config.is_null() {
        return;
    }
    // Safety: `config` came from `Box::<C>::into_raw` and no stream uses it any more (caller).
    let config = unsafe { Box::from_raw(config.cast::<C>()) };
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(config))) {
        report_panic("dropping the FilterConfig", payload);
    }
}

/// `envoyx_on_filter_config_scheduled`: an event scheduled with [`crate::ConfigHandle::schedule`].
///
/// # Safety
/// Called by the host as x/abi.h describes: on the main thread, `config` is what
/// `on_filter_config_new::<C>` returned and is not destroyed.
pub unsafe extern "C" fn on_filter_config_scheduled<C: FilterConfig>(
    config: *mut envoyx_module_config,
    event_id: u64,
) {
    if config.is_null() {
        return;
    }
    // Safety: `config` is a live `C` (caller).
    let config = unsafe { &*config.cast::<C>() };
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| config.on_scheduled(event_id))) {
        report_panic("FilterConfig::on_scheduled", payload);
    }
}

/// `envoyx_on_filter_config_callout_done`: a configuration callout's answer, to
/// [`FilterConfig::on_callout_done`].
///
/// # Safety
/// Called by the host as x/abi.h describes: on the main thread, `config` is what
/// `on_filter_config_new::<C>` returned and is not destroyed; the views are valid during the call.
pub unsafe extern "C" fn on_filter_config_callout_done<C: FilterConfig>(
    config: *mut envoyx_module_config,
    callout_id: u64,
    status: u32,
    headers: *const envoyx_abi::envoyx_header,
    headers_len: usize,
    body: *const envoyx_bytes,
    body_len: usize,
) {
    if config.is_null() {
        return;
    }
    // Safety: `config` is a live `C` (caller).
    let config = unsafe { &*config.cast::<C>() };
    // Safety: the host's views, valid during this call (caller).
    let result = unsafe { crate::callout::result(status, headers, headers_len, body, body_len) };
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| config.on_callout_done(callout_id, result))) {
        report_panic("FilterConfig::on_callout_done", payload);
    }
}

/// `envoyx_on_filter_config_callout_event`: news of a configuration's streaming callout, to
/// [`FilterConfig::on_callout_event`].
///
/// # Safety
/// As for [`on_filter_config_callout_done`].
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn on_filter_config_callout_event<C: FilterConfig>(
    config: *mut envoyx_module_config,
    callout_id: u64,
    event: u32,
    status: u32,
    headers: *const envoyx_abi::envoyx_header,
    headers_len: usize,
    data: *const envoyx_bytes,
    data_len: usize,
    end_of_stream: bool,
) {
    if config.is_null() {
        return;
    }
    // Safety: `config` is a live `C` (caller).
    let config = unsafe { &*config.cast::<C>() };
    // Safety: the host's views, valid during this call (caller).
    let event = unsafe {
        crate::callout::CalloutEvent::from_abi(
            event,
            status,
            headers,
            headers_len,
            data,
            data_len,
            end_of_stream,
        )
    };
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| config.on_callout_event(callout_id, event))) {
        report_panic("FilterConfig::on_callout_event", payload);
    }
}
