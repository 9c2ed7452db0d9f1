//! A response stopped while the host carries out the filter's own request continue (a later
//! filter answered locally inside Envoy's `continueDecoding`): on a proxy that can resume it the
//! stop stands; on one that cannot (Envoy 1.38, a capability the host declares) the core lets
//! the response go on at once with one warning per stream, instead of leaving it hanging. The
//! stock host's e2e test `continue_into_a_local_reply_from_a_later_filter` shows both in Envoy.

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, Stream};
use envoyx_testhost::{HeadersStatus as Status, TestHost, logged};

/// Holds every response's headers.
struct HoldConfig;
struct Hold;

impl FilterConfig for HoldConfig {
    type Filter = Hold;

    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(HoldConfig)
    }

    fn new_filter(&self) -> Hold {
        Hold
    }
}

impl Filter for Hold {
    fn on_response_headers(&mut self, _stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        HeadersStatus::StopIteration
    }
}

fn host(name: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<HoldConfig>(), name, "").unwrap()
}

#[test]
fn a_proxy_that_can_resume_keeps_the_stop() {
    let host = host("hold-resumable");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(
        stream.response_headers_inside_request_continue(&[(":status", "503")], true),
        Status::StopIteration
    );
    assert!(!stream.response_headers_forwarded(), "held until the module continues");
    // Outside a continue the stop stands on any proxy.
    let mut stream = host.stream();
    stream.play_envoy_1_38_continue();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.response_headers(&[(":status", "200")], true), Status::StopIteration);
    assert!(!stream.response_headers_forwarded());
}

#[test]
fn on_envoy_1_38_the_core_lets_the_response_go_on() {
    let host = host("hold-unresumable");
    for _ in 0..2 {
        let mut stream = host.stream();
        stream.play_envoy_1_38_continue();
        stream.request_headers(&[(":path", "/")], true);
        assert_eq!(
            stream.response_headers_inside_request_continue(&[(":status", "503")], true),
            Status::Continue,
            "the core turned the stop into a continue"
        );
        assert!(stream.response_headers_forwarded(), "the response went on");
        assert_eq!(stream.client_response_headers().get(":status").as_deref(), Some("503"));
    }
    assert!(logged(
        "(filter `hold-unresumable`): the module stopped the response while its request was being continued"
    ));
}
