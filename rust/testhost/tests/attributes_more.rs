//! ABI 1.2's attributes on the test host: the request line derived from the request headers as
//! they are (a changed `:path` reads changed), the others as the test sets them, booleans
//! included; every value of the right kind.

use envoyx_sdk::{Attribute, Filter, FilterConfig, HeadersStatus, Stream};
use envoyx_testhost::{Attribute as HostAttribute, StoredValue, TestHost};

struct LineConfig;
struct Line;

impl FilterConfig for LineConfig {
    type Filter = Line;
    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(LineConfig)
    }
    fn new_filter(&self) -> Line {
        Line
    }
}

impl Filter for Line {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let before = stream.attribute_str(Attribute::RequestUrlPath).unwrap_or("absent").to_string();
        stream.request_headers().set(":path", "/moved?x=1");
        let after = stream.attribute_str(Attribute::RequestUrlPath).unwrap_or("absent").to_string();
        let query = stream.attribute_str(Attribute::RequestQuery).unwrap_or("absent").to_string();
        let attempts =
            stream.attribute_u64(Attribute::UpstreamAttempts).map_or("absent".into(), |n| n.to_string());
        let mtls =
            stream.attribute_bool(Attribute::ConnectionMtls).map_or("absent".into(), |b| b.to_string());
        let wrong_kind = stream.attribute_str(Attribute::ConnectionMtls).is_none();
        stream.request_headers().set(
            "x-attrs",
            format!("{before}>{after} q={query} attempts={attempts} mtls={mtls} kind-checked={wrong_kind}"),
        );
        HeadersStatus::Continue
    }
}

#[test]
fn the_request_line_follows_the_headers_and_the_rest_is_the_tests() {
    let host = TestHost::in_process(envoyx_sdk::module_exports::<LineConfig>(), "line", "").unwrap();
    let mut stream = host.stream();
    stream.set_attribute(HostAttribute::UpstreamAttempts, StoredValue::Number(2.0));
    stream.set_attribute(HostAttribute::ConnectionMtls, StoredValue::Bool(true));
    stream.request_headers(&[(":path", "/items?all")], true);
    assert_eq!(
        stream.upstream_request_headers().get("x-attrs").as_deref(),
        Some("/items>/moved q=x=1 attempts=2 mtls=true kind-checked=true")
    );
    let mut plain = host.stream();
    plain.request_headers(&[(":path", "/")], true);
    assert_eq!(
        plain.upstream_request_headers().get("x-attrs").as_deref(),
        Some("/>/moved q=x=1 attempts=absent mtls=absent kind-checked=true")
    );
}
