//! The module artifact: an OCI image, so that one push serves both a Kubernetes image volume
//! (which mounts an image's root) and `remote.oci` (which extracts the module from it). The
//! layout is the module images' (`ci/oci-images.sh`, `docker/Dockerfile.module`):
//!
//! - manifest: `application/vnd.oci.image.manifest.v1+json`, annotations `io.envoyx.*` (below)
//!   and `org.opencontainers.image.*`;
//! - config: `application/vnd.oci.image.config.v1+json` (os linux, the module's architecture,
//!   the layer's diff id; labels as the annotations);
//! - one layer, `application/vnd.oci.image.layer.v1.tar` (or `+gzip`, as a registry copy may
//!   recompress it): `lib<name>.so` and `<name>.json` (`{"name", "file", "sha256", "abi"}`) at
//!   the root.
//!
//! Reading accepts what other tools make of the same image: Docker's v2 manifest and layer media
//! types, gzip layers, several layers (the last one holding a `.so` at the root wins, as an
//! overlay would show it), `./`-prefixed tar paths, PAX and GNU long names.

use crate::load::remote::hex;
use sha2::{Digest, Sha256};

pub const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_LIST_TYPE: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
pub const LAYER_GZIP_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_LAYER_GZIP_TYPE: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// Every manifest media type a pull asks for.
pub const ACCEPTED_MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json";

/// Annotation keys `envoyx push` writes (and `envoyx list` shows).
pub mod annotation {
    pub const MODULE: &str = "io.envoyx.module";
    pub const FILE: &str = "io.envoyx.file";
    pub const SHA256: &str = "io.envoyx.sha256";
    pub const ABI: &str = "io.envoyx.abi";
    pub const SDK: &str = "io.envoyx.sdk";
    pub const TARGET: &str = "io.envoyx.target";
    pub const BUILD_ID: &str = "io.envoyx.build-id";
    pub const FILTERS: &str = "io.envoyx.filters";
    pub const DESCRIPTION: &str = "org.opencontainers.image.description";
    pub const TITLE: &str = "org.opencontainers.image.title";
}

/// `sha256:<hex>` of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// The sha256 of `bytes` as lowercase hex (a module file's, as `remote.sha256` writes it).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// One blob a manifest names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

/// What a pull needs from a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub layers: Vec<Descriptor>,
    pub annotations: std::collections::BTreeMap<String, String>,
}

