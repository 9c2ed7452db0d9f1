//! Streams that end badly, on every Envoy version: a client that goes away mid-body, an upstream that dies mid-response or resets the connection. Envoy must not
//! crash, must go on serving, and must destroy every stream's filter exactly once, which the C
//! test module counts (`/__counts`, see `-DSTOCK_TEST_FILTER` in `rust/test-modules/c/module.c`).
//! Module panics in every hook are cases of the conformance suite (`tests/conformance.rs`).

mod support;

use serde_json::json;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};
use support::*;

/// Opens a connection to `port` and sends a POST's head announcing `length` body bytes, then
/// `sent` of them.
fn partial_post(port: u16, path: &str, length: usize, sent: usize) -> TcpStream {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!("POST {path} HTTP/1.1\r\nhost: test\r\ncontent-length: {length}\r\n\r\n");
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(&vec![b'x'; sent]).unwrap();
    conn
}

/// Waits until the C test module has seen `more` streams beyond `before` (its `new` count from
/// an earlier `/__counts` on `port`), not counting the `/__counts` requests made here.
fn wait_new_streams(port: u16, before: u64, more: u64) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    for asked in 1.. {
        let counts = fetch_counts(port)?;
        if counts.new >= before + asked + more {
            break;
        }
        if Instant::now() >= deadline {
            return Err(format!("the module saw {counts:?}, wanted {more} more streams than {before}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

#[test]
fn client_disconnect_mid_body_destroys_each_stream_once() {
    for version in VERSIONS {
        // l0: the in-place rewrite (streams body chunks); l1: holds each direction 100 ms and
        // continues from another thread, which then finds its stream gone.
        let s =
            setup(version, &[("basic", LoadBy::File, Form::Struct), ("delay", LoadBy::File, Form::Struct)]);
        let e = &s.envoy;
        for (port, what) in [(s.ports[0], "basic"), (s.ports[1], "delay")] {
            for (length, sent) in [(1 << 20, 512 << 10), (1000, 0), (1000, 999)] {
                // The counts are the module's, whichever listener asks; the basic one answers
                // at once (the delay one would hold the answer).
                let before = e.counts(s.ports[0]).new;
                let conn = partial_post(port, &format!("/disconnect/{what}/{sent}"), length, sent);
                // Only once the module has the stream: a close before that tests nothing.
                wait_new_streams(s.ports[0], before, 1).unwrap_or_else(|err| e.check(false, &err));
                drop(conn);
            }
        }
        // HTTP/2: the client cancels the stream mid-body (RST_STREAM), then closes.
        for (port, what) in [(s.ports[0], "basic"), (s.ports[1], "delay")] {
            let before = e.counts(s.ports[0]).new;
            let counts_port = s.ports[0];
            let (waited_tx, waited_rx) = std::sync::mpsc::channel();
            h2_cancel_mid_body(port, &format!("/cancel/{what}"), 1 << 20, 100 << 10, move || {
                let _ = waited_tx.send(wait_new_streams(counts_port, before, 1));
            })
            .unwrap_or_else(|err| e.check(false, &err));
            waited_rx.recv().unwrap().unwrap_or_else(|err| e.check(false, &err));
        }
        let counts = e.check_streams_destroyed_once(s.ports[0]);
        e.check(counts.new >= 8, &format!("eight cut-off streams among {counts:?}"));
        e.check(s.upstream.received().is_empty(), "no request reached the upstream whole");
        // Envoy still serves both listeners.
        e.check(post(s.ports[0], "/after", &[], b"abc").body == b"ABC", "basic listener serves");
        e.check(post(s.ports[1], "/after", &[], b"abc").status() == 200, "delay listener serves");
        e.check_streams_destroyed_once(s.ports[0]);
        e.check_no_host_errors();
    }
}

/// A server that accepts connections, reads a little, and resets them (RST, not FIN).
struct Resetter {
    port: u16,
}

impl Resetter {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
                let _ = conn.read(&mut [0; 1024]);
                let linger = libc::linger { l_onoff: 1, l_linger: 0 };
                // Safety: setsockopt(2) on a socket this thread owns, with a pointer to a live
                // `linger` and its exact size; SO_LINGER with a zero timeout makes the close
                // below send a reset.
                unsafe {
                    libc::setsockopt(
                        conn.as_raw_fd(),
                        libc::SOL_SOCKET,
                        libc::SO_LINGER,
                        (&linger as *const libc::linger).cast(),
                        size_of::<libc::linger>() as libc::socklen_t,
                    );
                }
                drop(conn);
            }
        });
        Self { port }
    }
}

