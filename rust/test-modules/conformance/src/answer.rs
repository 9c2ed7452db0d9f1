//! The `answer*` cases (ABI 1.2): the module answers the stream itself with its own response
//! (`send_response_headers`, `_data`, `_trailers`) and no upstream is asked.
//!
//! - `answer`: headers from the request headers hook (which then returns CONTINUE: the request
//!   must stay here anyway), each request body chunk sent back as it arrives (the body hook
//!   returns CONTINUE too), trailers `x-conf-trailer: done` at the request's end.
//! - `answer-scheduled`: over time — the request is held; at its end an event from another
//!   thread sends the headers (`content-length: 9`) and `abc`, and a second event `defghi`,
//!   which ends the response.
//! - `answer-refused`: what must be refused, told back in the response: before the headers
//!   (`x-conf-before`: data, trailers, status 99, a pseudo-header) and after them (the body:
//!   a local reply, headers again, empty trailers).
//! - `answer-late`: the request went on; an answer at its end is refused (logged) and the
//!   upstream's response goes through.
//! - `answer-reset`: headers sent, then a reset from a scheduled event: the client sees a reset.
//! - `watermark`: headers sent; each flow-control change is told in the response (`above;`,
//!   `below;`), and the change back below ends it.

use crate::{Conformance, REQUEST_DONE, yes_no};
use envoyx_sdk::{BodyKind, BodyStatus, HeadersStatus, Stream};

/// The `answer-scheduled` case's second event.
const ANSWER_MORE: u64 = 3;

/// The request headers hook of an `answer*` case; None for other cases.
pub(crate) fn request_headers(case: &str, stream: &mut Stream) -> Option<HeadersStatus> {
    match case {
        "answer" => {
            let headers = [("content-type", "text/plain"), ("x-conf-answer", "request-headers")];
            stream.send_response_headers(200, &headers, false);
            // The request must stay here whatever the hook returns.
            Some(HeadersStatus::Continue)
        }
        "answer-scheduled" => Some(HeadersStatus::StopIteration),
        "answer-refused" => {
            let before = [
                ("data", stream.send_response_data(b"x", false)),
                ("trailers", stream.send_response_trailers(&[("x-t", "1")])),
                ("status", stream.send_response_headers(99, &[], false)),
                ("pseudo", stream.send_response_headers(200, &[(":status", "200")], false)),
            ];
            stream.send_response_headers(200, &[("x-conf-before", &results(&before))], false);
            let after = [
                ("reply", stream.send_local_reply(403, &[], b"no", "conformance_no")),
                ("again", stream.send_response_headers(200, &[], false)),
                ("empty-trailers", stream.send_response_trailers(&[])),
            ];
            stream.send_response_data(results(&after).as_bytes(), true);
            Some(HeadersStatus::StopIteration)
        }
        "answer-late" => Some(HeadersStatus::Continue),
        "watermark" => {
            stream.send_response_headers(200, &[], false);
            Some(HeadersStatus::StopIteration)
        }
        "answer-reset" => {
            stream.send_response_headers(200, &[("x-conf-answer", "then-reset")], false);
            Conformance::schedule_later(stream, REQUEST_DONE);
            Some(HeadersStatus::StopIteration)
        }
        _ => None,
    }
}

/// The request body hook of an `answer*` case; None for other cases.
pub(crate) fn request_body(case: &str, stream: &mut Stream, end_of_stream: bool) -> Option<BodyStatus> {
    match case {
        "answer" => {
            let chunk = stream.body(BodyKind::RequestReceived).to_vec();
            stream.send_response_data(&chunk, false);
            if end_of_stream {
                stream.send_response_trailers(&[("x-conf-trailer", "done")]);
            }
            Some(BodyStatus::Continue)
        }
        "answer-scheduled" => {
            if end_of_stream {
                Conformance::schedule_later(stream, REQUEST_DONE);
            }
            Some(BodyStatus::StopIterationAndBuffer)
        }
        "answer-late" => {
            if end_of_stream {
                // Refused: the request headers went on.
                stream.send_response_headers(200, &[], true);
            }
            Some(BodyStatus::Continue)
        }
        "answer-refused" | "answer-reset" | "watermark" => Some(BodyStatus::StopIterationNoBuffer),
        _ => None,
    }
}

/// The scheduled hook of an `answer*` case; false for other cases.
pub(crate) fn scheduled(case: &str, stream: &mut Stream, event_id: u64) -> bool {
    match (case, event_id) {
        ("answer-scheduled", REQUEST_DONE) => {
            stream.send_response_headers(
                200,
                &[("content-length", "9"), ("x-conf-answer", "scheduled")],
                false,
            );
            stream.send_response_data(b"abc", false);
            Conformance::schedule_later(stream, ANSWER_MORE);
        }
        ("answer-scheduled", ANSWER_MORE) => {
            stream.send_response_data(b"defghi", true);
        }
        ("answer-reset", REQUEST_DONE) => stream.reset(),
        _ => return false,
    }
    true
}

/// The `watermark` case's flow-control hook: each change told in the response, which the
/// change back below ends.
pub(crate) fn watermark(case: &str, stream: &mut Stream, above: bool) {
    if case == "watermark" {
        stream.send_response_data(if above { b"above;" } else { b"below;" }, !above);
    }
}

/// `name=yes|no` pairs, comma-separated.
fn results(calls: &[(&str, bool)]) -> String {
    calls.iter().map(|(name, ok)| format!("{name}={}", yes_no(*ok))).collect::<Vec<_>>().join(",")
}
