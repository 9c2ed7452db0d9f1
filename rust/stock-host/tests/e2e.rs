//! The stock-Envoy host inside the official Envoy binaries (1.38.3, 1.39.3, 1.40.0), with a C
//! EnvoyX module (`rust/test-modules/c/module.c`, `-DSTOCK_TEST_FILTER`) and a real upstream. Each test runs on every
//! version, one Envoy at a time. Bad configurations are in `bad_input.rs`, failures (panics,
//! disconnects, upstream resets) in `failures.rs`, HTTP/2 clients in `http2.rs`.

mod support;

use std::time::{Duration, Instant};
use support::*;

#[test]
fn headers_both_ways_with_both_config_forms() {
    for version in VERSIONS {
        let s = setup(
            version,
            &[("basic", LoadBy::Name, Form::Struct), ("basic", LoadBy::File, Form::StringValue)],
        );
        for port in s.ports.iter().copied() {
            let reply = get(port, "/headers", &[("x-copy-me", "copied value")]);
            let e = &s.envoy;
            e.check(reply.status() == 200, &format!("status {}", reply.status()));
            // Request headers the module added (the upstream echoes what it saw).
            e.check(reply.header("x-upstream-saw-x-envoyx-request") == Some("added"), "request header added");
            let count: usize =
                reply.header("x-upstream-saw-x-envoyx-header-count").unwrap_or("0").parse().unwrap();
            e.check(count >= 4, &format!("header_all counted {count} request headers"));
            e.check(reply.header("x-upstream-saw-x-copy-me") == Some("copied value"), "request header kept");
            // Response headers the module set and removed.
            e.check(reply.header("x-envoyx-response") == Some("hello from envoyx"), "response header set");
            e.check(reply.header("x-copied") == Some("copied value"), "request header read and copied");
            e.check(reply.header("x-upstream-drop-me").is_none(), "response header removed");
        }
        s.envoy.check(s.envoy.log().contains("EnvoyX stock-Envoy host"), "host load logged");
        s.envoy.check_no_host_errors();
    }
}

/// `len` bytes of lowercase text.
fn lowercase_body(len: usize) -> Vec<u8> {
    b"the quick brown fox jumps over the lazy dog; ".iter().copied().cycle().take(len).collect()
}

#[test]
fn body_rewritten_in_place_1kib_and_1mib() {
    for version in VERSIONS {
        let s = setup(version, &[("basic", LoadBy::File, Form::Struct)]);
        s.envoy.log_modules_at_debug();
        for len in [1024, 1024 * 1024] {
            let body = lowercase_body(len);
            let expected = body.to_ascii_uppercase();
            let before = s.upstream.received().len();
            let reply = post(s.ports[0], "/body", &[], &body);
            let e = &s.envoy;
            e.check(reply.status() == 200, &format!("{len} bytes: status {}", reply.status()));
            let received = s.upstream.received();
            e.check(received.len() == before + 1, "one upstream request");
            let upstream_body = &received.last().unwrap().body;
            e.check(
                upstream_body.len() == len,
                &format!("upstream got {} of {len} bytes", upstream_body.len()),
            );
            e.check(*upstream_body == expected, &format!("{len} bytes: upstream got the upper-cased body"));
            e.check(reply.body == expected, &format!("{len} bytes: client got the upper-cased body back"));
            e.check(
                reply.header("x-envoyx-request-bytes") == Some(len.to_string().as_str()),
                "the module saw every byte through the slices",
            );
        }
        // The core's zero-copy counter of each stream, as the stock host logs it inside Envoy:
        // rewriting the slices in place copied no body byte.
        let copied = s.envoy.wait_bytes_copied("test_basic", 2);
        s.envoy.check(copied == [0, 0], &format!("body bytes copied by the two rewrites: {copied:?}"));
        s.envoy.check_no_host_errors();
    }
}

/// Where `got` first differs from `want` (or where the shorter one ends), for messages about
/// large bodies.
fn first_difference(got: &[u8], want: &[u8]) -> Option<usize> {
    got.iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .or((got.len() != want.len()).then(|| got.len().min(want.len())))
}

/// 16 MiB through the module's in-place rewrite: many slices per hook, Envoy's watermarks on
/// both sides; one request, checked byte for byte on the upstream and back at the client.
#[test]
fn body_rewritten_in_place_16mib() {
    let len = 16 << 20;
    let body = lowercase_body(len);
    let expected = body.to_ascii_uppercase();
    for version in VERSIONS {
        let s = setup(version, &[("basic", LoadBy::File, Form::Struct)]);
        let reply = post(s.ports[0], "/body-16mib", &[], &body);
        let e = &s.envoy;
        e.check(reply.status() == 200, &format!("status {}", reply.status()));
        let received = s.upstream.received();
        e.check(received.len() == 1, &format!("{} upstream requests", received.len()));
        let upstream_body = &received[0].body;
        e.check(
            first_difference(upstream_body, &expected).is_none(),
            &format!(
                "upstream got {} bytes, first difference from the upper-cased body at {:?}",
                upstream_body.len(),
                first_difference(upstream_body, &expected)
            ),
        );
        e.check(
            first_difference(&reply.body, &expected).is_none(),
            &format!(
                "client got {} bytes back, first difference at {:?}",
                reply.body.len(),
                first_difference(&reply.body, &expected)
            ),
        );
        e.check(
            reply.header("x-envoyx-request-bytes") == Some(len.to_string().as_str()),
            &format!("the module saw {:?} bytes through the slices", reply.header("x-envoyx-request-bytes")),
        );
        e.check_no_host_errors();
    }
}

