//! The proxy's runtime (ABI 1.2): feature flags and values an operator sets without a new
//! filter configuration (Envoy's bootstrap layers, RTDS, the admin's `/runtime_modify`). Any
//! thread, from the module's program init on.

use crate::host::host;
use envoyx_abi::{ENVOYX_VALUE_BOOL, ENVOYX_VALUE_NUMBER, envoyx_bytes, envoyx_value};

fn runtime_get(key: &str, kind: u32) -> Option<envoyx_value> {
    let mut value = envoyx_value::boolean(false);
    // Safety: `runtime_get` may be called from any thread at any time (x/abi.h); the key is
    // read during the call and `value` is ours to write.
    let found = unsafe { (host()?.runtime_get)(envoyx_bytes::from_slice(key.as_bytes()), kind, &mut value) };
    found.then_some(value)
}

/// Runtime `key` as a boolean (a feature flag); None when the runtime holds no boolean there,
/// or the proxy lets modules read no runtime (stock Envoy before 1.40; logged once).
///
/// ```
/// fn new_path_enabled() -> bool {
///     envoyx_sdk::runtime_bool("my_filter.new_path").unwrap_or(false)
/// }
/// # let _ = new_path_enabled;
/// ```
pub fn runtime_bool(key: &str) -> Option<bool> {
    runtime_get(key, ENVOYX_VALUE_BOOL).map(|v| v.boolean)
}

/// Runtime `key` as a number (the runtime keeps integers as doubles), as [`runtime_bool`].
///
/// ```
/// fn sample_percent() -> f64 {
///     envoyx_sdk::runtime_number("my_filter.sample_percent").unwrap_or(1.0)
/// }
/// # let _ = sample_percent;
/// ```
pub fn runtime_number(key: &str) -> Option<f64> {
    runtime_get(key, ENVOYX_VALUE_NUMBER).map(|v| v.number)
}
