//! The Go SDK (`go/envoyx`) through the real core, with its test module (`go/testmodule`, built
//! with the Go toolchain EnvoyX installs): headers read, set, added and removed; a local reply;
//! a refused header value; a refused configuration; panics recovered (500 on the request path,
//! reset on the response path) with the next stream served; bodies edited in place and through
//! the host; continues and scheduled functions from goroutines.

use envoyx_testhost::{BodyStatus, HeadersStatus, TestHost, TestStream, logged};
use std::path::Path;
use std::time::Duration;

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

fn request_with_body(host: &TestHost, case: &str) -> TestStream {
    let mut stream = host.stream();
    assert_eq!(
        stream.request_headers(&[(":path", "/"), ("x-case", case)], false),
        HeadersStatus::StopIteration
    );
    stream
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
    assert!(logged(
        "the request_headers hook failed: panicked in OnRequestHeaders: boom in go request headers"
    ));
    let mut stream = request(&host, "panic-response", &[]);
    stream.response_headers(&[(":status", "200")], true);
    assert!(stream.was_reset(), "a panic on the response path resets the stream");

    let mut stream = request(&host, "headers", &[]);
    stream.response_headers(&[(":status", "200")], true);
    assert!(stream.client_response_headers().get("x-go-seen").is_some(), "the next stream is served");

    // Bodies: views into the host's slices written in place, a reader across them, prepend,
    // append and replace; an out-of-range replace refused.
    let mut stream = request_with_body(&host, "body");
    assert_eq!(stream.request_body(&["the quick ", "brown fox"], false), BodyStatus::StopIterationAndBuffer);
    assert_eq!(stream.request_body(&[" jumps"], true), BodyStatus::Continue);
    assert_eq!(stream.upstream_request_body(), b"<THE QUICK BROWN cat JUMPS>");
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(
        stream.client_response_headers().get("x-go-seen").as_deref(),
        Some("slices=3,len=25,whole=THE QUICK BROWN FOX JUMPS,bad-range=false")
    );
    assert_eq!(stream.body_bytes_copied(), 5, "only what the module handed in is copied: <, > and cat");

    // Acting after work on another goroutine: a continue, and scheduled functions.
    let mut stream = request(&host, "continue", &[]);
    assert!(!stream.request_headers_forwarded());
    assert!(stream.wait_scheduled(Duration::from_secs(10)), "the goroutine's continue arrives");
    assert!(stream.request_headers_forwarded(), "continued from a goroutine");

    let mut stream = request(&host, "schedule", &[]);
    assert!(stream.wait_scheduled(Duration::from_secs(10)), "the scheduled function runs");
    assert!(stream.request_headers_forwarded(), "continued inside the scheduled function");
    assert_eq!(stream.upstream_request_headers().get("x-scheduled").as_deref(), Some("yes"));
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(stream.client_response_headers().get("x-go-seen").as_deref(), Some("continued=true"));

    let mut stream = request(&host, "schedule-reply", &[]);
    assert!(stream.wait_scheduled(Duration::from_secs(10)));
    assert_eq!(stream.local_reply().map(|r| (r.status, r.body)), Some((429, b"slow down".to_vec())));

    let mut stream = request(&host, "schedule-panic", &[]);
    assert!(stream.wait_scheduled(Duration::from_secs(10)));
    assert_eq!(
        stream.local_reply().map(|r| r.status),
        Some(500),
        "a panic in a scheduled function answers 500"
    );
    assert!(logged(
        "the scheduled hook failed: panicked in a scheduled function: boom in a scheduled function"
    ));

    let Err(err) = go_host("reject") else { panic!("the module refuses this config") };
    assert!(err.to_string().contains("the go test module refuses filter_config \"reject\""), "{err}");
}