/// The upstream answers with trailers; the module reads one, sets one and removes one; the
/// HTTP/1.1 client (chunked, `TE: trailers`) gets the result.
#[test]
fn response_trailers_seen_and_edited_over_http1() {
    for version in VERSIONS {
        let s = setup(version, &[("basic", LoadBy::File, Form::Struct)]);
        let reply = post(
            s.ports[0],
            "/response-trailers",
            &[
                ("te", "trailers"),
                ("x-upstream-respond-trailer-x-upstream-t", "from upstream"),
                ("x-upstream-respond-trailer-x-drop-trailer", "1"),
                ("x-upstream-respond-trailer-x-keep", "kept"),
            ],
            b"abc",
        );
        let e = &s.envoy;
        e.check(reply.status() == 200, &format!("status {}", reply.status()));
        e.check(reply.header("transfer-encoding") == Some("chunked"), "chunked response");
        e.check(reply.body == b"ABC", "body rewritten before the trailers");
        let trailer = |name: &str| reply.trailers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let all = format!("trailers {:?}", reply.trailers);
        e.check(trailer("x-upstream-t") == Some("from upstream"), &all);
        e.check(trailer("x-keep") == Some("kept"), &all);
        e.check(trailer("x-envoyx-saw-t") == Some("from upstream"), &format!("module read a trailer: {all}"));
        e.check(
            trailer("x-envoyx-response-trailer") == Some("added"),
            &format!("module set a trailer: {all}"),
        );
        e.check(trailer("x-drop-trailer").is_none(), &format!("module removed a trailer: {all}"));
        e.check_no_host_errors();
    }
}

#[test]
fn chunked_body_and_trailers() {
    for version in VERSIONS {
        let s = setup(version, &[("basic", LoadBy::File, Form::Struct)]);
        let reply = post_chunked(s.ports[0], "/trailers", &[b"abc", b"def"], &[("x-client-trailer", "1")])
            .unwrap_or_else(|e| panic!("Envoy {version}: {e}"));
        let e = &s.envoy;
        e.check(reply.status() == 200, &format!("status {}", reply.status()));
        e.check(reply.body == b"ABCDEF", "every chunk upper-cased");
        e.check(reply.header("x-envoyx-request-bytes") == Some("6"), "both chunks seen");
        e.check(reply.header("x-upstream-saw-trailer-x-client-trailer") == Some("1"), "client trailer kept");
        e.check(
            reply.header("x-upstream-saw-trailer-x-envoyx-trailer") == Some("added"),
            "trailer set by the module",
        );
        e.check_no_host_errors();
    }
}

#[test]
fn local_reply_never_reaches_upstream() {
    for version in VERSIONS {
        let s = setup(version, &[("reply", LoadBy::Name, Form::StringValue)]);
        let reply = get(s.ports[0], "/denied", &[]);
        let e = &s.envoy;
        e.check(reply.status() == 403, &format!("status {}", reply.status()));
        e.check(reply.header("x-reply") == Some("envoyx"), "reply header");
        e.check(reply.body == b"denied by envoyx\n", "reply body");
        e.check(s.upstream.received().is_empty(), "upstream saw nothing");
        e.check_no_host_errors();
    }
}

#[test]
fn continue_from_another_thread_both_directions() {
    for version in VERSIONS {
        let s = setup(version, &[("delay", LoadBy::File, Form::Struct)]);
        let started = Instant::now();
        let reply = post(s.ports[0], "/delay", &[], b"delayed body");
        let elapsed = started.elapsed();
        let e = &s.envoy;
        e.check(reply.status() == 200, &format!("status {}", reply.status()));
        e.check(elapsed >= Duration::from_millis(200), &format!("two 100 ms holds took only {elapsed:?}"));
        e.check(reply.header("x-upstream-saw-x-delayed") == Some("yes"), "header set before the hold");
        e.check(reply.header("x-delayed-response") == Some("yes"), "response held and continued");
        e.check(reply.body == b"delayed body", "body passed through");
        e.check_no_host_errors();
    }
}

