//! The EnvoyX filter configuration, `x/config.proto`'s `DynamicModuleConfig`, in its two wire
//! forms: protobuf bytes (what Envoy hands a C++ extension) and JSON (what users write in YAML,
//! and what stock Envoy hands a module for a `google.protobuf.Struct`).

use crate::error::ConfigError;
use crate::load::json_fields::{expect_bool, expect_string, expect_u32, field_error, json_kind};
use crate::stream::metrics::MetricLimits;
use prost::Message;

/// The generated protobuf types of `x/config.proto` (`load/proto.rs`).
pub use crate::load::proto;

pub use proto::DynamicModuleConfig;
pub use proto::dynamic_module_config::Location;

/// The type URL users put in `typed_config."@type"`.
pub const TYPE_URL: &str =
    "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleConfig";

/// The type URL of a per-route configuration (`DynamicModuleConfigPerRoute`, ABI 1.1). Its
/// fields and numbers are DynamicModuleConfig's, so both decode the same way.
pub const PER_ROUTE_TYPE_URL: &str =
    "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleConfigPerRoute";

pub use crate::load::remote::{DEFAULT_FETCH_TIMEOUT_MS, RemoteModule, RemoteSource};

/// A checked configuration: `file_path` is present and not empty, or `remote` names a module by
/// URL, and then `file_path` is where the cache keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleConfig {
    pub name: String,
    pub file_path: String,
    /// The module's URL and hash, for a module fetched into the cache at `file_path`.
    pub remote: Option<RemoteModule>,
    pub do_not_dlclose: bool,
    pub filter_config: String,
    /// Reload the module when the file at `file_path` is replaced (`reload.rs`).
    pub reload_on_file_change: bool,
    /// Bounds on the module's labelled metrics (`metric_limits`).
    pub metric_limits: MetricLimits,
    /// The secrets the module may read (`secrets`, ABI 1.2), checked.
    pub secrets: Vec<SecretRef>,
}

/// A secret the configuration declares (`x/config.proto` `SecretRef`), checked: a name of 1 to
/// [`MAX_SECRET_NAME`] printable ASCII bytes, and `sds_config` empty or a JSON object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretRef {
    pub name: String,
    /// An Envoy `ConfigSource` as JSON text; empty for a static secret.
    pub sds_config: String,
}

/// The longest secret name.
pub const MAX_SECRET_NAME: usize = 256;
/// The most secrets one configuration declares.
pub const MAX_SECRETS: usize = 32;

fn checked_secrets(secrets: Vec<proto::SecretRef>) -> Result<Vec<SecretRef>, ConfigError> {
    if secrets.len() > MAX_SECRETS {
        return Err(field_error("secrets", format!("at most {MAX_SECRETS} secrets, got {}", secrets.len())));
    }
    let mut checked: Vec<SecretRef> = Vec::with_capacity(secrets.len());
    for (at, secret) in secrets.into_iter().enumerate() {
        let field = format!("secrets[{at}]");
        let name = secret.name;
        if name.is_empty() || name.len() > MAX_SECRET_NAME || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(field_error(
                &format!("{field}.name"),
                format!(
                    "a name is 1 to {MAX_SECRET_NAME} bytes of printable ASCII without spaces, got {name:?}"
                ),
            ));
        }
        if checked.iter().any(|s| s.name == name) {
            return Err(field_error(&format!("{field}.name"), format!("`{name}` is declared twice")));
        }
        let sds_config = secret.sds_config.trim().to_string();
        if !sds_config.is_empty()
            && !matches!(serde_json::from_str(&sds_config), Ok(serde_json::Value::Object(_)))
        {
            return Err(field_error(
                &format!("{field}.sds_config"),
                "expected an Envoy ConfigSource as a JSON object".to_string(),
            ));
        }
        checked.push(SecretRef { name, sds_config });
    }
    Ok(checked)
}

