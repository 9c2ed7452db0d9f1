use envoyx_testhost::{TestHost, build_module};

#[test]
fn gets_sets_adds_and_removes_both_ways() {
    let host = TestHost::load(build_module(env!("CARGO_MANIFEST_DIR")), "headers", "").unwrap();
    let mut stream = host.stream();
    stream.request_headers(
        &[
            (":path", "/"),
            ("x-envoyx-multi", "first"),
            ("x-envoyx-remove-me", "gone"),
            ("x-envoyx-echo", "one"),
            ("x-envoyx-echo", "two"),
        ],
        true,
    );
    let upstream = stream.upstream_request_headers();
    assert_eq!(upstream.get("x-envoyx-seen").as_deref(), Some("true"));
    assert_eq!(upstream.values("x-envoyx-multi").len(), 2);
    assert_eq!(upstream.values("x-envoyx-multi")[0], "first");
    assert_eq!(upstream.get("x-envoyx-remove-me"), None);

    stream.response_headers(&[(":status", "200"), ("x-envoyx-secret", "s3cr3t")], true);
    let client = stream.client_response_headers();
    assert_eq!(client.get("x-envoyx-response").as_deref(), Some("ok"));
    assert_eq!(client.get("x-envoyx-secret"), None);
    assert_eq!(client.values("x-envoyx-echo"), vec!["one", "two"]);
}
