//! The stream-response example (Rust and Go) in official Envoy 1.38.3, 1.39.3 and 1.40.0 as a
//! terminal filter: the listener's only HTTP filter (`terminal_filter: true`, no router, no
//! cluster at all) answers with server-sent events and trailers; and a client that stops reading
//! makes it pause (ABI 1.2 watermarks), so Envoy's memory stays bounded while 60 MiB wait to be
//! produced, and every event still arrives, in order, once the client reads again.

mod support;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use support::*;

/// Envoy's buffer towards the client: its high watermark (the low one is half).
const BUFFER_LIMIT: u64 = 32 << 10;
/// The slow client's response: 30,000 events of 2 KiB.
const EVENTS: u64 = 30_000;
const EVENT_BYTES: u64 = 2048;

fn rust_module() -> PathBuf {
    envoyx_testhost::build_package("envoyx-example-stream-response")
}

/// The Go examples' one module (`go/examples/module`), which registers `stream-response` too.
fn go_module() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/examples/module");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-modules");
    envoyx_build::build_go_module(&source, "envoyxgo_examples", &out).unwrap_or_else(|e| panic!("{e}"))
}

/// A listener whose only HTTP filter is the example, marked terminal: no router follows it and
/// the bootstrap has no cluster, so nothing but the module can answer.
fn terminal_listener(port: u16, module: &Path) -> Value {
    let config = envoyx_harness::module_config("stream-response", module, "interval_ms=0");
    let mut filter = envoyx_filter("stream-response", config, LoadBy::Name, Form::Struct);
    filter["typed_config"]["terminal_filter"] = json!(true);
    let routes = vec![json!({ "match": { "prefix": "/" }, "direct_response": { "status": 404 } })];
    let mut listener = envoyx_harness::proxy::http_listener("sse", "127.0.0.1", port, routes, vec![filter]);
    let hcm = &mut listener["filter_chains"][0]["filters"][0]["typed_config"];
    let filters = hcm["http_filters"].as_array_mut().unwrap();
    filters.retain(|f| f["name"] != "envoy.filters.http.router");
    listener["per_connection_buffer_limit_bytes"] = json!(BUFFER_LIMIT);
    listener
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn request(port: u16, headers: &[(&str, &str)]) -> TcpStream {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = String::from("GET /events HTTP/1.1\r\nhost: sse\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    conn
}

fn read(conn: TcpStream) -> envoyx_harness::Message {
    envoyx_harness::read_message(&mut BufReader::new(conn), true).unwrap().expect("a response")
}

/// The `id:` of each event, in order.
fn ids(body: &[u8]) -> Vec<u64> {
    String::from_utf8_lossy(body)
        .split("\n\n")
        .filter_map(|event| event.strip_prefix("id: ")?.lines().next()?.parse().ok())
        .collect()
}

fn check(version: &str, module: &Path, language: &str) {
    let port = free_port();
    let bootstrap =
        envoyx_harness::proxy::bootstrap_with(free_port(), vec![terminal_listener(port, module)], vec![]);
    let envoy = start_envoy(version, &bootstrap, temp_dir());
    let what = format!("{language} stream-response in Envoy {version}");

    // A short stream: headers, three events, trailers; no cluster exists to ask.
    let reply = read(request(port, &[("x-envoyx-events", "3")]));
    envoy.check(reply.status() == 200, &format!("{what}: status {}", reply.start));
    envoy.check(reply.header("content-type") == Some("text/event-stream"), &format!("{what}: content-type"));
    envoy.check(
        ids(&reply.body) == [1, 2, 3],
        &format!("{what}: events {:?}", String::from_utf8_lossy(&reply.body)),
    );
    let trailer = |name: &str| reply.trailers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    envoy.check(
        trailer("x-envoyx-events-sent").as_deref() == Some("3"),
        &format!("{what}: trailers {:?}", reply.trailers),
    );

    // A client that stops reading: the producer pauses, so Envoy holds about its buffer limit,
    // not the 60 MiB still to come.
    let before = rss_kib(envoy.pid());
    let events = EVENTS.to_string();
    let bytes = EVENT_BYTES.to_string();
    let conn = request(port, &[("x-envoyx-events", &events), ("x-envoyx-event-bytes", &bytes)]);
    std::thread::sleep(Duration::from_millis(1500));
    let stalled = rss_kib(envoy.pid());
    let reply = read(conn);
    let grew = stalled.saturating_sub(before);
    println!("{what}: Envoy's RSS {before} KiB before, {stalled} KiB with the client stalled (+{grew} KiB)");
    envoy.check(grew < 16 << 10, &format!("{what}: Envoy grew {grew} KiB while the client did not read"));
    let got = ids(&reply.body);
    envoy.check(got.len() as u64 == EVENTS, &format!("{what}: {} events arrived", got.len()));
    envoy.check(got.iter().copied().eq(1..=EVENTS), &format!("{what}: the events came out of order"));
    let pauses: u64 = reply
        .trailers
        .iter()
        .find(|(k, _)| k == "x-envoyx-pauses")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    envoy.check(pauses >= 1, &format!("{what}: the producer never paused ({:?})", reply.trailers));
    envoy.check_no_host_errors();
}

#[test]
fn a_terminal_filter_streams_events_and_pauses_for_a_slow_client() {
    let (rust, go) = (rust_module(), go_module());
    for version in VERSIONS {
        check(version, &rust, "Rust");
        check(version, &go, "Go");
    }
}
