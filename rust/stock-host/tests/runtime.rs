//! Envoy's runtime for modules (ABI 1.2 `runtime_get`) in real Envoy: 1.40.0 reads the
//! bootstrap's static runtime layer (a flag as a boolean, a value as a number; an unset key and a
//! flag asked as a number absent) — on its main thread only, so request hooks read the stock
//! host's copy, which the module primed in its configuration hook — and a change through the
//! admin's `/runtime_modify` reaches request hooks within about a second; 1.38.3 and 1.39.3 let
//! modules read no runtime, and the refusal says so once, naming the versions that do. The conformance case `runtime` runs the same module on the test hosts.

mod support;

use serde_json::json;
use support::*;

#[test]
fn runtime_values_reach_modules_on_envoy_1_40_and_are_refused_before() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    let (flag, number) = (envoyx_conformance::RUNTIME_FLAG, envoyx_conformance::RUNTIME_NUMBER);
    for version in VERSIONS {
        let dir = temp_dir();
        let upstream = start_upstream();
        let port = free_port();
        let admin = free_port();
        let filter =
            envoyx_filter("conformance", module_config("runtime", &module, ""), LoadBy::Name, Form::Struct);
        let routes = vec![envoyx_harness::proxy::route("/", "upstream", &[], None)];
        let listener =
            envoyx_harness::proxy::http_listener("runtime", "127.0.0.1", port, routes, vec![filter]);
        let mut bootstrap = bootstrap(admin, upstream.port, vec![listener], None);
        bootstrap["layered_runtime"] = json!({ "layers": [
            { "name": "static", "static_layer": { flag.0: flag.1, number.0: number.1 } },
            { "name": "admin", "admin_layer": {} },
        ] });
        let envoy = start_envoy(version, &bootstrap, dir);
        let read = || {
            let reply = get(port, "/", &[("x-case", "runtime")]);
            assert_eq!(reply.status(), 200, "Envoy {version}");
            let seen = upstream.received().pop().expect("the request reached the upstream");
            seen.header("x-conf-runtime").map(str::to_string)
        };
        if version == "1.40.0" {
            // The module read its keys in its configuration hook: the workers' copy has them.
            assert_eq!(
                read().as_deref(),
                Some("flag=true,percent=12.5,unset=none,flag-as-number=none"),
                "Envoy {version}"
            );
            // A key first asked on a worker is not in the copy yet: refused once, saying why.
            assert!(
                envoy.log().contains(
                    "runtime_get refused: `envoyx.conformance.never_set` is not in EnvoyX's copy of the runtime yet: \
                     Envoy 1.40 serves its runtime to modules on its main thread only"
                ),
                "Envoy {version}: {}",
                envoy.log_tail()
            );
            // The admin's runtime layer overrides the static one; workers see it within about a
            // second (the copy is refreshed on the main thread when a read finds it older).
            let changed = post(
                admin,
                "/runtime_modify?envoyx.conformance.flag=false&envoyx.conformance.percent=40",
                &[],
                b"",
            );
            assert_eq!(changed.status(), 200, "Envoy {version}: runtime_modify");
            let wanted = "flag=false,percent=40,unset=none,flag-as-number=none";
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            let mut seen = read();
            while seen.as_deref() != Some(wanted) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(200));
                seen = read();
            }
            assert_eq!(seen.as_deref(), Some(wanted), "Envoy {version}: the change reached the workers");
        } else {
            assert_eq!(
                read().as_deref(),
                Some("flag=none,percent=none,unset=none,flag-as-number=none"),
                "Envoy {version}"
            );
            read();
            let minor = &version[2..4];
            let refusal = format!(
                "EnvoyX module call runtime_get refused: Envoy 1.{minor} lets modules read no runtime; Envoy 1.40 and later do"
            );
            let log = envoy.log();
            assert_eq!(
                log.matches(&refusal).count(),
                1,
                "Envoy {version}: warned once:\n{}",
                envoy.log_tail()
            );
        }
        envoy.check_no_host_errors();
    }
}
