//! Dynamic metadata, filter state and routing (ABI 1.1) on the test host, with a module written
//! here and run in process: the test gives the stream route metadata, the module reads it,
//! writes its decision and steers the request; the test reads what it did.

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, MetadataSource, Stream};
use envoyx_testhost::{MetadataSource as Source, StoredValue, TestHost};

struct StickyConfig;

/// Pins requests of the `pinned` tier (from route metadata) to one upstream host, re-routes
/// `/v1/` to `/v2/`, and records its decision.
struct Sticky;

impl FilterConfig for StickyConfig {
    type Filter = Sticky;
    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(StickyConfig)
    }
    fn new_filter(&self) -> Sticky {
        Sticky
    }
}

impl Filter for Sticky {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let tier = stream.metadata_str(MetadataSource::Route, "sticky", "tier").unwrap_or("none").to_string();
        if tier == "pinned" {
            stream.set_upstream_host("10.0.0.7:8080", true);
        }
        let path = stream.request_headers().get_str(":path").unwrap_or("/").to_string();
        if let Some(rest) = path.strip_prefix("/v1/") {
            stream.request_headers().set(":path", format!("/v2/{rest}"));
            stream.clear_route_cache();
        }
        if stream.request_headers().get_str("x-weight").is_some() {
            stream.request_headers().set("x-weight", "0");
            stream.refresh_route_cluster();
        }
        stream.set_metadata("sticky", "tier", tier.as_str());
        stream.set_metadata("sticky", "weight", 2.5);
        stream.set_filter_state("sticky.tier", tier.as_bytes());
        stream.set_span_tag("sticky.tier", &tier);
        HeadersStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        // Too late to re-route: refused.
        let late = stream.set_upstream_host("10.0.0.8:8080", false);
        stream.response_headers().set("x-late-host", if late { "true" } else { "false" });
        let late_refresh = stream.refresh_route_cluster();
        stream.response_headers().set("x-late-refresh", if late_refresh { "true" } else { "false" });
        // The chosen upstream host's metadata (ABI 1.2), known by the response.
        let rack = stream.metadata_str(MetadataSource::Host, "sticky", "rack").unwrap_or("none").to_string();
        stream.response_headers().set("x-upstream-rack", &rack);
        HeadersStatus::Continue
    }
}

#[test]
fn the_module_reads_route_metadata_and_steers_the_request() {
    let host = TestHost::in_process(envoyx_sdk::module_exports::<StickyConfig>(), "sticky", "").unwrap();
    let mut stream = host.stream();
    stream.enable_tracing();
    stream.set_source_metadata(Source::Route, "sticky", "tier", StoredValue::String("pinned".into()));
    stream.request_headers(&[(":method", "GET"), (":path", "/v1/items"), (":authority", "app")], true);
    assert_eq!(stream.upstream_request_headers().get(":path").as_deref(), Some("/v2/items"));
    assert_eq!(stream.route_cache_cleared(), 1);
    assert_eq!(stream.upstream_host(), Some(("10.0.0.7:8080".to_string(), true)));
    assert_eq!(
        stream.metadata(Source::Dynamic, "sticky", "tier"),
        Some(StoredValue::String("pinned".into()))
    );
    assert_eq!(stream.metadata(Source::Dynamic, "sticky", "weight"), Some(StoredValue::Number(2.5)));
    assert_eq!(stream.filter_state("sticky.tier").as_deref(), Some(&b"pinned"[..]));
    assert_eq!(stream.span_tags(), [("sticky.tier".to_string(), "pinned".to_string())]);
    stream.set_source_metadata(Source::Host, "sticky", "rack", StoredValue::String("r7".into()));
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(stream.client_response_headers().get("x-upstream-rack").as_deref(), Some("r7"));
    assert_eq!(stream.client_response_headers().get("x-late-host").as_deref(), Some("false"));
    assert_eq!(stream.client_response_headers().get("x-late-refresh").as_deref(), Some("false"));
    assert!(envoyx_testhost::logged(
        "refresh_route_cluster refused: the request headers already went on, and with them the route was picked"
    ));
    assert_eq!(stream.route_cluster_refreshed(), 0, "nothing refreshed for a request without x-weight");
    assert_eq!(stream.upstream_host(), Some(("10.0.0.7:8080".to_string(), true)), "unchanged");

    // Without route metadata: the module's default, no pinning.
    let mut stream = host.stream();
    stream.request_headers(&[(":method", "GET"), (":path", "/"), (":authority", "app")], true);
    assert_eq!(stream.upstream_host(), None);
    assert_eq!(stream.route_cache_cleared(), 0);
    assert_eq!(stream.filter_state("sticky.tier").as_deref(), Some(&b"none"[..]));

    // The route's cluster picked again after the header it depends on changed.
    let mut stream = host.stream();
    stream.request_headers(
        &[(":method", "GET"), (":path", "/"), (":authority", "app"), ("x-weight", "1")],
        true,
    );
    assert_eq!(stream.route_cluster_refreshed(), 1);
    assert_eq!(stream.upstream_request_headers().get("x-weight").as_deref(), Some("0"));
    assert!(stream.span_tags().is_empty(), "no tracer, no span");
}

/// Reports the route's typed metadata of namespace `policy` (ABI 1.2) as `x-policy`.
struct PolicyConfig;
struct Policy;

impl FilterConfig for PolicyConfig {
    type Filter = Policy;

    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(PolicyConfig)
    }

    fn new_filter(&self) -> Policy {
        Policy
    }
}

impl Filter for Policy {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let seen = stream
            .metadata_typed(MetadataSource::Route, "policy")
            .map(|(url, value)| format!("{url} {}", value.len()))
            .unwrap_or_else(|| "none".to_string());
        stream.request_headers().set("x-policy", seen);
        HeadersStatus::Continue
    }
}

#[test]
fn the_module_reads_typed_route_metadata() {
    let host = TestHost::in_process(envoyx_sdk::module_exports::<PolicyConfig>(), "policy", "").unwrap();
    let headers = [(":method", "GET"), (":path", "/"), (":authority", "app")];
    let mut stream = host.stream();
    stream.set_typed_metadata(Source::Route, "policy", "type.googleapis.com/my.Policy", &[0x0a, 0x01, 0x61]);
    stream.request_headers(&headers, true);
    assert_eq!(
        stream.upstream_request_headers().get("x-policy").as_deref(),
        Some("type.googleapis.com/my.Policy 3")
    );
    let mut stream = host.stream();
    stream.request_headers(&headers, true);
    assert_eq!(stream.upstream_request_headers().get("x-policy").as_deref(), Some("none"));
}
