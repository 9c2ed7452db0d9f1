//! Trailers for a direction that had none (ABI 1.2 `trailers_add`), in process: added with the
//! chunk that ends the direction, they follow the body to the peer (held with it while the
//! filter holds the body); refused on a chunk that does not end it and outside the body hooks.
//! The conformance cases `trailers-add*` show it on every host, stock Envoy's refusal included.

use envoyx_sdk::{BodyStatus, Filter, FilterConfig, HeadersStatus, Stream};
use envoyx_testhost::{BodyStatus as Status, Direction, TestHost, logged};

struct LengthConfig;

/// Counts each body and ends it with `x-body-length` as a trailer; buffers the request.
#[derive(Default)]
struct Length {
    request: usize,
    response: usize,
}

impl FilterConfig for LengthConfig {
    type Filter = Length;

    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(LengthConfig)
    }

    fn new_filter(&self) -> Length {
        Length::default()
    }
}

impl Filter for Length {
    fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        self.request += stream.request_body().len();
        let added =
            stream.add_request_trailers().map(|mut t| t.set("x-body-length", self.request.to_string()));
        stream.request_headers().set("x-added", format!("{}", added.is_some()));
        if end_of_stream { BodyStatus::Continue } else { BodyStatus::StopIterationAndBuffer }
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let early = stream.add_response_trailers().is_some();
        stream.response_headers().set("x-early", early.to_string());
        HeadersStatus::Continue
    }

    fn on_response_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        self.response += stream.response_body().len();
        if end_of_stream {
            let length = self.response.to_string();
            stream
                .add_response_trailers()
                .expect("the last chunk may add trailers")
                .set("x-body-length", length);
            // A second call finds them.
            assert!(stream.add_response_trailers().is_some());
        }
        BodyStatus::Continue
    }
}

#[test]
fn trailers_follow_the_last_chunk_of_a_body_that_had_none() {
    let host = TestHost::in_process(envoyx_sdk::module_exports::<LengthConfig>(), "length", "").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":method", "POST"), (":path", "/"), (":authority", "app")], false);
    // Not the last chunk: refused, and the body is held.
    assert_eq!(stream.request_body(&["abc"], false), Status::StopIterationAndBuffer);
    assert!(logged(
        "request_body hook: trailers_add on RequestTrailers refused: this request_body chunk does not end the request"
    ));
    assert_eq!(stream.upstream_request_trailers(), None);
    // The last chunk: added, and they go on with the body.
    assert_eq!(stream.request_body(&["defg"], true), Status::Continue);
    assert_eq!(stream.upstream_request_body(), b"abcdefg");
    let trailers = stream.upstream_request_trailers().expect("the request ends with trailers");
    assert_eq!(trailers.get("x-body-length").as_deref(), Some("7"));
    assert!(stream.trailers_forwarded(Direction::Request));

    stream.response_headers(&[(":status", "200")], false);
    assert_eq!(stream.client_response_headers().get("x-early").as_deref(), Some("false"));
    assert!(logged(
        "response_headers hook: trailers_add on ResponseTrailers refused: trailers can be added only in the \
         response_body hook whose chunk ends the response"
    ));
    stream.response_body(&["hello", " world"], true);
    let trailers = stream.client_response_trailers().expect("the response ends with trailers");
    assert_eq!(trailers.get("x-body-length").as_deref(), Some("11"));
    assert!(stream.trailers_forwarded(Direction::Response));
}
