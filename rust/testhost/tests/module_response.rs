//! The module's own response (ABI 1.2 `send_response_headers`, `_data`, `_trailers`) under the
//! core's rules, in process: the order of its parts, `content-length` held to, the per-hook bound,
//! the request kept here whatever the hooks return, and what ends or refuses it. The
//! conformance cases `answer*` show the same on every host, Envoy included.

use envoyx_sdk::{BodyStatus, Filter, FilterConfig, HeadersStatus, Stream};
use envoyx_testhost::{AnswerPart, BodyStatus as Body, HeadersStatus as Headers, TestHost, logged};

/// What the filter does, by its filter config.
struct AnswerConfig(String);

/// One stream: the config's behaviour and what its calls returned, in order.
struct Answer {
    behaviour: String,
    /// `late`: what the answer from the request body hook returned.
    late: Option<bool>,
}

impl FilterConfig for AnswerConfig {
    type Filter = Answer;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        Ok(AnswerConfig(String::from_utf8_lossy(config).into_owned()))
    }

    fn new_filter(&self) -> Answer {
        Answer { behaviour: self.0.clone(), late: None }
    }
}

/// Records what each call returned in the request header `x-results` (the test reads it from the
/// host's map), so one test can check a sequence of refusals.
fn record(stream: &mut Stream, name: &str, ok: bool) {
    let mut headers = stream.request_headers();
    let so_far = headers.get_str("x-results").unwrap_or_default().to_string();
    let entry = format!("{name}={ok}");
    headers.set("x-results", if so_far.is_empty() { entry } else { format!("{so_far},{entry}") });
}

impl Filter for Answer {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        match self.behaviour.as_str() {
            "length" => {
                let ok = stream.send_response_headers(200, &[("content-length", "4")], false);
                record(stream, "headers", ok);
                let ok = stream.send_response_data(b"abcde", false);
                record(stream, "past", ok);
                let ok = stream.send_response_data(b"ab", true);
                record(stream, "short-end", ok);
                let ok = stream.send_response_trailers(&[("x-t", "1")]);
                record(stream, "short-trailers", ok);
                let ok = stream.send_response_data(b"abcd", true);
                record(stream, "exact", ok);
                let ok = stream.send_response_data(b"", true);
                record(stream, "after-end", ok);
            }
            "length-end" => {
                let ok = stream.send_response_headers(204, &[("content-length", "3")], true);
                record(stream, "promised", ok);
                let ok = stream.send_response_headers(200, &[("content-length", "x1")], false);
                record(stream, "not-a-number", ok);
                let ok = stream.send_response_headers(200, &[("content-length", "0")], true);
                record(stream, "zero", ok);
            }
            "queued" => {
                stream.send_response_headers(200, &[], false);
                let chunk = vec![b'x'; 1 << 20];
                let sent = (0..17).take_while(|_| stream.send_response_data(&chunk, false)).count();
                record(stream, &format!("sent-{sent}"), true);
                let too_big = vec![b'x'; (1 << 20) + 1];
                let ok = stream.send_response_data(&too_big, false);
                record(stream, "over-1mib", ok);
                stream.send_response_data(b"", true);
            }
            "reset" => {
                stream.send_response_headers(200, &[], false);
                stream.send_response_data(b"gone", false);
                stream.reset();
            }
            "stream" => {
                stream.send_response_headers(200, &[("content-type", "text/event-stream")], false);
                stream.send_response_data(b"data: 1\n\n", false);
                stream.handle().schedule(1);
            }
            _ => {}
        }
        // The request stays here whatever this returns.
        HeadersStatus::Continue
    }

    fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        if self.behaviour == "late" && end_of_stream {
            self.late = Some(stream.send_response_headers(200, &[], true));
        }
        BodyStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        if self.behaviour == "late" {
            let ok = stream.send_response_headers(200, &[], true);
            let mut headers = stream.response_headers();
            headers.set("x-from-response", ok.to_string());
            headers.set("x-from-request-body", format!("{:?}", self.late));
        }
        HeadersStatus::Continue
    }

    fn on_scheduled(&mut self, stream: &mut Stream, _event_id: u64) {
        let continued = stream.continue_request();
        stream.send_response_data(b"data: 2\n\n", false);
        stream.send_response_trailers(&[
            ("x-events", "2"),
            ("x-continued", if continued { "yes" } else { "no" }),
        ]);
    }
}

