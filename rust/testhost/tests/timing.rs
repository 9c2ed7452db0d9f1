//! Stream timing (ABI 1.2 `timing_get`) on the test host, in process: the moments the test host
//! records (the request's headers and end, the response's first byte) come in order, one the test
//! sets comes back as set, and one nobody recorded is unknown; the upstream hosts attempted are
//! the test host's one upstream, or the ones the test says.

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, Stream, Timing};
use envoyx_testhost::TestHost;

struct TimingConfig;

struct Report;

impl FilterConfig for TimingConfig {
    type Filter = Report;

    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(TimingConfig)
    }

    fn new_filter(&self) -> Report {
        Report
    }
}

impl Filter for Report {
    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let moments = [
            Timing::LastDownstreamHeaderRx,
            Timing::LastDownstreamRx,
            Timing::FirstUpstreamRx,
            Timing::UpstreamConnectStart,
            Timing::LastDownstreamAck,
        ]
        .map(|t| stream.timing(t).map_or("-".to_string(), |ns| ns.to_string()));
        stream.response_headers().set("x-moments", moments.join(","));
        let hosts = stream.upstream_hosts_attempted().join(",");
        stream.response_headers().set("x-hosts", hosts);
        HeadersStatus::Continue
    }
}

#[test]
fn the_moments_the_host_sees_come_in_order() {
    let host = TestHost::in_process(envoyx_sdk::module_exports::<TimingConfig>(), "timing", "").unwrap();
    let mut stream = host.stream();
    stream.set_timing(envoyx_abi::ENVOYX_TIMING_UPSTREAM_CONNECT_START, 1234);
    stream.request_headers(&[(":method", "GET"), (":path", "/"), (":authority", "app")], true);
    std::thread::sleep(std::time::Duration::from_millis(2));
    stream.response_headers(&[(":status", "200")], true);
    let moments = stream.client_response_headers().get("x-moments").expect("the module reported");
    let parts: Vec<&str> = moments.split(',').collect();
    let [headers, request_end, upstream_rx, connect, ack] = parts[..] else { panic!("{moments}") };
    let (headers, request_end, upstream_rx): (i64, i64, i64) =
        (headers.parse().unwrap(), request_end.parse().unwrap(), upstream_rx.parse().unwrap());
    assert!(0 <= headers && headers <= request_end, "{moments}");
    assert!(upstream_rx - request_end >= 2_000_000, "the response came 2 ms later: {moments}");
    assert_eq!((connect, ack), ("1234", "-"), "{moments}");
    assert_eq!(
        stream.client_response_headers().get("x-hosts").as_deref(),
        Some("127.0.0.1:10001"),
        "one attempt"
    );

    // Retries, as the test says a proxy made them.
    let mut stream = host.stream();
    stream.set_upstream_hosts_attempted(&["10.0.0.1:80", "10.0.0.2:80"]);
    stream.request_headers(&[(":method", "GET"), (":path", "/"), (":authority", "app")], true);
    stream.response_headers(&[(":status", "200")], true);
    assert_eq!(stream.client_response_headers().get("x-hosts").as_deref(), Some("10.0.0.1:80,10.0.0.2:80"));
}
