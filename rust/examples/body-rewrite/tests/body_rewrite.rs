use envoyx_testhost::{BodyStatus, SliceBuffer, TestHost, build_module};

fn module() -> std::path::PathBuf {
    build_module(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn upper_cases_both_directions_across_slice_boundaries() {
    let host = TestHost::load(module(), "rewrite", "").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], false);
    assert_eq!(stream.request_body(&["hel", "lo, w", "orld"], false), BodyStatus::Continue);
    assert_eq!(stream.request_body(&["!", " more"], true), BodyStatus::Continue);
    assert_eq!(stream.upstream_request_body(), b"HELLO, WORLD! MORE");
    stream.response_headers(&[(":status", "200")], false);
    stream.response_body(&["abc", "déf"], true);
    assert_eq!(stream.client_response_body(), "ABCDéF".as_bytes(), "ASCII only; UTF-8 untouched");
    assert_eq!(stream.body_bytes_copied(), 0);
}

#[test]
fn one_mib_over_many_slices_is_rewritten_in_place_with_zero_copies() {
    let host = TestHost::load(module(), "rewrite", "request").unwrap();
    let body: Vec<u8> = (0..1 << 20).map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]).collect();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], false);
    let chunk = SliceBuffer::chunked(&body, 16 * 1024 - 7);
    assert!(chunk.slice_count() > 60);
    stream.request_body_buffer(chunk, true);
    assert_eq!(stream.upstream_request_body(), body.to_ascii_uppercase());
    assert_eq!(stream.body_bytes_copied(), 0, "the module path copied body bytes");
}

#[test]
fn direction_config_is_checked() {
    let host = TestHost::load(module(), "rewrite", "response").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], false);
    stream.request_body(&["quiet"], true);
    assert_eq!(stream.upstream_request_body(), b"quiet");
    let err = TestHost::load(module(), "rewrite", "sideways").err().expect("bad config rejected");
    assert!(err.to_string().contains("rejected by the module"), "{err}");
    assert!(err.to_string().contains("sideways"), "{err}");
}
