//! Dynamic metadata, filter state and routing (ABI 1.1) in real Envoy 1.38.3, 1.39.3 and
//! 1.40.0: what the conformance module writes shows in Envoy's access log
//! (`%DYNAMIC_METADATA%`, `%FILTER_STATE%`); it reads the route's metadata; a rewritten `:path`
//! with the route cache cleared goes to the route of the new path (and without the clear, to the
//! old one); a pinned upstream host is used, and a strict pin to a host the cluster lacks fails.

mod support;

use serde_json::json;
use support::*;

#[test]
fn metadata_filter_state_and_routing_in_real_envoy() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let dir = temp_dir();
        let access_log = dir.path().join("access.log");
        let upstream = start_upstream();
        let port = free_port();
        let filter =
            envoyx_filter("conformance", module_config("info", &module, ""), LoadBy::Name, Form::Struct);
        // /v1/ goes nowhere (the cluster `empty` has no endpoints: 503) and carries metadata for
        // the module; /v2/ and the rest reach the upstream.
        let mut v1 = envoyx_harness::proxy::route("/v1/", "empty", &[], None);
        v1["metadata"] = json!({ "filter_metadata": { "envoyx.conformance": { "tier": "gold" } } });
        let routes = vec![v1, envoyx_harness::proxy::route("/", "upstream", &[], None)];
        let mut listener =
            envoyx_harness::proxy::http_listener("info", "127.0.0.1", port, routes, vec![filter]);
        listener["filter_chains"][0]["filters"][0]["typed_config"]["access_log"] = json!([{
            "name": "envoy.access_loggers.file",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": access_log,
                "log_format": { "text_format_source": { "inline_string":
                    "%REQ(X-CASE)% %DYNAMIC_METADATA(envoyx.conformance:decision)% %DYNAMIC_METADATA(envoyx.conformance:score)% %FILTER_STATE(envoyx.conformance.verdict:PLAIN)% %RESPONSE_CODE%\n"
                } }
            }
        }]);
        let envoy = start_envoy(version, &bootstrap(free_port(), upstream.port, vec![listener], None), dir);

        // Metadata and filter state, in the access log.
        assert_eq!(get(port, "/", &[("x-case", "stream-info")]).status(), 200, "Envoy {version}");
        // Routing: the route's metadata is read, the rewritten path re-routed only when cleared.
        let reply = get(port, "/v1/items", &[("x-case", "reroute")]);
        assert_eq!(
            (reply.status(), reply.header("x-conf-results")),
            (200, Some("tier=gold,cleared=true")),
            "Envoy {version}"
        );
        let reply = get(port, "/v1/items", &[("x-case", "reroute-no-clear")]);
        assert_eq!(reply.status(), 503, "Envoy {version}: without a clear the old route stands");
        // A pinned upstream host: the cluster's own, or (strictly) one it lacks.
        let own = format!("127.0.0.1:{}", upstream.port);
        for (host, strict, status) in
            [(own.as_str(), "true", 200), ("127.0.0.1:1", "true", 503), ("127.0.0.1:1", "false", 200)]
        {
            let reply = get(
                port,
                "/",
                &[("x-case", "override-host"), ("x-conf-host", host), ("x-conf-strict", strict)],
            );
            assert_eq!(
                (reply.status(), reply.header("x-conf-results").map(str::to_string)),
                (status, Some("override=true".to_string())),
                "Envoy {version}: host {host}, strict {strict}"
            );
        }

        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let log = loop {
            let log = std::fs::read_to_string(&access_log).unwrap_or_default();
            if log.contains("stream-info") || std::time::Instant::now() > deadline {
                break log;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let first = log.lines().next().unwrap_or_default();
        assert_eq!(first, "stream-info allow 0.5 ok 200", "Envoy {version}: access log:\n{log}");
        envoy.check_no_host_errors();
    }
}
