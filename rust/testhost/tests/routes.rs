//! Per-route configuration (ABI 1.1) on the Rust test host: what the module refuses, a module
//! that takes none, and a per-route config made by another module (which the stream's module
//! must not be handed).

mod common;

use common::c_module;
use envoyx_testhost::{TestHost, build_package, logged};

fn conformance(name: &str) -> TestHost {
    TestHost::load(build_package("envoyx-test-module-conformance"), name, "").unwrap()
}

#[test]
fn a_refused_per_route_config_is_an_error_with_the_modules_reason() {
    let host = conformance("routes-refused");
    let err = host.route_config("r1", "reject").unwrap_err().to_string();
    assert!(
        err.contains(
            "per-route config `r1` rejected by the module: conformance: per-route config `r1` says reject"
        ),
        "{err}"
    );
    assert!(host.route_config("r2", "fine").is_ok());
}

#[test]
fn a_module_without_route_hooks_takes_no_per_route_config() {
    let host = TestHost::load(c_module("no_routes", &[]), "t", "").unwrap();
    let err = host.route_config("r", "anything").unwrap_err().to_string();
    assert!(err.contains("per-route config `r`: the module takes no per-route configuration"), "{err}");
}

#[test]
fn a_per_route_config_of_another_module_is_not_handed_over() {
    let host = conformance("routes-mismatch");
    let exports = envoyx_sdk::module_exports_with_routes::<
        envoyx_test_module_conformance::ConformanceConfig,
        envoyx_test_module_conformance::ConformanceRoute,
    >();
    let other = TestHost::in_process(exports, "other", "").unwrap();
    let foreign = other.route_config("foreign-route", "role=admin").unwrap();
    let mut stream = host.stream_on_route(Some(foreign));
    stream.request_headers(&[(":path", "/"), (":method", "GET"), ("x-case", "route-config")], true);
    assert_eq!(stream.upstream_request_headers().get("x-conf-route").as_deref(), Some("none"));
    assert!(logged(
        "route_config refused: the per-route config `foreign-route` that applies here is for module (in-process) other"
    ));
}
