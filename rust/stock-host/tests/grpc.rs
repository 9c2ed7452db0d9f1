//! gRPC unary calls from a module (the SDK's `envoyx_sdk::grpc`, over a streaming callout) to a
//! real gRPC server, tonic's `grpc.health.v1.Health`, through the stock host in Envoy 1.38.3,
//! 1.39.3 and 1.40.0: a SERVING and a NOT_SERVING service answer their message; a service the
//! server does not know fails with its NOT_FOUND and message; a cluster whose server never
//! answers ends at the call's deadline as DEADLINE_EXCEEDED; a cluster Envoy does not have is
//! UNAVAILABLE. The conformance modules' `grpc-health` behaviour makes the call and hands the
//! outcome upstream as `x-conf-grpc`: the Rust one (`envoyx_sdk::grpc`) and the Go one
//! (`envoyx.StartGrpcCall`).

mod support;

use serde_json::Value;
use std::net::TcpListener;
use support::*;
use tonic_health::ServingStatus;

/// tonic's health service on a free port of 127.0.0.1, serving `backend` and not `draining`.
fn start_health_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    std::thread::spawn(move || {
        runtime.block_on(async move {
            let (reporter, service) = tonic_health::server::health_reporter();
            reporter.set_service_status("backend", ServingStatus::Serving).await;
            reporter.set_service_status("draining", ServingStatus::NotServing).await;
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming)
                .await
                .unwrap();
        })
    });
    port
}

/// A server that takes connections and never answers (nor closes them).
fn start_silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for connection in listener.incoming().flatten() {
            held.push(connection);
        }
    });
    port
}

/// A cluster speaking HTTP/2 (as gRPC needs) to 127.0.0.1:`port`.
fn grpc_cluster(name: &str, port: u16) -> Value {
    envoyx_harness::proxy::http2_cluster(name, "127.0.0.1", port)
}

#[test]
fn grpc_unary_calls_from_rust_reach_a_real_grpc_server() {
    calls_reach_a_real_grpc_server(&envoyx_testhost::build_package("envoyx-test-module-conformance"));
}

#[test]
fn grpc_unary_calls_from_go_reach_a_real_grpc_server() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/conformance");
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-conformance-grpc");
    let module =
        envoyx_build::build_go_module(&source, "go_conformance", &out).unwrap_or_else(|e| panic!("{e}"));
    calls_reach_a_real_grpc_server(&module);
}

fn calls_reach_a_real_grpc_server(module: &std::path::Path) {
    let (health, silent) = (start_health_server(), start_silent_server());
    for version in VERSIONS {
        let upstream = start_upstream();
        let port = free_port();
        let filter = envoyx_filter(
            "conformance",
            module_config("conformance", module, ""),
            LoadBy::Name,
            Form::Struct,
        );
        let mut config =
            bootstrap(free_port(), upstream.port, vec![listener("grpc", port, vec![filter])], None);
        let clusters = config["static_resources"]["clusters"].as_array_mut().unwrap();
        clusters.push(grpc_cluster("grpc", health));
        clusters.push(grpc_cluster("silent", silent));
        let envoy = start_envoy(version, &config, temp_dir());

        let check = |headers: &[(&str, &str)]| {
            let mut all = vec![("x-case", "grpc-health")];
            all.extend_from_slice(headers);
            let reply = get(port, "/", &all);
            assert_eq!(reply.status(), 200, "Envoy {version}: {headers:?}");
            reply.header("x-upstream-saw-x-conf-grpc").unwrap_or("(none)").to_string()
        };
        // HealthCheckResponse { status: SERVING (1) } and { status: NOT_SERVING (2) }.
        assert_eq!(check(&[("x-grpc-service", "backend")]), "check=0801", "Envoy {version}");
        assert_eq!(check(&[("x-grpc-service", "draining")]), "check=0802", "Envoy {version}");
        assert_eq!(
            check(&[("x-grpc-service", "nobody")]),
            "check=NOT_FOUND: service not registered",
            "Envoy {version}"
        );
        let started = std::time::Instant::now();
        let late = check(&[("x-grpc-cluster", "silent"), ("x-grpc-timeout-ms", "300")]);
        assert!(late.starts_with("check=DEADLINE_EXCEEDED: the deadline passed"), "Envoy {version}: {late}");
        // Envoy times from its loop's cached clock, which may run a few milliseconds behind.
        let took = started.elapsed();
        assert!(took >= std::time::Duration::from_millis(275), "the deadline was kept: {took:?}");
        let missing = check(&[("x-grpc-cluster", "no-such-cluster")]);
        assert_eq!(missing, "check=UNAVAILABLE: the callout failed: no_cluster", "Envoy {version}");
        envoy.check_no_host_errors();
    }
}

