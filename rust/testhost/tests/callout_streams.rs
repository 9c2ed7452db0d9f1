//! Streaming callouts (ABI 1.1) on the test host, with a module written here and run in process:
//! the request body and trailers go to the cluster as the module sends them, the cluster's
//! events reach the module in order, and the core refuses what the rules forbid. The same
//! behaviour on every host (Envoy included) is in the conformance suite's `callout-stream*` cases.

use std::time::Duration;

use envoyx_sdk::{
    BodyKind, BodyStatus, CalloutEvent, CalloutId, Filter, FilterConfig, HeadersStatus, Stream,
    TrailersStatus,
};
use envoyx_testhost::{CalloutStatus, CalloutStreamEvent, TestHost, TestStream};

/// Streams the request to the cluster `mirror` and tells what came back in the request header
/// `x-mirror` before letting the request go on. Config `panic`: panics on the first event.
struct MirrorConfig {
    panic: bool,
}

#[derive(Default)]
struct Mirror {
    panic: bool,
    callout: Option<CalloutId>,
    seen: Vec<String>,
    /// What the refusable calls returned, in order.
    results: Vec<(&'static str, bool)>,
}

impl FilterConfig for MirrorConfig {
    type Filter = Mirror;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        Ok(Self { panic: config == b"panic" })
    }

    fn new_filter(&self) -> Mirror {
        Mirror { panic: self.panic, ..Mirror::default() }
    }
}

impl Filter for Mirror {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let headers = [(":method", "POST"), (":path", "/mirror"), (":authority", "mirror")];
        self.callout = stream.start_callout_stream("mirror", &headers, b"<", false, Duration::from_secs(3));
        HeadersStatus::StopIteration
    }

    fn on_request_body(&mut self, stream: &mut Stream, _end_of_stream: bool) -> BodyStatus {
        let chunk = stream.body(BodyKind::RequestReceived).to_vec();
        let id = self.callout.unwrap();
        self.results.push(("send", stream.callout_stream_send(id, &chunk, false)));
        BodyStatus::StopIterationAndBuffer
    }

    fn on_request_trailers(&mut self, stream: &mut Stream) -> TrailersStatus {
        let id = self.callout.unwrap();
        let refused = [
            ("pseudo-trailer", stream.callout_stream_send_trailers(id, &[(":path", "/x")])),
            ("unknown-id", stream.callout_stream_send(id + 7, b"x", true)),
        ];
        self.results.extend(refused);
        self.results.push(("trailers", stream.callout_stream_send_trailers(id, &[("x-sum", "5")])));
        self.results.push(("send-after-end", stream.callout_stream_send(id, b"late", true)));
        TrailersStatus::StopIteration
    }

    fn on_callout_event(&mut self, stream: &mut Stream, id: CalloutId, event: CalloutEvent<'_>) {
        assert_eq!(Some(id), self.callout);
        if self.panic {
            panic!("mirror: boom in on_callout_event");
        }
        let seen = match event {
            CalloutEvent::Headers { headers, end_of_stream } => {
                format!(
                    "headers:{}:{}:{end_of_stream}",
                    headers.status().unwrap_or(0),
                    headers.get_str("x-a").unwrap_or("-")
                )
            }
            CalloutEvent::Data { body, end_of_stream } => {
                let chunks: Vec<String> =
                    body.chunks().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
                format!("data:{}:{end_of_stream}", chunks.join("|"))
            }
            CalloutEvent::Trailers(trailers) => {
                format!("trailers:{}", trailers.get_str("x-t").unwrap_or("-"))
            }
            CalloutEvent::Complete => "complete".to_string(),
            CalloutEvent::Failed(error) => format!("failed:{error}"),
        };
        self.seen.push(seen);
        if matches!(event, CalloutEvent::Complete | CalloutEvent::Failed(_)) {
            stream.request_headers().set("x-mirror", self.seen.join(" "));
            let results: Vec<String> = self.results.iter().map(|(call, ok)| format!("{call}={ok}")).collect();
            stream.request_headers().set("x-mirror-results", results.join(","));
            stream.continue_request();
        }
    }
}

fn host(config: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<MirrorConfig>(), "mirror", config).unwrap()
}

