//! The local-reply news (ABI 1.2 `envoyx_on_stream_local_reply`) under the core's rules, in
//! process: a reply made after the filter reaches the hook, then passes the response hooks; the
//! module's own reply reaches it too; what would end or resume the stream is refused inside it;
//! a panic there lets the reply go on. The conformance cases `local-reply-*` show it on every
//! host, Envoy's router included.

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, LocalReplyStatus, Stream};
use envoyx_testhost::{TestHost, logged};

struct HearingConfig(String);

/// Notes each local reply it hears; its filter config says what else to do.
struct Hearing {
    behaviour: String,
    heard: Vec<String>,
}

impl FilterConfig for HearingConfig {
    type Filter = Hearing;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        Ok(HearingConfig(String::from_utf8_lossy(config).into_owned()))
    }

    fn new_filter(&self) -> Hearing {
        Hearing { behaviour: self.0.clone(), heard: Vec::new() }
    }
}

impl Filter for Hearing {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        if self.behaviour == "own" {
            stream.send_local_reply(403, &[], b"no\n", "hearing_denied");
            return HeadersStatus::StopIteration;
        }
        HeadersStatus::Continue
    }

    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        stream.response_headers().set("x-heard", self.heard.join(";"));
        HeadersStatus::Continue
    }

    fn on_local_reply(
        &mut self,
        stream: &mut Stream,
        status: u16,
        details: &str,
        reset_imminent: bool,
    ) -> LocalReplyStatus {
        self.heard.push(format!("{status} {details} {reset_imminent}"));
        match self.behaviour.as_str() {
            "act" => {
                let replied = stream.send_local_reply(500, &[], b"", "hearing_again");
                let continued = stream.continue_response();
                self.heard.push(format!("reply={replied},continue={continued}"));
                LocalReplyStatus::Continue
            }
            "panic" => panic!("hearing: boom in on_local_reply"),
            "reset" => LocalReplyStatus::Reset,
            _ => LocalReplyStatus::Continue,
        }
    }
}

fn host(name: &str, behaviour: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<HearingConfig>(), name, behaviour).unwrap()
}

#[test]
fn a_reply_made_after_the_filter_is_heard_then_passes_the_response_hooks() {
    let host = host("hearing", "");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert!(stream.proxy_local_reply(503, "no_healthy_upstream", b"no healthy upstream"));
    let headers = stream.client_response_headers();
    assert_eq!(headers.get(":status").as_deref(), Some("503"));
    assert_eq!(headers.get("x-heard").as_deref(), Some("503 no_healthy_upstream false"));
    assert_eq!(stream.client_response_body(), b"no healthy upstream");
}

#[test]
fn the_module_may_have_the_stream_reset_instead() {
    let host = host("hearing-reset", "reset");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert!(!stream.proxy_local_reply(504, "upstream_response_timeout", b""));
    assert!(stream.was_reset());
    assert!(!stream.response_headers_forwarded());
}

#[test]
fn the_modules_own_reply_is_heard_too() {
    let host = host("hearing-own", "own");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    let reply = stream.local_reply().expect("the module's reply went out");
    assert_eq!(reply.status, 403);
    // Its own reply passes its response hooks without reaching the module: what it heard is
    // not told anywhere, but the hook ran (a reset answer would have stopped the reply).
    assert!(!stream.was_reset());
}

#[test]
fn inside_the_hook_nothing_ends_or_resumes_the_stream() {
    let host = host("hearing-act", "act");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    stream.proxy_local_reply(503, "no_healthy_upstream", b"x");
    assert_eq!(
        stream.client_response_headers().get("x-heard").as_deref(),
        Some("503 no_healthy_upstream false;reply=false,continue=false")
    );
    assert!(logged(
        "local_reply hook: send_local_reply (status 500) refused: a local reply can only be sent from an event hook, not from local_reply"
    ));
}

#[test]
fn a_panic_in_the_hook_lets_the_reply_go_on() {
    let host = host("hearing-panic", "panic");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert!(stream.proxy_local_reply(503, "no_healthy_upstream", b"no healthy upstream"));
    assert_eq!(stream.client_response_headers().get(":status").as_deref(), Some("503"));
    assert!(logged("the local_reply hook failed"));
    assert!(logged("hearing: boom in on_local_reply"));
}
