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

#[test]
fn echo_upstream_answers_with_trailers_when_asked() {
    let upstream = Upstream::start().unwrap();
    let reply = request(
        upstream.port,
        "POST",
        "/t",
        &[("x-upstream-respond-trailer-x-t1", "one"), ("x-upstream-respond-trailer-x-t2", "two")],
        b"abc",
    )
    .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.header("transfer-encoding"), Some("chunked"));
    assert_eq!(reply.header("trailer-x-t1"), None, "a trailer is not also a header");
    assert_eq!(reply.body, b"abc");
    assert_eq!(reply.trailers, [("x-t1".into(), "one".into()), ("x-t2".into(), "two".into())]);
    // Without a body: no data chunk, only the last chunk and the trailers.
    let reply = request(upstream.port, "GET", "/t", &[("x-upstream-respond-trailer-x-t", "1")], b"").unwrap();
    assert!(reply.body.is_empty());
    assert_eq!(reply.trailers, [("x-t".into(), "1".into())]);
}

#[test]
fn echo_upstream_aborts_mid_response_when_asked() {
    use std::io::{Read, Write};
    let upstream = Upstream::start().unwrap();
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", upstream.port)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    conn.write_all(
        b"POST /a HTTP/1.1\r\nhost: x\r\nx-upstream-abort-after: 3\r\ncontent-length: 10\r\n\r\n0123456789",
    )
    .unwrap();
    let mut got = Vec::new();
    conn.read_to_end(&mut got).unwrap(); // ends: the upstream closed the connection
    let got = String::from_utf8(got).unwrap();
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
    assert!(got.contains("content-length: 10\r\n"), "{got}");
    assert!(got.ends_with("\r\n\r\n012"), "three body bytes, then the end: {got}");
    assert_eq!(upstream.received().len(), 1);
}

#[test]
fn free_ports_are_distinct_bindable_and_outside_the_ephemeral_range() {
    let ports: Vec<u16> = (0..50).map(|_| free_port().unwrap()).collect();
    let mut unique = ports.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ports.len(), "a port handed out twice: {ports:?}");
    for port in ports {
        assert!((20_000..32_000).contains(&port), "{port}");
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    }
}
