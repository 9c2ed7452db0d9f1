//! Modules named by URL (`DynamicModuleConfig.remote`): fetched once into a content-addressed
//! cache (`<cache>/<sha256>.so`), verified against the configuration's sha256, then loaded like a
//! file. Fails closed: a wrong hash, an unreachable server, an answer other than 200 or a file
//! larger than [`MAX_MODULE_BYTES`] refuses the configuration with the URL and the reason, and
//! nothing is cached. A cache hit (a file there whose sha256 is right) needs no network; a cached
//! file whose hash is wrong is fetched again.
//!
//! Runs where the configuration is created (Envoy's main thread), blocking it for at most the
//! configured timeout; a fleet keeps that rare by pre-seeding the cache (an init container or an
//! image volume) or by keeping the cache between restarts.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// A module named by URL (`DynamicModuleConfig.remote`), checked (`config.rs`): an http(s) URL,
/// a sha256 of 64 lowercase hex digits, the timeout and the cache folder with their defaults
/// applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteModule {
    pub url: String,
    pub sha256: String,
    pub timeout_ms: u64,
    pub cache_dir: std::path::PathBuf,
}

/// The fetch timeout when the configuration gives none.
pub const DEFAULT_FETCH_TIMEOUT_MS: u64 = 10_000;

/// The largest module file fetched (Go and debug builds run to tens of MiB).
pub const MAX_MODULE_BYTES: u64 = 1 << 30;

/// The cache folder when neither the configuration's `cache_dir` nor `ENVOYX_MODULE_CACHE` names
/// one.
pub const DEFAULT_CACHE_DIR: &str = "/tmp/envoyx-modules";

/// Where a module with `sha256` is kept in `cache_dir`.
pub fn cached_path(cache_dir: &Path, sha256: &str) -> PathBuf {
    cache_dir.join(format!("{sha256}.so"))
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What happened to bring the module into the cache.
#[derive(Debug, PartialEq, Eq)]
pub enum Fetched {
    /// It was there with the right hash.
    CacheHit,
    /// It was fetched: this many bytes.
    Downloaded(u64),
}

/// Makes sure `remote`'s module is at its cache path with the right hash: a hit, or a fetch.
/// The error is the reason (the caller names the URL).
pub fn ensure_cached(remote: &RemoteModule) -> Result<Fetched, String> {
    let path = cached_path(&remote.cache_dir, &remote.sha256);
    match file_sha256(&path) {
        Ok(found) if found == remote.sha256 => return Ok(Fetched::CacheHit),
        Ok(found) => crate::log::core_log!(
            Warn,
            "EnvoyX module {}: the cached copy {} has sha256 {found}, not {}; fetching it again",
            remote.url,
            path.display(),
            remote.sha256
        ),
        Err(_) => {}
    }
    std::fs::create_dir_all(&remote.cache_dir)
        .map_err(|e| format!("cannot create the module cache {}: {e}", remote.cache_dir.display()))?;
    let (temp, written) = download(remote)?;
    std::fs::rename(&temp, &path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot move the fetched file into the cache as {}: {e}", path.display())
    })?;
    Ok(Fetched::Downloaded(written))
}

/// Without the `remote` feature: a module that is not in the cache cannot be fetched.
#[cfg(not(feature = "remote"))]
fn download(remote: &RemoteModule) -> Result<(PathBuf, u64), String> {
    Err(format!(
        "this EnvoyX cannot fetch modules by URL (envoyx-core was built without its `remote` feature); \
         put the module at {} or use a file_path",
        cached_path(&remote.cache_dir, &remote.sha256).display()
    ))
}

/// Fetches `remote.url` into a new file in the cache folder, checking its size and hash on the
/// way; returns the file (removed again on any error) and its size.
#[cfg(feature = "remote")]
fn download(remote: &RemoteModule) -> Result<(PathBuf, u64), String> {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let timeout = Duration::from_millis(remote.timeout_ms);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent.get(&remote.url).call().map_err(|e| format!("fetch failed: {e}"))?;
    let status = response.status();
    if status != 200 {
        return Err(format!("fetch failed: the server answered {status}, not 200"));
    }
    let temp = remote.cache_dir.join(format!(
        ".{}.{}.{}.part",
        remote.sha256,
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)
            .map_err(|e| format!("cannot write into the module cache {}: {e}", remote.cache_dir.display()))?;
        let mut body = response.into_body().into_reader().take(MAX_MODULE_BYTES + 1);
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut written = 0u64;
        loop {
            let n = body.read(&mut buf).map_err(|e| format!("fetch failed while reading the body: {e}"))?;
            if n == 0 {
                break;
            }
            written += n as u64;
            if written > MAX_MODULE_BYTES {
                return Err(format!("the file is larger than {MAX_MODULE_BYTES} bytes"));
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).map_err(|e| format!("cannot write into the module cache: {e}"))?;
        }
        file.sync_all().map_err(|e| format!("cannot write into the module cache: {e}"))?;
        let found = hex(&hasher.finalize());
        if found != remote.sha256 {
            return Err(format!(
                "sha256 mismatch: the fetched file ({written} bytes) has sha256 {found}, the configuration asks for {}",
                remote.sha256
            ));
        }
        Ok(written)
    })();
    match result {
        Ok(written) => Ok((temp, written)),
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
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
            url: "https://example.invalid/m.so".to_string(),
            sha256: sha256.clone(),
            cache_dir: cache.clone(),
            timeout_ms: 1000,
        };
        let err = ensure_cached(&remote).unwrap_err();
        assert!(err.contains("built without its `remote` feature"), "{err}");
        assert!(err.contains(&format!("{sha256}.so")), "{err}");
        std::fs::write(cached_path(&cache, &sha256), bytes).unwrap();
        assert_eq!(ensure_cached(&remote), Ok(Fetched::CacheHit));
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