/// The `grpc-check` example (Rust, and its Go twin in the Go examples' module) against tonic's
/// health server: SERVING goes on marked, NOT_SERVING and an unknown service are 503s saying
/// why, the deadline is DEADLINE_EXCEEDED.
#[test]
fn the_grpc_check_examples_against_a_real_grpc_server() {
    let go_source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/examples/module");
    let go_out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-modules-grpc");
    let modules = [
        envoyx_testhost::build_package("envoyx-example-grpc-check"),
        envoyx_build::build_go_module(&go_source, "envoyxgo_examples", &go_out)
            .unwrap_or_else(|e| panic!("{e}")),
    ];
    let (health, silent) = (start_health_server(), start_silent_server());
    for version in VERSIONS {
        let upstream = start_upstream();
        let mut listeners = Vec::new();
        let mut ports = Vec::new();
        for (i, module) in modules.iter().enumerate() {
            for (cluster, port) in [("grpc", free_port()), ("silent", free_port())] {
                let config = module_config(
                    "grpc-check",
                    module,
                    &format!("cluster={cluster} service=backend timeout_ms=300"),
                );
                let filter = envoyx_filter("grpc-check", config, LoadBy::Name, Form::Struct);
                listeners.push(listener(&format!("grpc-check-{i}-{cluster}"), port, vec![filter]));
                ports.push((module.clone(), cluster, port));
            }
        }
        let mut config = bootstrap(free_port(), upstream.port, listeners, None);
        let clusters = config["static_resources"]["clusters"].as_array_mut().unwrap();
        clusters.push(grpc_cluster("grpc", health));
        clusters.push(grpc_cluster("silent", silent));
        let envoy = start_envoy(version, &config, temp_dir());
        for (module, cluster, port) in &ports {
            let which = format!("Envoy {version}, {}, cluster {cluster}", module.display());
            if *cluster == "silent" {
                let reply = post(*port, "/orders", &[], b"order");
                assert_eq!(reply.status(), 503, "{which}");
                assert_eq!(reply.header("x-grpc-error"), Some("DEADLINE_EXCEEDED"), "{which}");
                continue;
            }
            let reply = post(*port, "/orders", &[], b"order");
            assert_eq!(reply.status(), 200, "{which}");
            assert_eq!(reply.header("x-upstream-saw-x-backend-health"), Some("serving"), "{which}");
            assert_eq!(reply.body, b"order", "{which}: the held body went on with the request");
            let reply = get(*port, "/", &[("x-check-service", "draining")]);
            assert_eq!(
                (reply.status(), reply.header("x-backend-health")),
                (503, Some("not_serving")),
                "{which}"
            );
            let reply = get(*port, "/", &[("x-check-service", "nobody")]);
            assert_eq!((reply.status(), reply.header("x-grpc-error")), (503, Some("NOT_FOUND")), "{which}");
            assert_eq!(reply.body, b"health check failed: NOT_FOUND: service not registered\n", "{which}");
        }
        envoy.check_no_host_errors();
    }
}
