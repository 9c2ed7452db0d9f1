//! Hot reload (`reload_on_file_change`) inside real Envoy 1.38.3, 1.39.3 and 1.40.0, under load:
//! HTTP/1.1 keep-alive and HTTP/2 clients send without pause while the conformance module's file
//! is replaced 20 times by builds that stamp their version into a response header, with a broken
//! build in the middle. No request may fail, every response carries exactly one version, a
//! request the module holds across a swap completes on its old version, the broken build is
//! refused while traffic goes on, and after draining only the current version is mapped in
//! Envoy's memory. The longer run is the bench command `reload` (`rust/bench`).

mod support;

use envoyx_conformance::{install_stamped, stamp_version};
use envoyx_harness::{keep_alive_until, mapped_files};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::h2c::h2_get_until;
use support::*;

const SWAPS: usize = 20;
/// The swap after which a broken build (its configuration hook refuses) is installed.
const BROKEN_AFTER: usize = 10;

/// What one client saw: each response's status and `x-envoyx-version` values, or an error.
type Seen = Vec<Result<(u16, Vec<String>), String>>;

/// GETs the `version` case over one HTTP/1.1 keep-alive connection until `stop`.
fn h1_client(port: u16, stop: &AtomicBool) -> Seen {
    let request = b"GET /reload HTTP/1.1\r\nhost: test\r\nx-case: version\r\n\r\n";
    keep_alive_until(port, request, stop)
        .into_iter()
        .map(|reply| {
            reply.map_err(|e| format!("HTTP/1.1: {e}")).map(|message| {
                let versions = message.header_all("x-envoyx-version").iter().map(|v| v.to_string()).collect();
                (message.status(), versions)
            })
        })
        .collect()
}

fn h2_client(port: u16, stop: &AtomicBool) -> Seen {
    h2_get_until(port, "/reload", &[("x-case", "version")], stop)
        .into_iter()
        .map(|reply| {
            reply.map(|r| {
                let versions = r.headers.get_all("x-envoyx-version").iter();
                (r.status, versions.map(|v| v.to_str().unwrap_or("?").to_string()).collect())
            })
        })
        .collect()
}

/// Waits until Envoy's log holds `count` lines containing `needle`.
fn wait_logged(envoy: &Envoy, needle: &str, count: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while envoy.log().matches(needle).count() < count {
        envoy.check(Instant::now() < deadline, &format!("waited for {count} log lines with `{needle}`"));
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn reload_under_load(version: &str, built: &Path) {
    let upstream = start_upstream();
    let dir = temp_dir();
    let file: PathBuf = dir.path().join("libreload.so");
    install_stamped(built, "v0", &file).unwrap();
    let config = serde_json::json!({
        "name": "reload",
        "file_path": file,
        "filter_config": "",
        "reload_on_file_change": true,
    });
    let port = free_port();
    let filter = envoyx_filter("reload", config, LoadBy::Name, Form::Struct);
    let bootstrap = bootstrap(free_port(), upstream.port, vec![listener("l0", port, vec![filter])], None);
    let envoy = start_envoy(version, &bootstrap, temp_dir());
    let first = get(port, "/reload", &[("x-case", "version")]);
    envoy.check(first.header("x-envoyx-version") == Some("v0"), "the first version serves");

    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let stop = stop.clone();
            std::thread::spawn(
                move || if i % 2 == 0 { h1_client(port, &stop) } else { h2_client(port, &stop) },
            )
        })
        .collect();

    // A request the module holds for 1 s, across the first swap.
    let held = std::thread::spawn(move || get(port, "/reload", &[("x-case", "version-held")]));
    std::thread::sleep(Duration::from_millis(100));
    let mut refused_seen = false;
    for swap in 1..=SWAPS {
        install_stamped(built, &format!("v{swap}"), &file).unwrap();
        wait_logged(&envoy, "EnvoyX: filter `reload`: reloaded", swap, Duration::from_secs(20));
        if swap == BROKEN_AFTER {
            install_stamped(built, "refuse", &file).unwrap();
            wait_logged(&envoy, "refuses every configuration", 1, Duration::from_secs(20));
            refused_seen = true;
        }
    }
    let held = held.join().unwrap();
    // Traffic on the last version for a moment, then stop.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<Seen> = clients.into_iter().map(|c| c.join().unwrap()).collect();

    envoy.check(held.status() == 200, &format!("the held request: status {}", held.status()));
    envoy.check(
        held.header("x-envoyx-version") == Some("v0"),
        &format!("the held request finishes on its version: {:?}", held.header_all("x-envoyx-version")),
    );
    envoy.check(refused_seen, "the broken build was refused");
    let mut by_version: BTreeMap<String, usize> = BTreeMap::new();
    for (client, replies) in seen.iter().enumerate() {
        let protocol = if client % 2 == 0 { "HTTP/1.1" } else { "HTTP/2" };
        envoy.check(
            replies.len() > SWAPS,
            &format!("{protocol} client {client}: only {} replies", replies.len()),
        );
        for reply in replies {
            match reply {
                Ok((200, versions)) if versions.len() == 1 => {
                    *by_version.entry(versions[0].clone()).or_default() += 1
                }
                Ok((status, versions)) => {
                    envoy.check(false, &format!("{protocol}: status {status}, versions {versions:?}"))
                }
                Err(e) => envoy.check(false, &format!("{protocol} client {client} failed: {e}")),
            }
        }
    }
    let valid: Vec<String> = (0..=SWAPS).map(|v| format!("v{v}")).collect();
    envoy.check(
        by_version.keys().all(|v| valid.contains(v)) && by_version.contains_key(&format!("v{SWAPS}")),
        &format!("responses by version: {by_version:?}"),
    );
    envoy.check(by_version.len() > SWAPS / 2, &format!("the swaps reached the clients: {by_version:?}"));

    // Every old version drains and leaves Envoy's memory; only the current one stays mapped.
    wait_logged(
        &envoy,
        "has no stream left and is destroyed; its module is unloaded",
        SWAPS,
        Duration::from_secs(20),
    );
    let copies = mapped_files(envoy.pid(), "-libreload.so");
    envoy.check(copies.len() == 1, &format!("mapped after draining: {copies:?}"));

    // The stats: the next stream brings them up to date.
    let last = get(port, "/reload", &[("x-case", "version")]);
    envoy.check(last.header("x-envoyx-version") == Some(&*format!("v{SWAPS}")), "the last version serves");
    let stat = |name: &str| envoy.stat(&format!("envoyx.reload.hot_reload.{name}"));
    envoy.check(stat("reloads") == Some(SWAPS as u64), &format!("reloads stat {:?}", stat("reloads")));
    envoy.check(stat("refused") == Some(1), &format!("refused stat {:?}", stat("refused")));
    envoy.check(stat("draining") == Some(0), &format!("draining stat {:?}", stat("draining")));
    envoy.check_no_host_errors();
}

