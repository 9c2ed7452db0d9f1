use envoyx_testhost::{BodyStatus, HeadersStatus, TestHost, TrailersStatus, build_module};

#[test]
fn passes_everything_through_and_logs_each_event() {
    let host = TestHost::load(build_module(env!("CARGO_MANIFEST_DIR")), "hello", "helloworld").unwrap();
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/hello")], false), HeadersStatus::Continue);
    assert_eq!(stream.request_body(&["ping"], false), BodyStatus::Continue);
    assert_eq!(stream.request_trailers(&[("x-trailer", "1")]), TrailersStatus::Continue);
    assert_eq!(stream.response_headers(&[(":status", "200")], false), HeadersStatus::Continue);
    assert_eq!(stream.response_body(&["po", "ng"], true), BodyStatus::Continue);
    drop(stream);
    let lines = envoyx_testhost::logs().iter().filter(|(_, m)| m.contains("helloworld")).count();
    assert!(lines >= 5, "expected a log line per event, got {lines}");
}
