//! Envoy 1.40's generic secrets for modules: subscribing while a filter configuration is created,
//! reading one inside a stream's hook. Looked up at run time (1.38 and 1.39 lack them).

use std::ffi::c_void;
use std::sync::OnceLock;

use super::process::lookup;
use super::*;

/// `size_t (config, module_buffer name, module_buffer sds_config_json)`: 0 on failure; only
/// during `on_http_filter_config_new` (upstream's abi.h, generic secrets).
type Subscribe = unsafe extern "C" fn(ConfigEnvoyPtr, ModuleBuffer, ModuleBuffer) -> usize;
/// `bool (filter, size_t id, envoy_buffer* result)`: false for an id not subscribed.
type Get = unsafe extern "C" fn(FilterEnvoyPtr, usize, *mut EnvoyBuffer) -> bool;

#[derive(Clone, Copy)]
struct Callbacks {
    subscribe: Subscribe,
    get: Get,
}

fn callbacks() -> Option<Callbacks> {
    static CALLBACKS: OnceLock<Option<Callbacks>> = OnceLock::new();
    *CALLBACKS.get_or_init(|| {
        let subscribe = lookup(c"envoy_dynamic_module_callback_http_filter_config_generic_secret_subscribe");
        let get = lookup(c"envoy_dynamic_module_callback_http_filter_get_generic_secret");
        if subscribe.is_null() || get.is_null() {
            return None;
        }
        // Safety: the symbols, when present, have the types above.
        Some(unsafe {
            Callbacks {
                subscribe: std::mem::transmute::<*mut c_void, Subscribe>(subscribe),
                get: std::mem::transmute::<*mut c_void, Get>(get),
            }
        })
    })
}

/// Subscribes Envoy's filter configuration `config` to secret `name` (`sds_config` empty: a
/// static secret): Envoy's id, or why not.
///
/// # Safety
/// Inside Envoy's `on_http_filter_config_new` for `config`, on the main thread.
pub unsafe fn subscribe_secret(config: ConfigEnvoyPtr, name: &str, sds_config: &str) -> Result<u64, String> {
    let Some(callbacks) = callbacks() else {
        return Err(format!(
            "Envoy 1.{} serves no secrets to modules; Envoy 1.40 and later do",
            envoy_minor()
        ));
    };
    // Safety: per the caller; Envoy reads both buffers during the call.
    let id = unsafe {
        (callbacks.subscribe)(
            config,
            ModuleBuffer::new(name.as_bytes()),
            ModuleBuffer::new(sds_config.as_bytes()),
        )
    };
    if id == 0 {
        return Err(if sds_config.is_empty() {
            "Envoy has no static secret of that name (bootstrap `static_resources.secrets`)".to_string()
        } else {
            "Envoy refused the subscription: its sds_config is no ConfigSource Envoy takes".to_string()
        });
    }
    Ok(id as u64)
}

impl EnvoyFilter {
    /// The current value of the secret Envoy subscribed to as `id` (empty until SDS delivers
    /// it): a view of Envoy's bytes, valid until the hook returns.
    pub fn secret(self, id: u64) -> Option<envoyx_abi::envoyx_bytes> {
        let callbacks = callbacks()?;
        let mut out = EnvoyBuffer::EMPTY;
        // Safety: live filter on its worker thread; Envoy writes `out` on success.
        let found = unsafe { (callbacks.get)(self.raw(), usize::try_from(id).ok()?, &mut out) };
        found.then(|| out.view())
    }
}
