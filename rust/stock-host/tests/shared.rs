//! Data and functions shared across modules (ABI 1.2) in real Envoy, on every version: two module
//! files (copies of the conformance module, so two loads with their own code and statics) in one
//! Envoy see one store and one function registry. The module on an LDS listener registers the
//! shared function first and sets a value; the module on the static listener sees the value and
//! calls the first module's function (its own registration refused: the first wins). Then LDS
//! removes the first listener: its module's last configuration goes, the core keeps the file
//! mapped without asking it to unload, and the function and the value still serve the other
//! module. A probe module on upstream's own ABI (`probe/attributes.c`, standing for a module on
//! upstream's SDKs) shares a function through Envoy's registry, which the EnvoyX module finds, and
//! calls the EnvoyX module's function, found there too. The conformance case `shared` holds every
//! host to the rules with one module.

mod support;

use std::time::{Duration, Instant};
use support::*;

#[test]
fn two_modules_share_data_and_functions_and_a_module_whose_function_is_shared_stays_mapped() {
    let module = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let dir = temp_dir();
        let (first_so, second_so) = (dir.path().join("first.so"), dir.path().join("second.so"));
        std::fs::copy(&module, &first_so).unwrap();
        std::fs::copy(&module, &second_so).unwrap();
        let upstream = start_upstream();
        let (first_port, second_port) = (free_port(), free_port());
        let filter = |name: &str, path: &std::path::Path| {
            let mut config = module_config(name, path, "");
            // Unloaded when its last configuration goes, were it not for the shared function.
            config["do_not_dlclose"] = false.into();
            envoyx_filter(name, config, LoadBy::Name, Form::Struct)
        };
        let lds = dir.path().join("lds.json");
        write_atomically(
            &lds,
            &lds_resources(vec![listener("first", first_port, vec![filter("first", &first_so)])]),
        );
        let config = bootstrap(
            free_port(),
            upstream.port,
            vec![listener(
                "second",
                second_port,
                vec![filter("second", &second_so), upstream_probe_filter(&upstream_probe_module())],
            )],
            Some(&lds),
        );
        let envoy = start_envoy_draining_in(version, &config, dir, 1);
        // What the EnvoyX module saw, and (on the second listener) what the probe on upstream's
        // ABI got from the EnvoyX module's function through Envoy's registry.
        let shared = |port: u16, set: Option<&str>| {
            let mut headers = vec![("x-case", "shared-cross")];
            headers.extend(set.map(|v| ("x-conf-set", v)));
            let reply = get(port, "/", &headers);
            assert_eq!(reply.status(), 200, "Envoy {version}: {}", envoy.log_tail());
            let seen = upstream.received().pop().expect("the request reached the upstream");
            let probe = reply.header("x-probe-double").unwrap_or("no probe").to_string();
            (seen.header("x-conf-shared").unwrap_or("none").to_string(), probe)
        };
        let (first, _) = shared(first_port, Some("from-first"));
        assert_eq!(first, "before=none,function=42,upstream=21", "Envoy {version}");
        let second = shared(second_port, None);
        assert_eq!(second.0, "before=from-first,function=42,upstream=21", "Envoy {version}");
        assert_eq!(second.1, "42", "Envoy {version}: the upstream-ABI module called the EnvoyX function");
        assert!(
            envoy.log().contains(
                "EnvoyX module call function_register of `envoyx.conformance.double` refused: the name \
                 holds another function (the first to register wins"
            ),
            "Envoy {version}: the second module's own registration was refused:\n{}",
            envoy.log_tail()
        );

        // LDS removes the first listener; drained after a second, its filter configuration goes,
        // and with it the first module's last user.
        write_atomically(&lds, &lds_resources(vec![]));
        envoy.wait_stat("listener_manager.listener_removed", 1, Duration::from_secs(20));
        let kept = format!(
            "EnvoyX module {}: it shared a function with other modules (function_register), so it \
             stays mapped until the process exits and is not asked to unload",
            first_so.display()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while !envoy.log().contains(&kept) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(envoy.log().contains(&kept), "Envoy {version}: {}", envoy.log_tail());
        // The first module's function (its code still mapped) and its value still serve.
        let after = shared(second_port, Some("from-second"));
        assert_eq!(after.0, "before=from-first,function=42,upstream=21", "Envoy {version}");
        assert_eq!(after.1, "42", "Envoy {version}");
        assert_eq!(
            shared(second_port, None).0,
            "before=from-second,function=42,upstream=21",
            "Envoy {version}"
        );
        envoy.check_no_host_errors();
    }
}
