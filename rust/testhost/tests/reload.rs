//! Hot reload (`reload_on_file_change`) on the Rust test host, with builds of the conformance
//! module that differ in their version stamp: a replaced file takes new streams, running streams
//! finish on their version, a drained version leaves the process's memory, broken replacements
//! are refused while the running version serves, and a file written in place is picked up.

mod common;

use envoyx_conformance::{install, install_stamped, stamp_version};
use envoyx_testhost::{ModuleConfig, ReloadStats, TestHost, TestStream, build_package, logged};
use std::path::Path;
use std::time::{Duration, Instant};

/// A configuration `name` of the module at `file` that reloads it when it is replaced.
fn reloading_config(file: &Path, name: &str, filter_config: &str) -> ModuleConfig {
    ModuleConfig {
        file_path: file.to_string_lossy().into_owned(),
        filter_config: filter_config.to_string(),
        reload_on_file_change: true,
        ..ModuleConfig::in_process(name)
    }
}

fn reloading_host(file: &Path) -> TestHost {
    TestHost::from_config(&reloading_config(file, "reload", "")).unwrap()
}

/// Runs the host's main-thread wakes until `done` holds (the watcher polls every 250 ms).
fn run_until(host: &TestHost, what: &str, done: impl Fn(&TestHost) -> bool) {
    run_all_until(&[host], what, || done(host));
}

/// Runs the main-thread wakes of every host until `done` holds: configurations of one file
/// reload together, and the watcher may wake any of them to do it.
fn run_all_until(hosts: &[&TestHost], what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + envoyx_testhost::patience(Duration::from_secs(10));
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        for host in hosts {
            host.run_config_scheduled(Duration::from_millis(50));
        }
    }
}

fn stats(host: &TestHost) -> ReloadStats {
    host.filter_config().reload_stats().expect("a reloading configuration")
}

/// A stream of the `version` case whose request has gone through the module.
fn started(host: &TestHost) -> TestStream {
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), ("x-case", "version")], true);
    stream
}

/// Finishes `stream` and returns the version that stamped its response.
fn finish(mut stream: TestStream) -> String {
    stream.response_headers(&[(":status", "200")], true);
    stream.complete();
    let headers = stream.client_response_headers();
    headers.get("x-envoyx-version").expect("the version case stamps the response").to_string()
}

fn mapped(path: &Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.contains(&*path.to_string_lossy())
}

#[test]
fn replaced_files_take_new_streams_and_running_streams_finish_on_their_version() {
    let built = build_package("envoyx-test-module-conformance");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("libreload.so");
    install_stamped(&built, "v1", &file).unwrap();
    let host = reloading_host(&file);
    assert!(logged("EnvoyX: filter `reload`: watching"), "the watch is announced");
    let v1_mapped = host.filter_config().module().file().unwrap().mapped_as().to_path_buf();
    assert_ne!(v1_mapped, file, "a reloading configuration maps a private copy");
    assert!(mapped(&v1_mapped), "{} is mapped", v1_mapped.display());

    let on_v1 = started(&host);
    install_stamped(&built, "v2", &file).unwrap();
    run_until(&host, "the reload to v2", |host| stats(host).reloads == 1);
    assert_eq!(stats(&host), ReloadStats { reloads: 1, refused: 0, draining: 1 });
    assert!(logged("reloaded"), "a log line per reload");
    assert_eq!(finish(started(&host)), "v2", "new streams run the new file");
    assert!(mapped(&v1_mapped), "v1 stays mapped while a stream runs on it");
    assert_eq!(finish(on_v1), "v1", "a running stream finishes on its version");

    run_until(&host, "v1 to drain", |host| stats(host).draining == 0);
    assert!(logged("version 0 has no stream left and is destroyed; its module is unloaded"));
    assert!(!mapped(&v1_mapped), "a drained version leaves memory: {} still mapped", v1_mapped.display());

    // Not a shared object: refused, v2 serves on.
    install(b"this is not a module", &file).unwrap();
    run_until(&host, "the refusal of a text file", |host| stats(host).refused == 1);
    assert!(logged("is refused; version 1"), "the refusal names the running version");
    assert!(logged("not an ELF file"), "and the reason");
    assert_eq!(finish(started(&host)), "v2");

    // A build whose configuration hook refuses: refused, v2 serves on.
    install_stamped(&built, "refuse1", &file).unwrap();
    run_until(&host, "the refusal of a build that rejects its config", |host| stats(host).refused == 2);
    assert!(logged("this build (refuse1) refuses every configuration"));
    assert_eq!(finish(started(&host)), "v2");

    // A later good build is picked up.
    install_stamped(&built, "v3", &file).unwrap();
    run_until(&host, "the reload to v3", |host| stats(host).reloads == 2);
    assert_eq!(finish(started(&host)), "v3");

    // Written in place (same inode): loaded once it has stopped changing.
    let v4 = stamp_version(&std::fs::read(&built).unwrap(), "v4").unwrap();
    std::fs::write(&file, v4).unwrap();
    run_until(&host, "the reload of a file written in place", |host| stats(host).reloads == 3);
    assert_eq!(finish(started(&host)), "v4");
    run_until(&host, "every old version to drain", |host| stats(host).draining == 0);
}

