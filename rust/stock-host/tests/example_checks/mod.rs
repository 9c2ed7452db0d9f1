//! The seven examples' checks on real Envoy, written once and run for both languages: the Rust
//! examples (`examples.rs`, one module per example) and the Go examples (`go_examples.rs`, one Go
//! module holding them all). Each example runs on its own listener; the filter config's `name`
//! is the example's name.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::*;

/// The examples and the filter_config each runs with.
pub const EXAMPLES: [(&str, &str); 7] = [
    ("helloworld", ""),
    ("headers", ""),
    ("body-rewrite", "response"),
    ("body-replace", ""),
    ("send-response", ""),
    ("delay", "100"),
    ("json-validate", "user"),
];

pub struct Examples {
    version: &'static str,
    pub upstream: Upstream,
    pub envoy: Envoy,
    ports: Vec<(&'static str, u16)>,
}

impl Examples {
    /// Starts Envoy `version` with one listener per example, its module file from `module`.
    pub fn start(version: &'static str, module: &dyn Fn(&str) -> PathBuf) -> Self {
        let upstream = start_upstream();
        let mut ports = Vec::new();
        let listeners = EXAMPLES
            .iter()
            .map(|(name, filter_config)| {
                let port = free_port();
                ports.push((*name, port));
                let config = module_config(name, &module(name), filter_config);
                listener(name, port, vec![envoyx_filter(name, config, LoadBy::Name, Form::Struct)])
            })
            .collect();
        let envoy = start_envoy(version, &bootstrap(free_port(), upstream.port, listeners, None), temp_dir());
        Self { version, upstream, envoy, ports }
    }

    fn port(&self, example: &str) -> u16 {
        self.ports.iter().find(|(name, _)| *name == example).unwrap().1
    }

