//! A module that panics in a hook, on the C++ host: the panic never crosses into C++. Request
//! path: a 500 local reply; response path: a reset; config: a rust::Error with the panic message.

mod host;

use host::{Filter, Stream, config_json, json_load_error, package};

/// The panicky module panics in the hook its `filter_config` names.
fn panicky() -> std::path::PathBuf {
    package("envoyx-test-module-panicky")
}

fn drive(stream: &mut Stream, panic: bool) {
    let panic = if panic { "yes" } else { "no" };
    stream.request_headers(&[(":path", "/"), ("x-panic", panic)], false);
    stream.request_body(&["a", "b"], false);
    stream.request_trailers(&[("x-t", "1")]);
    stream.response_headers(&[(":status", "200")], false);
    stream.response_body(&["c"], false);
    stream.response_trailers(&[("x-t", "2")]);
    stream.complete();
}

fn next_stream_works(filter: &Filter) {
    let mut stream = filter.stream();
    drive(&mut stream, false);
    assert!(stream.local_reply().is_none() && !stream.was_reset());
    assert_eq!(stream.upstream_request_body(), b"ab");
    assert_eq!(stream.client_response_body(), b"c");
}

#[test]
fn panic_in_request_path_hooks_gives_500() {
    for hook in ["request_headers", "request_body", "request_trailers"] {
        let filter = Filter::load(&panicky(), hook, hook).unwrap();
        let mut stream = filter.stream();
        drive(&mut stream, true);
        let reply = stream.local_reply().unwrap_or_else(|| panic!("{hook}: no local reply"));
        assert_eq!((reply.status, reply.details.as_str()), (500, "envoyx_module_panic"), "{hook}");
        assert!(!stream.was_reset(), "{hook}");
        assert!(host::logged(&format!("panicky: boom in {hook}")), "{hook}: panic not logged");
        drop(stream);
        next_stream_works(&filter);
    }
}

#[test]
fn panic_in_response_path_hooks_resets() {
    for hook in ["response_headers", "response_body", "response_trailers"] {
        let filter = Filter::load(&panicky(), hook, hook).unwrap();
        let mut stream = filter.stream();
        drive(&mut stream, true);
        assert!(stream.was_reset(), "{hook}: not reset");
        assert!(stream.local_reply().is_none(), "{hook}");
        drop(stream);
        next_stream_works(&filter);
    }
}

#[test]
fn panic_in_config_new_is_a_rejected_config() {
    let msg = json_load_error(&config_json(&panicky(), "config_new", "config_new"));
    assert!(msg.contains("filter config `config_new` rejected by the module"), "{msg}");
    assert!(msg.contains("panicky: boom in config_new"), "{msg}");
    next_stream_works(&Filter::load(&panicky(), "ok", "none").unwrap());
}
