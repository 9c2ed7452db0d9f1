//! Reading a configuration's JSON form field by field (`config.rs`, `remote_config.rs`): each
//! value checked for its type, each error naming the field.

use crate::error::ConfigError;

/// A whole number from 0 to u32::MAX; also as a float (what a google.protobuf.Struct carries) or
/// a string of digits (proto3 JSON's other form).
pub(crate) fn expect_u32(field: &str, what: &str, value: &serde_json::Value) -> Result<u32, ConfigError> {
    let whole = |f: f64| (f.fract() == 0.0 && f >= 0.0).then_some(f as u64);
    (value.as_u64())
        .or_else(|| value.as_f64().and_then(whole))
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| field_error(field, format!("expected {what} (0 to {}), got {value}", u32::MAX)))
}

pub(crate) fn field_error(field: &str, reason: String) -> ConfigError {
    ConfigError::Field { field: field.to_string(), reason }
}

pub(crate) fn expect_string(field: &str, value: &serde_json::Value) -> Result<String, ConfigError> {
    match value {
        serde_json::Value::String(s) => Ok(s.clone()),
        other => Err(field_error(field, format!("expected a string, got {}", json_kind(other)))),
    }
}

pub(crate) fn expect_bool(field: &str, value: &serde_json::Value) -> Result<bool, ConfigError> {
    match value {
        serde_json::Value::Bool(b) => Ok(*b),
        other => Err(field_error(field, format!("expected a boolean, got {}", json_kind(other)))),
    }
}

pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
