//! What Envoy hands over as a per-route `filter_config`, turned into JSON text. Self-contained
//! (prost, prost-types and serde_json only) so that the fuzz targets (`fuzz/`) include this very
//! file.

use prost::Message;

/// The JSON text of a per-route `filter_config` as Envoy hands it over: JSON already (as for
/// filter configs on some versions), or the protobuf value of the `Any` Envoy was given: a
/// `google.protobuf.StringValue` holding JSON, or a `google.protobuf.Struct` (turned into JSON).
pub fn any_value_json(bytes: &[u8]) -> Result<String, String> {
    let looks_like_json = |text: &str| text.trim_start().starts_with('{');
    if let Ok(text) = std::str::from_utf8(bytes)
        && looks_like_json(text)
    {
        return Ok(text.to_string());
    }
    if let Ok(text) = String::decode(bytes)
        && looks_like_json(&text)
    {
        return Ok(text);
    }
    match prost_types::Struct::decode(bytes) {
        Ok(value) => Ok(struct_json(&value).to_string()),
        Err(e) => Err(format!(
            "neither JSON, a google.protobuf.StringValue holding JSON, nor a google.protobuf.Struct ({e})"
        )),
    }
}

fn struct_json(value: &prost_types::Struct) -> serde_json::Value {
    serde_json::Value::Object(value.fields.iter().map(|(k, v)| (k.clone(), value_json(v))).collect())
}

fn value_json(value: &prost_types::Value) -> serde_json::Value {
    use prost_types::value::Kind;
    match &value.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::NumberValue(n)) => serde_json::json!(n),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
        Some(Kind::StructValue(s)) => struct_json(s),
        Some(Kind::ListValue(l)) => serde_json::Value::Array(l.values.iter().map(value_json).collect()),
    }
}
