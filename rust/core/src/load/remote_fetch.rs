//! When and how a remote module (`remote.rs`) is fetched. A cache miss never holds up the thread
//! creating the configuration (Envoy's main thread): the configuration is refused as
//! [`Missing::Pending`] and the fetch runs on a thread of its own, once per module however many
//! configurations ask ([`ensure_cached`]); the next configuration naming it loads from the
//! cache. `block_on_cache_miss` fetches in place instead (a static bootstrap). The fetch itself:
//! a URL's file, checked against its sha256 while it streams in, or an OCI pull
//! (`oci/transfer.rs`); each writes into the cache only what passed every check. Without the
//! `remote` feature (the test hosts a module's own tests link) there is no network: a miss is
//! refused, saying so.

use crate::load::remote::{RemoteModule, file_sha256};
use crate::sync::lock;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

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
    fetch(remote)
}

/// Without the `remote` feature: a module that is not in the cache cannot be fetched.
#[cfg(not(feature = "remote"))]
pub(crate) fn fetch(remote: &RemoteModule) -> Result<(u64, PathBuf), String> {
    let place = match remote.cached_path() {
        Some(path) => format!("put the module at {}", path.display()),
        None => "name the module by digest and put it in the cache".to_string(),
    };
    Err(format!(
        "this EnvoyX cannot fetch modules (envoyx-core was built without its `remote` feature); {place} or use a file_path"
    ))
}

/// Fetches `remote`'s module into the cache: its size and path.
#[cfg(feature = "remote")]
pub(crate) fn fetch(remote: &RemoteModule) -> Result<(u64, PathBuf), String> {
    use crate::load::remote::{
        MAX_MODULE_BYTES, RemoteSource, oci_cached_path, record_tag, write_atomically,
    };
    use std::time::Duration;
    match &remote.source {
        RemoteSource::Url { url, sha256 } => {
            let path = crate::load::remote::cached_path(&remote.cache_dir, sha256);
            let bytes = download(url, sha256, remote)?;
            write_atomically(&path, &bytes)?;
            Ok((bytes.len() as u64, path))
        }
        RemoteSource::Oci { reference, credentials, insecure } => {
            let options = crate::load::oci::client::ClientOptions {
                credentials: credentials.clone(),
                ca_file: remote.ca_file.clone(),
                insecure: *insecure,
                timeout: Duration::from_millis(remote.timeout_ms),
            };
            // The error names the module already (`Error::Fetch`): the pull's own prefix goes.
            let prefix = format!("{reference}: ");
            let pulled = crate::load::oci::transfer::pull(reference, &options, MAX_MODULE_BYTES)
                .map_err(|e| e.strip_prefix(&prefix).map(str::to_string).unwrap_or(e))?;
            record_tag(reference, &pulled.digest);
            let path = oci_cached_path(&remote.cache_dir, reference, &pulled.digest);
            // The hash first: a module file is only ever cached beside the hash it must have.
            write_atomically(&path.with_file_name("sha256"), format!("{}\n", pulled.sha256).as_bytes())?;
            write_atomically(&path, &pulled.bytes)?;
            Ok((pulled.bytes.len() as u64, path))
        }
    }
}

/// The file at `url`, checked for size and `sha256` as it streams in.
#[cfg(feature = "remote")]
fn download(url: &str, sha256: &str, remote: &RemoteModule) -> Result<Vec<u8>, String> {
    use crate::load::remote::MAX_MODULE_BYTES;
    use sha2::{Digest, Sha256};
    use std::io::Read;
    use std::time::Duration;
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(ca_file) = &remote.ca_file {
        tls = tls
            .root_certs(ureq::tls::RootCerts::new_with_certs(&crate::load::oci::client::read_ca(ca_file)?));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_millis(remote.timeout_ms)))
        .http_status_as_error(false)
        .tls_config(tls.build())
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| format!("fetch failed: {e}"))?;
    let status = response.status();
    if status != 200 {
        return Err(format!("fetch failed: the server answered {status}, not 200"));
    }
    let mut body = response.into_body().into_reader().take(MAX_MODULE_BYTES + 1);
    let mut hasher = Sha256::new();
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = body.read(&mut buf).map_err(|e| format!("fetch failed while reading the body: {e}"))?;
        if n == 0 {
            break;
        }
        if (bytes.len() + n) as u64 > MAX_MODULE_BYTES {
            return Err(format!("the file is larger than {MAX_MODULE_BYTES} bytes"));
        }
        hasher.update(&buf[..n]);
        bytes.extend_from_slice(&buf[..n]);
    }
    let found = crate::load::remote::hex(&hasher.finalize());
    if found != sha256 {
        return Err(format!(
            "sha256 mismatch: the fetched file ({} bytes) has sha256 {found}, the configuration asks for {sha256}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

#[cfg(all(test, not(feature = "remote")))]
mod tests {
    use super::*;
    use crate::load::remote::{RemoteSource, cached_path, hex};
    use sha2::{Digest, Sha256};

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