#[test]
fn a_config_update_naming_a_replaced_file_loads_the_new_file() {
    // What an LDS/ECDS update does: a new filter config with the same `file_path`, without
    // `reload_on_file_change`. The dynamic loader knows the path already; the new file must
    // still be what runs.
    let built = build_package("envoyx-test-module-conformance");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("libupdate.so");
    install_stamped(&built, "u1", &file).unwrap();
    let first = TestHost::load(&file, "update", "").unwrap();
    let on_first = started(&first);
    install_stamped(&built, "u2", &file).unwrap();
    let second = TestHost::load(&file, "update", "").unwrap();
    assert_eq!(finish(started(&second)), "u2", "the updated config runs the new file");
    assert_eq!(finish(started(&first)), "u1", "the old config keeps its own");
    assert_eq!(finish(on_first), "u1");
}

#[test]
fn a_host_without_a_main_thread_refuses_reloading() {
    let built = build_package("envoyx-test-module-conformance");
    let config = reloading_config(&built, "no-main", "");
    let Err(err) = envoyx_core::FilterConfig::new(&config, None) else {
        panic!("reloading needs a main thread")
    };
    assert!(err.to_string().contains("field `reload_on_file_change`: this host has no main thread"), "{err}");
}

#[test]
fn a_version_pinned_by_a_thread_local_destructor_is_reported_not_hidden() {
    // The `async-request` case continues from a thread made with std::thread::spawn, which leaves
    // a thread-local destructor on the calling thread (here the test's): the dynamic loader must
    // keep that version mapped, and the log must say so instead of claiming it was unloaded.
    let built = build_package("envoyx-test-module-conformance");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("libpinned.so");
    install_stamped(&built, "p1", &file).unwrap();
    let host = reloading_host(&file);
    let p1_mapped = host.filter_config().module().file().unwrap().mapped_as().to_path_buf();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), ("x-case", "async-request")], false);
    stream.request_body(&[b"x"], true);
    assert!(stream.wait_scheduled(Duration::from_secs(10)), "the module's thread continues the request");
    stream.response_headers(&[(":status", "200")], true);
    stream.complete();
    drop(stream);
    install_stamped(&built, "p2", &file).unwrap();
    run_until(&host, "the reload to p2", |host| stats(host).reloads == 1);
    run_until(&host, "p1 to drain", |host| stats(host).draining == 0);
    assert!(mapped(&p1_mapped), "glibc keeps a module with a pending thread-local destructor");
    assert!(logged("but the dynamic loader keeps its module mapped"), "and the log says so");
}

