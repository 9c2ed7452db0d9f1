//! A module that panics in any hook: the panic never crosses the FFI boundary. Request path:
//! a 500 local reply; response path: a reset; config: rejected with the panic message. The host
//! keeps running and the next stream works.

use envoyx_core::Error;
use envoyx_testhost::{TestHost, TestStream, build_package};

fn host(hook: &str) -> Result<TestHost, Error> {
    TestHost::load(build_package("envoyx-test-module-panicky"), hook, hook)
}

/// Drives a full stream with bodies and trailers both ways.
fn drive(stream: &mut TestStream, spare: bool) {
    let panic = if spare { "no" } else { "yes" };
    stream.request_headers(&[(":path", "/"), ("x-panic", panic)], false);
    stream.request_body(&["a", "b"], false);
    stream.request_trailers(&[("x-t", "1")]);
    stream.response_headers(&[(":status", "200")], false);
    stream.response_body(&["c"], false);
    stream.response_trailers(&[("x-t", "2")]);
    stream.complete();
}

fn next_stream_works(host: &TestHost) {
    let mut stream = host.stream();
    drive(&mut stream, true);
    assert!(stream.local_reply().is_none() && !stream.was_reset());
    assert_eq!(stream.upstream_request_body(), b"ab");
    assert_eq!(stream.client_response_body(), b"c");
}

#[test]
fn panic_in_request_path_hooks_gives_500() {
    for hook in ["request_headers", "request_body", "request_trailers"] {
        let host = host(hook).unwrap();
        let mut stream = host.stream();
        drive(&mut stream, false);
        let reply = stream.local_reply().unwrap_or_else(|| panic!("{hook}: no local reply"));
        assert_eq!(reply.status, 500, "{hook}");
        assert_eq!(reply.details, "envoyx_module_panic", "{hook}");
        assert!(!stream.was_reset(), "{hook}");
        assert!(envoyx_testhost::logged(&format!("panicky: boom in {hook}")), "{hook}: panic not logged");
        drop(stream);
        next_stream_works(&host);
    }
}

#[test]
fn panic_in_response_path_hooks_resets() {
    for hook in ["response_headers", "response_body", "response_trailers"] {
        let host = host(hook).unwrap();
        let mut stream = host.stream();
        drive(&mut stream, false);
        assert!(stream.was_reset(), "{hook}: not reset");
        assert!(stream.local_reply().is_none(), "{hook}");
        drop(stream);
        next_stream_works(&host);
    }
}

#[test]
fn panic_in_config_new_rejects_the_config() {
    match host("config_new") {
        Err(Error::ConfigRejected { reason, .. }) => {
            assert!(reason.contains("panicked") && reason.contains("panicky: boom in config_new"), "{reason}")
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("config accepted"),
    }
    next_stream_works(&host("none").unwrap());
}

#[test]
fn panic_in_new_filter_gives_500() {
    let host = host("new_filter").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.local_reply().map(|r| r.status), Some(500));
}

#[test]
fn panic_in_stream_complete_is_contained() {
    let host = host("stream_complete").unwrap();
    let mut stream = host.stream();
    drive(&mut stream, false);
    drop(stream);
    assert!(envoyx_testhost::logged("panicky: boom in stream_complete"));
    next_stream_works(&TestHost::load(build_package("envoyx-test-module-panicky"), "ok", "none").unwrap());
}
