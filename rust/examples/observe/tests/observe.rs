//! The observe filter on the test host, in process (no `.so` build). End-to-end in Envoy (the
//! stats, the access log, the re-route) in `rust/stock-host/tests/observe.rs`.

use envoyx_example_observe::{NAMESPACE, ObserveConfig};
use envoyx_testhost::{Attribute, MetadataSource, MetricValue, StoredValue, TestHost};

fn host(config: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<ObserveConfig>(), "observe", config).unwrap()
}

#[test]
fn a_v1_request_is_rerouted_counted_timed_and_described_in_metadata() {
    let host = host("");
    let mut stream = host.stream();
    stream
        .request_headers(&[(":method", "GET"), (":path", "/api/v1/items?x=1"), (":authority", "app")], true);
    let upstream = stream.upstream_request_headers();
    assert_eq!(upstream.get(":path").as_deref(), Some("/api/v2/items?x=1"));
    assert_eq!(upstream.get("x-observe-rerouted-from").as_deref(), Some("/api/v1/items?x=1"));
    assert_eq!(stream.route_cache_cleared(), 1);
    let meta = |key: &str| stream.metadata(MetadataSource::Dynamic, NAMESPACE, key);
    assert_eq!(meta("decision"), Some(StoredValue::String("rerouted".into())));
    assert_eq!(meta("client"), Some(StoredValue::String("127.0.0.1:50000".into())), "the test host's client");

    stream.set_attribute(Attribute::RouteName, StoredValue::String("v2".into()));
    stream.response_headers(&[(":status", "204")], true);
    stream.complete();
    assert_eq!(host.metric("requests", &["v2", "2xx"]), Some(MetricValue::Counter(1)));
    match host.metric("latency_ms", &[]) {
        Some(MetricValue::Histogram(values)) => assert_eq!(values.len(), 1, "{values:?}"),
        other => panic!("no latency recorded: {other:?}"),
    }
}

#[test]
fn other_paths_pass_and_count_under_their_route() {
    let host = host("from=/old/ to=/new/");
    for status in ["200", "503", "404"] {
        let mut stream = host.stream();
        stream.request_headers(&[(":method", "GET"), (":path", "/v1/kept"), (":authority", "app")], true);
        assert_eq!(stream.upstream_request_headers().get(":path").as_deref(), Some("/v1/kept"));
        assert_eq!(stream.route_cache_cleared(), 0);
        let decision = stream.metadata(MetadataSource::Dynamic, NAMESPACE, "decision");
        assert_eq!(decision, Some(StoredValue::String("passed".into())));
        stream.response_headers(&[(":status", status)], true);
    }
    // No route name on the test host unless the test gives one.
    assert_eq!(host.metric("requests", &["none", "2xx"]), Some(MetricValue::Counter(1)));
    assert_eq!(host.metric("requests", &["none", "5xx"]), Some(MetricValue::Counter(1)));
    assert_eq!(host.metric("requests", &["none", "4xx"]), Some(MetricValue::Counter(1)));
}

#[test]
fn a_bad_config_is_refused_naming_the_setting() {
    let error = TestHost::in_process(envoyx_sdk::module_exports::<ObserveConfig>(), "observe", "from=v1")
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("observe: `from=v1` is not from=/path/ or to=/path/"), "{error}");
}