fn host(name: &str, behaviour: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<AnswerConfig>(), name, behaviour).unwrap()
}

fn results(stream: &envoyx_testhost::TestStream) -> String {
    stream.upstream_request_headers().get("x-results").unwrap_or_default()
}

#[test]
fn the_content_length_the_module_sets_is_held_to() {
    let host = host("answer-length", "length");
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/")], true), Headers::StopIteration);
    assert_eq!(
        results(&stream),
        "headers=true,past=false,short-end=false,short-trailers=false,exact=true,after-end=false"
    );
    assert_eq!(stream.client_response_body(), b"abcd");
    assert_eq!(stream.client_response_headers().get("content-length").as_deref(), Some("4"));
    assert!(logged(
        "send_response_data (5 bytes) refused: 5 bytes would pass the response's content-length 4"
    ));

    let host = self::host("answer-length-end", "length-end");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(results(&stream), "promised=false,not-a-number=false,zero=true");
    assert_eq!(stream.client_response_headers().get(":status").as_deref(), Some("200"));
    assert!(logged("the headers end the response, but its content-length says 3 bytes follow"));
}

#[test]
fn one_hook_sends_at_most_16_mib_and_one_call_1_mib() {
    let host = host("answer-queued", "queued");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(results(&stream), "sent-16=true,over-1mib=false");
    assert_eq!(stream.client_response_body().len(), 16 << 20);
    assert!(logged("the response data sent in one hook, in bytes"));
}

#[test]
fn the_request_stays_here_and_the_response_streams_from_scheduled_work() {
    let host = host("answer-stream", "stream");
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/")], false), Headers::StopIteration);
    assert_eq!(stream.request_body(&["hello"], true), Body::StopIterationNoBuffer);
    assert!(!stream.request_headers_forwarded(), "nothing reaches an upstream");
    assert!(stream.upstream_request_body().is_empty());
    assert_eq!(stream.run_scheduled(), 1);
    let parts = stream.module_response();
    assert_eq!(parts.len(), 4, "{parts:?}");
    assert!(matches!(&parts[0], AnswerPart::Headers { status: 200, end_of_stream: false, .. }));
    assert_eq!(parts[1], AnswerPart::Data { data: b"data: 1\n\n".to_vec(), end_of_stream: false });
    assert_eq!(parts[2], AnswerPart::Data { data: b"data: 2\n\n".to_vec(), end_of_stream: false });
    assert!(parts[3].ends());
    assert_eq!(stream.client_response_body(), b"data: 1\n\ndata: 2\n\n");
    let trailers = stream.client_response_trailers().expect("the module's trailers");
    assert_eq!(trailers.get("x-events").as_deref(), Some("2"));
    assert_eq!(trailers.get("x-continued").as_deref(), Some("no"), "a continue of the request does nothing");
}

#[test]
fn a_reset_drops_what_the_hook_sent_before_it() {
    let host = host("answer-reset", "reset");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert!(stream.was_reset());
    assert!(stream.module_response().is_empty());
    assert!(!stream.response_headers_forwarded());
}

#[test]
fn once_the_request_went_on_the_module_cannot_answer() {
    let host = host("answer-late", "late");
    let mut stream = host.stream();
    assert_eq!(stream.request_headers(&[(":path", "/")], false), Headers::Continue);
    stream.request_body(&["x"], true);
    stream.response_headers(&[(":status", "200")], true);
    let headers = stream.client_response_headers();
    assert_eq!(headers.get("x-from-request-body").as_deref(), Some("Some(false)"));
    assert_eq!(headers.get("x-from-response").as_deref(), Some("false"));
    assert!(stream.module_response().is_empty());
    assert!(logged(
        "send_response_headers (status 200) refused: the request already went on towards the upstream"
    ));
}
