//! Pulling a module artifact out of a registry and pushing one in (`layout.rs` says what it is).
//! A pull checks every hash on the way: the manifest against the reference's digest, each layer
//! against the manifest, the module against its sidecar; the caller writes the bytes only once
//! all of that held.

use super::client::{ClientOptions, Repository};
use super::layout::{self, annotation};
use super::reference::{Reference, Target};
use std::collections::BTreeMap;

/// A pulled module.
#[derive(Debug)]
pub struct Pulled {
    /// The manifest's digest: the reference's own, or what its tag named at the pull.
    pub digest: String,
    /// The module's file name in the artifact (`lib<name>.so`).
    pub file: String,
    pub bytes: Vec<u8>,
    /// The module file's sha256, lowercase hex.
    pub sha256: String,
    pub annotations: BTreeMap<String, String>,
}

/// Pulls the module `reference` names; layers larger than `max_bytes` (compressed or not) are
/// refused. The error names the reference and the reason.
pub fn pull(reference: &Reference, options: &ClientOptions, max_bytes: u64) -> Result<Pulled, String> {
    let failed = |why: String| format!("{reference}: {why}");
    let repository = Repository::open(reference, options, "pull").map_err(failed)?;
    let (digest, manifest) = module_manifest(&repository, reference).map_err(failed)?;
    let mut found = None;
    for layer in &manifest.layers {
        let blob = repository.blob(layer, max_bytes).map_err(failed)?;
        if let Some(module) = layout::module_in_layer(&layer.media_type, &blob, max_bytes)
            .map_err(|why| failed(format!("layer {}: {why}", layer.digest)))?
        {
            found = Some(module); // a later layer's module hides an earlier one's, as in an overlay
        }
    }
    let module = found.ok_or_else(|| {
        failed(format!(
            "the manifest {digest} is no EnvoyX module: no layer holds a lib<name>.so at its root"
        ))
    })?;
    let sha256 = layout::sha256_hex(&module.bytes);
    if let Some(declared) = manifest.annotations.get(annotation::SHA256)
        && *declared != sha256
    {
        return Err(failed(format!(
            "the module {} has sha256 {sha256}, but the manifest's {} says {declared}",
            module.file,
            annotation::SHA256
        )));
    }
    Ok(Pulled { digest, file: module.file, bytes: module.bytes, sha256, annotations: manifest.annotations })
}

/// What `push` uploads: the module file and what the manifest says about it.
pub struct Artifact<'a> {
    /// `lib<name>.so`.
    pub file: &'a str,
    pub bytes: &'a [u8],
    /// `io.envoyx.*` and `org.opencontainers.image.*` annotations (the module's sha256 and name
    /// are added here).
    pub annotations: BTreeMap<String, String>,
    /// The image config's `architecture` (`amd64`, `arm64`).
    pub architecture: &'a str,
}

/// Pushes `artifact` to `reference` (its tag, or by digest only): the manifest's digest.
pub fn push(
    reference: &Reference,
    options: &ClientOptions,
    artifact: Artifact<'_>,
) -> Result<String, String> {
    let failed = |why: String| format!("{reference}: {why}");
    let (manifest, blobs) = manifest_for(artifact);
    let repository = Repository::open(reference, options, "pull,push").map_err(failed)?;
    for blob in &blobs {
        repository.push_blob(blob).map_err(failed)?;
    }
    let digest = layout::digest_of(&manifest);
    let target = match &reference.target {
        Target::Tag(tag) => tag.clone(),
        Target::Digest(pinned) if *pinned != digest => {
            return Err(failed(format!(
                "the artifact's manifest digest is {digest}, not the one the reference pins"
            )));
        }
        Target::Digest(pinned) => pinned.clone(),
    };
    repository.put_manifest(&target, layout::MANIFEST_TYPE, &manifest).map_err(failed)
}

