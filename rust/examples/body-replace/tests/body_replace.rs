use envoyx_testhost::{BodyStatus, HeadersStatus, TestHost, build_module};

#[test]
fn prepends_appends_and_replaces_over_the_whole_buffered_body() {
    let host = TestHost::load(build_module(env!("CARGO_MANIFEST_DIR")), "replace", "").unwrap();
    let mut stream = host.stream();
    let status = stream.request_headers(
        &[
            (":path", "/"),
            ("content-length", "16"),
            ("x-envoyx-prepend", "<<"),
            ("x-envoyx-append", ">>"),
            ("x-envoyx-replace", "cruel=kind"),
        ],
        false,
    );
    assert_eq!(status, HeadersStatus::Continue);
    assert_eq!(stream.request_body(&["hello, ", "cr"], false), BodyStatus::StopIterationAndBuffer);
    assert_eq!(stream.request_body(&["uel world"], true), BodyStatus::Continue);
    let body = stream.upstream_request_body();
    assert_eq!(body, b"<<hello, kind world>>");
    let headers = stream.upstream_request_headers();
    match headers.get("content-length") {
        None => {}
        Some(len) => assert_eq!(len, body.len().to_string(), "content-length left wrong"),
    }
}

#[test]
fn untouched_without_instructions() {
    let host = TestHost::load(build_module(env!("CARGO_MANIFEST_DIR")), "replace", "").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), ("content-length", "5")], false);
    stream.request_body(&["hel", "lo"], true);
    assert_eq!(stream.upstream_request_body(), b"hello");
    assert_eq!(stream.upstream_request_headers().get("content-length").as_deref(), Some("5"));
}
