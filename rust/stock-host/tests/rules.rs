//! The stream rules the core owns, inside the official Envoy binaries (1.38.3, 1.39.3, 1.40.0)
//! through the stock host, over HTTP/1.1 and HTTP/2 clients, with the `rules` test module
//! (`rust/test-modules/rules`; the same cases run on the test host in
//! `rust/testhost/tests/rules.rs`). The upstream is a keep-alive HTTP/1.1 echo server that keeps
//! every request it parsed, so a body that disagreed with its `content-length` would show as a
//! lost byte or a garbled next request on the same upstream connection.

mod support;

use support::*;

const BODY: &[u8] = b"abcdefghi";

struct Rules {
    upstream: Upstream,
    envoy: Envoy,
    port: u16,
}

impl Rules {
    fn start(version: &str) -> Self {
        let upstream = start_upstream();
        let module = envoyx_testhost::build_package("envoyx-test-module-rules");
        let port = free_port();
        let config = module_config("rules", &module, "");
        let listeners =
            vec![listener("rules", port, vec![envoyx_filter("rules", config, LoadBy::Name, Form::Struct)])];
        let envoy = start_envoy(version, &bootstrap(free_port(), upstream.port, listeners, None), temp_dir());
        Self { upstream, envoy, port }
    }

    /// POSTs `BODY` with `x-case: case` over HTTP/1.1 or HTTP/2; returns status, the response
    /// header `name`'s value, and the body.
    fn post(&self, http2: bool, case: &str, header: &str) -> (u16, Option<String>, Vec<u8>) {
        let length = BODY.len().to_string();
        if http2 {
            let headers = [("x-case", case), ("content-length", length.as_str())];
            let reply = h2_request(self.port, "POST", "/", &headers, BODY, &[])
                .unwrap_or_else(|e| panic!("{case} over HTTP/2: {e}\n{}", self.envoy.log_tail()));
            (reply.status, reply.header(header).map(str::to_string), reply.body)
        } else {
            let reply = post(self.port, "/", &[("x-case", case)], BODY);
            (reply.status(), reply.header(header).map(str::to_string), reply.body.clone())
        }
    }

    /// Sends a case twice (the upstream connection is reused by the second) and checks that the
    /// upstream parsed exactly two requests, each with `expected` as its body and the
    /// `content-length` it carried (if any) equal to the body's length.
    fn twice_through_one_upstream_connection(
        &self,
        http2: bool,
        case: &str,
        expected: &[u8],
    ) -> Vec<(u16, Option<String>, Vec<u8>)> {
        let before = self.upstream.received().len();
        let replies: Vec<_> = (0..2).map(|_| self.post(http2, case, "x-rules-append")).collect();
        let received = self.upstream.received();
        let e = &self.envoy;
        let what = format!("{case} (http2: {http2})");
        e.check(
            received.len() == before + 2,
            &format!("{what}: upstream parsed {} requests, not 2", received.len() - before),
        );
        for request in &received[before..] {
            e.check(
                request.body == expected,
                &format!("{what}: upstream got {:?}", String::from_utf8_lossy(&request.body)),
            );
            if let Some(length) = request.header("content-length") {
                e.check(
                    length == expected.len().to_string(),
                    &format!("{what}: content-length {length} for {} bytes", expected.len()),
                );
            }
        }
        replies
    }
}

#[test]
fn request_body_length_changes_never_disagree_with_content_length() {
    for version in VERSIONS {
        let r = Rules::start(version);
        for http2 in [false, true] {
            // Headers went on with content-length: the append is refused, the body is intact.
            for (status, told, body) in
                r.twice_through_one_upstream_connection(http2, "req-grow-forwarded", BODY)
            {
                r.envoy.check(status == 200 && body == BODY, &format!("forwarded: {status} {body:?}"));
                r.envoy.check(told.as_deref() == Some("false"), &format!("forwarded: append told {told:?}"));
            }
            // Headers held: the append goes through and content-length is corrected.
            for case in ["req-grow-held", "req-grow-declared"] {
                for (status, told, body) in
                    r.twice_through_one_upstream_connection(http2, case, b"abcdefghi+")
                {
                    r.envoy
                        .check(status == 200 && body == b"abcdefghi+", &format!("{case}: {status} {body:?}"));
                    r.envoy.check(told.as_deref() == Some("true"), &format!("{case}: append told {told:?}"));
                }
            }
            let held = r.upstream.received();
            let last = held.last().unwrap();
            r.envoy.check(
                last.header("content-length").is_none(),
                "declared: the upstream got no content-length",
            );
        }
        let log = r.envoy.log();
        r.envoy
            .check(log.contains("body_append on the request body refused"), "the refusal is in Envoy's log");
        r.envoy.check(
            log.contains("filter `rules`), request_body hook"),
            "the log names the filter and the hook",
        );
        r.envoy.check_no_host_errors();
    }
}

#[test]
fn response_body_length_changes_never_disagree_with_content_length() {
    for version in VERSIONS {
        let r = Rules::start(version);
        for http2 in [false, true] {
            for _ in 0..2 {
                let (status, _, body) = r.post(http2, "resp-grow-forwarded", "content-length");
                r.envoy.check(
                    status == 200 && body == BODY,
                    &format!("resp forwarded (http2 {http2}): {status} {body:?}"),
                );
                let (status, length, body) = r.post(http2, "resp-grow-held", "content-length");
                r.envoy.check(
                    status == 200 && body == b"abcdefghi+",
                    &format!("resp held (http2 {http2}): {status} {body:?}"),
                );
                if let Some(length) = length {
                    r.envoy.check(length == "10", &format!("resp held: content-length {length}"));
                }
            }
        }
        r.envoy.check(r.envoy.log().contains("body_append on the response body refused"), "refusal logged");
        r.envoy.check_no_host_errors();
    }
}

#[test]
fn bad_headers_and_replies_are_refused_with_a_log_line_naming_them() {
    for version in VERSIONS {
        let r = Rules::start(version);
        for http2 in [false, true] {
            let (status, crlf, _) = r.post(http2, "bad-headers", "x-rules-crlf");
            r.envoy.check(
                status == 200,
                &format!("bad-headers: status {status} (a CR LF must not break the request)"),
            );
            r.envoy.check(crlf.as_deref() == Some("false"), "the CR LF value was refused");
            let (_, upper, _) = r.post(http2, "bad-headers", "x-upstream-saw-x-upper");
            r.envoy.check(upper.as_deref() == Some("yes"), "X-Upper reached the upstream lower-cased");
            let (status, status99, body) = r.post(http2, "bad-reply", "x-rules-status99");
            r.envoy.check(status == 418 && body == b"teapot\n", &format!("bad-reply: {status} {body:?}"));
            r.envoy.check(status99.as_deref() == Some("false"), "status 99 refused");
            let (status, _, body) = r.post(http2, "late-reply", "x");
            r.envoy.check(status == 200 && body == BODY, &format!("late-reply: {status} {body:?}"));
        }
        let log = r.envoy.log();
        r.envoy.check(
            log.contains(
                "header_set of `x-bad` on RequestHeaders refused: byte \\r is not allowed in a header value",
            ),
            "the CR LF refusal names the header and the reason",
        );
        r.envoy
            .check(log.contains("local reply status 99 is outside 200-599"), "the status refusal is logged");
        r.envoy.check(log.contains("the response already started"), "the late reply refusal is logged");
        r.envoy.check_no_host_errors();
    }
}