/// Sends a request with a two-chunk body and trailers; returns the streaming callout's id.
fn send_request(stream: &mut TestStream) -> u64 {
    stream.request_headers(&[(":method", "PUT"), (":path", "/"), (":authority", "app")], false);
    stream.request_body(&["ab"], false);
    stream.request_body(&["c", "d"], false);
    stream.request_trailers(&[("x-done", "1")]);
    let pending = stream.pending_callouts();
    assert_eq!(pending.len(), 1, "{pending:?}");
    pending[0].id
}

#[test]
fn the_request_goes_out_in_chunks_and_the_response_comes_back_as_events_in_order() {
    let host = host("");
    let mut stream = host.stream();
    let id = send_request(&mut stream);
    let callout = &stream.pending_callouts()[0];
    assert!(callout.streaming && callout.request_ended);
    assert_eq!((callout.cluster.as_str(), callout.header(":path")), ("mirror", Some("/mirror")));
    // The first chunk given at the start, then each body chunk, then trailers ended it.
    assert_eq!(callout.body, b"<abcd");
    assert_eq!(callout.trailers, Some(vec![("x-sum".to_string(), "5".to_string())]));
    assert!(!stream.request_headers_forwarded(), "held until the module decides");

    stream.callout_stream_event(
        id,
        CalloutStreamEvent::Headers {
            status: 200,
            headers: vec![("x-a".into(), "1".into())],
            end_of_stream: false,
        },
    );
    stream.callout_stream_event(
        id,
        CalloutStreamEvent::Data { chunks: vec![b"AB".to_vec(), b"CD".to_vec()], end_of_stream: false },
    );
    stream.callout_stream_event(id, CalloutStreamEvent::Trailers(vec![("x-t".into(), "9".into())]));
    assert!(!stream.request_headers_forwarded());
    stream.callout_stream_event(id, CalloutStreamEvent::Complete);
    assert!(stream.pending_callouts().is_empty());

    let upstream = stream.upstream_request_headers();
    assert_eq!(
        upstream.get("x-mirror").as_deref(),
        Some("headers:200:1:false data:AB|CD:false trailers:9 complete"),
        "every event, in order, with the body as the host's slices"
    );
    assert_eq!(
        upstream.get("x-mirror-results").as_deref(),
        Some("send=true,send=true,pseudo-trailer=false,unknown-id=false,trailers=true,send-after-end=false"),
        "pseudo-header trailers, unknown ids and sends after the request ended are refused"
    );
    assert_eq!(stream.upstream_request_body(), b"abcd");
}

#[test]
fn a_failure_is_the_only_and_last_event() {
    let host = host("");
    let mut stream = host.stream();
    let id = send_request(&mut stream);
    stream.callout_stream_event(id, CalloutStreamEvent::Failed(CalloutStatus::Unavailable));
    assert_eq!(stream.upstream_request_headers().get("x-mirror").as_deref(), Some("failed:unavailable"));
    assert!(stream.pending_callouts().is_empty());
}

#[test]
fn a_failure_a_host_reports_twice_reaches_the_module_once() {
    let host = host("");
    host.fail_inline_twice("mirror", CalloutStatus::Reset);
    let mut stream = host.stream();
    stream.request_headers(&[(":method", "GET"), (":path", "/"), (":authority", "app")], true);
    // Both reports reached the core's queue: the inbox's FAILED first, then the start call's
    // error, which finds the callout over and is dropped.
    assert_eq!(stream.run_scheduled(), 2);
    assert_eq!(stream.upstream_request_headers().get("x-mirror").as_deref(), Some("failed:reset"));
}

#[test]
fn a_panic_in_the_event_hook_answers_500() {
    let host = host("panic");
    let mut stream = host.stream();
    let id = send_request(&mut stream);
    stream.callout_stream_event(
        id,
        CalloutStreamEvent::Headers { status: 200, headers: vec![], end_of_stream: true },
    );
    assert_eq!(stream.local_reply().expect("answered").status, 500);
    assert!(!stream.request_headers_forwarded());
}

#[test]
fn a_module_without_the_event_export_is_refused_streaming_callouts() {
    let mut exports = envoyx_sdk::module_exports::<MirrorConfig>();
    exports.on_stream_callout_event = None;
    let host = TestHost::in_process(exports, "mirror-without-events", "").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":method", "GET"), (":path", "/"), (":authority", "app")], false);
    assert!(stream.pending_callouts().is_empty(), "nothing started");
    assert!(envoyx_testhost::logged(
        "callout_stream_start to `mirror` refused: the module does not export envoyx_on_stream_callout_event"
    ));
}
