//! Load sharing, lifecycle counts and event order, on the C test module.

mod common;

use common::{Counters, c_module};
use envoyx_testhost::{HeadersStatus, TestHost};
use std::sync::Arc;

#[test]
fn one_load_per_file_shared_by_configs() {
    let module = c_module("shared", &[]);
    let a = TestHost::load(&module, "a", "").unwrap();
    let b = TestHost::load(&module, "b", "").unwrap();
    assert!(Arc::ptr_eq(&a.filter_config().module(), &b.filter_config().module()));
    let via_json = TestHost::from_json(&format!(
        r#"{{"name": "c", "file_path": "{}", "do_not_dlclose": true}}"#,
        module.display()
    ))
    .unwrap();
    assert!(Arc::ptr_eq(&a.filter_config().module(), &via_json.filter_config().module()));
}

#[test]
fn destroy_exactly_once_and_config_outlives_its_streams() {
    let module = c_module("counts", &[]);
    let counters = Counters::open(&module);
    let host = TestHost::load(&module, "t", "").unwrap();
    let base = counters.read();
    assert_eq!(base[0], 1, "one config created");
    let version = Arc::downgrade(&host.filter_config().current());
    let counts_now = || version.upgrade().expect("the version lives while a stream uses it").stream_counts();
    let totals_before = envoyx_core::lifecycle::totals();

    let mut finished = host.stream();
    finished.request_headers(&[(":path", "/")], true);
    finished.response_headers(&[(":status", "200")], true);
    finished.complete();
    finished.complete();
    let mut reset_midway = host.stream();
    reset_midway.request_headers(&[(":path", "/")], false);
    let never_started = host.stream();
    drop(finished);
    drop(reset_midway);

    // The core counts what the host reported: two completed by the host (the second call does
    // nothing), one completed only by being destroyed.
    let counts = counts_now();
    assert_eq!((counts.started, counts.completed, counts.destroyed), (3, 1, 2));
    assert!(!counts.balanced());

    // The config is dropped by the host while a stream still runs: it must live on.
    drop(host);
    let counts = counters.read();
    assert_eq!(counts[1], 0, "config destroyed while a stream still uses it");
    drop(never_started);
    let counts = counters.read();
    assert_eq!(&counts[2..], &[3, 3, 3], "streams created, completed, destroyed");
    assert_eq!(counts[1], 1, "config destroyed after its last stream");
    assert!(version.upgrade().is_none(), "the version is gone with its last stream");
    // Other tests run beside this one: the process totals only grow, by at least this test's.
    let totals = envoyx_core::lifecycle::totals();
    assert!(totals.configs_destroyed > totals_before.configs_destroyed, "{totals}");
    assert!(totals.streams.destroyed >= totals_before.streams.destroyed + 3, "{totals}");
    assert!(envoyx_testhost::logged(
        "configuration destroyed; its streams: 3 started, 1 completed, 3 destroyed"
    ));
}

#[test]
fn events_out_of_order_are_refused_and_not_delivered() {
    let host = TestHost::load(c_module("order", &[]), "t", "").unwrap();
    let mut stream = host.stream();
    let core = stream.core();
    let err = core.on_request_body(false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "EnvoyX stream: event request_body out of order: headers have not arrived yet"
    );
    assert_eq!(core.on_request_headers(false).unwrap().status, HeadersStatus::Continue);
    assert!(core.on_request_headers(false).is_err(), "headers twice");
    assert!(core.on_request_trailers().unwrap().effects.is_empty());
    assert!(core.on_request_body(true).is_err(), "body after trailers");
    assert!(core.on_request_trailers().is_err(), "trailers twice");
    // The response may start before or after the request ended; after complete nothing goes.
    assert!(core.on_response_headers(false).unwrap().effects.is_empty());
    core.on_stream_complete();
    let err = core.on_response_body(true).unwrap_err();
    assert_eq!(err.reason, "the stream is already complete");
    // A stray wake-up is harmless.
    assert!(core.on_scheduled().is_empty(), "a wake-up with nothing queued does nothing");
}
