//! The example modules, each driven through the C++ host: C++ -> cxx -> core -> module.

mod host;

use envoyx_abi::*;
use host::{Filter, REQUEST, RESPONSE, logged, package};
use std::time::{Duration, Instant};

fn example(name: &str, config_name: &str, filter_config: &str) -> Filter {
    Filter::load(&package(&format!("envoyx-example-{name}")), config_name, filter_config)
        .unwrap_or_else(|e| panic!("example {name} did not load: {}", e.what()))
}

#[test]
fn helloworld_passes_everything_and_logs_through_the_cxx_sink() {
    let filter = example("helloworld", "cxx-hello", "helloworld");
    let mut stream = filter.stream();
    assert_eq!(stream.request_headers(&[(":path", "/hello")], false), ENVOYX_HEADERS_CONTINUE);
    assert_eq!(stream.request_body(&["pi", "ng"], false), ENVOYX_BODY_CONTINUE);
    assert_eq!(stream.request_trailers(&[("x-trailer", "1")]), ENVOYX_TRAILERS_CONTINUE);
    assert_eq!(stream.response_headers(&[(":status", "200")], false), ENVOYX_HEADERS_CONTINUE);
    assert_eq!(stream.response_body(&["po", "ng"], false), ENVOYX_BODY_CONTINUE);
    assert_eq!(stream.response_trailers(&[("x-trailer", "2")]), ENVOYX_TRAILERS_CONTINUE);
    drop(stream);
    assert!(logged("helloworld[cxx-hello]: request headers"));
    assert!(logged("helloworld[cxx-hello]: response headers, status 200"));
}

#[test]
fn headers_both_ways() {
    let filter = example("headers", "headers", "");
    let mut stream = filter.stream();
    let request = [
        (":path", "/"),
        ("x-envoyx-multi", "first"),
        ("x-envoyx-remove-me", "1"),
        ("x-envoyx-echo", "a"),
        ("x-envoyx-echo", "b"),
    ];
    assert_eq!(stream.request_headers(&request, true), ENVOYX_HEADERS_CONTINUE);
    let upstream = stream.upstream_request_headers();
    assert_eq!(upstream.get("x-envoyx-seen"), Some("true"));
    assert_eq!(upstream.values("x-envoyx-multi"), ["first", "added-by-envoyx"]);
    assert_eq!(upstream.get("x-envoyx-remove-me"), None);

    stream.response_headers(&[(":status", "200"), ("x-envoyx-secret", "s3cret")], true);
    let client = stream.client_response_headers();
    assert_eq!(client.get("x-envoyx-response"), Some("ok"));
    assert_eq!(client.get("x-envoyx-secret"), None);
    assert_eq!(client.values("x-envoyx-echo"), ["a", "b"]);
}

#[test]
fn body_rewrite_in_place_across_slices_with_zero_copies() {
    let filter = example("body-rewrite", "rewrite", "");
    let mut stream = filter.stream();
    stream.request_headers(&[(":path", "/")], false);
    assert_eq!(stream.request_body(&["hel", "lo, w", "orld"], false), ENVOYX_BODY_CONTINUE);
    assert!(stream.last_chunk_kept_its_memory(), "the module's writes landed in the host's slices");
    stream.request_body(&["!"], true);
    assert_eq!(stream.upstream_request_body(), b"HELLO, WORLD!");
    stream.response_headers(&[(":status", "200")], false);
    stream.response_body(&["abc", "déf"], true);
    assert_eq!(stream.client_response_body(), "ABCDéF".as_bytes());
    assert_eq!(stream.body_bytes_copied(), 0);
}

#[test]
fn body_rewrite_of_one_mib_over_many_slices() {
    let filter = example("body-rewrite", "rewrite", "request");
    let body: Vec<u8> = (0..1 << 20).map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[i % 36]).collect();
    let mut stream = filter.stream();
    stream.request_headers(&[(":path", "/")], false);
    // 16 KiB - 7: slice boundaries fall everywhere relative to the pattern; 65 slices.
    assert_eq!(stream.request_body_chunked(&body, 16 * 1024 - 7, true), ENVOYX_BODY_CONTINUE);
    assert!(stream.last_chunk_kept_its_memory());
    assert_eq!(stream.upstream_request_body(), body.to_ascii_uppercase());
    assert_eq!(stream.body_bytes_copied(), 0, "the module path copied body bytes");
}

#[test]
fn body_replace_over_the_buffered_body() {
    let filter = example("body-replace", "replace", "");
    let mut stream = filter.stream();
    let headers = [
        (":path", "/"),
        ("content-length", "16"),
        ("x-envoyx-prepend", "<<"),
        ("x-envoyx-append", ">>"),
        ("x-envoyx-replace", "cruel=kind"),
    ];
    assert_eq!(stream.request_headers(&headers, false), ENVOYX_HEADERS_CONTINUE);
    assert_eq!(stream.request_body(&["hello, ", "cr"], false), ENVOYX_BODY_STOP_ITERATION_AND_BUFFER);
    assert_eq!(stream.buffered_body(REQUEST), b"hello, cr");
    assert_eq!(stream.request_body(&["uel world"], true), ENVOYX_BODY_CONTINUE);
    assert_eq!(stream.upstream_request_body(), b"<<hello, kind world>>");
    assert_eq!(stream.upstream_request_headers().get("content-length"), None);
    assert_eq!(stream.body_bytes_copied(), (b"<<".len() + b">>".len() + b"kind".len()) as u64);
}

