//! Modules named by URL (`remote` in the configuration): fetched once into the cache, verified,
//! loaded; a cache hit needs no network; every failure refuses the configuration with the URL and
//! the reason and leaves nothing in the cache.

mod common;

use common::{c_module, load_when_fetched, refused};
use envoyx_core::remote::file_sha256;
use envoyx_core::{ConfigError, ModuleConfig};
use envoyx_harness::FileServer;
use envoyx_testhost::TestHost;
use std::path::Path;
use std::time::{Duration, Instant};

/// A configuration fetching in place (`block_on_cache_miss`), so each test sees its fetch's
/// outcome at once; the background fetch (the default) has tests of its own below.
fn remote_json(url: &str, sha256: &str, cache: &Path, extra: &str) -> String {
    background_json(url, sha256, cache, &format!(r#", "block_on_cache_miss": true{extra}"#))
}

/// A configuration with the default: a cache miss is refused and fetched in the background.
fn background_json(url: &str, sha256: &str, cache: &Path, extra: &str) -> String {
    format!(
        r#"{{"name": "r", "remote": {{"url": "{url}", "sha256": "{sha256}", "cache_dir": "{}"{extra}}}, "do_not_dlclose": true}}"#,
        cache.display()
    )
}

/// The module's bytes, served at `/libc.so`, and their sha256.
fn serve_module(server: &FileServer) -> (Vec<u8>, String) {
    let module = c_module("remote", &[]);
    let bytes = std::fs::read(&module).unwrap();
    server.put("/libc.so", bytes.clone());
    (bytes, file_sha256(&module).unwrap())
}

/// The cache holds nothing but finished, verified modules.
fn cache_entries(cache: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(cache) else { return Vec::new() };
    entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

#[test]
fn fetched_once_verified_and_served_then_a_cache_hit_needs_no_network() {
    let cache = tempfile::tempdir().unwrap();
    let server = FileServer::start().unwrap();
    let (bytes, sha256) = serve_module(&server);
    let json = remote_json(&server.url("/libc.so"), &sha256, cache.path(), "");

    let host = TestHost::from_json(&json).unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.upstream_request_headers().get("x-c-module").as_deref(), Some("seen"));
    assert_eq!(server.requests("/libc.so"), 1);
    let cached = cache.path().join(format!("{sha256}.so"));
    assert_eq!(std::fs::read(&cached).unwrap(), bytes);
    assert_eq!(cache_entries(cache.path()), vec![format!("{sha256}.so")]);
    assert!(envoyx_testhost::logged(&format!("fetched {} bytes into {}", bytes.len(), cached.display())));
    assert_eq!(host.filter_config().module().path(), cached.as_path());

    // A second configuration, the server gone: the cache serves it.
    drop(server);
    let again = TestHost::from_json(&json).unwrap();
    let mut stream = again.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.upstream_request_headers().get("x-c-module").as_deref(), Some("seen"));
}

#[test]
fn a_cached_copy_with_the_wrong_hash_is_fetched_again() {
    let cache = tempfile::tempdir().unwrap();
    let server = FileServer::start().unwrap();
    let (bytes, sha256) = serve_module(&server);
    let cached = cache.path().join(format!("{sha256}.so"));
    std::fs::write(&cached, b"corrupted").unwrap();
    let _host =
        TestHost::from_json(&remote_json(&server.url("/libc.so"), &sha256, cache.path(), "")).unwrap();
    assert_eq!(server.requests("/libc.so"), 1);
    assert_eq!(std::fs::read(&cached).unwrap(), bytes);
    assert!(envoyx_testhost::logged(&format!("the cached copy {} has sha256", cached.display())));
}

#[test]
fn a_hash_mismatch_is_refused_and_nothing_is_cached() {
    let cache = tempfile::tempdir().unwrap();
    let server = FileServer::start().unwrap();
    let (bytes, sha256) = serve_module(&server);
    let wrong = "0".repeat(64);
    let url = server.url("/libc.so");
    let message = refused(&remote_json(&url, &wrong, cache.path(), ""));
    assert_eq!(
        message,
        format!(
            "EnvoyX module {url} (sha256 {wrong}): sha256 mismatch: the fetched file ({} bytes) has sha256 \
             {sha256}, the configuration asks for {wrong}; not loaded",
            bytes.len()
        )
    );
    assert!(cache_entries(cache.path()).is_empty(), "{:?}", cache_entries(cache.path()));
}

#[test]
fn unreachable_servers_missing_files_and_timeouts_are_refused_with_the_url() {
    let cache = tempfile::tempdir().unwrap();
    let server = FileServer::start().unwrap();
    let sha256 = "a".repeat(64);

    let missing = server.url("/nothing.so");
    let message = refused(&remote_json(&missing, &sha256, cache.path(), ""));
    assert_eq!(
        message,
        format!(
            "EnvoyX module {missing} (sha256 {sha256}): fetch failed: the server answered 404 Not Found, not 200; not loaded"
        )
    );

    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = format!("http://127.0.0.1:{closed_port}/libm.so");
    let message = refused(&remote_json(&unreachable, &sha256, cache.path(), ""));
    assert!(
        message.starts_with(&format!("EnvoyX module {unreachable} (sha256 {sha256}): fetch failed: ")),
        "{message}"
    );

    // A server that accepts and never answers: the configured timeout ends the wait.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://127.0.0.1:{}/libm.so", silent.local_addr().unwrap().port());
    let start = Instant::now();
    let message = refused(&remote_json(&silent_url, &sha256, cache.path(), r#", "timeout_ms": 300"#));
    assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    assert!(message.contains(&silent_url) && message.contains("fetch failed"), "{message}");

    // HTTPS to a server that speaks plain HTTP: the TLS handshake fails, closed.
    let tls_url = format!("https://127.0.0.1:{}/libc.so", server.port);
    let message = refused(&remote_json(&tls_url, &sha256, cache.path(), ""));
    assert!(
        message.starts_with(&format!("EnvoyX module {tls_url} (sha256 {sha256}): fetch failed: ")),
        "{message}"
    );
    assert!(cache_entries(cache.path()).is_empty());
}

#[test]
fn a_fetched_file_that_is_not_a_module_is_refused_naming_the_url() {
    let cache = tempfile::tempdir().unwrap();
    let server = FileServer::start().unwrap();
    let text = b"#!/bin/sh\necho not a module\n".to_vec();
    let script = cache.path().join("script");
    std::fs::write(&script, &text).unwrap();
    let sha256 = file_sha256(&script).unwrap();
    server.put("/script.so", text);
    let url = server.url("/script.so");
    let message = refused(&remote_json(&url, &sha256, cache.path(), ""));
    let cached = cache.path().join(format!("{sha256}.so"));
    assert!(
        message.starts_with(&format!(
            "EnvoyX module fetched from {url}: EnvoyX module {}: not a shared object",
            cached.display()
        )),
        "{message}"
    );
}

#[test]
fn bad_remote_fields_are_refused_by_name() {
    let cache = Path::new("/tmp/unused");
    let sha256 = "b".repeat(64);
    let cases = [
        (
            remote_json("ftp://host/m.so", &sha256, cache, ""),
            "field `remote.url`: expected an http:// or https:// URL",
        ),
        (
            remote_json("http://h/m.so", "abc", cache, ""),
            "field `remote.sha256`: expected the module's SHA-256 as 64 hex digits, got `abc`",
        ),
        (
            remote_json("http://h/m.so", &sha256, cache, r#", "timeout_ms": "soon""#),
            "field `remote.timeout_ms`: expected milliseconds",
        ),
        (
            remote_json("http://h/m.so", &sha256, cache, r#", "mirror": "x""#),
            "field `remote.mirror`: unknown field",
        ),
        (
            r#"{"file_path": "/m.so", "remote": {"url": "http://h/m.so"}}"#.to_string(),
            "field `remote`: give either `file_path` or `remote`, not both",
        ),
        (
            format!(
                r#"{{"remote": {{"url": "http://h/m.so", "sha256": "{sha256}"}}, "reload_on_file_change": true}}"#
            ),
            "field `reload_on_file_change`: watches a local file_path",
        ),
    ];
    for (json, want) in cases {
        match ModuleConfig::from_json(&json) {
            Err(ConfigError::Field { .. }) => {
                let message = ModuleConfig::from_json(&json).unwrap_err().to_string();
                assert!(message.contains(want), "{json}: {message}");
            }
            other => panic!("{json}: expected a field error, got {other:?}"),
        }
    }
    // Upper-case hex is taken; the cache path uses lower case; defaults apply.
    let config = ModuleConfig::from_json(&format!(
        r#"{{"remote": {{"url": "https://h/m.so", "sha256": "{}"}}}}"#,
        sha256.to_uppercase()
    ))
    .unwrap();
    let remote = config.remote.clone().unwrap();
    let envoyx_core::RemoteSource::Url { sha256: configured, .. } = &remote.source else {
        panic!("{remote:?}")
    };
    assert_eq!((configured.as_str(), remote.timeout_ms), (sha256.as_str(), 10_000));
    for timeout in ["2500", "2500.0", r#""2500""#] {
        let json = format!(
            r#"{{"remote": {{"url": "https://h/m.so", "sha256": "{sha256}", "timeout_ms": {timeout}}}}}"#
        );
        assert_eq!(ModuleConfig::from_json(&json).unwrap().remote.unwrap().timeout_ms, 2500, "{timeout}");
    }
    assert!(config.file_path.ends_with(&format!("/{sha256}.so")), "{}", config.file_path);
    // The protobuf form carries it too.
    use prost::Message;
    let bytes = config.to_proto().encode_to_vec();
    assert_eq!(ModuleConfig::from_proto_bytes(&bytes).unwrap(), config);
}

#[test]
fn a_cache_miss_is_refused_at_once_and_fetched_in_the_background_once() {
    let cache = tempfile::tempdir().unwrap();
    let server = FileServer::start().unwrap();
    let (bytes, sha256) = serve_module(&server);
    let url = server.url("/libc.so");
    let json = background_json(&url, &sha256, cache.path(), "");

    let message = refused(&json);
    assert!(
        message.starts_with(&format!("EnvoyX module {url} (sha256 {sha256}): not in the module cache ")),
        "{message}"
    );
    assert!(
        message.contains("fetching it in the background") && message.contains("apply it again"),
        "{message}"
    );
    let (host, refusals) = load_when_fetched(&json, Duration::from_secs(10));
    assert!(refusals.iter().all(|r| r.contains("fetching it in the background")), "{refusals:?}");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.upstream_request_headers().get("x-c-module").as_deref(), Some("seen"));
    assert_eq!(server.requests("/libc.so"), 1, "one fetch however many configurations asked");
    let cached = cache.path().join(format!("{sha256}.so"));
    assert!(envoyx_testhost::logged(&format!(
        "fetched {} bytes into {} in the background; a configuration naming it now loads",
        bytes.len(),
        cached.display()
    )));
}

#[test]
fn a_stalled_fetch_does_not_hold_up_the_configuration_and_its_failure_is_told_next_time() {
    let cache = tempfile::tempdir().unwrap();
    // A server that accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}/libm.so", silent.local_addr().unwrap().port());
    let sha256 = "c".repeat(64);
    let json = background_json(&url, &sha256, cache.path(), r#", "timeout_ms": 400"#);
    let start = Instant::now();
    let message = refused(&json);
    assert!(start.elapsed() < Duration::from_millis(300), "refused in {:?}", start.elapsed());
    assert!(message.contains("fetching it in the background (at most 400 ms)"), "{message}");
    // While it runs, another configuration is refused the same way without a second fetch.
    assert!(refused(&json).contains("fetching it in the background"));
    std::thread::sleep(Duration::from_millis(900));
    assert!(envoyx_testhost::logged(&format!(
        "EnvoyX module {url} (sha256 {sha256}): the background fetch failed"
    )));
    let message = refused(&json);
    assert!(message.contains("the last fetch failed (fetch failed: "), "{message}");
    assert!(message.contains("fetching it in the background"), "a new fetch starts: {message}");
    assert!(cache_entries(cache.path()).is_empty());
}