/// Adds the cluster `resetter` (to `port`) to `bootstrap`, and a route `/resetter` to it in
/// every static listener.
fn with_resetter(mut bootstrap: serde_json::Value, port: u16) -> serde_json::Value {
    bootstrap["static_resources"]["clusters"].as_array_mut().unwrap().push(json!({
        "name": "resetter",
        "connect_timeout": "2s",
        "type": "STATIC",
        "load_assignment": {
            "cluster_name": "resetter",
            "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": {
                "socket_address": { "address": "127.0.0.1", "port_value": port }
            } } }] }]
        }
    }));
    for listener in bootstrap["static_resources"]["listeners"].as_array_mut().unwrap() {
        let routes = &mut listener["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]["virtual_hosts"]
            [0]["routes"];
        routes
            .as_array_mut()
            .unwrap()
            .insert(0, json!({ "match": { "prefix": "/resetter" }, "route": { "cluster": "resetter" } }));
    }
    bootstrap
}

#[test]
fn upstream_reset_destroys_each_stream_once() {
    for version in VERSIONS {
        let upstream = start_upstream();
        let resetter = Resetter::start();
        let module = c_test_module();
        let ports = [free_port(), free_port()];
        let listeners = ["basic", "delay"]
            .iter()
            .zip(ports)
            .enumerate()
            .map(|(i, (mode, port))| {
                let config = module_config(&format!("test_{mode}"), &module, mode);
                listener(
                    &format!("l{i}"),
                    port,
                    vec![envoyx_filter(mode, config, LoadBy::File, Form::Struct)],
                )
            })
            .collect();
        let config = with_resetter(bootstrap(free_port(), upstream.port, listeners, None), resetter.port);
        let envoy = start_envoy(version, &config, temp_dir());
        let e = &envoy;
        let body = vec![b'a'; 64 << 10];
        for (port, mode) in ports.iter().copied().zip(["basic", "delay"]) {
            // The upstream sends the head and 1000 of 65536 body bytes, then closes. If Envoy
            // had sent the response head on, the client gets a response cut short (an error
            // here); if not (the delay module still holds it), Envoy answers 502 itself.
            let result = request(port, "POST", "/abort", &[("x-upstream-abort-after", "1000")], &body);
            let outcome = match &result {
                Ok(reply) => format!("{} {:?}", reply.start, String::from_utf8_lossy(&reply.body)),
                Err(err) => format!("error {err}"),
            };
            e.check(
                result.as_ref().is_err() || result.as_ref().is_ok_and(|r| r.status() == 502),
                &format!("{mode}: expected a response cut short or a 502, got {outcome}"),
            );
            // The connection is reset before any response: Envoy's router answers 503 itself.
            let reply = post(port, "/resetter", &[], b"to a resetting port");
            e.check(reply.status() == 503, &format!("{mode}: resetter: status {}", reply.status()));
            if mode == "basic" {
                e.check(reply.header("x-envoyx-response") == Some("hello from envoyx"), "module saw the 503");
            }
        }
        let resets = e.stat("cluster.upstream.upstream_cx_destroy_remote_with_active_rq").unwrap_or(0);
        e.check(resets >= 2, &format!("{resets} upstream connections closed with an active request"));
        let resets = e.stat("cluster.resetter.upstream_cx_destroy_remote_with_active_rq").unwrap_or(0)
            + e.stat("cluster.resetter.upstream_cx_connect_fail").unwrap_or(0);
        e.check(resets >= 2, &format!("{resets} resets from the resetter"));

        let counts = e.check_streams_destroyed_once(ports[0]);
        e.check(counts.new >= 4, &format!("four reset streams among {counts:?}"));
        e.check(post(ports[0], "/after", &[], b"abc").body == b"ABC", "basic listener serves");
        e.check(post(ports[1], "/after", &[], b"abc").status() == 200, "delay listener serves");
        e.check_streams_destroyed_once(ports[0]);
        e.check_no_host_errors();
    }
}
