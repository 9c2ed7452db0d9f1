//! The network side of remote modules (`remote.rs` decides when to fetch): a URL's file, checked
//! against its sha256 while it streams in, or an OCI pull (`oci/transfer.rs`). Each writes into
//! the cache only what passed every check. Without the `remote` feature (the test hosts a
//! module's own tests link) there is no network: a fetch is refused, saying so.

use crate::load::remote::RemoteModule;
use std::path::PathBuf;

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
