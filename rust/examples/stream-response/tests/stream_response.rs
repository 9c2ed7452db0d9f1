//! The stream-response example on the in-process test host: events over time from scheduled
//! work, a pause while the client is behind, the trailers that end it, and bad numbers refused.

use envoyx_example_stream_response::{Plan, StreamResponseConfig, event};
use envoyx_testhost::{Direction, HeadersStatus, TestHost};
use std::time::Duration;

fn host(name: &str, config: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<StreamResponseConfig>(), name, config).unwrap()
}

fn events(stream: &envoyx_testhost::TestStream) -> Vec<String> {
    String::from_utf8(stream.client_response_body())
        .unwrap()
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.lines().next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_filter_answers_itself_one_event_at_a_time() {
    let host = host("sse", "events=3,interval_ms=0");
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/events")], true), HeadersStatus::StopIteration);
    assert!(!stream.request_headers_forwarded(), "no upstream is asked");
    let headers = stream.client_response_headers();
    assert_eq!(headers.get(":status").as_deref(), Some("200"));
    assert_eq!(headers.get("content-type").as_deref(), Some("text/event-stream"));
    assert_eq!(events(&stream), ["id: 1"]);
    assert_eq!(stream.run_scheduled(), 1);
    assert_eq!(stream.run_scheduled(), 1);
    assert_eq!(events(&stream), ["id: 1", "id: 2", "id: 3"]);
    let trailers = stream.client_response_trailers().expect("the trailers end it");
    assert_eq!(trailers.get("x-envoyx-events-sent").as_deref(), Some("3"));
    assert_eq!(trailers.get("x-envoyx-pauses").as_deref(), Some("0"));
    assert_eq!(stream.run_scheduled(), 0, "nothing more after the end");
}

#[test]
fn a_slow_client_pauses_the_producer_until_it_catches_up() {
    let host = host("sse-slow", "events=4,interval_ms=0");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/events"), ("x-envoyx-event-bytes", "10")], true);
    stream.watermark(Direction::Response, true);
    // The event due and the news: the producer holds the event.
    assert_eq!(stream.run_scheduled(), 2);
    assert_eq!(events(&stream), ["id: 1", "id: 2"]);
    assert_eq!(stream.run_scheduled(), 1);
    assert_eq!(stream.run_scheduled(), 0, "paused: nothing is produced");
    assert_eq!(events(&stream).len(), 2);
    stream.watermark(Direction::Response, false);
    assert_eq!(stream.run_scheduled(), 1, "the held event goes as soon as the client caught up");
    assert_eq!(stream.run_scheduled(), 1);
    assert_eq!(events(&stream), ["id: 1", "id: 2", "id: 3", "id: 4"]);
    assert_eq!(stream.client_response_body().len(), 4 * event(1, 10).len());
    let trailers = stream.client_response_trailers().unwrap();
    assert_eq!(trailers.get("x-envoyx-pauses").as_deref(), Some("1"));
}

#[test]
fn events_come_over_time_from_a_timer_thread() {
    let host = host("sse-timer", "events=2,interval_ms=20");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/events")], true);
    assert_eq!(events(&stream), ["id: 1"]);
    assert!(stream.wait_scheduled(Duration::from_secs(5)), "the timer thread scheduled the next");
    assert_eq!(events(&stream), ["id: 1", "id: 2"]);
    assert!(stream.client_response_trailers().is_some());
}

#[test]
fn bad_numbers_are_refused_with_their_reason() {
    assert_eq!(Plan::parse(b"").unwrap(), Plan::default());
    assert_eq!(Plan::parse(b"events=2, interval_ms=0").unwrap().events, 2);
    let error = Plan::parse(b"events=lots").unwrap_err();
    assert!(error.starts_with("stream-response: events \"lots\": invalid digit"), "{error}");
    assert!(Plan::parse(b"events=2000000").unwrap_err().contains("events 2000000 is over 1000000"));
    assert!(Plan::parse(b"speed=9").unwrap_err().contains("unknown key \"speed\""));
    let host = host("sse-bad", "");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), ("x-envoyx-events", "-1")], true);
    let reply = stream.local_reply().expect("a 400");
    assert_eq!(reply.status, 400);
    assert!(String::from_utf8_lossy(&reply.body).starts_with("events \"-1\": invalid digit"));
}
