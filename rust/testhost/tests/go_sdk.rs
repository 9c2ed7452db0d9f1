//! The Go SDK (`go/envoyx`) through the real core, with its test module (`go/testmodule`, built
//! with the Go toolchain EnvoyX installs): headers read, set, added and removed; a local reply;
//! a refused header value; a refused configuration; panics recovered (500 on the request path,
//! reset on the response path) with the next stream served.

use envoyx_testhost::{TestHost, TestStream, logged};
use std::path::Path;

fn go_host(filter_config: &str) -> Result<TestHost, envoyx_core::Error> {
    // Built once: a rebuilt file is another version, and a process holds one Go runtime.
    static MODULE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let module = MODULE.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/testmodule");
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-modules");
        envoyx_build::build_go_module(&source, "go_testmodule", &out).unwrap_or_else(|e| panic!("{e}"))
    });
    TestHost::load(module, "gotest", filter_config)
}

fn request(host: &TestHost, case: &str, extra: &[(&str, &str)]) -> TestStream {
    let mut headers = vec![(":path", "/"), ("x-case", case)];
    headers.extend_from_slice(extra);
    let mut stream = host.stream();
    stream.request_headers(&headers, true);
    stream
}

#[test]
fn the_go_sdk_on_the_real_core() {
    let host = go_host("").unwrap();

    let mut stream =
        request(&host, "headers", &[("x-multi", "one"), ("x-multi", "two"), ("x-remove-me", "1")]);
    let upstream = stream.upstream_request_headers();
    assert_eq!(upstream.get("x-set").as_deref(), Some("set by go"));
    assert_eq!(upstream.values("x-multi"), vec!["one", "two", "added by go"]);
    assert_eq!(upstream.get("x-remove-me"), None);
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(
        stream.client_response_headers().get("x-go-seen").as_deref(),
        Some("multi=one|two,entries=5,removed=1")
    );
    assert!(logged("go testmodule[gotest]: request headers, case \"headers\""), "Go logs reach the host");

    let stream = request(&host, "reply", &[]);
    let reply = stream.local_reply().expect("a local reply");
    assert_eq!((reply.status, reply.body.as_slice()), (403, &b"forbidden by go"[..]));
    assert_eq!(reply.headers.get("x-go-reply").as_deref(), Some("yes"));
    assert_eq!(reply.details, "go_denied");

    let mut stream = request(&host, "bad-header", &[]);
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(stream.client_response_headers().get("x-go-seen").as_deref(), Some("crlf-accepted=false"));

    let stream = request(&host, "panic-request", &[]);
    assert_eq!(stream.local_reply().map(|r| r.status), Some(500), "a panic on the request path answers 500");
    assert!(logged("envoyx Go module panicked in OnRequestHeaders: boom in go request headers"));
    let mut stream = request(&host, "panic-response", &[]);
    stream.response_headers(&[(":status", "200")], true);
    assert!(stream.was_reset(), "a panic on the response path resets the stream");

    let mut stream = request(&host, "headers", &[]);
    stream.response_headers(&[(":status", "200")], true);
    assert!(stream.client_response_headers().get("x-go-seen").is_some(), "the next stream is served");

    let Err(err) = go_host("reject") else { panic!("the module refuses this config") };
    assert!(err.to_string().contains("the go test module refuses filter_config \"reject\""), "{err}");
}