/// This machine's architecture as OCI names it (`amd64`, `arm64`, …).
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// For an image index (a multi-platform module), the digest of the manifest for linux on this
/// machine's architecture, or why there is none; `None` when `body` is no index.
pub fn platform_manifest(media_type: &str, body: &[u8]) -> Option<Result<String, String>> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let media_type = json.get("mediaType").and_then(|m| m.as_str()).unwrap_or(media_type);
    if !(media_type == INDEX_TYPE || media_type == DOCKER_LIST_TYPE || json.get("manifests").is_some()) {
        return None;
    }
    let entries = json["manifests"].as_array().cloned().unwrap_or_default();
    let architecture = host_architecture();
    let chosen = entries.iter().find(|m| {
        m["platform"]["os"].as_str() == Some("linux")
            && m["platform"]["architecture"].as_str() == Some(architecture)
    });
    Some(match chosen.and_then(|m| m["digest"].as_str()) {
        Some(digest) => super::reference::check_digest(digest).map(|()| digest.to_string()),
        None => Err(format!(
            "it is an image index without a linux/{architecture} manifest (it has: {})",
            entries
                .iter()
                .map(|m| format!(
                    "{}/{}",
                    m["platform"]["os"].as_str().unwrap_or("?"),
                    m["platform"]["architecture"].as_str().unwrap_or("?")
                ))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    })
}

/// Reads a manifest's JSON: an image manifest, or the reason it is none (an index names the
/// platform manifests to choose from).
pub fn parse_manifest(media_type: &str, body: &[u8]) -> Result<Manifest, String> {
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the manifest is not JSON: {e}"))?;
    let media_type = json.get("mediaType").and_then(|m| m.as_str()).unwrap_or(media_type);
    if media_type == INDEX_TYPE || media_type == DOCKER_LIST_TYPE || json.get("manifests").is_some() {
        let platforms: Vec<String> = json["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                let p = &m["platform"];
                format!(
                    "{}/{} {}",
                    p["os"].as_str().unwrap_or("?"),
                    p["architecture"].as_str().unwrap_or("?"),
                    m["digest"].as_str().unwrap_or("?")
                )
            })
            .collect();
        return Err(format!(
            "it is an image index, not one module; name the platform's manifest by digest ({})",
            platforms.join(", ")
        ));
    }
    let config_type = json["config"]["mediaType"].as_str().unwrap_or("");
    if !(media_type == MANIFEST_TYPE || media_type == DOCKER_MANIFEST_TYPE || media_type.is_empty()) {
        return Err(format!("its media type is {media_type}, not an image manifest"));
    }
    if config_type.is_empty() {
        return Err("it has no config: not an image manifest".to_string());
    }
    let layers = json["layers"]
        .as_array()
        .ok_or("it has no layers")?
        .iter()
        .map(|layer| {
            Ok(Descriptor {
                media_type: layer["mediaType"].as_str().unwrap_or("").to_string(),
                digest: layer["digest"].as_str().ok_or("a layer without a digest")?.to_string(),
                size: layer["size"].as_u64().ok_or("a layer without a size")?,
            })
        })
        .collect::<Result<Vec<_>, &str>>()?;
    if layers.is_empty() {
        return Err("it has no layers: not a module".to_string());
    }
    for layer in &layers {
        super::reference::check_digest(&layer.digest)?;
        if ![LAYER_TYPE, LAYER_GZIP_TYPE, DOCKER_LAYER_GZIP_TYPE].contains(&layer.media_type.as_str()) {
            return Err(format!(
                "its layer {} is a {}, not a tar layer (an EnvoyX module is an image whose layer holds lib<name>.so)",
                layer.digest, layer.media_type
            ));
        }
    }
    let annotations = json["annotations"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect();
    Ok(Manifest { layers, annotations })
}

/// A module found in a layer: the `.so`'s file name and bytes, and its sidecar's sha256, if
/// the layer had one.
#[derive(Debug)]
pub struct LayerModule {
    pub file: String,
    pub bytes: Vec<u8>,
    pub declared_sha256: Option<String>,
}

/// The module in a layer's bytes (`gzip` by its media type): the one `.so` at the layer's root,
/// checked against its `<name>.json` when there is one. `Ok(None)`: no `.so` at the root.
pub fn module_in_layer(media_type: &str, blob: &[u8], max_bytes: u64) -> Result<Option<LayerModule>, String> {
    let tar = if media_type.ends_with("gzip") { gunzip(blob, max_bytes)? } else { blob.to_vec() };
    let entries = tar_entries(&tar)?;
    let modules: Vec<&(String, &[u8])> =
        entries.iter().filter(|(name, _)| !name.contains('/') && name.ends_with(".so")).collect();
    let (file, bytes) = match modules.as_slice() {
        [] => return Ok(None),
        [one] => (one.0.clone(), one.1),
        many => {
            let names: Vec<&str> = many.iter().map(|(n, _)| n.as_str()).collect();
            return Err(format!(
                "a layer holds several modules ({}); an artifact carries one",
                names.join(", ")
            ));
        }
    };
    let actual = hex(&Sha256::digest(bytes));
    let mut declared_sha256 = None;
    let stem = file.strip_prefix("lib").unwrap_or(&file).trim_end_matches(".so");
    if let Some((sidecar, json)) = entries.iter().find(|(n, _)| *n == format!("{stem}.json")) {
        let json: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| format!("{sidecar} is not JSON: {e}"))?;
        if let Some(declared) = json["sha256"].as_str() {
            if declared != actual {
                return Err(format!("{file} has sha256 {actual}, but {sidecar} says {declared}"));
            }
            declared_sha256 = Some(declared.to_string());
        }
    }
    Ok(Some(LayerModule { file, bytes: bytes.to_vec(), declared_sha256 }))
}

