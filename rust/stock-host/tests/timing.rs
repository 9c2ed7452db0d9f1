//! Stream timing (ABI 1.2 `timing_get`) in real Envoy: 1.40.0 gives the request's start as
//! wall-clock time and, by the response headers hook, the request headers' arrival, the request's
//! first byte upstream and the response's first byte back, in that order (a wrong reading of
//! upstream's timing struct would show here as nonsense), and the one upstream host the request
//! went to (`upstream_hosts_attempted`); an unknown id is refused. 1.38.3 and 1.39.3 serve
//! neither to modules, and each refusal names the versions that do. The conformance case `timing`
//! runs the module on the test hosts.

mod support;

use support::*;

#[test]
fn stream_timing_in_real_envoy() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let dir = temp_dir();
        let upstream = start_upstream();
        let port = free_port();
        let filter =
            envoyx_filter("conformance", module_config("timing", &module, ""), LoadBy::Name, Form::Struct);
        let routes = vec![envoyx_harness::proxy::route("/", "upstream", &[], None)];
        let listener =
            envoyx_harness::proxy::http_listener("timing", "127.0.0.1", port, routes, vec![filter]);
        let envoy = start_envoy(version, &bootstrap(free_port(), upstream.port, vec![listener], None), dir);
        let reply = get(port, "/", &[("x-case", "timing-envoy")]);
        assert_eq!(reply.status(), 200, "Envoy {version}");
        let (results, refusal) = if version == "1.40.0" {
            (
                "start=plausible,unknown=false,hosts=1,order=ok",
                "timing_get of timing 99 refused: no such timing".to_string(),
            )
        } else {
            (
                "start=implausible,unknown=false,hosts=0,order=unknown",
                format!(
                    "timing_get of START_UNIX refused: Envoy 1.{} serves no stream timing to modules; Envoy 1.40 \
                     and later do",
                    &version[2..4]
                ),
            )
        };
        assert_eq!(reply.header("x-conf-results"), Some(results), "Envoy {version}");
        assert!(envoy.log().contains(&refusal), "Envoy {version}: {refusal}\n{}", envoy.log_tail());
        if version != "1.40.0" {
            let refusal = format!(
                "upstream_hosts_attempted refused: Envoy 1.{} serves no list of upstream hosts attempted to \
                 modules; Envoy 1.40 and later do",
                &version[2..4]
            );
            assert!(envoy.log().contains(&refusal), "Envoy {version}: {refusal}\n{}", envoy.log_tail());
        }
        envoy.check_no_host_errors();
    }
}
