//! The OCI images (`ci/oci-images.sh`), built here without a Docker daemon and run with podman:
//! the stock-Envoy image serves the `headers` example from the module image, mounted the way a
//! Kubernetes image volume mounts it (`--mount type=image`), on the host's network — through the
//! stock host the image carries (found by name), and through the stock host of the stock-host
//! image mounted beside it (loaded by file name, as an Istio sidecar would).
//!
//! podman runs with `ci/containers.conf` and runc: this sandbox's cgroups are v1 (crun refuses
//! them) and it withholds CAP_SYS_RESOURCE (podman's default rlimits cannot be set).

mod support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::*;

/// podman on a storage of this test's own (vfs, no daemon).
struct Podman {
    dir: tempfile::TempDir,
}

impl Podman {
    fn new() -> Self {
        Self { dir: temp_dir() }
    }

    fn run(&self, args: &[&str]) -> Output {
        let root = self.dir.path().join("storage");
        let runroot = self.dir.path().join("run");
        Command::new("podman")
            .env("CONTAINERS_CONF", repo_root().join("ci/containers.conf"))
            .args(["--root", &root.to_string_lossy(), "--runroot", &runroot.to_string_lossy()])
            .args(["--storage-driver", "vfs", "--runtime", "runc"])
            .args(args)
            .output()
            .expect("podman runs")
    }

    /// Runs `args`, panicking with podman's output if it fails; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "podman {args:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// Builds the images into `out`; returns the archives of the stock-Envoy image, the stock-host
/// image and the module image.
fn build_images(out: &Path) -> [PathBuf; 3] {
    let status = Command::new("bash")
        .arg(repo_root().join("ci/oci-images.sh"))
        .args(["--envoy-version", "1.40.0", "--module", "headers", "--out"])
        .arg(out)
        .current_dir(repo_root())
        .status()
        .expect("bash runs");
    assert!(status.success(), "ci/oci-images.sh failed: {status}");
    let archives = ["envoyx-stock-envoy-1.40.0", "envoyx-stock-host", "envoyx-module-headers"]
        .map(|name| out.join(format!("{name}.oci.tar")));
    for archive in &archives {
        assert!(archive.is_file(), "{} missing", archive.display());
    }
    archives
}

/// podman, runc and the image tools, from Debian's packages when missing (as root).
fn ensure_podman() {
    let missing: Vec<_> = ["podman", "runc"]
        .into_iter()
        .filter(|tool| {
            !Command::new("sh").args(["-c", &format!("command -v {tool}")]).status().unwrap().success()
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    let install = format!(
        "export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q --no-install-recommends {0} >/dev/null || \
         (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends {0} >/dev/null)",
        missing.join(" ")
    );
    let status = Command::new("sh").args(["-c", &install]).status().unwrap();
    assert!(status.success(), "installing {missing:?} (Debian packages) failed: run as root with apt-get");
}

#[test]
fn the_stock_image_serves_a_module_from_the_module_image() {
    ensure_podman();
    let out = temp_dir();
    let podman = Podman::new();
    let images = ["envoyx-stock-envoy:1.40.0", "envoyx-stock-host:latest", "envoyx-module-headers:latest"];
    for (archive, image) in build_images(out.path()).iter().zip(images) {
        let loaded = podman.ok(&["load", "--quiet", "--input", &archive.to_string_lossy()]);
        assert!(loaded.contains(image), "{loaded}");
    }

    // The image's layout: what docker/Dockerfile.stock produces too.
    let env =
        podman.ok(&["image", "inspect", "--format", "{{json .Config.Env}}", "envoyx-stock-envoy:1.40.0"]);
    assert!(env.contains("ENVOY_DYNAMIC_MODULES_SEARCH_PATH=/usr/local/lib/envoyx"), "{env}");
    let version = podman.ok(&["run", "--rm", "--network", "host", "envoyx-stock-envoy:1.40.0", "--version"]);
    assert!(version.contains("/1.40.0/"), "{version}");

    // Envoy in the container: two listeners running the module from the mounted module image,
    // one through the image's own stock host (by name, on the image's search path), one through
    // the mounted stock-host image's (by file name).
    let upstream = start_upstream();
    let (admin, by_name, by_file) = (free_port(), free_port(), free_port());
    let config = json!({ "name": "headers", "file_path": "/modules/libheaders.so", "filter_config": "" });
    let filter = |load_by| {
        envoyx_harness::envoyx_filter("headers", config.clone(), load_by, envoyx_harness::Form::Struct)
    };
    let mounted_host = Path::new("/envoyx-host/libenvoyx_stock_host.so");
    let listeners = vec![
        listener("by_name", by_name, vec![filter(envoyx_harness::LoadBy::Name)]),
        listener("by_file", by_file, vec![filter(envoyx_harness::LoadBy::File(mounted_host))]),
    ];
    let bootstrap: Value = bootstrap(admin, upstream.port, listeners, None);
    let etc = temp_dir();
    std::fs::write(etc.path().join("envoy.yaml"), serde_json::to_vec_pretty(&bootstrap).unwrap()).unwrap();
    let name = format!("envoyx-image-test-{}", std::process::id());
    let etc_mount = format!("{}:/etc/envoy:ro", etc.path().display());
    podman.ok(&[
        "run",
        "--detach",
        "--name",
        &name,
        "--network",
        "host",
        "--volume",
        &etc_mount,
        "--mount",
        "type=image,source=envoyx-module-headers:latest,destination=/modules",
        "--mount",
        "type=image,source=envoyx-stock-host:latest,destination=/envoyx-host",
        "envoyx-stock-envoy:1.40.0",
    ]);
    let pid: i32 = podman.ok(&["inspect", "--format", "{{.State.Pid}}", &name]).parse().unwrap();
    let stop = |podman: &Podman| {
        // Stopped by PID, then removed with its storage.
        // Safety: plain kill(2) on the container's init process, which this test started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        podman.run(&["rm", "--force", &name]);
    };
    let logs = |podman: &Podman| String::from_utf8_lossy(&podman.run(&["logs", &name]).stderr).into_owned();

    let start = Instant::now();
    let ready = loop {
        if request(admin, "GET", "/ready", &[], b"").is_ok_and(|r| r.status() == 200) {
            break true;
        }
        if start.elapsed() > Duration::from_secs(60) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    if !ready {
        let log = logs(&podman);
        stop(&podman);
        panic!("Envoy in the image did not get ready:\n{log}");
    }
    let replies = [by_name, by_file].map(|port| get(port, "/image", &[("x-envoyx-remove-me", "1")]));
    let metadata = podman.run(&["exec", &name, "cat", "/modules/headers.json"]);
    let log = logs(&podman);
    stop(&podman);

    for reply in &replies {
        assert_eq!(reply.status(), 200, "{log}");
        assert_eq!(
            reply.header("x-upstream-saw-x-envoyx-seen"),
            Some("true"),
            "the headers module ran:\n{log}"
        );
        assert!(reply.header("x-upstream-saw-x-envoyx-remove-me").is_none(), "the module removed the header");
    }
    let metadata: Value = serde_json::from_slice(&metadata.stdout).expect("the module's metadata is JSON");
    assert_eq!(metadata["file"], "libheaders.so");
    assert_eq!(metadata["sha256"].as_str().map(str::len), Some(64));
    assert!(log.contains("EnvoyX module /modules/libheaders.so ready"), "{log}");
}