fn gunzip(blob: &[u8], max_bytes: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(blob)
        .take(max_bytes + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("the gzip layer does not decompress: {e}"))?;
    if out.len() as u64 > max_bytes {
        return Err(format!("the layer decompresses to more than {max_bytes} bytes"));
    }
    Ok(out)
}

/// The regular files of a tar archive, by path (leading `./` and `/` dropped), in order.
pub fn tar_entries(tar: &[u8]) -> Result<Vec<(String, &[u8])>, String> {
    let mut entries = Vec::new();
    let mut at = 0usize;
    let mut long_name: Option<String> = None;
    while at + 512 <= tar.len() {
        let header = &tar[at..at + 512];
        if header.iter().all(|&b| b == 0) {
            break; // the end-of-archive blocks
        }
        let size = octal(&header[124..136])
            .ok_or_else(|| format!("tar entry at byte {at}: a size that is no number"))?;
        let data_start = at + 512;
        let data_end =
            data_start.checked_add(size as usize).filter(|&e| e <= tar.len()).ok_or_else(|| {
                format!(
                    "tar entry at byte {at}: its {size} bytes run past the archive's end (a truncated layer)"
                )
            })?;
        let data = &tar[data_start..data_end];
        let kind = header[156];
        let mut name = long_name.take().unwrap_or_else(|| {
            let name = field(&header[0..100]);
            let prefix = field(&header[345..500]);
            if &header[257..262] == b"ustar" && !prefix.is_empty() {
                format!("{prefix}/{name}")
            } else {
                name
            }
        });
        match kind {
            b'L' => long_name = Some(field(data)),
            b'x' => long_name = pax_path(data),
            b'0' | 0 => {
                name = name.trim_start_matches("./").trim_start_matches('/').to_string();
                entries.push((name, data));
            }
            _ => {} // folders, links, global PAX headers: nothing a module needs
        }
        at = data_start + (size as usize).div_ceil(512) * 512;
    }
    Ok(entries)
}

