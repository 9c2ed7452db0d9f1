//! Remote modules on every Envoy version, pushed over LDS at a running Envoy: by URL
//! (`remote.url`) and from an OCI registry (`remote.oci`, a real registry started by the test).
//! A cache miss is rejected at once and fetched in the background, the next push is accepted;
//! failures are rejected naming the module and the reason; Envoy keeps serving throughout.

mod support;

use envoyx_core::oci::client::ClientOptions;
use envoyx_core::oci::transfer::{self, Artifact};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use support::*;

/// A module named by URL (`remote`), on every Envoy version: a listener naming a module the
/// cache lacks is rejected at once, naming the background fetch, and accepted once it is done
/// (LDS pushed again); a configuration whose sha256 does not match the file, or whose server is
/// unreachable, is rejected naming the URL and the reason (fetched in place,
/// `block_on_cache_miss`) while the other listeners keep serving; a fetch from a server that
/// never answers does not hold up Envoy (rejected at once, the admin endpoint answering); with
/// the server gone, a new listener naming the same module is served from the cache.
#[test]
fn remote_module_fetched_verified_or_refused() {
    let server = envoyx_harness::FileServer::start().unwrap();
    let module = c_test_module();
    server.put("/libc.so", std::fs::read(&module).unwrap());
    let sha256 = envoyx_core::remote::file_sha256(&module).unwrap();
    let url = server.url("/libc.so");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = format!("http://127.0.0.1:{closed_port}/libc.so");
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let stalls = format!("http://127.0.0.1:{}/libc.so", silent.local_addr().unwrap().port());
    let remote = |url: &str, sha256: &str, cache: &Path, block: bool| {
        json!({ "name": "bad", "remote": { "url": url, "sha256": sha256, "cache_dir": cache,
                                           "block_on_cache_miss": block, "timeout_ms": 5000 },
                "filter_config": "basic", "do_not_dlclose": true })
    };
    for version in VERSIONS {
        let cache = temp_dir();
        let mut x = LdsEnvoy::start(version);
        let fetches = server.requests("/libc.so");
        // Pushes a listener naming the module until Envoy takes it (the refusals it met), and
        // checks the module serves on it.
        let push_remote = |x: &mut LdsEnvoy, name: &str| -> u64 {
            let port = free_port();
            let filter =
                envoyx_filter("bad", remote(&url, &sha256, cache.path(), false), LoadBy::Name, Form::Struct);
            let refusals = x.push_until_accepted(name, port, vec![filter]);
            let reply = get(port, "/remote", &[]);
            x.envoy.check(reply.status() == 200, &format!("{name}: status {}", reply.status()));
            x.envoy.check(
                reply.header("x-upstream-saw-x-envoyx-request") == Some("added"),
                &format!("{name}: the remote module ran"),
            );
            refusals
        };
        let refusals = push_remote(&mut x, "dyn_remote");
        x.envoy.check(refusals >= 1, "the first listener is refused while its module is fetched");
        x.envoy.check(server.requests("/libc.so") == fetches + 1, "fetched once");
        let cached = cache.path().join(format!("{sha256}.so"));
        x.envoy.check(
            x.envoy.log().contains(&format!(
                "EnvoyX module {url} (sha256 {sha256}, cached as {}) ready",
                cached.display()
            )),
            "the log names the URL and the cached file",
        );

        let wrong = "f".repeat(64);
        x.check_rejected(
            remote(&url, &wrong, cache.path(), true),
            Form::Struct,
            &[&format!("filter `bad` rejected: EnvoyX module {url} (sha256 {wrong}): sha256 mismatch: the fetched file")],
        );
        x.check_rejected(
            remote(&unreachable, &"1".repeat(64), cache.path(), true),
            Form::StringValue,
            &[&format!("EnvoyX module {unreachable}"), "fetch failed"],
        );
        // A server that never answers: rejected at once (the admin endpoint answers meanwhile,
        // which check_rejected asks), not after the 5 s fetch timeout.
        let start = Instant::now();
        x.check_rejected(
            remote(&stalls, &"2".repeat(64), cache.path(), false),
            Form::Struct,
            &[&format!("EnvoyX module {stalls}"), "fetching it in the background (at most 5000 ms)"],
        );
        x.envoy.check(
            start.elapsed() < Duration::from_secs(4),
            &format!("rejected after {:?}", start.elapsed()),
        );
        // A cache hit needs no network: the same module on a new listener, no new request.
        let before = server.requests("/libc.so");
        let refusals = push_remote(&mut x, "dyn_remote_again");
        x.envoy
            .check(refusals == 0 && server.requests("/libc.so") == before, "served from the cache at once");
    }
}

