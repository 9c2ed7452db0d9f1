//! The EnvoyX filter configuration, `x/config.proto`'s `DynamicModuleConfig`, in its two wire
//! forms: protobuf bytes (what Envoy hands a C++ extension) and JSON (what users write in YAML,
//! and what stock Envoy hands a module for a `google.protobuf.Struct`).

use crate::error::ConfigError;
use prost::Message;

/// The generated protobuf types of `x/config.proto`.
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/envoy.extensions.filters.http.dynamic_modules.v3.rs"));
}

pub use proto::DynamicModuleConfig;
pub use proto::dynamic_module_config::Location;

/// The type URL users put in `typed_config."@type"`.
pub const TYPE_URL: &str =
    "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleConfig";

/// The type URL of a per-route configuration (`DynamicModuleConfigPerRoute`, ABI 1.1). Its
/// fields and numbers are DynamicModuleConfig's, so both decode the same way.
pub const PER_ROUTE_TYPE_URL: &str =
    "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleConfigPerRoute";

/// A checked configuration: `file_path` is present and not empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleConfig {
    pub name: String,
    pub file_path: String,
    pub do_not_dlclose: bool,
    pub filter_config: String,
    /// Reload the module when the file at `file_path` is replaced (`reload.rs`).
    pub reload_on_file_change: bool,
}

impl ModuleConfig {
    /// Checks a decoded protobuf message.
    pub fn from_proto(config: DynamicModuleConfig) -> Result<Self, ConfigError> {
        let Some(Location::FilePath(file_path)) = config.location else {
            return Err(ConfigError::MissingFilePath { name: config.name });
        };
        if file_path.is_empty() {
            return Err(ConfigError::MissingFilePath { name: config.name });
        }
        Ok(Self {
            name: config.name,
            file_path,
            do_not_dlclose: config.do_not_dlclose,
            filter_config: config.filter_config,
            reload_on_file_change: config.reload_on_file_change,
        })
    }

    /// Decodes and checks protobuf bytes.
    pub fn from_proto_bytes(bytes: &[u8]) -> Result<Self, ConfigError> {
        let config =
            DynamicModuleConfig::decode(bytes).map_err(|e| ConfigError::MalformedProto(e.to_string()))?;
        Self::from_proto(config)
    }

    /// Parses and checks the JSON form. Field names may be written as in the proto
    /// (`file_path`) or in proto3 JSON's lowerCamelCase (`filePath`); an `@type` key, if present,
    /// must be [`TYPE_URL`]. Unknown fields are errors, as in Envoy.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        Self::from_json_of(text, TYPE_URL)
    }

    /// [`ModuleConfig::from_json`] for a per-route configuration (`@type`, if present, must be
    /// [`PER_ROUTE_TYPE_URL`]). Its protobuf form decodes with [`ModuleConfig::from_proto_bytes`].
    pub fn route_from_json(text: &str) -> Result<Self, ConfigError> {
        let config = Self::from_json_of(text, PER_ROUTE_TYPE_URL)?;
        if config.reload_on_file_change {
            return Err(field_error(
                "reload_on_file_change",
                "not a per-route field: the filter's own configuration reloads its module".to_string(),
            ));
        }
        Ok(config)
    }

    fn from_json_of(text: &str, type_url: &str) -> Result<Self, ConfigError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ConfigError::MalformedJson(e.to_string()))?;
        let serde_json::Value::Object(fields) = value else {
            return Err(ConfigError::MalformedJson(format!("expected an object, got {}", json_kind(&value))));
        };
        let mut config = DynamicModuleConfig::default();
        for (key, value) in &fields {
            match key.as_str() {
                "@type" => {
                    let url = expect_string(key, value)?;
                    if url != type_url {
                        return Err(field_error(key, format!("expected `{type_url}`, got `{url}`")));
                    }
                }
                "name" => config.name = expect_string(key, value)?,
                "file_path" | "filePath" => {
                    config.location = Some(Location::FilePath(expect_string(key, value)?))
                }
                "do_not_dlclose" | "doNotDlclose" => config.do_not_dlclose = expect_bool(key, value)?,
                "reload_on_file_change" | "reloadOnFileChange" => {
                    config.reload_on_file_change = expect_bool(key, value)?
                }
                "filter_config" | "filterConfig" => config.filter_config = expect_string(key, value)?,
                _ => return Err(field_error(key, "unknown field".to_string())),
            }
        }
        Self::from_proto(config)
    }

    /// The protobuf form of this configuration.
    pub fn to_proto(&self) -> DynamicModuleConfig {
        DynamicModuleConfig {
            name: self.name.clone(),
            location: Some(Location::FilePath(self.file_path.clone())),
            do_not_dlclose: self.do_not_dlclose,
            filter_config: self.filter_config.clone(),
            reload_on_file_change: self.reload_on_file_change,
        }
    }
}

