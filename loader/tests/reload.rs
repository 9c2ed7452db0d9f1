//! Hot reload (`reload_on_file_change`) on the C++ test host through the loader: the C++ host
//! only delivers the configuration's wakes on its "main" thread, and the core's reload runs
//! there: a replaced file takes new streams, a running stream finishes on its version, a broken
//! replacement is refused while the running version serves.

mod host;

use envoyx_conformance::{install, install_stamped};
use host::{Filter, Stream, logged};
use std::path::Path;
use std::time::{Duration, Instant};

fn started(filter: &Filter) -> Stream {
    let mut stream = filter.stream();
    stream.request_headers(&[(":path", "/"), ("x-case", "version")], true);
    stream
}

fn finish(mut stream: Stream) -> String {
    stream.response_headers(&[(":status", "200")], true);
    stream.complete();
    stream.client_response_headers().get("x-envoyx-version").unwrap_or("none").to_string()
}

/// Runs the C++ host's main-thread wakes until a new stream is stamped `version`.
fn wait_for_version(filter: &Filter, version: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while finish(started(filter)) != version {
        assert!(Instant::now() < deadline, "timed out waiting for {version}");
        filter.run_config_scheduled(50);
    }
}

fn json(file: &Path) -> String {
    format!(r#"{{"name": "reload", "file_path": "{}", "reload_on_file_change": true}}"#, file.display())
}

#[test]
fn replaced_files_take_new_streams_on_the_cxx_host() {
    let built = envoyx_testhost::build_package("envoyx-test-module-conformance");
    let dir = std::env::temp_dir().join(format!("envoyx-loader-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("libreload.so");
    install_stamped(&built, "c1", &file).unwrap();
    let filter = Filter::from_json(&json(&file)).unwrap();
    assert_eq!(finish(started(&filter)), "c1");

    let on_c1 = started(&filter);
    install_stamped(&built, "c2", &file).unwrap();
    wait_for_version(&filter, "c2");
    assert_eq!(finish(on_c1), "c1", "a running stream finishes on its version");

    install(b"not a module", &file).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !logged("is refused; version 1") {
        assert!(Instant::now() < deadline, "the broken file is refused");
        filter.run_config_scheduled(50);
    }
    assert_eq!(finish(started(&filter)), "c2", "the running version serves on");
    install_stamped(&built, "c3", &file).unwrap();
    wait_for_version(&filter, "c3");
    drop(filter);
    std::fs::remove_dir_all(&dir).unwrap();
}
