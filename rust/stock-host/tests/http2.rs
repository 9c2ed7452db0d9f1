//! HTTP/2 clients (h2c with prior knowledge) through the stock host on every Envoy version: the
//! listener's `codec_type: AUTO` speaks HTTP/2 downstream while the upstream stays HTTP/1.1, so
//! the module sees the same events, with HTTP/2's pseudo-headers and trailers.

mod support;

use support::*;

/// Fails unless the listener with stat prefix `prefix` served `at_least` HTTP/2 connections, so a
/// test cannot pass over HTTP/1.1 by mistake.
fn check_http2_used(envoy: &Envoy, prefix: &str, at_least: u64) {
    let total = envoy.stat(&format!("http.{prefix}.downstream_cx_http2_total")).unwrap_or(0);
    envoy.check(total >= at_least, &format!("{total} HTTP/2 downstream connections, wanted {at_least}"));
}

#[test]
fn headers_both_ways_over_http2() {
    for version in VERSIONS {
        let s = setup(version, &[("basic", LoadBy::File, Form::Struct)]);
        let e = &s.envoy;
        let reply = h2_request(s.ports[0], "GET", "/h2-headers", &[("x-copy-me", "over h2")], b"", &[])
            .unwrap_or_else(|err| panic!("Envoy {version}: {err}\n{}", e.log_tail()));
        e.check(reply.status == 200, &format!("status {}", reply.status));
        e.check(reply.header("x-upstream-saw-x-envoyx-request") == Some("added"), "request header added");
        e.check(reply.header("x-upstream-saw-x-copy-me") == Some("over h2"), "request header kept");
        // HTTP/2's `:authority` reaches the HTTP/1.1 upstream as `host`.
        e.check(reply.header("x-upstream-saw-host").is_some(), "authority passed on as host");
        let count: usize =
            reply.header("x-upstream-saw-x-envoyx-header-count").unwrap_or("0").parse().unwrap();
        e.check(count >= 4, &format!("header_all counted {count} request headers (pseudo-headers too)"));
        e.check(reply.header("x-envoyx-response") == Some("hello from envoyx"), "response header set");
        e.check(reply.header("x-copied") == Some("over h2"), "request header read and copied");
        e.check(reply.header("x-upstream-drop-me").is_none(), "response header removed");
        let received = s.upstream.received();
        e.check(
            received.len() == 1 && received[0].start == "GET /h2-headers HTTP/1.1",
            &format!("upstream got {:?}", received.iter().map(|r| &r.start).collect::<Vec<_>>()),
        );
        check_http2_used(e, "l0", 1);
        e.check_no_host_errors();
    }
}

/// 1 MiB over HTTP/2 frames (16 KiB each by default) through the in-place rewrite, with request
/// trailers the module adds to and response trailers it edits.
#[test]
fn body_rewrite_and_trailers_over_http2() {
    let len = 1 << 20;
    let body: Vec<u8> = b"http/2 body; ".iter().copied().cycle().take(len).collect();
    let expected = body.to_ascii_uppercase();
    for version in VERSIONS {
        let s = setup(version, &[("basic", LoadBy::File, Form::Struct)]);
        let e = &s.envoy;
        let reply = h2_request(
            s.ports[0],
            "POST",
            "/h2-body",
            &[
                ("x-upstream-respond-trailer-x-upstream-t", "from upstream"),
                ("x-upstream-respond-trailer-x-drop-trailer", "1"),
            ],
            &body,
            &[("x-client-trailer", "1")],
        )
        .unwrap_or_else(|err| panic!("Envoy {version}: {err}\n{}", e.log_tail()));
        e.check(reply.status == 200, &format!("status {}", reply.status));
        let received = s.upstream.received();
        e.check(received.len() == 1, &format!("{} upstream requests", received.len()));
        let upstream = &received[0];
        e.check(upstream.body.len() == len, &format!("upstream got {} of {len} bytes", upstream.body.len()));
        e.check(upstream.body == expected, "upstream got the upper-cased body");
        e.check(reply.body.len() == len, &format!("client got {} of {len} bytes", reply.body.len()));
        e.check(reply.body == expected, "client got the upper-cased body back");
        e.check(
            reply.header("x-envoyx-request-bytes") == Some(len.to_string().as_str()),
            "the module saw every byte through the slices",
        );
        // Request trailers: the client's, and the one the module set.
        let trailer = |name: &str| upstream.trailers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let all = format!("upstream trailers {:?}", upstream.trailers);
        e.check(trailer("x-client-trailer") == Some("1"), &all);
        e.check(trailer("x-envoyx-trailer") == Some("added"), &all);
        // Response trailers, as HTTP/2 trailers.
        let all = format!("response trailers {:?}", reply.trailers);
        e.check(reply.trailer("x-upstream-t") == Some("from upstream"), &all);
        e.check(reply.trailer("x-envoyx-saw-t") == Some("from upstream"), &all);
        e.check(reply.trailer("x-envoyx-response-trailer") == Some("added"), &all);
        e.check(reply.trailer("x-drop-trailer").is_none(), &all);
        check_http2_used(e, "l0", 1);
        e.check_no_host_errors();
    }
}

/// A local reply from the module's request hook, over HTTP/2.
#[test]
fn local_reply_over_http2() {
    for version in VERSIONS {
        let s = setup(version, &[("reply", LoadBy::Name, Form::StringValue)]);
        let e = &s.envoy;
        let reply = h2_request(s.ports[0], "GET", "/h2-denied", &[], b"", &[])
            .unwrap_or_else(|err| panic!("Envoy {version}: {err}\n{}", e.log_tail()));
        e.check(reply.status == 403, &format!("status {}", reply.status));
        e.check(reply.header("x-reply") == Some("envoyx"), "reply header");
        e.check(reply.body == b"denied by envoyx\n", "reply body");
        e.check(s.upstream.received().is_empty(), "upstream saw nothing");
        check_http2_used(e, "l0", 1);
        e.check_no_host_errors();
    }
}

/// `send_goaway_and_close` (ABI 1.2) over HTTP/2: Envoy sends GOAWAY and closes the connection
/// (the client sees the connection go), where a reset ends only the stream (a stream error);
/// Envoy counts the GOAWAY and the connection it closed with a request on it.
#[test]
fn goaway_closes_the_connection_over_http2() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let upstream = start_upstream();
        let port = free_port();
        let filter =
            envoyx_filter("conformance", module_config("goaway", &module, ""), LoadBy::Name, Form::Struct);
        let envoy = start_envoy(
            version,
            &bootstrap(free_port(), upstream.port, vec![listener("l0", port, vec![filter])], None),
            temp_dir(),
        );
        let goaway =
            h2_request(port, "GET", "/", &[("x-case", "goaway")], b"", &[]).expect_err("no response");
        let reset =
            h2_request(port, "GET", "/", &[("x-case", "reset-request")], b"", &[]).expect_err("no response");
        // The client sees its connection go (reset, or a broken pipe: timing decides which it
        // notices first), never the stream error a reset gives.
        envoy.check(!goaway.contains("stream error received"), &format!("the connection closed: {goaway}"));
        envoy.check(
            reset.contains("stream error received"),
            &format!("a reset ends only the stream: {reset}"),
        );
        envoy.check(envoy.stat("http2.goaway_sent") == Some(1), "one GOAWAY sent");
        envoy.check(
            envoy.stat("http.l0.downstream_cx_destroy_local_active_rq") == Some(1),
            "one connection closed by Envoy, with the stream on it",
        );
        check_http2_used(&envoy, "l0", 2);
        envoy.check_no_host_errors();
    }
}
