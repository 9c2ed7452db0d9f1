//! The harness against itself and real Envoy: the echo upstream through the HTTP client, and an
//! Envoy started on a bootstrap from `config` that serves through to the upstream and stops
//! cleanly on SIGTERM.

use envoyx_harness::{EnvoyCommand, Upstream, bootstrap, free_port, listener, post_chunked, request};
use std::time::Duration;

#[test]
fn echo_upstream_echoes_body_headers_and_trailers() {
    let upstream = Upstream::start().unwrap();
    let reply =
        request(upstream.port, "POST", "/x", &[("x-upstream-respond-x-hi", "there")], b"abc").unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.body, b"abc");
    assert_eq!(reply.header("x-hi"), Some("there"));
    assert_eq!(reply.header("x-upstream-drop-me"), Some("1"));
    let reply = post_chunked(upstream.port, "/y", &[b"ab", b"cd"], &[("x-t", "1")]).unwrap();
    assert_eq!(reply.body, b"abcd");
    assert_eq!(reply.header("x-upstream-saw-trailer-x-t"), Some("1"));
    let received = upstream.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].start, "POST /y HTTP/1.1");
}

#[test]
fn envoy_serves_the_bootstrap_and_stops_cleanly_on_sigterm() {
    let version = "1.40.0";
    let binary = envoyx_harness::envoy_path(version).unwrap();
    let upstream = Upstream::start().unwrap();
    let port = free_port().unwrap();
    let config = bootstrap(free_port().unwrap(), upstream.port, vec![listener("plain", port, vec![])], None);
    let command = EnvoyCommand {
        binary: &binary,
        version,
        bootstrap: &config,
        module_search_path: None,
        log_level: "info",
    };
    let mut envoy = command.spawn(tempfile::tempdir().unwrap()).unwrap();
    envoy.wait_ready(Duration::from_secs(60)).unwrap();
    let reply = request(port, "GET", "/through", &[], b"").unwrap();
    assert_eq!(reply.status(), 200, "{}", envoy.log_tail());
    assert_eq!(upstream.received().len(), 1);
    let status = envoy.stop(Duration::from_secs(20)).unwrap();
    assert!(status.success(), "Envoy exited with {status} on SIGTERM:\n{}", envoy.log_tail());
    assert!(request(port, "GET", "/", &[], b"").is_err(), "listener still open after stop");
}

#[test]
fn spawn_without_an_admin_port_is_refused() {
    let binary = std::path::Path::new("/bin/true");
    let config = serde_json::json!({ "static_resources": {} });
    let command = EnvoyCommand {
        binary,
        version: "x",
        bootstrap: &config,
        module_search_path: None,
        log_level: "info",
    };
    let err = command.spawn(tempfile::tempdir().unwrap()).err().expect("spawn must fail");
    assert!(err.to_string().contains("admin.address"), "{err}");
}
