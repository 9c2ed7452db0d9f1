//! `metadata_set_struct` (ABI 1.2): a JSON object merged into a namespace of the stream's dynamic
//! metadata, as a google.protobuf.Struct. The rule: the text is a JSON object of at most
//! [`MAX_STRUCT`] bytes nested at most [`MAX_DEPTH`] levels, each key and string as
//! `metadata_set` would take it. A flat object (strings, numbers, booleans) is set key by key
//! through the `metadata_set` primitive every host has; one with a nested list or object, or a
//! null, goes to the host as a serialized Struct, which only a proxy that takes one serves.

use prost::Message;
use serde_json::Value;

use crate::log::Shown;
use crate::stream::cell::StreamCell;
use crate::stream::stream_info::MetadataValue;
use crate::stream::validate::{self, MAX_VALUE};

/// The longest JSON text `metadata_set_struct` takes.
pub const MAX_STRUCT: usize = 64 * 1024;
/// How deeply its lists and objects may nest.
pub const MAX_DEPTH: usize = 16;

/// The rule of `metadata_set_struct`.
pub(crate) fn metadata_set_struct(cell: &StreamCell, ns: &[u8], json: &[u8]) -> bool {
    let what = format_args!("metadata_set_struct of `{}`", Shown(ns));
    let checked =
        validate::name("namespace", ns).map_err(|r| r.to_string()).and_then(|ns| Ok((ns, parse(json)?)));
    let (ns, fields) = match checked {
        Ok(checked) => checked,
        Err(reason) => {
            cell.refuse(what, &reason);
            return false;
        }
    };
    let flat: Option<Vec<(&String, MetadataValue<'_>)>> = fields
        .iter()
        .map(|(key, value)| match value {
            Value::String(s) => Some((key, MetadataValue::String(s))),
            Value::Bool(b) => Some((key, MetadataValue::Bool(*b))),
            Value::Number(n) => n.as_f64().map(|n| (key, MetadataValue::Number(n))),
            _ => None,
        })
        .collect();
    if let Some(flat) = flat {
        let mut host = cell.host.borrow_mut();
        return flat.into_iter().all(|(key, value)| host.metadata_set(ns, key, value));
    }
    let encoded = to_struct(&fields).encode_to_vec();
    if !cell.host.borrow_mut().metadata_set_struct(ns, &encoded) {
        cell.refuse(
            what,
            &"this proxy sets only flat metadata for modules (strings, numbers, booleans): a nested list or \
              object, or a null, needs one that takes a whole Struct (stock Envoy 1.40 and later)",
        );
        return false;
    }
    true
}

/// The JSON object, checked.
fn parse(json: &[u8]) -> Result<serde_json::Map<String, Value>, String> {
    if json.len() > MAX_STRUCT {
        return Err(format!("the JSON is {} bytes, over {MAX_STRUCT}", json.len()));
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(json) else {
        return Err("not a JSON object".to_string());
    };
    for (key, value) in &fields {
        validate::name("key", key.as_bytes()).map_err(|r| r.to_string())?;
        check(value, 1)?;
    }
    Ok(fields)
}

fn check(value: &Value, depth: usize) -> Result<(), String> {
    match value {
        Value::String(s) => {
            validate::text("string value", s.as_bytes(), MAX_VALUE).map(|_| ()).map_err(|r| r.to_string())
        }
        Value::Array(items) if depth < MAX_DEPTH => items.iter().try_for_each(|v| check(v, depth + 1)),
        Value::Object(fields) if depth < MAX_DEPTH => fields.iter().try_for_each(|(key, v)| {
            validate::name("key", key.as_bytes()).map_err(|r| r.to_string())?;
            check(v, depth + 1)
        }),
        Value::Array(_) | Value::Object(_) => {
            Err(format!("lists and objects nest at most {MAX_DEPTH} levels"))
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn to_struct(fields: &serde_json::Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct { fields: fields.iter().map(|(k, v)| (k.clone(), to_value(v))).collect() }
}

fn to_value(value: &Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(items) => {
            Kind::ListValue(prost_types::ListValue { values: items.iter().map(to_value).collect() })
        }
        Value::Object(fields) => Kind::StructValue(to_struct(fields)),
    };
    prost_types::Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_checked_and_encoded_as_a_struct() {
        assert!(parse(br#"{"a": 1, "b": {"c": [true, null, "x"]}}"#).is_ok());
        for (json, reason) in [
            (&br#"[1]"#[..], "not a JSON object"),
            (br#"{"a": "#, "not a JSON object"),
            (br#"{"": 1}"#, "key"),
            (br#"{"a": "line\nbreak"}"#, "string value"),
        ] {
            let err = parse(json).unwrap_err();
            assert!(err.contains(reason), "{}: {err}", String::from_utf8_lossy(json));
        }
        let deep = format!("{{\"a\": {}1{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(deep.as_bytes()).unwrap_err().contains("nest at most 16"));
        let fields = parse(br#"{"b": {"c": [true]}}"#).unwrap();
        let decoded = prost_types::Struct::decode(&to_struct(&fields).encode_to_vec()[..]).unwrap();
        assert_eq!(decoded, to_struct(&fields), "round trip through the wire form");
    }
}
