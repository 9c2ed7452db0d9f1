//! Starting a request over (ABI 1.2 `recreate_stream`) under the core's rules, in process: the
//! safe semantics (a request its headers ended, no response started, nothing ended already),
//! the old stream ended and a new one of the same configuration run with the headers as they
//! were, and the response headers handed to the proxy. The conformance cases `recreate*` show it
//! on every host, Envoy included.

use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, Stream};
use envoyx_testhost::{TestHost, logged};
use std::sync::atomic::{AtomicU32, Ordering};

/// The behaviour, and how many filters (streams) it made.
struct MoveConfig(String, AtomicU32);

/// Moves `/old` to `/new` by starting over; its config says from where. Tells its number
/// (`x-filter`) in the request headers.
struct Move {
    behaviour: String,
    number: u32,
}

impl FilterConfig for MoveConfig {
    type Filter = Move;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
        Ok(MoveConfig(String::from_utf8_lossy(config).into_owned(), AtomicU32::new(0)))
    }

    fn new_filter(&self) -> Move {
        Move { behaviour: self.0.clone(), number: self.1.fetch_add(1, Ordering::Relaxed) + 1 }
    }
}

impl Filter for Move {
    fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
        stream.request_headers().set("x-filter", self.number.to_string());
        if stream.request_headers().get_str(":path") != Some("/old") {
            return HeadersStatus::Continue;
        }
        match self.behaviour.as_str() {
            "request" => {
                stream.request_headers().set(":path", "/new");
                let started = stream.recreate_stream(&[(":status", "301"), ("location", "/new")]);
                stream.request_headers().set("x-started", started.to_string());
                if started { HeadersStatus::StopIteration } else { HeadersStatus::Continue }
            }
            "after-reply" => {
                stream.send_local_reply(403, &[], b"", "move_denied");
                let started = stream.recreate_stream(&[]);
                stream.request_headers().set("x-started", started.to_string());
                HeadersStatus::StopIteration
            }
            _ => HeadersStatus::Continue,
        }
    }
}

fn host(name: &str, behaviour: &str) -> TestHost {
    TestHost::in_process(envoyx_sdk::module_exports::<MoveConfig>(), name, behaviour).unwrap()
}

#[test]
fn a_request_its_headers_ended_starts_over_as_a_new_stream() {
    let host = host("move", "request");
    let mut stream = host.stream();
    assert_eq!(
        stream.request_headers(&[(":path", "/old")], true),
        envoyx_testhost::HeadersStatus::StopIteration
    );
    // The new stream ran with the changed headers and let them go on.
    assert!(stream.request_headers_forwarded());
    assert_eq!(stream.upstream_request_headers().get(":path").as_deref(), Some("/new"));
    assert_eq!(stream.upstream_request_headers().get("x-filter").as_deref(), Some("2"), "a new filter");
    let recreated = stream.recreated();
    assert_eq!(recreated.len(), 1);
    assert_eq!(recreated[0].get(":status").as_deref(), Some("301"));
    assert_eq!(recreated[0].get("location").as_deref(), Some("/new"));
}

#[test]
fn a_request_with_a_body_is_not_started_over() {
    let host = host("move-body", "request");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/old")], false);
    assert_eq!(stream.upstream_request_headers().get("x-started").as_deref(), Some("false"));
    assert!(stream.recreated().is_empty());
    assert!(logged("recreate_stream refused: the request has not ended"));
}

#[test]
fn nothing_starts_over_after_the_module_answered() {
    let host = host("move-answered", "after-reply");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/old")], true);
    assert!(stream.recreated().is_empty());
    assert_eq!(stream.local_reply().map(|r| r.status), Some(403));
    assert!(logged("recreate_stream refused: the module already reset or answered this stream"));
}
