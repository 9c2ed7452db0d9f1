//! A filter configuration's background events (ABI 1.1) on the Rust test host: scheduled from a
//! module thread at creation, run on the test's thread (the "main thread") when the test pumps
//! them, seen by later streams; refused once the configuration is being dropped.

use std::time::Duration;

use envoyx_testhost::{CalloutAnswer, CalloutStreamEvent, TestHost, build_package, logged};

fn background_events_reach_the_configuration(host: TestHost, name: &str) {
    assert_eq!(host.run_config_scheduled(Duration::from_secs(5)), 1, "the module's one event");
    assert_eq!(host.run_config_scheduled(Duration::ZERO), 0, "nothing more was scheduled");
    // The event started a callout of the configuration's own; the test answers it.
    let callouts = host.pending_config_callouts();
    assert_eq!(callouts.len(), 1, "{callouts:?}");
    assert_eq!((callouts[0].cluster.as_str(), callouts[0].header(":path")), ("callout", Some("/keys")));
    let headers = vec![("x-verdict".to_string(), "allow".to_string())];
    host.answer_config_callout(
        callouts[0].id,
        CalloutAnswer::Response { status: 200, headers: headers.clone(), body: vec![b"key".to_vec()] },
    );
    // The answer opened a streaming callout (its body sent in two pieces), and one it reset.
    let callouts = host.pending_config_callouts();
    assert_eq!(callouts.len(), 1, "the reset one is gone: {callouts:?}");
    let stream_callout = &callouts[0];
    assert!(stream_callout.streaming && stream_callout.request_ended);
    assert_eq!(
        (stream_callout.header(":path"), stream_callout.body.as_slice()),
        (Some("/updates"), &b"key"[..])
    );
    for event in [
        CalloutStreamEvent::Headers { status: 200, headers, end_of_stream: false },
        CalloutStreamEvent::Data { chunks: vec![b"k".to_vec(), b"ey".to_vec()], end_of_stream: true },
        CalloutStreamEvent::Complete,
    ] {
        host.config_callout_stream_event(stream_callout.id, event);
    }
    assert!(host.pending_config_callouts().is_empty());
    {
        let mut stream = host.stream();
        stream.request_headers(&[(":path", "/"), (":method", "GET")], true);
        stream.response_headers(&[(":status", "200")], true);
        assert_eq!(
            stream.client_response_headers().get("x-conf-background").as_deref(),
            Some("[7,callout 200 allow key,stream 200 allow key headers data complete]")
        );
    }
    drop(host);
    assert!(logged(&format!("conformance: config `{name}` schedule while dropped: false")));
}

#[test]
fn configuration_events_with_the_module_as_a_shared_object() {
    let module = build_package("envoyx-test-module-conformance");
    let host = TestHost::load(module, "background-so", "background").unwrap();
    background_events_reach_the_configuration(host, "background-so");
}

#[test]
fn configuration_events_with_the_module_in_process() {
    let exports = envoyx_sdk::module_exports::<envoyx_test_module_conformance::ConformanceConfig>();
    let host = TestHost::in_process(exports, "background-in-process", "background").unwrap();
    background_events_reach_the_configuration(host, "background-in-process");
}