    fn requests_to(&self, path: &str) -> usize {
        self.upstream.received().iter().filter(|r| r.start.contains(path)).count()
    }
}

/// Every example over HTTP/1.1, with its full checks.
pub fn check_over_http1(x: &Examples) {
    let e = &x.envoy;
    e.log_modules_at_debug();

    // helloworld: passes through and logs each event.
    let reply = post(x.port("helloworld"), "/hello", &[], b"ping");
    e.check(reply.status() == 200 && reply.body == b"ping", "helloworld passes through");
    e.check(e.log().contains("helloworld"), "helloworld logged through Envoy's log");

    // headers: both directions, multiple values, removal.
    let reply = get(
        x.port("headers"),
        "/headers",
        &[
            ("x-envoyx-multi", "original"),
            ("x-envoyx-remove-me", "1"),
            ("x-envoyx-echo", "one"),
            ("x-envoyx-echo", "two"),
            ("x-upstream-respond-x-envoyx-secret", "hidden"),
        ],
    );
    e.check(reply.status() == 200, "headers: status");
    e.check(reply.header("x-upstream-saw-x-envoyx-seen") == Some("true"), "headers: set");
    e.check(
        reply.header_all("x-upstream-saw-x-envoyx-multi") == ["original", "added-by-envoyx"],
        &format!("headers: added a value: {:?}", reply.header_all("x-upstream-saw-x-envoyx-multi")),
    );
    e.check(reply.header("x-upstream-saw-x-envoyx-remove-me").is_none(), "headers: removed");
    e.check(reply.header("x-envoyx-response") == Some("ok"), "headers: response set");
    e.check(reply.header("x-envoyx-secret").is_none(), "headers: response header removed");
    e.check(reply.header_all("x-envoyx-echo") == ["one", "two"], "headers: echoed values in order");

    // body-rewrite (response): upstream gets the body as sent, the client upper-cased, 1 MiB.
    let body: Vec<u8> = b"abcdefghij".iter().copied().cycle().take(1 << 20).collect();
    let reply = post(x.port("body-rewrite"), "/rewrite", &[], &body);
    e.check(reply.status() == 200, "body-rewrite: status");
    let upstream_body =
        x.upstream.received().into_iter().find(|r| r.start.contains("/rewrite")).unwrap().body;
    e.check(upstream_body == body, "body-rewrite: request untouched");
    e.check(reply.body == body.to_ascii_uppercase(), "body-rewrite: response upper-cased in place");

    // body-replace: buffered body edited through drain-and-append.
    let reply = post(
        x.port("body-replace"),
        "/replace",
        &[("x-envoyx-prepend", "<<"), ("x-envoyx-append", ">>"), ("x-envoyx-replace", "fox=cat")],
        b"the quick brown fox",
    );
    e.check(reply.status() == 200, "body-replace: status");
    e.check(
        reply.body == b"<<the quick brown cat>>",
        &format!("body-replace: {:?}", String::from_utf8_lossy(&reply.body)),
    );
    // The zero-copy counter (logged by the stock host as the stream ends) counts exactly the
    // bytes the module handed in: "cat" (3) replacing "fox", "<<" (2) and ">>" (2). The
    // in-place rewrite of 1 MiB above copied none.
    e.check(
        e.wait_bytes_copied("body-replace", 1) == [7],
        "body-replace: 7 body bytes copied, as the stock host logs it",
    );
    e.check(e.wait_bytes_copied("body-rewrite", 1) == [0], "body-rewrite: no body byte copied");

    // send-response: local replies on the request and on the response path.
    let reply = get(x.port("send-response"), "/private", &[]);
    e.check(reply.status() == 401, "send-response: 401");
    e.check(reply.header("www-authenticate") == Some("Bearer"), "send-response: header");
    e.check(reply.body == b"unauthorized\n", "send-response: body");
    e.check(x.requests_to("/private") == 0, "send-response: upstream not reached");
    let reply = get(x.port("send-response"), "/fail-response", &[("authorization", "Bearer x")]);
    e.check(reply.status() == 500, &format!("send-response: response path status {}", reply.status()));
    e.check(reply.body == b"failed on response path\n", "send-response: response replaced");
    let reply = get(x.port("send-response"), "/allowed", &[("authorization", "Bearer x")]);
    e.check(reply.status() == 200, "send-response: authorized request passes");

    // delay: request held 100 ms (body too), response held as the header asks.
    let started = Instant::now();
    let reply = post(x.port("delay"), "/delay", &[("x-envoyx-delay-response", "100")], b"held");
    let elapsed = started.elapsed();
    e.check(reply.status() == 200 && reply.body == b"held", "delay: passes after the hold");
    e.check(elapsed >= Duration::from_millis(200), &format!("delay: held only {elapsed:?}"));
    let waited: u64 = reply.header("x-envoyx-delayed-ms").unwrap_or("0").parse().unwrap_or(0);
    e.check(waited >= 100, &format!("delay: x-envoyx-delayed-ms = {waited}"));

    // json-validate: buffered body checked; 400 replies from the body hook.
    let reply = post(x.port("json-validate"), "/json-ok", &[], br#"{"user": "ada"}"#);
    e.check(reply.status() == 200 && reply.body == br#"{"user": "ada"}"#, "json-validate: valid passes");
    let reply = post(x.port("json-validate"), "/json-bad", &[], b"{}");
    e.check(reply.status() == 400, "json-validate: 400");
    e.check(reply.body == b"{\"error\":\"missing field \\\"user\\\"\"}\n", "json-validate: error body");
    e.check(x.requests_to("/json-bad") == 0, "json-validate: invalid never reaches upstream");
    e.check_no_host_errors();
}

/// Every example driven once over HTTP/2 (h2c with prior knowledge): what a module does must not
/// depend on the client's protocol.
pub fn check_over_http2(x: &Examples) {
    let version = x.version;
    let e = &x.envoy;
    let h2 = |example: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]| {
        h2_request(x.port(example), method, path, headers, body, &[])
            .unwrap_or_else(|err| panic!("Envoy {version}, {example} over HTTP/2: {err}\n{}", e.log_tail()))
    };

    let reply = h2("helloworld", "POST", "/h2-hello", &[], b"ping");
    e.check(reply.status == 200 && reply.body == b"ping", "helloworld passes through");

    let reply = h2("headers", "GET", "/h2-headers", &[("x-envoyx-remove-me", "1")], b"");
    e.check(reply.header("x-upstream-saw-x-envoyx-seen") == Some("true"), "headers: request set");
    e.check(reply.header("x-upstream-saw-x-envoyx-remove-me").is_none(), "headers: removed");
    e.check(reply.header("x-envoyx-response") == Some("ok"), "headers: response set");

    let body: Vec<u8> = b"abcdefghij".iter().copied().cycle().take(256 << 10).collect();
    let reply = h2("body-rewrite", "POST", "/h2-rewrite", &[], &body);
    e.check(reply.body == body.to_ascii_uppercase(), "body-rewrite: response upper-cased in place");

    let reply = h2("body-replace", "POST", "/h2-replace", &[("x-envoyx-replace", "fox=cat")], b"a fox");
    e.check(reply.body == b"a cat", &format!("body-replace: {:?}", String::from_utf8_lossy(&reply.body)));

    let reply = h2("send-response", "GET", "/h2-private", &[], b"");
    e.check(reply.status == 401 && reply.body == b"unauthorized\n", "send-response: local reply");
    e.check(x.requests_to("/h2-private") == 0, "send-response: upstream not reached");

    let reply = h2("delay", "GET", "/h2-delay", &[], b"");
    let waited: u64 = reply.header("x-envoyx-delayed-ms").unwrap_or("0").parse().unwrap_or(0);
    e.check(reply.status == 200 && waited >= 100, &format!("delay: held {waited} ms"));

    let reply = h2("json-validate", "POST", "/h2-json", &[], b"{}");
    e.check(reply.status == 400, &format!("json-validate: status {}", reply.status));
    e.check(x.requests_to("/h2-json") == 0, "json-validate: invalid never reaches upstream");

    let served: u64 = EXAMPLES
        .iter()
        .map(|(name, _)| e.stat(&format!("http.{name}.downstream_cx_http2_total")).unwrap_or(0))
        .sum();
    e.check(served >= EXAMPLES.len() as u64, &format!("{served} HTTP/2 connections, one per example"));
    e.check_no_host_errors();
}
