//! Per-route configuration on stock Envoy: upstream's per-route hooks carry the EnvoyX
//! `DynamicModuleConfigPerRoute` (x/config.proto) to the core, and the stream's host hands the
//! one Envoy resolves to the core (`host.rs`).

use crate::any_value::any_value_json;
use crate::envoy_bytes;
use crate::ffi::EnvoyBuffer;
use crate::host::HostRouteConfig;
use crate::log::host_log;
use envoyx_core::{ModuleConfig, RouteConfig};

/// Upstream's per-route config hook (resolved when a route carries a config for this filter):
/// parses the EnvoyX `DynamicModuleConfigPerRoute` (JSON, as a `google.protobuf.Struct` or a
/// `StringValue`) and has the module it names parse its `filter_config`. NULL makes Envoy reject
/// the route configuration; the reason is logged first.
///
/// # Safety
/// Called by Envoy on the main thread with buffers valid during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_per_route_config_new(
    name: EnvoyBuffer,
    config: EnvoyBuffer,
) -> *const std::ffi::c_void {
    // Safety: Envoy's name and config buffers are valid for this call.
    let (name, config) = unsafe { (envoy_bytes(name), envoy_bytes(config)) };
    let name = String::from_utf8_lossy(name);
    let prefix = format!("EnvoyX stock host: per-route config `{name}`");
    let parsed = any_value_json(config)
        .map_err(|e| format!("{prefix}: `filter_config`: {e}"))
        .and_then(|text| ModuleConfig::route_from_json(&text).map_err(|e| format!("{prefix}: {e}")))
        .and_then(|mut route| {
            if route.name.is_empty() {
                route.name = name.to_string();
            }
            RouteConfig::new(&route).map_err(|e| format!("{prefix} rejected: {e}"))
        });
    match parsed {
        Ok(config) => Box::into_raw(Box::new(HostRouteConfig { config })) as *const std::ffi::c_void,
        Err(message) => {
            host_log!(Error, "{message}");
            std::ptr::null()
        }
    }
}

/// # Safety
/// `config` is what per_route_config_new returned; Envoy destroys it once, with its routes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_per_route_config_destroy(
    config: *const std::ffi::c_void,
) {
    if !config.is_null() {
        // Safety: made by Box::into_raw in per_route_config_new; destroyed once.
        drop(unsafe { Box::from_raw(config as *mut HostRouteConfig) });
    }
}
