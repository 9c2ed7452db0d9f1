//! The gRPC health gate on the test host, in process (no `.so` build): the test plays the gRPC
//! health service's answers as callout events. The end-to-end tests against a real gRPC server
//! (tonic's health service) in Envoy are in `rust/stock-host/tests/grpc.rs`.

use envoyx_example_grpc_check::{CHECK, GrpcCheckConfig, health_check_request};
use envoyx_sdk::grpc::frame;
use envoyx_testhost::{BodyStatus, CalloutStatus, CalloutStreamEvent, HeadersStatus, TestHost, TestStream};

fn host(config: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<GrpcCheckConfig>(), "grpc-check", config).unwrap()
}

/// Sends request headers (asking for `service`, if any) and returns the one gRPC call made.
fn ask(stream: &mut TestStream, service: Option<&str>) -> u64 {
    let mut headers = vec![(":method", "POST"), (":path", "/orders"), (":authority", "app")];
    headers.extend(service.map(|s| ("x-check-service", s)));
    assert_eq!(stream.request_headers(&headers, false), HeadersStatus::StopIteration);
    let callouts = stream.pending_callouts();
    assert_eq!(callouts.len(), 1, "{callouts:?}");
    let call = &callouts[0];
    assert!(call.streaming && call.request_ended, "a unary call: one message, request ended");
    assert_eq!(call.header(":path"), Some(CHECK));
    assert_eq!(call.header("content-type"), Some("application/grpc"));
    assert_eq!(call.header("grpc-timeout"), Some("250m"));
    call.id
}

/// The health service's answer: `status` in a HealthCheckResponse, grpc-status 0.
fn answer(stream: &mut TestStream, id: u64, status: u8) {
    let events = [
        CalloutStreamEvent::Headers {
            status: 200,
            headers: vec![("content-type".into(), "application/grpc".into())],
            end_of_stream: false,
        },
        CalloutStreamEvent::Data { chunks: vec![frame(&[0x08, status])], end_of_stream: false },
        CalloutStreamEvent::Trailers(vec![("grpc-status".into(), "0".into())]),
        CalloutStreamEvent::Complete,
    ];
    for event in events {
        stream.callout_stream_event(id, event);
    }
}

#[test]
fn a_serving_backend_lets_the_request_and_its_body_through() {
    let host = host("cluster=health service=orders timeout_ms=250");
    let mut stream = host.stream();
    let id = ask(&mut stream, None);
    let call = &stream.pending_callouts()[0];
    assert_eq!(call.cluster, "health");
    assert_eq!(call.body, frame(&health_check_request("orders")), "the configured service is asked about");
    assert_eq!(stream.request_body(&["held"], true), BodyStatus::StopIterationAndBuffer);
    answer(&mut stream, id, 1);
    assert!(stream.request_headers_forwarded(), "the request goes on");
    assert_eq!(stream.upstream_request_headers().get("x-backend-health").as_deref(), Some("serving"));
}

#[test]
fn a_backend_not_serving_is_answered_503() {
    let host = host("timeout_ms=250");
    let mut stream = host.stream();
    let id = ask(&mut stream, Some("draining"));
    assert_eq!(stream.pending_callouts()[0].body, frame(&health_check_request("draining")));
    answer(&mut stream, id, 2);
    let reply = stream.local_reply().expect("a local reply");
    assert_eq!(reply.status, 503);
    assert_eq!(reply.headers.get("x-backend-health").as_deref(), Some("not_serving"));
    assert_eq!(reply.body, b"backend not serving (health status 2)\n");
}

#[test]
fn a_grpc_error_is_answered_503_with_its_code() {
    let host = host("timeout_ms=250");
    let mut stream = host.stream();
    let id = ask(&mut stream, Some("nobody"));
    // The server does not know the service: a trailers-only answer.
    let headers =
        vec![("grpc-status".into(), "5".into()), ("grpc-message".into(), "unknown%20service".into())];
    stream
        .callout_stream_event(id, CalloutStreamEvent::Headers { status: 200, headers, end_of_stream: true });
    stream.callout_stream_event(id, CalloutStreamEvent::Complete);
    let reply = stream.local_reply().expect("a local reply");
    assert_eq!(reply.status, 503);
    assert_eq!(reply.headers.get("x-grpc-error").as_deref(), Some("NOT_FOUND"));
    assert_eq!(reply.body, b"health check failed: NOT_FOUND: unknown service\n");
}

#[test]
fn a_cluster_the_proxy_lacks_is_unavailable() {
    let host = host("cluster=nowhere timeout_ms=250");
    let mut stream = host.stream();
    let id = ask(&mut stream, None);
    stream.callout_stream_event(id, CalloutStreamEvent::Failed(CalloutStatus::NoCluster));
    let reply = stream.local_reply().expect("a local reply");
    assert_eq!(reply.headers.get("x-grpc-error").as_deref(), Some("UNAVAILABLE"));
}

#[test]
fn bad_configs_are_refused_naming_the_setting() {
    for (config, reason) in [
        ("timeout_ms=0", "timeout_ms must be above 0"),
        ("timeout_ms=soon", "timeout_ms `soon` is not a number"),
        ("color=red", "unknown or empty setting `color=red`"),
        ("cluster", "`cluster` is not key=value"),
    ] {
        let error =
            TestHost::in_process(envoyx_sdk::module_exports::<GrpcCheckConfig>(), "grpc-check", config)
                .err()
                .unwrap_or_else(|| panic!("{config} was accepted"))
                .to_string();
        assert!(error.contains(reason), "{config}: {error}");
    }
}
