//! Modules fetched from the network (`DynamicModuleConfig.remote`): by URL and sha256, or from an
//! OCI registry (`remote.oci`). Fetched once into a content-addressed cache, verified, then
//! loaded like a file; every load re-verifies the cached copy (a file there whose hash is wrong
//! is fetched again). Fails closed: a wrong hash, an unreachable server, an answer other than
//! success or a file larger than [`MAX_MODULE_BYTES`] refuses the configuration with the URL or
//! reference and the reason, and nothing is cached.
//!
//! A cache miss never holds up the thread creating the configuration (Envoy's main thread): the
//! configuration is refused as [`Pending`](Fetched) and the fetch runs on a thread of its own,
//! once per module however many configurations ask ([`ensure_cached`]); the next configuration
//! naming it loads from the cache. `block_on_cache_miss` fetches in place instead (a static
//! bootstrap). The cache layout:
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
    fn expected_sha256(&self, path: &Path) -> Option<String> {
        match &self.source {
            RemoteSource::Url { sha256, .. } => Some(sha256.clone()),
            RemoteSource::Oci { .. } => {
                let recorded = std::fs::read_to_string(path.with_file_name("sha256")).ok()?;
                Some(recorded.trim().to_string())
            }
        }
    }

    /// The key in-flight fetches are shared by.
    fn fetch_key(&self) -> String {
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

/// What happened to bring the module into the cache.
#[derive(Debug, PartialEq, Eq)]
pub enum Fetched {
    /// It was there with the right hash, at this path.
    CacheHit(PathBuf),
    /// It was fetched in place (`block_on_cache_miss`): this many bytes, to this path.
    Downloaded(u64, PathBuf),
}

/// Why a module is not in the cache.
#[derive(Debug, PartialEq, Eq)]
pub enum Missing {
    /// A fetch runs in the background; the reason says so (and why an earlier one failed).
    Pending(String),
    /// The fetch in place failed (`block_on_cache_miss`), or the cache cannot be used.
    Failed(String),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Pending(reason) | Missing::Failed(reason) => f.write_str(reason),
        }
    }
}

/// The background fetches of this process, by [`RemoteModule::fetch_key`].
#[derive(Debug)]
enum FetchState {
    Running,
    /// The last fetch failed, for this reason; the next configuration starts another.
    Failed(String),
}

fn fetch_states() -> &'static Mutex<HashMap<String, FetchState>> {
    static FETCHES: OnceLock<Mutex<HashMap<String, FetchState>>> = OnceLock::new();
    FETCHES.get_or_init(Mutex::default)
}

/// The cached module's path when the cache has it with the right hash. A cached copy whose hash
/// is wrong is logged and treated as missing.
fn cache_hit(remote: &RemoteModule) -> Option<PathBuf> {
    let path = remote.cached_path()?;
    let expected = remote.expected_sha256(&path)?;
    match file_sha256(&path) {
        Ok(found) if found == expected => Some(path),
        Ok(found) => {
            crate::log::core_log!(
                Warn,
                "EnvoyX module {}: the cached copy {} has sha256 {found}, not {expected}; fetching it again",
                remote.describe(),
                path.display()
            );
            None
        }
        Err(_) => None,
    }
}

/// Makes sure `remote`'s module is in the cache: a hit, a fetch in place
/// (`block_on_cache_miss`), or a fetch started in the background and [`Missing::Pending`].
pub fn ensure_cached(remote: &RemoteModule) -> Result<Fetched, Missing> {
    if let Some(path) = cache_hit(remote) {
        return Ok(Fetched::CacheHit(path));
    }
    // Built without fetching, a miss fails at once, saying so, rather than "in the background".
    if remote.block_on_cache_miss || !cfg!(feature = "remote") {
        return fetch_into_cache(remote)
            .map(|(bytes, path)| Fetched::Downloaded(bytes, path))
            .map_err(Missing::Failed);
    }
    let key = remote.fetch_key();
    let mut fetches = lock(fetch_states());
    let earlier = match fetches.get(&key) {
        Some(FetchState::Running) => {
            return Err(Missing::Pending(pending_reason(remote, None)));
        }
        Some(FetchState::Failed(reason)) => Some(reason.clone()),
        None => None,
    };
    fetches.insert(key.clone(), FetchState::Running);
    drop(fetches);
    let job = remote.clone();
    let spawned = std::thread::Builder::new().name("envoyx-fetch".to_string()).spawn(move || {
        let outcome = fetch_into_cache(&job);
        let mut fetches = lock(fetch_states());
        match outcome {
            Ok((bytes, path)) => {
                fetches.remove(&key);
                crate::log::core_log!(
                    Info,
                    "EnvoyX module {}: fetched {bytes} bytes into {} in the background; a configuration naming it now loads",
                    job.describe(),
                    path.display()
                );
            }
            Err(reason) => {
                crate::log::core_log!(
                    Warn,
                    "EnvoyX module {}: the background fetch failed: {reason}; nothing was cached (the next configuration naming it fetches again)",
                    job.describe()
                );
                fetches.insert(key, FetchState::Failed(reason));
            }
        }
    });
    if let Err(e) = spawned {
        lock(fetch_states()).remove(&remote.fetch_key());
        return Err(Missing::Failed(format!("cannot start a thread to fetch it: {e}")));
    }
    Err(Missing::Pending(pending_reason(remote, earlier.as_deref())))
}

fn pending_reason(remote: &RemoteModule, earlier: Option<&str>) -> String {
    let earlier = earlier.map(|e| format!("the last fetch failed ({e}); ")).unwrap_or_default();
    format!(
        "{earlier}not in the module cache {} yet: fetching it in the background (at most {} ms), so the \
         configuration is refused for now; apply it again once the log says it was fetched (or set \
         remote.block_on_cache_miss for a static bootstrap)",
        remote.cache_dir.display(),
        remote.timeout_ms
    )
}

/// Fetches the module into the cache (on the calling thread): its size and path.
fn fetch_into_cache(remote: &RemoteModule) -> Result<(u64, PathBuf), String> {
    std::fs::create_dir_all(&remote.cache_dir)
        .map_err(|e| format!("cannot create the module cache {}: {e}", remote.cache_dir.display()))?;
    crate::load::remote_fetch::fetch(remote)
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

#[cfg(all(test, not(feature = "remote")))]
mod tests {
    use super::*;

    /// Built without fetching (as the test hosts a module's own tests link): a cache hit still
    /// loads, a miss is refused saying why and where the file would have to be.
    #[test]
    fn without_the_remote_feature_only_the_cache_serves() {
        let cache = std::env::temp_dir().join(format!("envoyx-no-remote-{}", std::process::id()));
        std::fs::create_dir_all(&cache).unwrap();
        let bytes = b"not really a module";
        let sha256 = hex(&Sha256::digest(bytes));
        let remote = RemoteModule {
            source: RemoteSource::Url {
                url: "https://example.invalid/m.so".to_string(),
                sha256: sha256.clone(),
            },
            cache_dir: cache.clone(),
            timeout_ms: 1000,
            ca_file: None,
            block_on_cache_miss: true,
        };
        let err = ensure_cached(&remote).unwrap_err().to_string();
        assert!(err.contains("built without its `remote` feature"), "{err}");
        assert!(err.contains(&format!("{sha256}.so")), "{err}");
        std::fs::write(cached_path(&cache, &sha256), bytes).unwrap();
        assert_eq!(ensure_cached(&remote), Ok(Fetched::CacheHit(cached_path(&cache, &sha256))));
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
