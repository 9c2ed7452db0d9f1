//! A test module for the stream rules every host shares: what the core refuses or corrects, seen
//! from a module. The request header `x-case` picks the case; what each refused or accepted call
//! returned comes back as response headers `x-rules-<call>: true|false` (when the response
//! headers are still this filter's to change), so a test over any host reads it from the client.
//!
//! Cases:
//! - `req-grow-forwarded`: request headers go on at once (with their `content-length`); the body
//!   is buffered and at its end one byte `+` is appended: refused (the upstream must get the
//!   original body, framed as announced). `x-rules-append: false`.
//! - `req-grow-held`: the same, but the headers hook returns `StopIteration`: allowed; the core
//!   sets `content-length` to the new length. `x-rules-append: true`.
//! - `req-grow-declared`: the headers hook calls `will_change_request_body_length()` and goes
//!   on: allowed (chunked upstream). `x-rules-append: true`.
//! - `resp-grow-forwarded` / `resp-grow-held`: the same two for the response body (the results
//!   cannot be told in headers that already left; the client's body shows them).
//! - `bad-headers`: sets request headers `x-bad` to `a\r\nb` (refused), `x-empty` to `` (refused),
//!   `X-Upper` to `yes` (lower-cased), adds `:path` (refused); `x-rules-crlf`, `x-rules-empty`,
//!   `x-rules-upper`, `x-rules-pseudo`.
//! - `bad-reply`: a local reply with status 99 (refused), then one with a header value holding
//!   CR LF (refused), then a valid 418: the client gets the 418.
//! - `late-reply`: response headers go on, then in the response body hook a local reply is
//!   asked for: refused (the response started); the client gets the upstream's answer.

use envoyx_sdk::{BodyStatus, Filter, FilterConfig, HeadersStatus, Stream};

pub struct RulesConfig;

#[derive(Default)]
pub struct Rules {
    case: String,
    /// (call, result) pairs told back as `x-rules-<call>` response headers.
    results: Vec<(&'static str, bool)>,
}

impl FilterConfig for RulesConfig {
    type Filter = Rules;

    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(RulesConfig)
    }

    fn new_filter(&self) -> Rules {
        Rules::default()
    }
}

impl Rules {
    fn is(&self, case: &str) -> bool {
        self.case == case
    }
}

impl Filter for Rules {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        self.case = stream.request_headers().get_str("x-case").unwrap_or_default().to_string();
        match self.case.as_str() {
            "req-grow-held" => HeadersStatus::StopIteration,
            "req-grow-declared" => {
                stream.will_change_request_body_length();
                HeadersStatus::Continue
            }
            "bad-headers" => {
                let mut headers = stream.request_headers();
                self.results.push(("crlf", headers.set("x-bad", "a\r\nb")));
                self.results.push(("empty", headers.set("x-empty", "")));
                self.results.push(("upper", headers.set("X-Upper", "yes")));
                self.results.push(("pseudo", headers.add(":path", "/other")));
                HeadersStatus::Continue
            }
            "bad-reply" => {
                let low = stream.send_local_reply(99, &[], b"low", "envoyx_rules");
                let crlf = stream.send_local_reply(418, &[("x-bad", "a\r\nb")], b"crlf", "envoyx_rules");
                let ok = stream.send_local_reply(
                    418,
                    &[
                        ("x-rules-status99", if low { "true" } else { "false" }),
                        ("x-rules-crlf", if crlf { "true" } else { "false" }),
                    ],
                    b"teapot\n",
                    "envoyx_rules_teapot",
                );
                self.results.push(("reply", ok));
                HeadersStatus::StopIteration
            }
            _ => HeadersStatus::Continue,
        }
    }

    fn on_request_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        if !self.case.starts_with("req-grow") {
            return BodyStatus::Continue;
        }
        if !end_of_stream {
            return BodyStatus::StopIterationAndBuffer;
        }
        let appended = stream.request_body().append(b"+");
        self.results.push(("append", appended));
        BodyStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let mut headers = stream.response_headers();
        for (call, result) in &self.results {
            headers.set(format!("x-rules-{call}"), if *result { "true" } else { "false" });
        }
        if self.is("resp-grow-held") { HeadersStatus::StopIteration } else { HeadersStatus::Continue }
    }

    fn on_response_body(&mut self, stream: &mut Stream, end_of_stream: bool) -> BodyStatus {
        if self.is("late-reply") {
            // Refused: the headers already left. The test reads the client's answer and the log.
            stream.send_local_reply(500, &[], b"too late", "envoyx_rules_late");
            return BodyStatus::Continue;
        }
        if !self.case.starts_with("resp-grow") {
            return BodyStatus::Continue;
        }
        if !end_of_stream {
            return BodyStatus::StopIterationAndBuffer;
        }
        stream.response_body().append(b"+");
        BodyStatus::Continue
    }
}

envoyx_sdk::export_module!(RulesConfig);
