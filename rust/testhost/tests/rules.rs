//! The stream rules the core owns, seen through the test host with the `rules` test module
//! (`rust/test-modules/rules`): body length versus `content-length`, header validation, local
//! reply checks. The stock host runs the same module inside real Envoy (`rust/stock-host/tests/rules.rs`).

use envoyx_testhost::{TestHost, TestStream, build_package, logged};

fn host() -> TestHost {
    TestHost::load(build_package("envoyx-test-module-rules"), "rules", "").unwrap()
}

/// A POST of `abcdefghi` in two chunks, with `content-length: 9`, and the upstream's answer
/// `hello` (with `content-length: 5`) in two chunks.
fn exchange(case: &str) -> TestStream {
    let mut stream = host().stream();
    stream.request_headers(
        &[(":method", "POST"), (":path", "/"), ("content-length", "9"), ("x-case", case)],
        false,
    );
    stream.request_body(&["abc", "d"], false);
    stream.request_body(&["efg", "hi"], true);
    stream.response_headers(&[(":status", "200"), ("content-length", "5")], false);
    stream.response_body(&["he"], false);
    stream.response_body(&["llo"], true);
    stream
}

#[test]
fn growing_a_request_body_after_its_headers_went_on_with_content_length_is_refused() {
    let s = exchange("req-grow-forwarded");
    assert_eq!(s.upstream_request_body(), b"abcdefghi", "the body the headers announced, intact");
    assert_eq!(s.upstream_request_headers().get("content-length").as_deref(), Some("9"));
    assert_eq!(s.client_response_headers().get("x-rules-append").as_deref(), Some("false"));
    assert!(logged("body_append on the request body refused"), "refusal logged");
    assert!(
        logged("content-length: 9") && logged("request_headers hook"),
        "the log names the length and the fix"
    );
}

#[test]
fn growing_a_held_request_body_sets_the_new_content_length() {
    let s = exchange("req-grow-held");
    assert_eq!(s.upstream_request_body(), b"abcdefghi+");
    assert_eq!(s.upstream_request_headers().get("content-length").as_deref(), Some("10"));
    assert_eq!(s.client_response_headers().get("x-rules-append").as_deref(), Some("true"));
}

#[test]
fn a_declared_length_change_goes_on_without_content_length() {
    let s = exchange("req-grow-declared");
    assert_eq!(s.upstream_request_body(), b"abcdefghi+");
    assert_eq!(s.upstream_request_headers().get("content-length"), None);
    assert_eq!(s.client_response_headers().get("x-rules-append").as_deref(), Some("true"));
}

#[test]
fn the_response_body_follows_the_same_rule() {
    let s = exchange("resp-grow-forwarded");
    assert_eq!(s.client_response_body(), b"hello");
    assert_eq!(s.client_response_headers().get("content-length").as_deref(), Some("5"));
    assert!(logged("body_append on the response body refused"));

    let s = exchange("resp-grow-held");
    assert_eq!(s.client_response_body(), b"hello+");
    assert_eq!(s.client_response_headers().get("content-length").as_deref(), Some("6"));
}

#[test]
fn bad_header_names_and_values_are_refused_and_names_lower_cased() {
    let s = exchange("bad-headers");
    let upstream = s.upstream_request_headers();
    assert_eq!(upstream.get("x-bad"), None);
    assert_eq!(upstream.get("x-empty"), None);
    assert_eq!(upstream.get("x-upper").as_deref(), Some("yes"));
    assert!(upstream.pairs().iter().any(|(k, _)| k == "x-upper"), "stored lower-case");
    assert_eq!(upstream.values(":path"), vec!["/"]);
    let client = s.client_response_headers();
    for (call, expected) in [("crlf", "false"), ("empty", "false"), ("upper", "true"), ("pseudo", "false")] {
        assert_eq!(client.get(&format!("x-rules-{call}")).as_deref(), Some(expected), "{call}");
    }
    assert!(logged(
        "header_set of `x-bad` on RequestHeaders refused: byte \\r is not allowed in a header value"
    ));
    assert!(logged("(filter `rules`), request_headers hook"), "module, filter and hook named");
}

#[test]
fn a_bad_local_reply_is_refused_and_a_good_one_sent() {
    let s = exchange("bad-reply");
    let reply = s.local_reply().expect("the valid reply was sent");
    assert_eq!(reply.status, 418);
    assert_eq!(reply.headers.get("x-rules-status99").as_deref(), Some("false"));
    assert_eq!(reply.headers.get("x-rules-crlf").as_deref(), Some("false"));
    assert_eq!(s.client_response_body(), b"teapot\n");
    assert!(!s.request_headers_forwarded(), "nothing went upstream");
    assert!(logged("local reply status 99 is outside 200-599"));
}

#[test]
fn a_local_reply_after_the_response_started_is_refused() {
    let s = exchange("late-reply");
    assert!(s.local_reply().is_none());
    assert_eq!(s.client_response_body(), b"hello");
    assert!(logged("the response already started"));
}
