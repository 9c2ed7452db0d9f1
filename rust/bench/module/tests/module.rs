//! The compiled module on the in-process test host.

use envoyx_bench_module::ADDED_HEADER;

#[test]
fn header_job_adds_one_response_header() {
    let so = envoyx_testhost::build_module(env!("CARGO_MANIFEST_DIR"));
    let host = envoyx_testhost::TestHost::load(so, "bench", "header").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), (":method", "GET")], true);
    stream.response_headers(&[(":status", "200"), (ADDED_HEADER.0, "0")], true);
    let response = stream.client_response_headers();
    assert_eq!(response.values(ADDED_HEADER.0), vec!["0".to_string(), ADDED_HEADER.1.to_string()]);
}

#[test]
fn pass_job_changes_nothing() {
    let so = envoyx_testhost::build_module(env!("CARGO_MANIFEST_DIR"));
    let host = envoyx_testhost::TestHost::load(so, "bench", "pass").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), (":method", "POST")], false);
    stream.request_body(&[b"abc".as_slice(), b"def"], true);
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(stream.client_response_headers().get(ADDED_HEADER.0), None);
    assert_eq!(stream.body_bytes_copied(), 0);
}

#[test]
fn refuses_an_unknown_job() {
    let so = envoyx_testhost::build_module(env!("CARGO_MANIFEST_DIR"));
    assert!(envoyx_testhost::TestHost::load(so, "bench", "sideways").is_err());
}