/// A module from an OCI registry (Debian's docker-registry with TLS from the test's CA and an
/// htpasswd login), on every Envoy version through LDS: by digest, rejected while fetched in the
/// background and then accepted and serving; by tag; a cache hit with the registry stopped; a
/// wrong digest and an unknown CA rejected naming the reference and the reason.
#[test]
fn oci_module_pulled_over_lds() {
    let mut registry = envoyx_harness::Registry::start(&envoyx_harness::RegistryOptions {
        plain_http: false,
        logins: vec![("carol".into(), "lds-pw".into())],
    })
    .unwrap();
    let credentials = registry.dir.path().join("config.json");
    let auth = envoyx_core::oci::credentials::encode_base64(b"carol:lds-pw");
    std::fs::write(&credentials, format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, registry.host))
        .unwrap();
    let ca = registry.ca_file.clone().unwrap();
    let module = std::fs::read(c_test_module()).unwrap();
    let tag = format!("{}/edge/basic:v1", registry.host);
    let options = ClientOptions {
        credentials: Some(credentials.clone()),
        ca_file: Some(ca.clone()),
        insecure: false,
        timeout: Duration::from_secs(10),
    };
    let artifact = Artifact {
        file: "libbasic.so",
        bytes: &module,
        annotations: Default::default(),
        architecture: "amd64",
    };
    let digest =
        transfer::push(&envoyx_core::oci::Reference::parse(&tag).unwrap(), &options, artifact).unwrap();
    let by_digest = format!("{}/edge/basic@{digest}", registry.host);
    let stalling = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let oci = |reference: &str, cache: &Path, ca: Option<&Path>, block: bool| {
        let mut remote = json!({ "oci": { "reference": reference, "credentials": credentials },
                                 "cache_dir": cache, "block_on_cache_miss": block });
        if let Some(ca) = ca {
            remote["ca_file"] = json!(ca);
        }
        json!({ "name": "bad", "remote": remote, "filter_config": "basic", "do_not_dlclose": true })
    };
    let caches: Vec<_> = VERSIONS.iter().map(|_| temp_dir()).collect();
    for (version, cache) in VERSIONS.iter().zip(&caches) {
        let mut x = LdsEnvoy::start(version);
        for (name, reference) in [("dyn_oci_digest", &by_digest), ("dyn_oci_tag", &tag)] {
            let port = free_port();
            let filter = envoyx_filter(
                "bad",
                oci(reference, cache.path(), Some(&ca), false),
                LoadBy::Name,
                Form::Struct,
            );
            let refusals = x.push_until_accepted(name, port, vec![filter]);
            if reference == &by_digest {
                x.envoy.check(refusals >= 1, "refused while the module is fetched");
            }
            let reply = get(port, "/oci", &[]);
            x.envoy.check(
                reply.status() == 200 && reply.header("x-upstream-saw-x-envoyx-request") == Some("added"),
                &format!("{name}: the module from the registry ran (status {})", reply.status()),
            );
        }
        x.envoy.check(
            x.envoy
                .log()
                .contains(&format!("EnvoyX module oci://{by_digest} (cached as {}", cache.path().display())),
            "the log names the reference and the cached file",
        );
        x.check_rejected(
            oci(
                &format!("{}/edge/basic@sha256:{}", registry.host, "3".repeat(64)),
                cache.path(),
                Some(&ca),
                true,
            ),
            Form::Struct,
            &["EnvoyX module oci://", "404", "MANIFEST_UNKNOWN"],
        );
        // A registry that accepts and never answers: rejected at once (check_rejected asks the
        // admin endpoint meanwhile), not after the 5 s timeout.
        let start = Instant::now();
        let stalled = format!("127.0.0.1:{}/edge/basic:v1", stalling.local_addr().unwrap().port());
        let mut stalls = oci(&stalled, cache.path(), None, false);
        stalls["remote"]["oci"]["insecure"] = json!(true);
        stalls["remote"]["timeout_ms"] = json!(5000);
        x.check_rejected(
            stalls,
            Form::Struct,
            &[&format!("EnvoyX module oci://{stalled}"), "fetching it in the background"],
        );
        x.envoy.check(
            start.elapsed() < Duration::from_secs(4),
            &format!("rejected after {:?}", start.elapsed()),
        );
        let other_cache = temp_dir();
        x.check_rejected(
            oci(&by_digest, other_cache.path(), None, true),
            Form::StringValue,
            &[&format!("EnvoyX module oci://{by_digest}"), "cannot talk to the registry", "certificate"],
        );
    }
    // The registry stopped: a new Envoy with a warm cache still loads the module.
    registry.stop();
    let mut x = LdsEnvoy::start(VERSIONS[VERSIONS.len() - 1]);
    let port = free_port();
    let filter =
        envoyx_filter("bad", oci(&by_digest, caches[0].path(), Some(&ca), false), LoadBy::Name, Form::Struct);
    let refusals = x.push_until_accepted("dyn_oci_cached", port, vec![filter]);
    x.envoy.check(refusals == 0, "a cache hit is accepted at once");
    x.envoy.check(get(port, "/oci", &[]).status() == 200, "served from the cache");
}
