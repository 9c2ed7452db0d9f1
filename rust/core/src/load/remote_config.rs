//! Checking `DynamicModuleConfig.remote` (`x/config.proto` `RemoteModule`, `OciModule`): from its
//! protobuf and JSON forms into [`RemoteModule`], each error naming the field and the reason.

use crate::error::ConfigError;
use crate::load::json_fields::{expect_bool, expect_string, expect_u32, field_error, json_kind};
use crate::load::oci::Reference;
use crate::load::proto;
use crate::load::remote::{DEFAULT_CACHE_DIR, DEFAULT_FETCH_TIMEOUT_MS, RemoteModule, RemoteSource};
use std::path::PathBuf;

impl RemoteModule {
    pub(crate) fn from_proto(remote: proto::RemoteModule) -> Result<Self, ConfigError> {
        let source = match remote.oci {
            Some(oci) => {
                if !remote.url.trim().is_empty() || !remote.sha256.trim().is_empty() {
                    return Err(field_error(
                        "remote.oci",
                        "give either `url` and `sha256` or `oci`, not both".to_string(),
                    ));
                }
                let reference = Reference::parse(&oci.reference)
                    .map_err(|why| field_error("remote.oci.reference", why))?;
                if oci.insecure && !reference.is_loopback() {
                    return Err(field_error(
                        "remote.oci.insecure",
                        format!(
                            "plain HTTP is for a registry on this machine only; {} is not (use HTTPS, with remote.ca_file for a private CA)",
                            reference.registry
                        ),
                    ));
                }
                let credentials =
                    (!oci.credentials.trim().is_empty()).then(|| PathBuf::from(oci.credentials.trim()));
                RemoteSource::Oci { reference, credentials, insecure: oci.insecure }
            }
            None => {
                let url = remote.url.trim().to_string();
                if !(url.starts_with("http://") || url.starts_with("https://"))
                    || url.len() <= "https://".len()
                {
                    return Err(field_error(
                        "remote.url",
                        format!("expected an http:// or https:// URL (or remote.oci), got `{url}`"),
                    ));
                }
                let sha256 = remote.sha256.trim().to_ascii_lowercase();
                if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(field_error(
                        "remote.sha256",
                        format!("expected the module's SHA-256 as 64 hex digits, got `{}`", remote.sha256),
                    ));
                }
                RemoteSource::Url { url, sha256 }
            }
        };
        let cache_dir = if !remote.cache_dir.is_empty() {
            remote.cache_dir.into()
        } else {
            std::env::var_os("ENVOYX_MODULE_CACHE")
                .filter(|dir| !dir.is_empty())
                .map(Into::into)
                .unwrap_or_else(|| DEFAULT_CACHE_DIR.into())
        };
        let timeout_ms = match remote.timeout_ms {
            0 => DEFAULT_FETCH_TIMEOUT_MS,
            ms => u64::from(ms),
        };
        let ca_file = (!remote.ca_file.trim().is_empty()).then(|| PathBuf::from(remote.ca_file.trim()));
        Ok(Self { source, timeout_ms, cache_dir, ca_file, block_on_cache_miss: remote.block_on_cache_miss })
    }

    pub(crate) fn to_proto(&self) -> proto::RemoteModule {
        let (url, sha256, oci) = match &self.source {
            RemoteSource::Url { url, sha256 } => (url.clone(), sha256.clone(), None),
            RemoteSource::Oci { reference, credentials, insecure } => (
                String::new(),
                String::new(),
                Some(proto::OciModule {
                    reference: reference.to_string(),
                    credentials: credentials.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
                    insecure: *insecure,
                }),
            ),
        };
        proto::RemoteModule {
            url,
            sha256,
            timeout_ms: u32::try_from(self.timeout_ms).unwrap_or(u32::MAX),
            cache_dir: self.cache_dir.display().to_string(),
            oci,
            ca_file: self.ca_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            block_on_cache_miss: self.block_on_cache_miss,
        }
    }
}

