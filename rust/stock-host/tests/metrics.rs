//! Metrics (ABI 1.1) in real Envoy: what the conformance module defines at config creation and
//! records from its streams shows in Envoy's `/stats` and `/stats/prometheus` on 1.38.3, 1.39.3
//! and 1.40.0 as `envoyx.<filter>.<metric>` with the label names as tags (the filter's
//! `dynamic_module_config` sets `metrics_namespace: envoyx`, as the README's YAML does).

mod support;

use std::time::{Duration, Instant};

use support::*;

/// The lines of an admin page that mention `needle`.
fn admin_lines(admin: u16, path: &str, needle: &str) -> Vec<String> {
    let reply = request(admin, "GET", path, &[], b"").unwrap_or_else(|e| panic!("GET {path}: {e}"));
    String::from_utf8_lossy(&reply.body).lines().filter(|l| l.contains(needle)).map(str::to_string).collect()
}

#[test]
fn module_metrics_show_in_envoy_stats() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let upstream = start_upstream();
        let (port, admin) = (free_port(), free_port());
        let filter =
            envoyx_filter("conformance", module_config("observed", &module, ""), LoadBy::Name, Form::Struct);
        let listeners = vec![listener("metrics", port, vec![filter])];
        let mut bootstrap = bootstrap(admin, upstream.port, listeners, None);
        // Histograms reach the admin pages when Envoy flushes its stats: every second here.
        bootstrap["stats_flush_interval"] = serde_json::json!("1s");
        let envoy = start_envoy(version, &bootstrap, temp_dir());
        for _ in 0..3 {
            let reply = get(port, "/", &[("x-case", "metrics")]);
            assert_eq!(reply.status(), 200);
            assert_eq!(
                reply.header("x-conf-results"),
                Some("in_flight=true,body_bytes=true,too_few=false,control=false"),
                "Envoy {version}"
            );
        }
        assert_eq!(get(port, "/", &[]).status(), 200);

        let stats = admin_lines(admin, "/stats", "envoyx.observed.");
        for line in [
            "envoyx.observed.requests.case.metrics: 3",
            "envoyx.observed.requests.case.-: 1",
            "envoyx.observed.in_flight: 3",
        ] {
            assert!(stats.iter().any(|l| l == line), "Envoy {version}: no `{line}` in /stats: {stats:#?}");
        }
        let deadline = Instant::now() + Duration::from_secs(12);
        loop {
            let prometheus = admin_lines(admin, "/stats/prometheus", "envoy_envoyx_observed_");
            let has = |line: &str| prometheus.iter().any(|l| l == line);
            let counters = has(r#"envoy_envoyx_observed_requests{case="metrics"} 3"#)
                && has(r#"envoy_envoyx_observed_requests{case="-"} 1"#)
                && has("envoy_envoyx_observed_in_flight{} 3");
            assert!(counters, "Envoy {version}: /stats/prometheus: {prometheus:#?}");
            // Envoy's histogram sum is approximate (27.149... for 9 + 9 + 9).
            let sum = prometheus.iter().any(|l| l.starts_with("envoy_envoyx_observed_body_bytes_sum{} 27"));
            if has("envoy_envoyx_observed_body_bytes_count{} 3") && sum {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Envoy {version}: the histogram never showed: {prometheus:#?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        envoy.check_no_host_errors();
    }
}

/// A configuration's `metric_limits` (x/config.proto) in real Envoy: `requests` (labelled by
/// `x-case`) takes two combinations; later ones are recorded as `other` and counted in EnvoyX's
/// own `envoyx_label_overflow`, with one warning in Envoy's log.
#[test]
fn a_configuration_bounds_label_combinations_in_envoy() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let upstream = start_upstream();
        let (port, admin) = (free_port(), free_port());
        let mut config = module_config("bounded", &module, "");
        config["metric_limits"] = serde_json::json!({"label_combinations": 2, "overflow_label": "other"});
        let filter = envoyx_filter("conformance", config, LoadBy::Name, Form::Struct);
        let listeners = vec![listener("bounded", port, vec![filter])];
        let envoy = start_envoy(version, &bootstrap(admin, upstream.port, listeners, None), temp_dir());
        for case in ["a", "b", "c", "d", "a"] {
            assert_eq!(get(port, "/", &[("x-case", case)]).status(), 200, "Envoy {version}: case {case}");
        }
        let stats = admin_lines(admin, "/stats", "envoyx.bounded.");
        for line in [
            "envoyx.bounded.requests.case.a: 2",
            "envoyx.bounded.requests.case.b: 1",
            "envoyx.bounded.requests.case.other: 2",
            "envoyx.bounded.envoyx_label_overflow.metric.requests: 2",
        ] {
            assert!(stats.iter().any(|l| l == line), "Envoy {version}: no `{line}` in /stats: {stats:#?}");
        }
        assert!(!stats.iter().any(|l| l.contains("case.c")), "Envoy {version}: `c` folded: {stats:#?}");
        let log = envoy.log();
        let warning = "(filter `bounded`): metric `requests` reached 2 label-value combinations; new \
                       combinations are recorded as `other` for every label (first: [\"c\"])";
        assert!(log.contains(warning), "Envoy {version}: the warning, once:\n{log}");
        assert_eq!(log.matches("reached 2 label-value combinations").count(), 1, "Envoy {version}");
        envoy.check_no_host_errors();
    }
}
