//! Streams on the C++ host through the loader: every host function answers from C++ memory, the
//! core's event order reaches C++ as exceptions, and the stream lifecycle holds.

mod host;

use envoyx_abi::*;
use host::{Filter, REQUEST, c_module, logged, probe_module};

#[test]
fn header_entries_counted_values_drain_and_length() {
    let filter = Filter::load(&probe_module(), "probe", "").unwrap();
    let mut stream = filter.stream();
    let status = stream.request_headers(&[(":path", "/p"), ("X-Multi", "one"), ("x-multi", "two")], false);
    assert_eq!(status, ENVOYX_HEADERS_CONTINUE);
    let headers = stream.upstream_request_headers();
    assert_eq!(headers.get("x-probe-entries"), Some(":path=/p;x-multi=one;x-multi=two;"));
    assert_eq!(headers.get("x-probe-multi"), Some("2 one"), "total beyond the room given, first value");
    assert_eq!(stream.request_body(&["ab", "cdef"], true), ENVOYX_BODY_CONTINUE);
    assert_eq!(stream.upstream_request_body(), b"cdef");
    // The probe tries to report the length in the request headers, which had already gone on:
    // refused (a late change would reach the upstream or not, depending on timing).
    assert_eq!(stream.current_request_headers().get("x-probe-length"), None);
    assert_eq!(stream.upstream_request_headers().get("x-probe-length"), None);
    assert!(logged(
        "header_set of `x-probe-length` on RequestHeaders refused: these headers already went on past this filter"
    ));
    assert_eq!(stream.body_bytes_copied(), 0);
}

#[test]
fn events_out_of_order_throw_and_are_not_delivered() {
    let filter = Filter::load(&c_module("order", &[]), "t", "").unwrap();
    let mut stream = filter.stream();
    let err = stream.core_request_body(&["x"], false).unwrap_err();
    assert_eq!(err.what(), "EnvoyX stream: event request_body out of order: headers have not arrived yet");
    stream.request_headers(&[(":path", "/")], false);
    stream.request_trailers(&[("x-t", "1")]);
    let err = stream.core_request_trailers(&[("x-t", "2")]).unwrap_err();
    assert_eq!(
        err.what(),
        "EnvoyX stream: event request_trailers out of order: this direction already ended"
    );
    stream.complete();
    let err = stream.core_request_headers(&[(":path", "/")], true).unwrap_err();
    assert!(err.what().ends_with("the stream is already complete"), "{}", err.what());
}

#[test]
fn stream_new_failure_answers_500_and_is_logged_through_the_cxx_log_sink() {
    let filter = Filter::load(&c_module("fail_stream", &[]), "failing", "fail-stream").unwrap();
    let mut stream = filter.stream();
    stream.request_headers(&[(":path", "/")], true);
    let reply = stream.local_reply().expect("a local reply");
    assert_eq!((reply.status, reply.details.as_str()), (500, "envoyx_stream_new_failed"));
    assert!(!stream.headers_forwarded(REQUEST));
    assert!(logged("stream-new hook of filter `failing` returned NULL"));
}

#[test]
fn streams_outlive_their_filter_config() {
    let filter = Filter::load(&c_module("outlive", &[]), "t", "").unwrap();
    let mut stream = filter.stream();
    drop(filter);
    stream.request_headers(&[(":path", "/")], false);
    stream.request_body(&["still ", "here"], true);
    assert_eq!(stream.upstream_request_body(), b"still here");
    assert_eq!(stream.upstream_request_headers().get("x-c-module"), Some("seen"));
}

#[test]
fn one_filter_config_serves_worker_threads_at_once() {
    // The probe keeps no per-stream state that threads share, and its lifecycle counters are atomic.
    let filter = Filter::load(&probe_module(), "t", "").unwrap();
    assert_eq!(filter.streams_on_worker_threads(4, 50), 200);
}

#[test]
fn a_null_host_is_refused() {
    let filter = Filter::load(&c_module("null_host", &[]), "t", "").unwrap();
    assert_eq!(filter.null_host_error(), "EnvoyX loader: new_stream needs a StreamHost, got a null pointer");
}

#[test]
fn configuration_events_run_when_the_main_thread_pumps_them_and_never_after_drop() {
    let module = envoyx_build::build_package("envoyx-test-module-conformance");
    let filter = Filter::load(&module, "background-cxx", "background").unwrap();
    assert_eq!(filter.run_config_scheduled(5000), 1, "the module's one event");
    assert_eq!(filter.run_config_scheduled(0), 0, "nothing more was scheduled");
    let callouts = filter.pending_config_callouts();
    assert_eq!(callouts.len(), 1, "the event started the configuration's callout");
    assert_eq!(callouts[0].cluster, "callout");
    let headers = [(":status", "200"), ("x-verdict", "allow")];
    filter.answer_config_callout(callouts[0].id, ENVOYX_CALLOUT_RESPONSE, &headers, b"key");
    // The answer opened a streaming callout (its body sent in two pieces), and one it reset.
    let callouts = filter.pending_config_callouts();
    assert_eq!(callouts.len(), 1, "the reset one is gone");
    let (id, ok) = (callouts[0].id, ENVOYX_CALLOUT_RESPONSE);
    assert!(callouts[0].streaming && callouts[0].request_ended);
    assert_eq!(callouts[0].body, b"key");
    filter.config_callout_stream_event(id, ENVOYX_CALLOUT_EVENT_HEADERS, ok, &headers, b"", false);
    filter.config_callout_stream_event(id, ENVOYX_CALLOUT_EVENT_DATA, ok, &[], b"key", true);
    filter.config_callout_stream_event(id, ENVOYX_CALLOUT_EVENT_COMPLETE, ok, &[], b"", true);
    assert!(filter.pending_config_callouts().is_empty());
    {
        let mut stream = filter.stream();
        stream.request_headers(&[(":path", "/"), (":method", "GET")], true);
        stream.response_headers(&[(":status", "200")], true);
        assert_eq!(
            stream.client_response_headers().get("x-conf-background"),
            Some("[7,callout 200 allow key,stream 200 allow key headers data complete]")
        );
    }
    // Every stream counted itself on the configuration's `requests` metric (case `-`).
    assert_eq!(filter.metric("background-cxx.requests", &["-"]), "counter 1");
    drop(filter);
    assert!(logged("conformance: config `background-cxx` schedule while dropped: false"));
}