#[test]
fn replace_the_module_20_times_under_load_and_drop_nothing() {
    let built = envoyx_testhost::build_package("envoyx-test-module-conformance");
    stamp_version(&std::fs::read(&built).unwrap(), "v0").expect("the conformance module carries a stamp");
    for version in VERSIONS {
        reload_under_load(version, &built);
    }
}

/// The conformance filter on listener `l0` at `port`, without `reload_on_file_change`: what a
/// control plane pushes again (LDS here) after replacing the file behind the same path.
fn update_listener(file: &Path, port: u16, name: &str) -> serde_json::Value {
    let config = serde_json::json!({ "name": name, "file_path": file, "filter_config": "" });
    listener("l0", port, vec![envoyx_filter(name, config, LoadBy::Name, Form::Struct)])
}

fn version_at(port: u16) -> String {
    get(port, "/update", &[("x-case", "version")]).header("x-envoyx-version").unwrap_or("none").to_string()
}

#[test]
fn a_config_update_naming_a_replaced_file_loads_the_new_file() {
    // Without the private copy, dlopen would hand back the object it already has for the path
    // and the update would silently keep running the old code.
    let built = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let upstream = start_upstream();
        let dir = temp_dir();
        let (file, lds) = (dir.path().join("libupdate.so"), dir.path().join("lds.json"));
        install_stamped(&built, "u1", &file).unwrap();
        let port = free_port();
        write_atomically(&lds, &lds_resources(vec![update_listener(&file, port, "update_1")]));
        let envoy = start_envoy(version, &bootstrap(free_port(), upstream.port, vec![], Some(&lds)), dir);
        envoy.check(version_at(port) == "u1", "the first file serves");

        install_stamped(&built, "u2", &file).unwrap();
        write_atomically(&lds, &lds_resources(vec![update_listener(&file, port, "update_2")]));
        envoy.wait_stat("listener_manager.lds.update_success", 2, Duration::from_secs(20));
        let deadline = Instant::now() + Duration::from_secs(20);
        while version_at(port) != "u2" {
            envoy.check(Instant::now() < deadline, "the updated listener runs the new file");
            std::thread::sleep(Duration::from_millis(50));
        }

        // A broken file behind the same path: the update is rejected, naming the file and the
        // reason, and the running filter serves on.
        install_stamped(&built, "refuse", &file).unwrap();
        write_atomically(&lds, &lds_resources(vec![update_listener(&file, port, "update_3")]));
        envoy.wait_stat("listener_manager.lds.update_rejected", 1, Duration::from_secs(20));
        envoy.check(
            envoy.log().contains("this build (refuse) refuses every configuration"),
            "the reason is logged",
        );
        envoy.check(version_at(port) == "u2", "the running filter serves on");
        envoy.check_no_host_errors();
    }
}