fn field(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn octal(bytes: &[u8]) -> Option<u64> {
    let text = field(bytes);
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// The `path` record of a PAX extended header, if it has one.
fn pax_path(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    text.lines().find_map(|record| {
        let (_, kv) = record.split_once(' ')?;
        kv.strip_prefix("path=").map(str::to_string)
    })
}

/// A tar archive of regular files (mode 0644, owner root, time 0), as a layer holds them.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        let mut header = [0u8; 512];
        header[..name.len().min(100)].copy_from_slice(&name.as_bytes()[..name.len().min(100)]);
        header[100..108].copy_from_slice(b"0000644\0");
        header[108..116].copy_from_slice(b"0000000\0");
        header[116..124].copy_from_slice(b"0000000\0");
        header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        header[136..148].copy_from_slice(b"00000000000\0");
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].copy_from_slice(b"        ");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_written_here_reads_back_with_its_sidecar_checked() {
        let so = b"\x7fELF pretend module".to_vec();
        let sha = hex(&Sha256::digest(&so));
        let json = format!(r#"{{"name": "auth", "file": "libauth.so", "sha256": "{sha}", "abi": "1.2"}}"#);
        let tar = tar_of(&[("libauth.so", &so), ("auth.json", json.as_bytes())]);
        assert_eq!(tar.len() % 512, 0);
        let found = module_in_layer(LAYER_TYPE, &tar, 1 << 20).unwrap().unwrap();
        assert_eq!((found.file.as_str(), found.bytes.as_slice()), ("libauth.so", so.as_slice()));
        assert_eq!(found.declared_sha256.as_deref(), Some(sha.as_str()));

        let lying = tar_of(&[("libauth.so", &so), ("auth.json", br#"{"sha256": "00"}"#)]);
        let e = module_in_layer(LAYER_TYPE, &lying, 1 << 20).unwrap_err();
        assert!(e.contains("libauth.so has sha256") && e.contains("auth.json says 00"), "{e}");

        let none = tar_of(&[("etc/passwd", b"root")]);
        assert!(module_in_layer(LAYER_TYPE, &none, 1 << 20).unwrap().is_none());
        let two = tar_of(&[("liba.so", b"a"), ("libb.so", b"b")]);
        assert!(module_in_layer(LAYER_TYPE, &two, 1 << 20).unwrap_err().contains("several modules"));
    }

    #[test]
    fn reads_gzip_layers_and_dot_slash_paths_and_refuses_a_truncated_one() {
        use std::io::Write;
        let tar = tar_of(&[("./libm.so", b"module bytes")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let gz = gz.finish().unwrap();
        let found = module_in_layer(LAYER_GZIP_TYPE, &gz, 1 << 20).unwrap().unwrap();
        assert_eq!(found.file, "libm.so");
        assert!(module_in_layer(LAYER_GZIP_TYPE, &gz, 100).unwrap_err().contains("more than 100 bytes"));
        let e = tar_entries(&tar[..520]).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn reads_an_image_manifest_and_explains_what_is_not_one() {
        let d = format!("sha256:{}", "a".repeat(64));
        let manifest = format!(
            r#"{{"schemaVersion": 2, "mediaType": "{MANIFEST_TYPE}",
               "config": {{"mediaType": "{CONFIG_TYPE}", "digest": "{d}", "size": 2}},
               "layers": [{{"mediaType": "{LAYER_TYPE}", "digest": "{d}", "size": 3072}}],
               "annotations": {{"io.envoyx.abi": "1.2"}}}}"#
        );
        let m = parse_manifest(MANIFEST_TYPE, manifest.as_bytes()).unwrap();
        assert_eq!(
            m.layers,
            vec![Descriptor { media_type: LAYER_TYPE.into(), digest: d.clone(), size: 3072 }]
        );
        assert_eq!(m.annotations["io.envoyx.abi"], "1.2");

        let index = format!(
            r#"{{"mediaType": "{INDEX_TYPE}", "manifests": [{{"digest": "{d}", "platform": {{"os": "linux", "architecture": "arm64"}}}}]}}"#
        );
        let e = parse_manifest(INDEX_TYPE, index.as_bytes()).unwrap_err();
        assert!(e.contains("image index") && e.contains("linux/arm64"), "{e}");
        let other = if host_architecture() == "amd64" { "arm64" } else { "amd64" };
        let multi = format!(
            r#"{{"mediaType": "{INDEX_TYPE}", "manifests": [
                {{"digest": "sha256:{}", "platform": {{"os": "linux", "architecture": "{other}"}}}},
                {{"digest": "{d}", "platform": {{"os": "linux", "architecture": "{}"}}}}]}}"#,
            "b".repeat(64),
            host_architecture()
        );
        assert_eq!(platform_manifest(INDEX_TYPE, multi.as_bytes()), Some(Ok(d.clone())));
        let e = platform_manifest(INDEX_TYPE, index.as_bytes()).unwrap();
        assert!(
            host_architecture() == "arm64"
                || e.unwrap_err().contains("without a linux/amd64 manifest (it has: linux/arm64)")
        );
        assert_eq!(
            platform_manifest(MANIFEST_TYPE, manifest.as_bytes()),
            None,
            "an image manifest is no index"
        );
        let helm = manifest.replace(LAYER_TYPE, "application/vnd.cncf.helm.chart.content.v1.tar+gzip");
        assert!(parse_manifest(MANIFEST_TYPE, helm.as_bytes()).unwrap_err().contains("not a tar layer"));
        assert!(parse_manifest(MANIFEST_TYPE, b"<html>").unwrap_err().contains("not JSON"));
    }
}
