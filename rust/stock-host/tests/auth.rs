//! The `auth` example module (`rust/examples/auth`) in the official Envoy binaries (1.38.3,
//! 1.39.3, 1.40.0) through the stock host, against a real auth service (`envoyx_harness::
//! AuthServer`) behind the cluster `auth`: allowed with the identity added, 401 and 403 from
//! the service, a slow service timing out (fail-closed 503), a cluster Envoy does not have
//! (fail-closed 503, fail-open through), per-route configs (auth off, a required role), a body
//! held until the answer, and a client that gives up while the callout is in flight. The same
//! checks run for the Go example (`go/examples/auth`).

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;

/// Listeners, one per filter config (all on the auth module), with the routes `/public` (auth
/// off) and `/admin` (role `admin`) and `/`.
fn auth_listener(module: &std::path::Path, port: u16, filter_config: &str) -> Value {
    let per_route = |name: &str, config: &str| json!({ "envoy.filters.http.dynamic_modules": envoyx_per_route(module_config(name, module, config)) });
    let mut public = envoyx_harness::proxy::route("/public", "upstream", &[], None);
    public["typed_per_filter_config"] = per_route("public", "off");
    let mut admin = envoyx_harness::proxy::route("/admin", "upstream", &[], None);
    admin["typed_per_filter_config"] = per_route("admin", "role=admin");
    let routes = vec![public, admin, envoyx_harness::proxy::route("/", "upstream", &[], None)];
    let config = module_config("auth", module, filter_config);
    let filters = vec![envoyx_filter("auth", config, LoadBy::Name, Form::Struct)];
    envoyx_harness::proxy::http_listener(&format!("auth{port}"), "127.0.0.1", port, routes, filters)
}

#[test]
fn auth_example_against_a_real_auth_service() {
    check_auth_example(&envoyx_testhost::build_package("envoyx-example-auth"));
}

/// The Go twin (`go/examples/auth`, in the Go examples' one module), with the same checks.
#[test]
fn the_go_auth_example_against_a_real_auth_service() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/examples/module");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-modules-auth");
    let module =
        envoyx_build::build_go_module(&source, "envoyx_go_examples", &out).unwrap_or_else(|e| panic!("{e}"));
    check_auth_example(&module);
}

fn check_auth_example(module: &std::path::Path) {
    let module = module.to_path_buf();
    for version in VERSIONS {
        let auth = AuthServer::start().unwrap();
        let upstream = start_upstream();
        let (closed, open, nowhere) = (free_port(), free_port(), free_port());
        let listeners = vec![
            auth_listener(&module, closed, "cluster=auth timeout_ms=300"),
            auth_listener(&module, open, "cluster=nowhere failure=open"),
            auth_listener(&module, nowhere, "cluster=nowhere"),
        ];
        let mut bootstrap = bootstrap(free_port(), upstream.port, listeners, None);
        let cluster = envoyx_harness::proxy::static_cluster("auth", "127.0.0.1", auth.port);
        bootstrap["static_resources"]["clusters"].as_array_mut().unwrap().push(cluster);
        let e = start_envoy(version, &bootstrap, temp_dir());
        let at = |what: &str| format!("Envoy {version}: {what}");

        // Allowed: the identity the service returned reaches the upstream, not the client's.
        let reply = get(closed, "/", &[("authorization", "Bearer ann"), ("x-auth-user", "mallory")]);
        e.check(reply.status() == 200, &at(&format!("allowed: status {}", reply.status())));
        e.check(reply.header("x-upstream-saw-x-auth-user") == Some("ann"), &at("identity added"));
        let asked = auth.received().last().and_then(|m| m.header("authorization").map(str::to_string));
        e.check(asked.as_deref() == Some("Bearer ann"), &at("the service got the authorization header"));

        // A body waits for the answer and then goes on whole.
        let reply = request(closed, "POST", "/", &[("authorization", "Bearer ann")], b"payload").unwrap();
        e.check(reply.status() == 200 && reply.body == b"payload", &at("body held, then forwarded"));

        // Denied by the service.
        let reply = get(closed, "/", &[]);
        e.check(reply.status() == 401, &at(&format!("no token: status {}", reply.status())));
        e.check(reply.header("www-authenticate") == Some("Bearer"), &at("challenge passed on"));
        let reply = get(closed, "/", &[("authorization", "Bearer forbidden")]);
        e.check(reply.status() == 403, &at(&format!("forbidden: status {}", reply.status())));

        // Slow service: the 300 ms timeout answers first (Envoy's 504), fail-closed 503.
        let started = Instant::now();
        let reply = get(closed, "/", &[("authorization", "Bearer slow-ann")]);
        e.check(reply.status() == 503, &at(&format!("timeout: status {}", reply.status())));
        e.check(reply.header("x-auth-error") == Some("status_504"), &at("timeout named"));
        e.check(started.elapsed() < AuthServer::SLOW, &at("timed out before the service answered"));

        // Per route: off asks nobody; a required role is checked.
        let before = auth.received().len();
        let reply = get(closed, "/public", &[]);
        e.check(reply.status() == 200 && auth.received().len() == before, &at("auth off on /public"));
        let reply = get(closed, "/admin", &[("authorization", "Bearer ann")]);
        e.check(reply.status() == 403 && reply.body == b"role admin required\n", &at("role missing"));
        let reply = get(closed, "/admin", &[("authorization", "Bearer admin")]);
        e.check(reply.status() == 200, &at("role present"));

        // A cluster Envoy does not have: fail-closed 503 naming it, fail-open through.
        let reply = get(nowhere, "/", &[("authorization", "Bearer ann")]);
        e.check(reply.status() == 503, &at(&format!("no cluster: status {}", reply.status())));
        e.check(reply.header("x-auth-error") == Some("no_cluster"), &at("no cluster named"));
        let reply = get(open, "/", &[("authorization", "Bearer ann")]);
        e.check(reply.status() == 200, &at("fail-open goes through"));
        e.check(reply.header("x-upstream-saw-x-auth-skipped") == Some("no_cluster"), &at("fail-open marked"));

        // The client gives up while the callout is in flight: the callout is cancelled with the
        // stream, the module is not called back, Envoy serves on.
        let mut conn = TcpStream::connect(("127.0.0.1", closed)).unwrap();
        conn.write_all(b"GET / HTTP/1.1\r\nhost: app\r\nauthorization: Bearer slow-bob\r\n\r\n").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !auth.received().iter().any(|m| m.header("authorization") == Some("Bearer slow-bob")) {
            assert!(Instant::now() < deadline, "{}", at("the callout never reached the service"));
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(conn);
        std::thread::sleep(Duration::from_millis(500));
        let reply = get(closed, "/", &[("authorization", "Bearer ann")]);
        e.check(reply.status() == 200, &at("serves after a client gave up mid-callout"));
        e.check_no_host_errors();
    }
}