#[test]
fn per_route_configs_follow_the_module_across_reloads() {
    let built = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let upstream = start_upstream();
        let dir = temp_dir();
        let file = dir.path().join("librouted.so");
        install_stamped(&built, "r1", &file).unwrap();
        let config = serde_json::json!({
            "name": "routed", "file_path": file, "filter_config": "", "reload_on_file_change": true,
        });
        let per_route = serde_json::json!({ "name": "route-a", "file_path": file, "filter_config": "A" });
        let mut route = envoyx_harness::proxy::route("/route", "upstream", &[], None);
        route["typed_per_filter_config"] = serde_json::json!({
            "envoy.filters.http.dynamic_modules": envoyx_harness::envoyx_per_route(per_route)
        });
        let port = free_port();
        let filter = envoyx_filter("routed", config, LoadBy::Name, Form::Struct);
        let listener =
            envoyx_harness::proxy::http_listener("l0", "127.0.0.1", port, vec![route], vec![filter]);
        let envoy =
            start_envoy(version, &bootstrap(free_port(), upstream.port, vec![listener], None), temp_dir());
        let route_seen = || {
            let reply = get(port, "/route", &[("x-case", "route-config")]);
            reply.header("x-upstream-saw-x-conf-route").unwrap_or("none").to_string()
        };
        envoy.check(route_seen() == "A", "the first version sees the route's config");

        install_stamped(&built, "r2", &file).unwrap();
        wait_logged(&envoy, "EnvoyX: filter `routed`: reloaded", 1, Duration::from_secs(20));
        envoy.check(route_seen() == "A", "the new version sees it too (it parsed it when it loaded)");
        wait_logged(
            &envoy,
            "has no stream left and is destroyed; its module is unloaded",
            1,
            Duration::from_secs(20),
        );
        let copies = mapped_files(envoy.pid(), "-librouted.so");
        envoy.check(copies.len() == 1, &format!("mapped after draining: {copies:?}"));

        install_stamped(&built, "rtrefuse", &file).unwrap();
        wait_logged(&envoy, "refuses every per-route config", 1, Duration::from_secs(20));
        envoy.check(route_seen() == "A", "a build refusing the route's config is refused; r2 serves on");
        envoy.check_no_host_errors();
    }
}

/// A module file cut short reaching the watched path — moved into place, or written in place
/// with a pause longer than two polls — is refused naming the sizes, and the running version
/// serves on; before the check of everything the loader maps, Envoy died of SIGBUS loading it.
/// The file, once whole, is loaded.
#[test]
fn a_file_cut_short_is_refused_and_the_running_version_serves_on() {
    let built = envoyx_testhost::build_package("envoyx-test-module-conformance");
    for version in VERSIONS {
        let upstream = start_upstream();
        let dir = temp_dir();
        let file = dir.path().join("libcut.so");
        install_stamped(&built, "c0", &file).unwrap();
        let config = serde_json::json!({
            "name": "cut", "file_path": file, "filter_config": "", "reload_on_file_change": true,
        });
        let port = free_port();
        let filter = envoyx_filter("cut", config, LoadBy::Name, Form::Struct);
        let envoy = start_envoy(
            version,
            &bootstrap(free_port(), upstream.port, vec![listener("l0", port, vec![filter])], None),
            temp_dir(),
        );
        let version_now =
            || get(port, "/cut", &[("x-case", "version")]).header("x-envoyx-version").map(str::to_string);
        envoy.check(version_now().as_deref() == Some("c0"), "the first version serves");

        // Moved into place, cut at 8 KiB.
        let whole = stamp_version(&std::fs::read(&built).unwrap(), "c1").unwrap();
        envoyx_conformance::install(&whole[..8192], &file).unwrap();
        wait_logged(&envoy, "the file is cut short", 1, Duration::from_secs(20));
        envoy.check(envoy.log().contains("but the file has 8192 bytes"), "the refusal names the size");
        envoy.check(version_now().as_deref() == Some("c0"), "the running version serves on");

        // Written in place: 8 KiB, a pause of three polls, then the rest.
        {
            use std::io::Write;
            let mut out = std::fs::File::create(&file).unwrap();
            out.write_all(&whole[..8192]).unwrap();
            out.flush().unwrap();
            std::thread::sleep(envoyx_core::RELOAD_POLL * 3);
            wait_logged(&envoy, "the file is cut short", 2, Duration::from_secs(20));
            envoy.check(version_now().as_deref() == Some("c0"), "still the running version");
            out.write_all(&whole[8192..]).unwrap();
        }
        wait_logged(&envoy, "EnvoyX: filter `cut`: reloaded", 1, Duration::from_secs(20));
        envoy.check(version_now().as_deref() == Some("c1"), "the whole file serves");
        envoy.check(get(envoy.admin_port, "/ready", &[]).status() == 200, "Envoy is up");
        envoy.check_no_host_errors();
    }
}