/// The version above stays loaded after its unload; its in-memory copy was
/// `/proc/self/fd/<n>`. Closing that descriptor let the next copy get the same number, and so the
/// same name, and the dynamic loader handed back the old version for it: a new file served the
/// old code. Its copy now stays open, so the number is never reused.
#[test]
fn a_version_the_loader_keeps_mapped_is_never_served_for_a_later_file() {
    let built = build_package("envoyx-test-module-conformance");
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("libkept.so"), dir.path().join("libnext.so"));
    install_stamped(&built, "k1", &first).unwrap();
    let host = reloading_host(&first);
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), ("x-case", "async-request")], false);
    stream.request_body(&[b"x"], true);
    assert!(stream.wait_scheduled(Duration::from_secs(10)), "the module's thread continues the request");
    stream.response_headers(&[(":status", "200")], true);
    drop(stream);
    drop(host); // k1 is unloaded, and stays mapped (its thread-local destructor)

    install_stamped(&built, "n1", &second).unwrap();
    let next = reloading_host(&second);
    assert_eq!(finish(started(&next)), "n1", "the new file's own code serves");
}

#[test]
fn per_route_configs_are_parsed_by_each_new_version() {
    let built = build_package("envoyx-test-module-conformance");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("librouted.so");
    install_stamped(&built, "r1", &file).unwrap();
    let host = reloading_host(&file);
    let r1_mapped = host.filter_config().module().file().unwrap().mapped_as().to_path_buf();
    let route = host.route_config("route-a", "A").unwrap();
    let route_seen = |host: &TestHost| {
        let mut stream = host.stream_on_route(Some(route.clone()));
        stream.request_headers(&[(":path", "/"), ("x-case", "route-config")], true);
        let seen = stream.upstream_request_headers().get("x-conf-route");
        stream.response_headers(&[(":status", "200")], true);
        seen
    };
    assert_eq!(route_seen(&host).as_deref(), Some("A"));

    install_stamped(&built, "r2", &file).unwrap();
    run_until(&host, "the reload to r2", |host| stats(host).reloads == 1);
    assert_eq!(route_seen(&host).as_deref(), Some("A"), "the new version parsed the route's config");
    run_until(&host, "r1 to drain", |host| stats(host).draining == 0);
    assert!(!mapped(&r1_mapped), "r1's parse of the route config is released with r1");

    // A build that refuses the route configuration in use is refused as a whole.
    install_stamped(&built, "rtrefuse", &file).unwrap();
    run_until(&host, "the refusal of a build that rejects the route config", |host| stats(host).refused == 1);
    assert!(logged("this build (rtrefuse) refuses every per-route config"));
    assert_eq!(route_seen(&host).as_deref(), Some("A"), "r2 serves on, with its parse");
}