impl ModuleConfig {
    /// Checks a decoded protobuf message.
    pub fn from_proto(config: DynamicModuleConfig) -> Result<Self, ConfigError> {
        let (file_path, remote) = match config.location {
            Some(Location::FilePath(file_path)) if !file_path.is_empty() => (file_path, None),
            Some(Location::Remote(remote)) => {
                let remote = RemoteModule::from_proto(remote)?;
                if config.reload_on_file_change {
                    return Err(field_error(
                        "reload_on_file_change",
                        "watches a local file_path; a remote module changes by a new sha256 or digest in the configuration"
                            .to_string(),
                    ));
                }
                // An OCI tag this process has not resolved has no cache path yet: loading finds it.
                let path = remote.cached_path().map(|p| p.display().to_string()).unwrap_or_default();
                (path, Some(remote))
            }
            _ => return Err(ConfigError::MissingFilePath { name: config.name }),
        };
        let metric_limits = match config.metric_limits {
            Some(limits) => MetricLimits::new(limits.label_combinations, &limits.overflow_label)
                .map_err(|(field, reason)| field_error(field, reason))?,
            None => MetricLimits::default(),
        };
        Ok(Self {
            name: config.name,
            file_path,
            remote,
            do_not_dlclose: config.do_not_dlclose,
            filter_config: config.filter_config,
            reload_on_file_change: config.reload_on_file_change,
            metric_limits,
            secrets: checked_secrets(config.secrets)?,
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
        if config.metric_limits != MetricLimits::default() {
            return Err(field_error(
                "metric_limits",
                "not a per-route field: the module's metrics belong to the filter's own configuration"
                    .to_string(),
            ));
        }
        if !config.secrets.is_empty() {
            return Err(field_error(
                "secrets",
                "not a per-route field: the filter's own configuration declares the secrets its module reads"
                    .to_string(),
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
                    set_location(&mut config, key, Location::FilePath(expect_string(key, value)?))?
                }
                "remote" => set_location(
                    &mut config,
                    key,
                    Location::Remote(crate::load::remote_config::remote_from_json(value)?),
                )?,
                "do_not_dlclose" | "doNotDlclose" => config.do_not_dlclose = expect_bool(key, value)?,
                "reload_on_file_change" | "reloadOnFileChange" => {
                    config.reload_on_file_change = expect_bool(key, value)?
                }
                "filter_config" | "filterConfig" => config.filter_config = expect_string(key, value)?,
                "metric_limits" | "metricLimits" => {
                    config.metric_limits = Some(metric_limits_from_json(value)?)
                }
                "secrets" => config.secrets = secrets_from_json(value)?,
                _ => return Err(field_error(key, "unknown field".to_string())),
            }
        }
        Self::from_proto(config)
    }

    /// The protobuf form of this configuration.
    pub fn to_proto(&self) -> DynamicModuleConfig {
        let location = match &self.remote {
            Some(remote) => Location::Remote(remote.to_proto()),
            None => Location::FilePath(self.file_path.clone()),
        };
        DynamicModuleConfig {
            name: self.name.clone(),
            location: Some(location),
            do_not_dlclose: self.do_not_dlclose,
            filter_config: self.filter_config.clone(),
            reload_on_file_change: self.reload_on_file_change,
            metric_limits: (self.metric_limits != MetricLimits::default()).then(|| proto::MetricLimits {
                label_combinations: self.metric_limits.label_combinations,
                overflow_label: self.metric_limits.overflow_label.clone().unwrap_or_default(),
            }),
            secrets: (self.secrets.iter())
                .map(|s| proto::SecretRef { name: s.name.clone(), sds_config: s.sds_config.clone() })
                .collect(),
        }
    }

    /// A configuration named `name` with every other field at its default and no module
    /// location (`file_path` empty): for hosts that create a configuration on a module they
    /// already hold (`FilterConfig::with_module_config`), filling in what they set.
    pub fn in_process(name: &str) -> Self {
        ModuleConfig {
            name: name.to_string(),
            file_path: String::new(),
            remote: None,
            do_not_dlclose: false,
            filter_config: String::new(),
            reload_on_file_change: false,
            metric_limits: MetricLimits::default(),
            secrets: Vec::new(),
        }
    }

    /// The module's location, for log lines: the file, or the URL and where the cache keeps it.
    pub fn module_source(&self) -> String {
        match &self.remote {
            Some(remote) => match &remote.source {
                RemoteSource::Url { url, sha256 } => {
                    format!("{url} (sha256 {sha256}, cached as {})", self.file_path)
                }
                RemoteSource::Oci { .. } if self.file_path.is_empty() => remote.describe(),
                RemoteSource::Oci { .. } => format!("{} (cached as {})", remote.describe(), self.file_path),
            },
            None => self.file_path.clone(),
        }
    }
}

/// `file_path` and `remote` are the two members of one `oneof`: naming both is an error, as in
/// Envoy's own JSON parsing.
fn set_location(config: &mut DynamicModuleConfig, key: &str, location: Location) -> Result<(), ConfigError> {
    if config.location.is_some() {
        return Err(field_error(key, "give either `file_path` or `remote`, not both".to_string()));
    }
    config.location = Some(location);
    Ok(())
}

fn metric_limits_from_json(value: &serde_json::Value) -> Result<proto::MetricLimits, ConfigError> {
    let serde_json::Value::Object(fields) = value else {
        return Err(field_error("metric_limits", format!("expected an object, got {}", json_kind(value))));
    };
    let mut limits = proto::MetricLimits::default();
    for (key, value) in fields {
        let field = format!("metric_limits.{key}");
        match key.as_str() {
            "label_combinations" | "labelCombinations" => {
                limits.label_combinations = expect_u32(&field, "a number of combinations", value)?
            }
            "overflow_label" | "overflowLabel" => limits.overflow_label = expect_string(&field, value)?,
            _ => return Err(field_error(&field, "unknown field".to_string())),
        }
    }
    Ok(limits)
}

fn secrets_from_json(value: &serde_json::Value) -> Result<Vec<proto::SecretRef>, ConfigError> {
    let serde_json::Value::Array(items) = value else {
        return Err(field_error("secrets", format!("expected an array, got {}", json_kind(value))));
    };
    let mut secrets = Vec::with_capacity(items.len());
    for (at, item) in items.iter().enumerate() {
        let serde_json::Value::Object(fields) = item else {
            return Err(field_error(
                &format!("secrets[{at}]"),
                format!("expected an object, got {}", json_kind(item)),
            ));
        };
        let mut secret = proto::SecretRef::default();
        for (key, value) in fields {
            let field = format!("secrets[{at}].{key}");
            match key.as_str() {
                "name" => secret.name = expect_string(&field, value)?,
                // A ConfigSource as an object (YAML), or as its JSON text.
                "sds_config" | "sdsConfig" => {
                    secret.sds_config = match value {
                        serde_json::Value::Object(_) => value.to_string(),
                        _ => expect_string(&field, value)?,
                    }
                }
                _ => return Err(field_error(&field, "unknown field".to_string())),
            }
        }
        secrets.push(secret);
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_limits_in_json_and_protobuf_checked_naming_the_field() {
        let json =
            r#"{"file_path": "/m.so", "metricLimits": {"labelCombinations": 50, "overflow_label": "other"}}"#;
        let config = ModuleConfig::from_json(json).unwrap();
        let limits = MetricLimits { label_combinations: 50, overflow_label: Some("other".into()) };
        assert_eq!(config.metric_limits, limits);
        // A google.protobuf.Struct carries numbers as floats; the protobuf form round-trips.
        let from_struct =
            ModuleConfig::from_json(r#"{"file_path": "/m.so", "metric_limits": {"label_combinations": 50.0, "overflowLabel": "other"}}"#)
                .unwrap();
        assert_eq!(from_struct.metric_limits, limits);
        let bytes = config.to_proto().encode_to_vec();
        assert_eq!(ModuleConfig::from_proto_bytes(&bytes).unwrap().metric_limits, limits);
        assert_eq!(
            ModuleConfig::from_json(r#"{"file_path": "/m.so"}"#).unwrap().to_proto().metric_limits,
            None
        );

        for (json, expected) in [
            (
                r#"{"file_path": "/m.so", "metric_limits": {"label_combinations": 2000000}}"#,
                "field `metric_limits.label_combinations`: 2000000 is over the most a metric may take, 1000000",
            ),
            (
                r#"{"file_path": "/m.so", "metric_limits": {"label_combinations": -1}}"#,
                "field `metric_limits.label_combinations`: expected a number of combinations (0 to 4294967295), got -1",
            ),
            (
                r#"{"file_path": "/m.so", "metric_limits": {"overflow_label": "a\u0007b"}}"#,
                "field `metric_limits.overflow_label`: the label value holds the control character \\x07 at offset 1",
            ),
            (
                r#"{"file_path": "/m.so", "metric_limits": {"bound": 3}}"#,
                "field `metric_limits.bound`: unknown field",
            ),
            (
                r#"{"file_path": "/m.so", "metric_limits": 3}"#,
                "field `metric_limits`: expected an object, got a number",
            ),
        ] {
            let err = ModuleConfig::from_json(json).unwrap_err().to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
        let err = ModuleConfig::route_from_json(
            r#"{"file_path": "/m.so", "metric_limits": {"label_combinations": 5}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("field `metric_limits`: not a per-route field"), "{err}");
    }

    #[test]
    fn secrets_in_json_and_protobuf_checked_naming_the_field() {
        let config = ModuleConfig::from_json(
            r#"{"file_path": "/m.so", "secrets": [{"name": "api-key"},
                {"name": "hmac", "sds_config": {"path_config_source": {"path": "/etc/sds.yaml"}}}]}"#,
        )
        .unwrap();
        let expected = vec![
            SecretRef { name: "api-key".into(), sds_config: String::new() },
            SecretRef {
                name: "hmac".into(),
                sds_config: r#"{"path_config_source":{"path":"/etc/sds.yaml"}}"#.into(),
            },
        ];
        assert_eq!(config.secrets, expected);
        let bytes = config.to_proto().encode_to_vec();
        assert_eq!(ModuleConfig::from_proto_bytes(&bytes).unwrap().secrets, expected);
        for (json, error) in [
            (r#"[{"name": ""}]"#, "field `secrets[0].name`: a name is 1 to 256 bytes"),
            (r#"[{"name": "a b"}]"#, "field `secrets[0].name`: a name is 1 to 256 bytes"),
            (r#"[{"name": "k"}, {"name": "k"}]"#, "field `secrets[1].name`: `k` is declared twice"),
            (
                r#"[{"name": "k", "sds_config": "nope"}]"#,
                "field `secrets[0].sds_config`: expected an Envoy ConfigSource",
            ),
            (r#"[{"name": "k", "value": "x"}]"#, "field `secrets[0].value`: unknown field"),
            (r#"{"name": "k"}"#, "field `secrets`: expected an array"),
        ] {
            let err = ModuleConfig::from_json(&format!(r#"{{"file_path": "/m.so", "secrets": {json}}}"#))
                .unwrap_err()
                .to_string();
            assert!(err.contains(error), "{json}: {err}");
        }
        let many: Vec<String> = (0..=MAX_SECRETS).map(|i| format!(r#"{{"name": "s{i}"}}"#)).collect();
        let err =
            ModuleConfig::from_json(&format!(r#"{{"file_path": "/m.so", "secrets": [{}]}}"#, many.join(",")))
                .unwrap_err()
                .to_string();
        assert!(err.contains("field `secrets`: at most 32 secrets, got 33"), "{err}");
        let err = ModuleConfig::route_from_json(r#"{"file_path": "/m.so", "secrets": [{"name": "k"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("field `secrets`: not a per-route field"), "{err}");
    }

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
                remote: None,
                do_not_dlclose: true,
                filter_config: "helloworld".into(),
                reload_on_file_change: false,
                metric_limits: Default::default(),
                secrets: Vec::new(),
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
