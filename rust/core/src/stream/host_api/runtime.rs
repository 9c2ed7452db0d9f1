//! The table's runtime function (`runtime_get`, ABI 1.2): any thread, no stream; the rule is
//! `crate::runtime`.

use super::view;
use crate::runtime::RuntimeValue;
use envoyx_abi::*;

pub(super) unsafe extern "C" fn runtime_get(
    key: envoyx_bytes,
    kind: envoyx_value_kind,
    value: *mut envoyx_value,
) -> bool {
    if value.is_null() {
        return false;
    }
    // Safety: the module's view of the key is valid during the call.
    let found = crate::runtime::runtime_get(unsafe { view(key) }, kind);
    let answer = match found {
        Some(RuntimeValue::Bool(b)) => envoyx_value::boolean(b),
        Some(RuntimeValue::Number(n)) => envoyx_value::number(n),
        None => return false,
    };
    // Safety: `value` is the module's, writable and non-null (checked above).
    unsafe { value.write(answer) };
    true
}