pub(crate) fn remote_from_json(value: &serde_json::Value) -> Result<proto::RemoteModule, ConfigError> {
    let serde_json::Value::Object(fields) = value else {
        return Err(field_error("remote", format!("expected an object, got {}", json_kind(value))));
    };
    let mut remote = proto::RemoteModule::default();
    for (key, value) in fields {
        let field = format!("remote.{key}");
        match key.as_str() {
            "url" => remote.url = expect_string(&field, value)?,
            "sha256" => remote.sha256 = expect_string(&field, value)?,
            "cache_dir" | "cacheDir" => remote.cache_dir = expect_string(&field, value)?,
            "timeout_ms" | "timeoutMs" => remote.timeout_ms = expect_u32(&field, "milliseconds", value)?,
            "ca_file" | "caFile" => remote.ca_file = expect_string(&field, value)?,
            "block_on_cache_miss" | "blockOnCacheMiss" => {
                remote.block_on_cache_miss = expect_bool(&field, value)?
            }
            "oci" => remote.oci = Some(oci_from_json(value)?),
            _ => return Err(field_error(&field, "unknown field".to_string())),
        }
    }
    Ok(remote)
}

fn oci_from_json(value: &serde_json::Value) -> Result<proto::OciModule, ConfigError> {
    let serde_json::Value::Object(fields) = value else {
        return Err(field_error("remote.oci", format!("expected an object, got {}", json_kind(value))));
    };
    let mut oci = proto::OciModule::default();
    for (key, value) in fields {
        let field = format!("remote.oci.{key}");
        match key.as_str() {
            "reference" => oci.reference = expect_string(&field, value)?,
            "credentials" => oci.credentials = expect_string(&field, value)?,
            "insecure" => oci.insecure = expect_bool(&field, value)?,
            _ => return Err(field_error(&field, "unknown field".to_string())),
        }
    }
    Ok(oci)
}

#[cfg(test)]
mod tests {
    use crate::ModuleConfig;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn an_oci_module_by_digest_is_cached_under_its_digest_and_round_trips() {
        let json = format!(
            r#"{{"remote": {{"oci": {{"reference": "127.0.0.1:5000/team/auth@{D}", "insecure": true, "credentials": "/etc/pull"}},
                "cache_dir": "/c", "caFile": "/ca.pem"}}}}"#
        );
        let config = ModuleConfig::from_json(&json).unwrap();
        assert_eq!(config.file_path, format!("/c/oci/{}/auth.so", &D[7..]));
        assert!(config.module_source().starts_with(&format!("oci://127.0.0.1:5000/team/auth@{D}")));
        let again = ModuleConfig::from_proto(config.to_proto()).unwrap();
        assert_eq!(again, config);
        // A tag has no cache path until it is resolved.
        let tagged =
            ModuleConfig::from_json(r#"{"remote": {"oci": {"reference": "r.example.com/m:v1"}}}"#).unwrap();
        assert_eq!(tagged.file_path, "");
    }

    #[test]
    fn oci_mistakes_are_refused_naming_the_field() {
        let cases = [
            (r#"{"oci": {"reference": "m:v1"}}"#, "remote.oci.reference", "names no registry"),
            (
                r#"{"oci": {"reference": "r.example.com/m:v1", "insecure": true}}"#,
                "remote.oci.insecure",
                "this machine only",
            ),
            (
                r#"{"oci": {"reference": "r.example.com/m:v1"}, "url": "https://x/m.so"}"#,
                "remote.oci",
                "not both",
            ),
            (
                r#"{"oci": {"reference": "r.example.com/m:v1", "tag": "x"}}"#,
                "remote.oci.tag",
                "unknown field",
            ),
            (r#"{"url": "ftp://x"}"#, "remote.url", "or remote.oci"),
        ];
        for (remote, field, why) in cases {
            let e = ModuleConfig::from_json(&format!(r#"{{"remote": {remote}}}"#)).unwrap_err().to_string();
            assert!(e.contains(field) && e.contains(why), "{remote}: {e}");
        }
    }
}
