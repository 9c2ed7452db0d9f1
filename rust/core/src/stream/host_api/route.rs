//! The table's per-route configuration (`route_config`, ABI 1.1).

use super::with_stream;
use envoyx_abi::*;
use std::sync::Arc;

pub(super) unsafe extern "C" fn route_config(
    stream: *mut envoyx_stream,
) -> *const envoyx_module_route_config {
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
                        route.first_module_path()
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
