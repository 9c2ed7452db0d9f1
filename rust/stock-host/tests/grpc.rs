//! gRPC unary calls from a module (the SDK's `envoyx_sdk::grpc`, over a streaming callout) to a
//! real gRPC server, tonic's `grpc.health.v1.Health`, through the stock host in Envoy 1.38.3,
//! 1.39.3 and 1.40.0: a SERVING and a NOT_SERVING service answer their message; a service the
//! server does not know fails with its NOT_FOUND and message; a cluster whose server never
//! answers ends at the call's deadline as DEADLINE_EXCEEDED; a cluster Envoy does not have is
//! UNAVAILABLE. The conformance modules' `grpc-health` behaviour makes the call and hands the
//! outcome upstream as `x-conf-grpc`: the Rust one (`envoyx_sdk::grpc`) and the Go one
//! (`envoyx.StartGrpcCall`).

mod support;

use serde_json::{Value, json};
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
    let mut cluster = envoyx_harness::proxy::static_cluster(name, "127.0.0.1", port);
    cluster["typed_extension_protocol_options"]["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]["explicit_http_config"] =
        json!({ "http2_protocol_options": {} });
    cluster
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
