use envoyx_testhost::{Direction, HeadersStatus, TestHost, build_module};
use std::time::{Duration, Instant};

fn module() -> std::path::PathBuf {
    build_module(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn stops_then_continues_from_another_thread() {
    let host = TestHost::load(module(), "delay", "100").unwrap();
    let mut stream = host.stream();
    let start = Instant::now();
    assert_eq!(stream.request_headers(&[(":path", "/")], true), HeadersStatus::StopIteration);
    assert!(!stream.request_headers_forwarded());
    assert!(stream.wait_scheduled(Duration::from_secs(10)), "no continue arrived");
    assert!(start.elapsed() >= Duration::from_millis(100));
    assert!(stream.request_headers_forwarded());
    assert_eq!(stream.continues(Direction::Request), 1);
}

#[test]
fn delays_the_response_on_request() {
    let host = TestHost::load(module(), "delay", "10").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), ("x-envoyx-delay-response", "50")], true);
    assert!(stream.wait_scheduled(Duration::from_secs(10)));
    assert_eq!(stream.response_headers(&[(":status", "200")], true), HeadersStatus::StopIteration);
    assert!(stream.wait_scheduled(Duration::from_secs(10)));
    assert!(stream.response_headers_forwarded());
}

#[test]
fn continue_after_the_stream_is_gone_is_harmless() {
    let host = TestHost::load(module(), "delay", "50").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    drop(stream); // the timer thread still holds a handle and will continue in 50 ms
    std::thread::sleep(Duration::from_millis(150));
    let mut next = host.stream();
    next.request_headers(&[(":path", "/")], true);
    assert!(next.wait_scheduled(Duration::from_secs(10)));
}

#[test]
fn malformed_delay_is_rejected() {
    let err = TestHost::load(module(), "delay", "soon").err().expect("rejected");
    assert!(err.to_string().contains("rejected by the module"), "{err}");
}