/// A C module whose own thread (started at program init) still runs when its version drains
/// after a hot reload, or when its only listener is removed: Envoy used to unmap it under the
/// thread and die of SIGSEGV 4–13 ms later. A module that does not export
/// `envoyx_on_program_unload` now stays mapped (logged); one that finishes its thread there is
/// unmapped. Envoy serves on either way.
#[test]
fn a_module_thread_running_at_unload_never_takes_envoy_down() {
    for version in VERSIONS {
        for (name, defines, unmapped) in [
            ("thread", &["-DTHREAD"][..], false),
            ("thread_unload", &["-DTHREAD", "-DUNLOAD_HOOK"][..], true),
        ] {
            let module = misbehaving_c_module(&format!("c_module_{name}"), defines);
            let upstream = start_upstream();
            let dir = temp_dir();
            let (file, lds) = (dir.path().join(format!("lib{name}.so")), dir.path().join("lds.json"));
            envoyx_conformance::install(&std::fs::read(&module).unwrap(), &file).unwrap();
            let (reloading_port, plain_port) = (free_port(), free_port());
            let reloading = serde_json::json!({
                "name": "reloading", "file_path": file, "filter_config": "", "reload_on_file_change": true,
            });
            let plain = serde_json::json!({ "name": "plain", "file_path": module, "filter_config": "" });
            let listeners = |with_plain: bool| {
                let mut listeners = vec![listener(
                    "reloading",
                    reloading_port,
                    vec![envoyx_filter("reloading", reloading.clone(), LoadBy::Name, Form::Struct)],
                )];
                if with_plain {
                    let filter = envoyx_filter("plain", plain.clone(), LoadBy::Name, Form::Struct);
                    listeners.push(listener("plain", plain_port, vec![filter]));
                }
                lds_resources(listeners)
            };
            write_atomically(&lds, &listeners(true));
            let envoy =
                start_envoy(version, &bootstrap(free_port(), upstream.port, vec![], Some(&lds)), temp_dir());
            let serves = |port: u16| get(port, "/", &[]).header("x-upstream-saw-x-c-module") == Some("seen");
            envoy.check(serves(reloading_port) && serves(plain_port), "both listeners serve");

            // Hot reload: the first version drains with its thread still running.
            let first = mapped_files(envoy.pid(), &format!("-lib{name}.so"));
            envoyx_conformance::install(&std::fs::read(&module).unwrap(), &file).unwrap();
            wait_logged(&envoy, "EnvoyX: filter `reloading`: reloaded", 1, Duration::from_secs(20));
            envoy.check(serves(reloading_port), "the new version serves");
            wait_logged(
                &envoy,
                "EnvoyX: filter `reloading`: version 0 has no stream left",
                1,
                Duration::from_secs(20),
            );
            // The plain listener's removal through LDS: its module's only configuration goes.
            write_atomically(&lds, &listeners(false));
            envoy.wait_stat("listener_manager.lds.update_success", 2, Duration::from_secs(20));
            // Long enough for a thread left in unmapped code to take Envoy down.
            std::thread::sleep(Duration::from_millis(300));
            envoy.check(serves(reloading_port), "Envoy serves on");
            envoy.check(get(envoy.admin_port, "/ready", &[]).status() == 200, "Envoy is up");
            let still = mapped_files(envoy.pid(), &format!("-lib{name}.so"));
            if unmapped {
                wait_logged(
                    &envoy,
                    "version 0 has no stream left and is destroyed; its module is unloaded",
                    1,
                    Duration::from_secs(5),
                );
                envoy.check(
                    still.len() == 1 && first.iter().all(|f| !still.contains(f)),
                    &format!("only the new version is mapped: {still:?} (first {first:?})"),
                );
            } else {
                wait_logged(&envoy, "does not export envoyx_on_program_unload", 1, Duration::from_secs(5));
                envoy.check(
                    first.iter().all(|f| still.contains(f)),
                    &format!("the drained version stays mapped: {still:?}"),
                );
            }
            envoy.check_no_host_errors();
        }
    }
}