/// The continue makes the router answer 503 at once (no endpoints): Envoy runs this filter's
/// response hooks, completes and destroys the stream, all inside the host's continue call. The
/// module holds the response too; Envoy 1.38 cannot resume it (see
/// `continue_is_reentrant_safe`), so there the host lets it go on at once instead of hanging.
#[test]
fn continue_into_a_local_reply_from_a_later_filter() {
    for version in VERSIONS {
        let s = setup(version, &[("delay", LoadBy::File, Form::Struct)]);
        for _ in 0..3 {
            let started = Instant::now();
            let reply = get(s.ports[0], "/no-upstream", &[]);
            let elapsed = started.elapsed();
            s.envoy.check(reply.status() == 503, &format!("status {}", reply.status()));
            s.envoy.check(reply.header("x-delayed-response") == Some("yes"), "response hooks ran");
            let held = if version == "1.38.3" { 100 } else { 200 };
            s.envoy.check(elapsed >= Duration::from_millis(held), &format!("held only {elapsed:?}"));
        }
        if version == "1.38.3" {
            s.envoy.check(
                s.envoy.log().contains("could never resume it"),
                "1.38 work-around logged by the core",
            );
        }
        s.envoy.check(get(s.ports[0], "/after", &[]).status() == 200, "next request served");
        s.envoy.check_no_host_errors();
    }
}

#[test]
fn reset_stream_closes_the_connection() {
    for version in VERSIONS {
        let s =
            setup(version, &[("reset", LoadBy::File, Form::Struct), ("basic", LoadBy::File, Form::Struct)]);
        let result = request(s.ports[0], "GET", "/reset", &[], b"");
        s.envoy.check(result.is_err(), &format!("expected no response, got {result:?}"));
        s.envoy.check(s.upstream.received().is_empty(), "upstream saw nothing");
        // Envoy goes on serving.
        s.envoy.check(get(s.ports[1], "/after", &[]).status() == 200, "next request served");
        s.envoy.check_no_host_errors();
    }
}

/// `log_at` (ABI 1.2) in Envoy's log: Envoy 1.40 puts the module's file and line in its own
/// source field (log_v2), where a plain line shows `[envoyx:1]`; 1.38 and 1.39 have no such
/// callback, so the line carries them as a `[file:line] ` prefix after Envoy's own location.
#[test]
fn a_located_log_line_shows_the_module_source_in_envoy() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let upstream = start_upstream();
        let (port, admin) = (free_port(), free_port());
        let filter =
            envoyx_filter("conformance", module_config("located", &module, ""), LoadBy::Name, Form::Struct);
        let listeners = vec![listener("located", port, vec![filter])];
        let envoy = start_envoy(version, &bootstrap(admin, upstream.port, listeners, None), temp_dir());
        assert_eq!(get(port, "/", &[("x-case", "log-at")]).status(), 200, "Envoy {version}");
        let deadline = Instant::now() + Duration::from_secs(5);
        let line = loop {
            let log = envoy.log();
            if let Some(line) = log.lines().find(|l| l.contains("conformance: a located line")) {
                break line.to_string();
            }
            assert!(Instant::now() < deadline, "Envoy {version}: no located line in:\n{log}");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(
            line.contains("[conformance/located.rs:42] conformance: a located line"),
            "Envoy {version}: {line}"
        );
        // Envoy's format is `[time][thread][level][logger] [source:line] message`.
        let (_, after_logger) = line.split_once("[dynamic_modules] ").expect("Envoy's logger name");
        let source_field = if version == "1.40.0" {
            "[conformance/located.rs:42] conformance"
        } else {
            "[source/extensions/dynamic_modules/abi_impl.cc:"
        };
        assert!(after_logger.starts_with(source_field), "Envoy {version}: the source field: {line}");
        envoy.check_no_host_errors();
    }
}

/// `worker_count` and `worker_index` (ABI 1.2) in Envoy started with `--concurrency 3`: the
/// count is 3 (read on Envoy's main thread at the host's program init), and streams on separate
/// connections run on more than one worker, each index below 3.
#[test]
fn a_module_sees_envoys_workers() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let upstream = start_upstream();
        let (port, admin) = (free_port(), free_port());
        let filter =
            envoyx_filter("conformance", module_config("workers", &module, ""), LoadBy::Name, Form::Struct);
        let listeners = vec![listener("workers", port, vec![filter])];
        let bootstrap = bootstrap(admin, upstream.port, listeners, None);
        let envoy = start_envoy_with_workers(version, &bootstrap, temp_dir(), 3);
        let mut indexes = std::collections::BTreeSet::new();
        for _ in 0..60 {
            let reply = get(port, "/", &[("x-case", "workers")]);
            assert_eq!(
                reply.header("x-upstream-saw-x-conf-worker-count"),
                Some("Some(3)"),
                "Envoy {version}"
            );
            indexes.insert(reply.header("x-upstream-saw-x-conf-worker-index").unwrap_or("-").to_string());
        }
        assert!(
            indexes.len() >= 2
                && indexes.iter().all(|i| ["Some(0)", "Some(1)", "Some(2)"].contains(&i.as_str())),
            "Envoy {version}: worker indexes seen over 60 connections: {indexes:?}"
        );
        envoy.check_no_host_errors();
    }
}
