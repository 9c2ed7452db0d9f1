//! The test host's runtime (ABI 1.2 `runtime_get`): one per process, as Envoy's is, filled by
//! the test ([`set_runtime`]) where Envoy's would come from its bootstrap layers or RTDS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use envoyx_core::runtime::RuntimeValue;

static VALUES: Mutex<Option<HashMap<String, RuntimeValue>>> = Mutex::new(None);

/// Sets runtime `key` for every module of this process (None removes it). Tests share the
/// process: give each test its own keys.
pub fn set_runtime(key: &str, value: Option<RuntimeValue>) {
    let mut values = VALUES.lock().unwrap_or_else(|e| e.into_inner());
    let values = values.get_or_insert_with(HashMap::new);
    match value {
        Some(value) => values.insert(key.to_string(), value),
        None => values.remove(key),
    };
}

fn get(key: &str) -> Option<RuntimeValue> {
    VALUES.lock().unwrap_or_else(|e| e.into_inner()).as_ref().and_then(|values| values.get(key).copied())
}

/// What the core reads: a boolean holds as a boolean, a number as a number, as Envoy's runtime
/// answers (a stored `true` is no number).
struct TestRuntime;

impl envoyx_core::runtime::RuntimeSource for TestRuntime {
    fn boolean(&self, key: &str) -> Result<Option<bool>, String> {
        Ok(match get(key) {
            Some(RuntimeValue::Bool(b)) => Some(b),
            _ => None,
        })
    }
    fn number(&self, key: &str) -> Result<Option<f64>, String> {
        Ok(match get(key) {
            Some(RuntimeValue::Number(n)) => Some(n),
            _ => None,
        })
    }
}

pub(crate) fn install() {
    envoyx_core::runtime::set_runtime_source(Arc::new(TestRuntime));
}
