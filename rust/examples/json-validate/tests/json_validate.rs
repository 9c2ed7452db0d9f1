use envoyx_testhost::{BodyStatus, TestHost, build_module};

fn host() -> TestHost {
    TestHost::load(build_module(env!("CARGO_MANIFEST_DIR")), "validate", "user").unwrap()
}

#[test]
fn valid_json_with_the_field_passes() {
    let host = host();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), ("content-type", "application/json")], false);
    assert_eq!(stream.request_body(&[r#"{"us"#], false), BodyStatus::StopIterationAndBuffer);
    assert_eq!(stream.request_body(&[r#"er": "ann", "#, r#""n": 1}"#], true), BodyStatus::Continue);
    assert!(stream.local_reply().is_none());
    assert_eq!(stream.upstream_request_body(), br#"{"user": "ann", "n": 1}"#);
}

#[test]
fn missing_field_or_not_json_gets_400() {
    for body in [r#"{"name": "ann"}"#, "not json", "[1,2]"] {
        let host = host();
        let mut stream = host.stream();
        stream.request_headers(&[(":path", "/")], false);
        stream.request_body(&[body], true);
        let reply = stream.local_reply().unwrap_or_else(|| panic!("no reply for {body}"));
        assert_eq!(reply.status, 400, "{body}");
        assert!(String::from_utf8_lossy(&reply.body).contains("error"), "{body}");
        assert!(stream.upstream_request_body().is_empty(), "{body} reached upstream");
    }
}

#[test]
fn no_body_gets_400_and_empty_field_name_is_rejected() {
    let host = host();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.local_reply().map(|r| r.status), Some(400));
    assert!(TestHost::load(build_module(env!("CARGO_MANIFEST_DIR")), "validate", "").is_err());
}
