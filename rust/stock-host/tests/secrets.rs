//! Generic secrets (ABI 1.2 `secret_get`) in real Envoy 1.40.0: a configuration declares a
//! static secret of the bootstrap and one that SDS serves from a file; the module reads both
//! inside request hooks, an undeclared name is refused naming the declared ones, and a rotation
//! SDS pushes reaches the next requests. Envoy 1.38.3 and 1.39.3 refuse a configuration that
//! declares a secret (`bad_input.rs`, `secret_envoy_cannot_serve`); the conformance case
//! `secret` runs the module on the test hosts.

mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

/// SDS's file: one generic secret `envoyx.conformance.sds` holding `value`.
fn sds_file(value: &str) -> serde_json::Value {
    json!({ "resources": [{
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
        "name": "envoyx.conformance.sds",
        "generic_secret": { "secret": { "inline_string": value } },
    }] })
}

#[test]
fn static_and_sds_secrets_reach_request_hooks_in_envoy_1_40() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    let version = "1.40.0";
    let dir = temp_dir();
    let sds = dir.path().join("sds.json");
    write_atomically(&sds, &sds_file("first"));
    let upstream = start_upstream();
    let port = free_port();
    let (secret, value) = envoyx_conformance::SECRET;
    let mut config = module_config("secrets", &module, "");
    config["secrets"] = json!([
        { "name": secret },
        { "name": "envoyx.conformance.sds", "sds_config": { "path_config_source": { "path": sds }, "resource_api_version": "V3" } },
    ]);
    let filter = envoyx_filter("conformance", config, LoadBy::Name, Form::Struct);
    let routes = vec![envoyx_harness::proxy::route("/", "upstream", &[], None)];
    let listener = envoyx_harness::proxy::http_listener("secrets", "127.0.0.1", port, routes, vec![filter]);
    let mut bootstrap = bootstrap(free_port(), upstream.port, vec![listener], None);
    bootstrap["static_resources"]["secrets"] =
        json!([{ "name": secret, "generic_secret": { "secret": { "inline_string": value } } }]);
    let envoy = start_envoy(version, &bootstrap, dir);
    let read = |case: &str| {
        assert_eq!(get(port, "/", &[("x-case", case)]).status(), 200, "Envoy {version}: {case}");
        let seen = upstream.received().pop().expect("the request reached the upstream");
        seen.header("x-conf-secret").map(str::to_string)
    };
    // The static secret, and an undeclared name refused naming both declared ones.
    assert_eq!(read("secret").as_deref(), Some("declared=s3cret-value,undeclared=refused"));
    assert!(
        envoy.log().contains(
            "secret_get of `envoyx.conformance.other` refused: the filter configuration declares no secret of \
             that name (its `secrets`: `envoyx.conformance.secret`, `envoyx.conformance.sds`)"
        ),
        "{}",
        envoy.log_tail()
    );
    // SDS's value, then its rotation.
    let until = |wanted: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut seen = read("secret-sds");
        while seen.as_deref() != Some(wanted) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            seen = read("secret-sds");
        }
        seen
    };
    assert_eq!(until("first").as_deref(), Some("first"), "SDS delivered it");
    write_atomically(&sds, &sds_file("second"));
    assert_eq!(until("second").as_deref(), Some("second"), "SDS rotated it");
    envoy.check_no_host_errors();
}
