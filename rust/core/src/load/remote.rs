//! Modules fetched from the network (`DynamicModuleConfig.remote`): by URL and sha256, or from an
//! OCI registry (`remote.oci`). Fetched once into a content-addressed cache, verified, then
//! loaded like a file; every load re-verifies the cached copy (a file there whose hash is wrong
//! is fetched again). Fails closed: a wrong hash, an unreachable server, an answer other than
//! success or a file larger than [`MAX_MODULE_BYTES`] refuses the configuration with the URL or
//! reference and the reason, and nothing is cached.
//!
//! This file is what a remote module is and where the cache keeps it; `remote_fetch.rs` decides
//! when to fetch (a cache miss never holds up Envoy's main thread) and fetches. The cache layout:
//!
//! - `<cache>/<sha256>.so`: a module named by URL;
//! - `<cache>/oci/<manifest digest hex>/<repository's last part>.so` and, beside it, `sha256`:
//!   the module file's hash, checked on every load.

use crate::load::oci::Reference;
use crate::sync::lock;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// A checked `remote` (`remote_config.rs`), with its defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteModule {
    pub source: RemoteSource,
    pub timeout_ms: u64,
    pub cache_dir: PathBuf,
    /// CA certificates (PEM) trusted instead of the public web roots.
    pub ca_file: Option<PathBuf>,
    /// Fetch on the calling thread when the cache misses (a static bootstrap).
    pub block_on_cache_miss: bool,
}

/// Where a remote module comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteSource {
    /// An http(s) URL and the file's sha256 (64 lowercase hex digits).
    Url { url: String, sha256: String },
    /// An OCI registry.
    Oci { reference: Reference, credentials: Option<PathBuf>, insecure: bool },
}

/// The fetch timeout when the configuration gives none.
pub const DEFAULT_FETCH_TIMEOUT_MS: u64 = 10_000;

/// The largest module file (and OCI layer) fetched (Go and debug builds run to tens of MiB).
pub const MAX_MODULE_BYTES: u64 = 1 << 30;

/// The cache folder when neither the configuration's `cache_dir` nor `ENVOYX_MODULE_CACHE` names
/// one.
pub const DEFAULT_CACHE_DIR: &str = "/tmp/envoyx-modules";

/// Where a module named by URL with `sha256` is kept in `cache_dir`.
pub fn cached_path(cache_dir: &Path, sha256: &str) -> PathBuf {
    cache_dir.join(format!("{sha256}.so"))
}

impl RemoteModule {
    /// How logs and errors name the module: the URL and its sha256, or the OCI reference.
    pub fn describe(&self) -> String {
        match &self.source {
            RemoteSource::Url { url, sha256 } => format!("{url} (sha256 {sha256})"),
            RemoteSource::Oci { reference, .. } => format!("oci://{reference}"),
        }
    }

    /// The URL, or `oci://` and the reference.
    pub fn location(&self) -> String {
        match &self.source {
            RemoteSource::Url { url, .. } => url.clone(),
            RemoteSource::Oci { reference, .. } => format!("oci://{reference}"),
        }
    }

    /// Where the cache keeps the module: `None` for an OCI tag this process has not resolved yet.
    pub fn cached_path(&self) -> Option<PathBuf> {
        match &self.source {
            RemoteSource::Url { sha256, .. } => Some(cached_path(&self.cache_dir, sha256)),
            RemoteSource::Oci { reference, .. } => {
                let digest = match reference.digest() {
                    Some(d) => d.to_string(),
                    None => lock(resolved_tags()).get(&reference.to_string())?.clone(),
                };
                Some(oci_cached_path(&self.cache_dir, reference, &digest))
            }
        }
    }

    /// The sha256 the cached file must have: the configured one, or the one an OCI pull recorded
    /// beside it.
    pub(crate) fn expected_sha256(&self, path: &Path) -> Option<String> {
        match &self.source {
            RemoteSource::Url { sha256, .. } => Some(sha256.clone()),
            RemoteSource::Oci { .. } => {
                let recorded = std::fs::read_to_string(path.with_file_name("sha256")).ok()?;
                Some(recorded.trim().to_string())
            }
        }
    }

    /// The key in-flight fetches are shared by.
    pub(crate) fn fetch_key(&self) -> String {
        match &self.source {
            RemoteSource::Url { sha256, .. } => format!("{}#{sha256}", self.cache_dir.display()),
            RemoteSource::Oci { reference, .. } => format!("{}#oci://{reference}", self.cache_dir.display()),
        }
    }
}

/// `<cache>/oci/<digest hex>/<repository's last part>.so`.
pub fn oci_cached_path(cache_dir: &Path, reference: &Reference, digest: &str) -> PathBuf {
    let hex = digest.trim_start_matches("sha256:");
    let stem = reference.repository.rsplit('/').next().unwrap_or("module");
    cache_dir.join("oci").join(hex).join(format!("{stem}.so"))
}

/// OCI tags this process resolved, by reference: the digest the first fetch found.
fn resolved_tags() -> &'static Mutex<HashMap<String, String>> {
    static TAGS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    TAGS.get_or_init(Mutex::default)
}

/// The sha256 of the file at `path`, as lowercase hex.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Records that `reference`'s tag named `digest` (the first fetch of the process resolves it).
#[cfg(feature = "remote")]
pub(crate) fn record_tag(reference: &Reference, digest: &str) {
    if reference.digest().is_none() {
        let previous = lock(resolved_tags()).insert(reference.to_string(), digest.to_string());
        if previous.as_deref() != Some(digest) {
            crate::log::core_log!(Info, "EnvoyX module oci://{reference}: the tag names {digest}");
        }
    }
}

/// Writes `bytes` to `path` through a temporary file beside it and a rename, so the cache never
/// holds a partial file.
#[cfg(feature = "remote")]
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let temp = dir.join(format!(
        ".{}.{}.{}.part",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot write {} into the module cache: {e}", path.display())
    })
}