/// The manifest's bytes and the blobs it names (config, layer), in upload order.
pub fn manifest_for(artifact: Artifact<'_>) -> (Vec<u8>, Vec<Vec<u8>>) {
    let stem = artifact.file.strip_prefix("lib").unwrap_or(artifact.file).trim_end_matches(".so");
    let sha256 = layout::sha256_hex(artifact.bytes);
    let mut annotations = artifact.annotations;
    annotations.insert(annotation::SHA256.to_string(), sha256.clone());
    annotations.insert(annotation::FILE.to_string(), artifact.file.to_string());
    annotations.entry(annotation::MODULE.to_string()).or_insert_with(|| stem.to_string());
    annotations.entry(annotation::TITLE.to_string()).or_insert_with(|| stem.to_string());
    let sidecar = serde_json::json!({
        "name": stem,
        "file": artifact.file,
        "sha256": sha256,
        "abi": annotations.get(annotation::ABI).cloned().unwrap_or_default(),
    });
    let sidecar = format!("{sidecar}\n");
    let layer =
        layout::tar_of(&[(artifact.file, artifact.bytes), (&format!("{stem}.json"), sidecar.as_bytes())]);
    let layer_digest = layout::digest_of(&layer);
    let config = serde_json::json!({
        "architecture": artifact.architecture,
        "os": "linux",
        "config": {"Labels": annotations},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    });
    let config = serde_json::to_vec(&config).unwrap_or_default();
    let descriptor = |media_type: &str, bytes: &[u8]| serde_json::json!({"mediaType": media_type, "digest": layout::digest_of(bytes), "size": bytes.len()});
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": layout::MANIFEST_TYPE,
        "config": descriptor(layout::CONFIG_TYPE, &config),
        "layers": [descriptor(layout::LAYER_TYPE, &layer)],
        "annotations": annotations,
    });
    let manifest = serde_json::to_vec(&manifest).unwrap_or_default();
    (manifest, vec![config, layer])
}

/// The annotations of the manifest a reference names (for `envoyx list`), with its digest.
pub fn annotations(
    reference: &Reference,
    options: &ClientOptions,
) -> Result<(String, BTreeMap<String, String>), String> {
    let failed = |why: String| format!("{reference}: {why}");
    let repository = Repository::open(reference, options, "pull").map_err(failed)?;
    let (digest, manifest) = module_manifest(&repository, reference).map_err(failed)?;
    Ok((digest, manifest.annotations))
}

/// The image manifest `reference` names, with the reference's digest (what it pins, or what its
/// tag named). A multi-platform module (an image index) gives its platform's manifest, whose
/// digest is checked as it is read; the index's digest stays the module's name.
fn module_manifest(
    repository: &Repository,
    reference: &Reference,
) -> Result<(String, layout::Manifest), String> {
    let (digest, mut media_type, mut body) = repository.manifest(reference.target_text())?;
    let no_module = |why: String| format!("the manifest {digest} is no EnvoyX module: {why}");
    if let Some(platform) = layout::platform_manifest(&media_type, &body) {
        (_, media_type, body) = repository.manifest(&platform.map_err(no_module)?)?;
    }
    let manifest = layout::parse_manifest(&media_type, &body).map_err(no_module)?;
    Ok((digest, manifest))
}

/// Never used but by the tests: a descriptor of bytes.
#[cfg(test)]
fn describe(media_type: &str, bytes: &[u8]) -> layout::Descriptor {
    layout::Descriptor {
        media_type: media_type.to_string(),
        digest: layout::digest_of(bytes),
        size: bytes.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pushed_manifest_reads_back_as_a_module_whose_layer_holds_it() {
        let bytes = b"\x7fELF module".to_vec();
        let mut annotations = BTreeMap::new();
        annotations.insert(annotation::ABI.to_string(), "1.2".to_string());
        let artifact = Artifact { file: "libauth.so", bytes: &bytes, annotations, architecture: "amd64" };
        let (manifest, blobs) = manifest_for(artifact);
        let parsed = layout::parse_manifest(layout::MANIFEST_TYPE, &manifest).unwrap();
        assert_eq!(parsed.layers, vec![describe(layout::LAYER_TYPE, &blobs[1])]);
        assert_eq!(parsed.annotations[annotation::MODULE], "auth");
        assert_eq!(parsed.annotations[annotation::FILE], "libauth.so");
        let module = layout::module_in_layer(layout::LAYER_TYPE, &blobs[1], 1 << 20).unwrap().unwrap();
        assert_eq!(module.bytes, bytes);
        assert_eq!(module.declared_sha256.as_deref(), Some(parsed.annotations[annotation::SHA256].as_str()));
        let config: serde_json::Value = serde_json::from_slice(&blobs[0]).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"][0], layout::digest_of(&blobs[1]));
        assert_eq!(config["config"]["Labels"][annotation::ABI], "1.2");
    }
}