#[test]
fn send_response_local_replies() {
    let filter = example("send-response", "send", "");
    let mut unauthorized = filter.stream();
    assert_eq!(unauthorized.request_headers(&[(":path", "/")], true), ENVOYX_HEADERS_STOP_ITERATION);
    let reply = unauthorized.local_reply().expect("local reply");
    assert_eq!((reply.status, reply.body.as_slice()), (401, &b"unauthorized\n"[..]));
    assert_eq!(reply.headers.get("www-authenticate"), Some("Bearer"));
    assert_eq!(reply.details, "envoyx_unauthorized");
    assert!(!unauthorized.headers_forwarded(REQUEST));

    let mut failing = filter.stream();
    failing.request_headers(&[(":path", "/fail-response"), ("authorization", "Bearer t")], true);
    assert!(failing.headers_forwarded(REQUEST));
    failing.response_headers(&[(":status", "200")], true);
    let reply = failing.local_reply().expect("local reply on the response path");
    assert_eq!((reply.status, reply.details.as_str()), (500, "envoyx_failed_on_response"));
    // The upstream's 200 never reached the client: the reply replaced it, passing back through
    // the filter (as in Envoy) without reaching the module again.
    assert!(failing.headers_forwarded(RESPONSE));
    assert_eq!(failing.client_response_headers().get(":status"), Some("500"));
    assert_eq!(failing.client_response_body(), b"failed on response path\n");
}

#[test]
fn stream_response_answers_itself_and_pauses_for_a_slow_client() {
    let filter = example("stream-response", "sse", "events=3,interval_ms=0");
    let mut stream = filter.stream();
    assert_eq!(stream.request_headers(&[(":path", "/events")], true), ENVOYX_HEADERS_STOP_ITERATION);
    assert!(!stream.headers_forwarded(REQUEST), "no upstream is asked");
    assert_eq!(stream.client_response_headers().get("content-type"), Some("text/event-stream"));
    stream.watermark(RESPONSE, true);
    stream.run_scheduled();
    assert_eq!(stream.client_response_body(), b"id: 1\ndata: event 1 \n\nid: 2\ndata: event 2 \n\n");
    assert_eq!(stream.run_scheduled(), 1, "the event due while paused is held");
    assert_eq!(stream.run_scheduled(), 0);
    stream.watermark(RESPONSE, false);
    stream.run_scheduled();
    assert!(stream.client_response_body().ends_with(b"id: 3\ndata: event 3 \n\n"));
    assert!(stream.module_response_ended());
    assert_eq!(stream.client_response_trailers().get("x-envoyx-pauses"), Some("1"));
}

#[test]
fn delay_continues_from_another_thread() {
    let filter = example("delay", "delay", "50");
    let mut stream = filter.stream();
    let start = Instant::now();
    assert_eq!(stream.request_headers(&[(":path", "/")], false), ENVOYX_HEADERS_STOP_ITERATION);
    assert_eq!(stream.request_body(&["held"], true), ENVOYX_BODY_STOP_ITERATION_AND_BUFFER);
    assert!(!stream.headers_forwarded(REQUEST));
    assert!(stream.wait_scheduled(10_000), "no continue arrived from the timer thread");
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(stream.headers_forwarded(REQUEST));
    assert_eq!(stream.upstream_request_body(), b"held");
    assert_eq!(stream.continues(REQUEST), 1);
    stream.response_headers(&[(":status", "200")], true);
    let held_ms: u64 = stream.client_response_headers().get("x-envoyx-delayed-ms").unwrap().parse().unwrap();
    assert!(held_ms >= 50, "held {held_ms} ms");
}

#[test]
fn delay_continue_after_the_stream_is_gone_is_harmless() {
    let filter = example("delay", "delay", "30");
    let mut stream = filter.stream();
    stream.request_headers(&[(":path", "/")], true);
    drop(stream); // the timer thread still holds a handle and continues in 30 ms
    std::thread::sleep(Duration::from_millis(100));
    let mut next = filter.stream();
    next.request_headers(&[(":path", "/")], true);
    assert!(next.wait_scheduled(10_000));
    assert!(next.headers_forwarded(REQUEST));
}

#[test]
fn json_validate_reads_across_slices_and_answers_400() {
    let filter = example("json-validate", "validate", "user");
    let mut valid = filter.stream();
    valid.request_headers(&[(":path", "/"), ("content-type", "application/json")], false);
    assert_eq!(valid.request_body(&[r#"{"us"#], false), ENVOYX_BODY_STOP_ITERATION_AND_BUFFER);
    assert_eq!(valid.request_body(&[r#"er": "ann", "#, r#""n": 1}"#], true), ENVOYX_BODY_CONTINUE);
    assert!(valid.local_reply().is_none());
    assert_eq!(valid.upstream_request_body(), br#"{"user": "ann", "n": 1}"#);

    let mut invalid = filter.stream();
    invalid.request_headers(&[(":path", "/")], false);
    invalid.request_body(&[r#"{"name": "#, r#""ann"}"#], true);
    let reply = invalid.local_reply().expect("a 400");
    assert_eq!(reply.status, 400);
    assert_eq!(String::from_utf8_lossy(&reply.body).trim_end(), r#"{"error":"missing field \"user\""}"#);
    assert!(invalid.upstream_request_body().is_empty());
}

#[test]
fn example_config_rejections_surface_as_exceptions() {
    let path = package("envoyx-example-delay");
    let msg = host::json_load_error(&host::config_json(&path, "delay", "soon"));
    assert!(msg.contains("filter config `delay` rejected by the module"), "{msg}");
    assert!(msg.contains("\"soon\" is not a number of milliseconds"), "{msg}");
}
