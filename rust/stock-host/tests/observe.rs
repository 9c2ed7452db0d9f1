//! The observe example in real Envoy 1.38.3, 1.39.3 and 1.40.0: `/v1/` requests are re-routed
//! to the `/v2/` route (whose cluster answers; the `/v1/` route's has no endpoints), every
//! response is counted by route and class in `/stats/prometheus`, latency recorded, and the
//! access log prints the client and the decision the module wrote into dynamic metadata.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::*;

#[test]
fn observe_reroutes_counts_and_describes_in_real_envoy() {
    let module = envoyx_testhost::build_package("envoyx-example-observe");
    for version in VERSIONS {
        let dir = temp_dir();
        let access_log = dir.path().join("access.log");
        let upstream = start_upstream();
        let (port, admin) = (free_port(), free_port());
        let filter =
            envoyx_filter("observe", module_config("observe", &module, ""), LoadBy::Name, Form::Struct);
        let named = |prefix: &str, cluster: &str, name: &str| {
            let mut route = envoyx_harness::proxy::route(prefix, cluster, &[], None);
            route["name"] = json!(name);
            route
        };
        let routes = vec![
            named("/v1/", "empty", "v1"),
            named("/v2/", "upstream", "v2"),
            named("/", "upstream", "other"),
        ];
        let mut listener =
            envoyx_harness::proxy::http_listener("observe", "127.0.0.1", port, routes, vec![filter]);
        listener["filter_chains"][0]["filters"][0]["typed_config"]["access_log"] = json!([{
            "name": "envoy.access_loggers.file",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": access_log,
                "log_format": { "text_format_source": { "inline_string":
                    "%REQ(:PATH)% %DYNAMIC_METADATA(envoyx.observe:decision)% %DYNAMIC_METADATA(envoyx.observe:client)% %RESPONSE_CODE%\n"
                } }
            }
        }]);
        let mut bootstrap = bootstrap(admin, upstream.port, vec![listener], None);
        bootstrap["stats_flush_interval"] = json!("1s");
        let envoy = start_envoy(version, &bootstrap, dir);

        let reply = get(port, "/v1/items", &[]);
        assert_eq!(reply.status(), 200, "Envoy {version}: re-routed to /v2/");
        assert_eq!(reply.header("x-upstream-saw-x-observe-rerouted-from"), Some("/v1/items"));
        assert_eq!(get(port, "/v2/items", &[]).status(), 200);
        assert_eq!(get(port, "/elsewhere", &[]).status(), 200);
        let upstream_paths: Vec<String> = upstream
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.start.split(' ').nth(1).unwrap_or_default().to_string())
            .collect();
        assert_eq!(upstream_paths, ["/v2/items", "/v2/items", "/elsewhere"], "Envoy {version}");

        // Counted by route and class; latency recorded (histograms show after a stats flush).
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let reply = request(admin, "GET", "/stats/prometheus", &[], b"").unwrap();
            let text = String::from_utf8_lossy(&reply.body).into_owned();
            let has = |line: &str| text.lines().any(|l| l == line);
            let counted = has(r#"envoy_envoyx_observe_requests{route="v2",class="2xx"} 2"#)
                && has(r#"envoy_envoyx_observe_requests{route="other",class="2xx"} 1"#);
            assert!(
                counted,
                "Envoy {version}: {}",
                text.lines().filter(|l| l.contains("observe")).collect::<Vec<_>>().join("\n")
            );
            if has("envoy_envoyx_observe_latency_ms_count{} 3") {
                break;
            }
            assert!(Instant::now() < deadline, "Envoy {version}: no latency histogram:\n{text}");
            std::thread::sleep(Duration::from_millis(200));
        }

        let deadline = Instant::now() + Duration::from_secs(15);
        let log = loop {
            let log = std::fs::read_to_string(&access_log).unwrap_or_default();
            if log.lines().count() >= 3 || Instant::now() > deadline {
                break log;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 3, "Envoy {version}: {log}");
        for (line, (path, decision)) in
            lines.iter().zip([("/v2/items", "rerouted"), ("/v2/items", "passed"), ("/elsewhere", "passed")])
        {
            let words: Vec<&str> = line.split(' ').collect();
            assert_eq!((words[0], words[1], words[3]), (path, decision, "200"), "Envoy {version}: {line}");
            assert!(words[2].starts_with("127.0.0.1:"), "Envoy {version}: the client's address: {line}");
        }
        envoy.check_no_host_errors();
    }
}
