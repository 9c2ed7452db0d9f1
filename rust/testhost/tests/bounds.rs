//! Per-stream bounds a module cannot pass by mistake (`validate.rs`): header names and values,
//! header sets and adds per stream, a local reply's headers, body and details. Each is refused
//! like other bad input (false, one warning naming the bound), and the stream goes on.

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, Stream};
use envoyx_testhost::{TestHost, logged};

struct Config;

/// Per request header `x-case`: `adds` adds 2,000 headers; `reply-body` answers with a 2 MiB
/// body, then with a 1 MiB one; `long-value` sets a 65 KiB value.
struct Bounded {
    outcome: Vec<String>,
}

impl FilterConfig for Config {
    type Filter = Bounded;
    fn new(_name: &str, _config: &[u8]) -> Result<Self, String> {
        Ok(Config)
    }
    fn new_filter(&self) -> Bounded {
        Bounded { outcome: Vec::new() }
    }
}

impl Filter for Bounded {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        let case = stream.request_headers().get_str("x-case").unwrap_or_default().to_string();
        match case.as_str() {
            "adds" => {
                let accepted =
                    (0..2000).filter(|i| stream.request_headers().add(format!("x-add-{i}"), "v")).count();
                self.outcome.push(format!("accepted={accepted}"));
            }
            "reply-body" => {
                let big = vec![b'b'; (1 << 20) + 1];
                let refused = !stream.send_local_reply(200, &[], &big, "too_big");
                let sent = stream.send_local_reply(200, &[], &big[1..], "just_fits");
                self.outcome.push(format!("refused={refused},sent={sent}"));
                return HeadersStatus::StopIteration;
            }
            "long-value" => {
                let long = "v".repeat((64 << 10) + 1);
                let refused = !stream.request_headers().set("x-long", &long);
                let fits = stream.request_headers().set("x-long", &long[1..]);
                self.outcome.push(format!("refused={refused},fits={fits}"));
            }
            _ => {}
        }
        HeadersStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        stream.response_headers().set("x-outcome", self.outcome.join(";"));
        HeadersStatus::Continue
    }
}

fn host() -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<Config>(), "bounded", "").unwrap()
}

fn outcome(case: &str) -> String {
    let host = host();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), ("x-case", case)], true);
    stream.response_headers(&[(":status", "200")], true);
    stream.client_response_headers().get("x-outcome").unwrap_or_default()
}

#[test]
fn header_writes_per_stream_are_bounded() {
    // The x-outcome set on the response is one more write, past the bound: refused too, so the
    // figure is read from the log and the upstream's view instead.
    let host = host();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), ("x-case", "adds")], true);
    let added =
        stream.upstream_request_headers().pairs().iter().filter(|(k, _)| k.starts_with("x-add-")).count();
    assert_eq!(added, 1024, "1,024 header writes per stream, then refusals");
    assert!(logged("the number of header sets and adds on this stream is 1025, more than the bound of 1024"));
}

#[test]
fn a_local_reply_body_is_bounded() {
    let host = host();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), ("x-case", "reply-body")], true);
    let reply = stream.local_reply().expect("the reply that fits is sent");
    assert_eq!((reply.details.as_str(), reply.body.len()), ("just_fits", 1 << 20));
    assert!(logged("the local reply's body length in bytes is 1048577, more than the bound of 1048576"));
}

#[test]
fn a_header_value_is_bounded() {
    assert_eq!(outcome("long-value"), "refused=true,fits=true");
    assert!(logged("the header value's length in bytes is 65537, more than the bound of 65536"));
}
