use envoyx_testhost::{HeadersStatus, TestHost, build_module};

fn host() -> TestHost {
    TestHost::load(build_module(env!("CARGO_MANIFEST_DIR")), "send", "").unwrap()
}

#[test]
fn unauthorized_request_gets_401() {
    let host = host();
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/")], true), HeadersStatus::StopIteration);
    let reply = stream.local_reply().expect("local reply");
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body, b"unauthorized\n");
    assert_eq!(reply.headers.get("www-authenticate").as_deref(), Some("Bearer"));
    assert!(!stream.request_headers_forwarded());
}

#[test]
fn authorized_request_passes_and_fail_response_gets_500() {
    let host = host();
    let mut ok = host.stream();
    assert_eq!(
        ok.request_headers(&[(":path", "/"), ("authorization", "Bearer t")], true),
        HeadersStatus::Continue
    );
    ok.response_headers(&[(":status", "200")], true);
    assert!(ok.local_reply().is_none());

    let mut failing = host.stream();
    failing.request_headers(&[(":path", "/fail-response"), ("authorization", "Bearer t")], true);
    failing.response_headers(&[(":status", "200")], true);
    let reply = failing.local_reply().expect("local reply on the response path");
    assert_eq!((reply.status, reply.body.as_slice()), (500, &b"failed on response path\n"[..]));
}