fn field_error(field: &str, reason: String) -> ConfigError {
    ConfigError::Field { field: field.to_string(), reason }
}

fn expect_string(field: &str, value: &serde_json::Value) -> Result<String, ConfigError> {
    match value {
        serde_json::Value::String(s) => Ok(s.clone()),
        other => Err(field_error(field, format!("expected a string, got {}", json_kind(other)))),
    }
}

fn expect_bool(field: &str, value: &serde_json::Value) -> Result<bool, ConfigError> {
    match value {
        serde_json::Value::Bool(b) => Ok(*b),
        other => Err(field_error(field, format!("expected a boolean, got {}", json_kind(other)))),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_with_proto_and_camel_case_names() {
        let a = ModuleConfig::from_json(
            r#"{"@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleConfig",
                "name": "test", "file_path": "/m.so", "filter_config": "helloworld", "do_not_dlclose": true}"#,
        )
        .unwrap();
        assert_eq!(
            a,
            ModuleConfig {
                name: "test".into(),
                file_path: "/m.so".into(),
                do_not_dlclose: true,
                filter_config: "helloworld".into(),
                reload_on_file_change: false,
            }
        );
        let c = ModuleConfig::from_json(r#"{"file_path": "/m.so", "reloadOnFileChange": true}"#).unwrap();
        assert!(c.reload_on_file_change);
        let err =
            ModuleConfig::from_json(r#"{"file_path": "/m.so", "reload_on_file_change": 1}"#).unwrap_err();
        assert!(err.to_string().contains("field `reload_on_file_change`: expected a boolean"), "{err}");
        let err = ModuleConfig::route_from_json(r#"{"file_path": "/m.so", "reload_on_file_change": true}"#)
            .unwrap_err();
        assert!(err.to_string().contains("not a per-route field"), "{err}");
        let b =
            ModuleConfig::from_json(r#"{"filePath": "/m.so", "doNotDlclose": false, "filterConfig": "x"}"#)
                .unwrap();
        assert_eq!((b.file_path.as_str(), b.do_not_dlclose, b.filter_config.as_str()), ("/m.so", false, "x"));
    }

    #[test]
    fn proto_bytes_round_trip() {
        let config = ModuleConfig::from_json(
            r#"{"name": "n", "file_path": "/a.so", "filter_config": "c", "reload_on_file_change": true}"#,
        )
        .unwrap();
        let bytes = config.to_proto().encode_to_vec();
        assert_eq!(ModuleConfig::from_proto_bytes(&bytes).unwrap(), config);
    }

    #[test]
    fn missing_or_empty_file_path_is_an_error() {
        for text in [r#"{"name": "n"}"#, r#"{"name": "n", "file_path": ""}"#] {
            let err = ModuleConfig::from_json(text).unwrap_err();
            assert_eq!(err, ConfigError::MissingFilePath { name: "n".into() });
            assert!(err.to_string().contains("`file_path` is required"), "{err}");
        }
        let empty = DynamicModuleConfig::default().encode_to_vec();
        assert!(matches!(ModuleConfig::from_proto_bytes(&empty), Err(ConfigError::MissingFilePath { .. })));
    }

    #[test]
    fn malformed_json_names_the_problem() {
        let err = ModuleConfig::from_json(r#"{"file_path": "/a.so""#).unwrap_err();
        assert!(matches!(err, ConfigError::MalformedJson(_)), "{err}");
        let err = ModuleConfig::from_json("[1]").unwrap_err();
        assert!(err.to_string().contains("expected an object, got an array"), "{err}");
        let err = ModuleConfig::from_json(r#"{"file_path": 3}"#).unwrap_err();
        assert_eq!(err.to_string(), "EnvoyX config: field `file_path`: expected a string, got a number");
        let err = ModuleConfig::from_json(r#"{"file_path": "/a.so", "do_not_dlclose": "yes"}"#).unwrap_err();
        assert!(err.to_string().contains("field `do_not_dlclose`: expected a boolean"), "{err}");
        let err = ModuleConfig::from_json(r#"{"file_path": "/a.so", "filter_cfg": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("field `filter_cfg`: unknown field"), "{err}");
        let err = ModuleConfig::from_json(r#"{"@type": "type.googleapis.com/other", "file_path": "/a.so"}"#)
            .unwrap_err();
        assert!(err.to_string().contains("field `@type`"), "{err}");
    }

    #[test]
    fn malformed_proto_is_an_error() {
        let err = ModuleConfig::from_proto_bytes(&[0x12, 0x05, b'a']).unwrap_err();
        assert!(matches!(err, ConfigError::MalformedProto(_)), "{err}");
    }
}