#[test]
fn every_kind_of_broken_replacement_is_refused_with_its_reason() {
    // The C test module and its deliberately broken builds, installed in turn over one file.
    let good = common::c_module("reload-good", &[]);
    let broken = [
        (
            common::c_module("reload-no-destroy", &["-DOMIT_STREAM_DESTROY"]),
            "missing symbol `envoyx_on_stream_destroy`",
        ),
        (common::c_module("reload-abi-9", &["-DABI_MINOR=9"]), "ABI version mismatch"),
        (
            common::c_module("reload-init-fails", &["-DFAIL_INIT"]),
            "license file /etc/c-module.license not found",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("libc_reload.so");
    let copy = |from: &Path| install(&std::fs::read(from).unwrap(), &file).unwrap();
    copy(&good);
    let host = reloading_host(&file);
    for (n, (module, reason)) in broken.iter().enumerate() {
        copy(module);
        run_until(&host, reason, |host| stats(host).refused == n as u64 + 1);
        assert!(logged(reason), "the refusal names the reason: {reason}");
        let mut stream = host.stream();
        stream.request_headers(&[(":path", "/")], true);
        assert!(stream.request_headers_forwarded(), "the running version serves on after: {reason}");
    }
    copy(&good);
    run_until(&host, "a good build after the broken ones", |host| stats(host).reloads == 1);
}

#[test]
fn configurations_of_one_file_move_together_or_not_at_all() {
    let built = build_package("envoyx-test-module-conformance");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("libshared.so");
    install_stamped(&built, "s1", &file).unwrap();
    let lenient = TestHost::from_config(&reloading_config(&file, "lenient", "")).unwrap();
    let strict = TestHost::from_config(&reloading_config(&file, "strict", "strict")).unwrap();

    // Accepted by one configuration, refused by the other: neither moves.
    install_stamped(&built, "lenient1", &file).unwrap();
    run_all_until(&[&lenient, &strict], "the refusal by the strict configuration", || {
        stats(&lenient).refused == 1 && stats(&strict).refused == 1
    });
    assert!(logged("(for filter `strict`, which runs the same file)"), "the lenient one names who refused");
    assert_eq!(finish(started(&lenient)), "s1", "the lenient configuration did not move alone");
    assert_eq!(finish(started(&strict)), "s1");

    // Accepted by both: both move, whichever wake ran first.
    install_stamped(&built, "s2", &file).unwrap();
    run_all_until(&[&lenient, &strict], "the reload of both", || stats(&strict).reloads == 1);
    assert_eq!(stats(&lenient).reloads, 1, "one reload moved both configurations");
    assert_eq!(finish(started(&lenient)), "s2");
    assert_eq!(finish(started(&strict)), "s2");
}

/// A C module's file, installed (written aside, renamed over `to`) as a new version.
fn install_c_module(module: &Path, to: &Path) {
    install(&std::fs::read(module).unwrap(), to).unwrap();
}

/// Hot reload of a C module whose own thread (started at program init) runs until unload:
/// `defines` pick its `envoyx_on_program_unload`. Returns the first version's mapping, once it
/// drained, the host and the folder of the file (each version is mapped from a private copy, so
/// the folder may go when the test is done).
fn reload_threaded_c_module(
    variant: &str,
    defines: &[&str],
) -> (std::path::PathBuf, TestHost, tempfile::TempDir) {
    let module = common::c_module(variant, defines);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("lib{variant}.so"));
    install_c_module(&module, &file);
    let host = TestHost::from_config(&reloading_config(&file, variant, "")).unwrap();
    let first = host.filter_config().module().file().unwrap().mapped_as().to_path_buf();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    stream.complete();
    drop(stream);
    install_c_module(&module, &file);
    run_until(&host, "the reload", |host| stats(host).reloads == 1);
    run_until(&host, "the first version to drain", |host| stats(host).draining == 0);
    // Long enough for a thread left running in unmapped code to take the process down.
    std::thread::sleep(Duration::from_millis(200));
    (first, host, dir)
}

#[test]
fn a_module_that_cannot_say_its_threads_are_done_stays_mapped_and_the_process_lives() {
    // Before the module said when it may be unmapped, this unmapped the first version under its
    // running thread: the process died of SIGSEGV.
    let (first, _host, _dir) = reload_threaded_c_module("thread", &["-DTHREAD"]);
    assert!(mapped(&first), "the drained version stays mapped");
    assert!(
        logged(
            "its code stays in memory (the module does not export envoyx_on_program_unload, so a thread it started could still run its code)"
        ),
        "and the log says why"
    );
}

#[test]
fn a_module_that_finishes_its_threads_is_unmapped() {
    let (first, _host, _dir) = reload_threaded_c_module("thread_unload", &["-DTHREAD", "-DUNLOAD_HOOK"]);
    assert!(!mapped(&first), "the drained version is unmapped once its thread is joined");
    assert!(logged("has no stream left and is destroyed; its module is unloaded"));
}

#[test]
fn a_module_that_asks_to_stay_is_kept_mapped() {
    let (first, _host, _dir) = reload_threaded_c_module("thread_stay", &["-DTHREAD", "-DUNLOAD_REFUSE"]);
    assert!(mapped(&first), "it asked to stay");
    assert!(logged("envoyx_on_program_unload returned false: it stays mapped until the process exits"));
    assert!(logged("its code stays in memory (envoyx_on_program_unload returned false)"));
}
