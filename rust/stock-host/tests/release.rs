//! A release (`ci/release.sh --dry-run`), checked file by file: every checksum in SHA256SUMS
//! right and every file listed, every published crate packaged, the Go module's zip, the SBOMs,
//! the notes, and the OCI images, built here without a Docker daemon and run with podman: each
//! stock-Envoy image (one per supported Envoy version) serves the `headers` example from its
//! module image, mounted the way a Kubernetes image volume mounts it (`--mount type=image`), on
//! the host's network — through the stock host the image carries (found by name), and through
//! the stock host of the stock-host image mounted beside it (loaded by file name, as an Istio
//! sidecar would); every other module image holds its module and its metadata.
//!
//! podman runs with `ci/containers.conf` and runc: this sandbox's cgroups are v1 (crun refuses
//! them) and it withholds CAP_SYS_RESOURCE (podman's default rlimits cannot be set).

mod support;

use serde_json::{Value, json};
use std::path::Path;
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

/// The release's version: the workspace's, which every published crate carries.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs `ci/release.sh --dry-run VERSION out`; the failure with its output, if any.
fn release(version: &str, out: &Path) -> Result<(), String> {
    let output = Command::new("bash")
        .arg(repo_root().join("ci/release.sh"))
        .args(["--dry-run", version])
        .arg(out)
        .current_dir(repo_root())
        .output()
        .expect("bash runs");
    if output.status.success() {
        return Ok(());
    }
    Err(format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
}

/// The workspace's crates that are published (not `publish = false`).
fn published_crates() -> Vec<String> {
    let output = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(repo_root())
        .output()
        .expect("cargo runs");
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["publish"] != json!([]))
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_release_of_another_version_than_the_workspace_is_refused() {
    let out = temp_dir();
    let error = release("9.9.9", &out.path().join("release")).unwrap_err();
    assert!(error.contains(&format!("VERSION 9.9.9 is not the workspace's version {VERSION}")), "{error}");
    assert!(!out.path().join("release").exists(), "nothing is made");
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
fn a_release_holds_what_it_lists_and_its_images_serve() {
    ensure_podman();
    let scratch = temp_dir();
    let out = scratch.path().join("release");
    release(VERSION, &out).unwrap_or_else(|e| panic!("ci/release.sh --dry-run {VERSION} failed:\n{e}"));

    // Every file listed with its right checksum, and nothing unlisted.
    let check = Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let sums = std::fs::read_to_string(out.join("SHA256SUMS")).unwrap();
    let listed: std::collections::BTreeSet<&str> = sums.lines().map(|l| &l[66..]).collect();
    let mut on_disk = std::collections::BTreeSet::new();
    let mut todo = vec![out.clone()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.file_name().unwrap() != "SHA256SUMS" {
                on_disk.insert(path.strip_prefix(&out).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    assert_eq!(listed, on_disk.iter().map(String::as_str).collect(), "SHA256SUMS lists exactly the files");

    // The crates, the Go module, the stock host, the SBOMs and the notes.
    for name in published_crates() {
        assert!(
            listed.contains(format!("crates/{name}-{VERSION}.crate").as_str()),
            "{name} is packaged: {listed:?}"
        );
    }
    let zip = format!("go/github.com/envoyx/envoyx/go/@v/v{VERSION}.zip");
    let unzip = Command::new("python3")
        .args(["-c", "import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))"])
        .arg(out.join(&zip))
        .output()
        .unwrap();
    let files = String::from_utf8_lossy(&unzip.stdout);
    let prefix = format!("github.com/envoyx/envoyx/go@v{VERSION}/");
    for file in ["go.mod", "envoyx/abi.h", "envoyx/exports.c", "envoyxtest/envoyx_testhost.h"] {
        assert!(files.lines().any(|f| f == format!("{prefix}{file}")), "{zip} holds {file}:\n{files}");
    }
    assert!(!files.contains("examples/"), "the nested modules stay out of the SDK's zip");
    assert!(
        listed.iter().any(|f| f.starts_with("stock-host/") && f.ends_with("/libenvoyx_stock_host.so")),
        "{listed:?}"
    );
    for binary in ["envoyx-stock-host", "envoyx"] {
        let sbom: Value =
            serde_json::from_slice(&std::fs::read(out.join(format!("sbom/{binary}.cdx.json"))).unwrap())
                .unwrap();
        assert_eq!(sbom["bomFormat"], "CycloneDX");
        assert_eq!(sbom["metadata"]["component"]["name"], binary);
        let components = sbom["components"].as_array().unwrap();
        assert!(components.iter().any(|c| c["name"] == "envoyx-core"), "{binary}'s SBOM names the core");
        assert!(components.iter().all(|c| c["licenses"].is_array()), "every component has its license");
    }
    let notes = std::fs::read_to_string(out.join("RELEASE_NOTES.md")).unwrap();
    assert!(notes.starts_with(&format!("# EnvoyX {VERSION}\n")), "{notes}");
    assert!(notes.lines().count() > 3, "the notes carry the CHANGELOG section: {notes}");

    // The images: every one loads; every stock-Envoy image serves a module from a module image.
    let podman = Podman::new();
    let images: Vec<&str> = listed.iter().copied().filter(|f| f.starts_with("images/")).collect();
    for archive in &images {
        let loaded = podman.ok(&["load", "--quiet", "--input", &out.join(archive).to_string_lossy()]);
        assert!(loaded.contains(&format!("v{VERSION}")), "{archive}: {loaded}");
    }
    let modules: Vec<&str> = images.iter().filter_map(|a| a.strip_prefix("images/module-")).collect();
    assert_eq!(
        modules.len(),
        std::fs::read_dir(repo_root().join("rust/examples")).unwrap().count(),
        "{images:?}"
    );
    for module in modules {
        let example = module.strip_suffix(&format!("-v{VERSION}.oci.tar")).unwrap();
        let name = example.replace('-', "_");
        let listing = podman.ok(&[
            "run",
            "--rm",
            "--network",
            "host",
            "--mount",
            &format!("type=image,source=module-{example}:v{VERSION},destination=/modules"),
            "--entrypoint",
            "/bin/sh",
            &format!("envoy:v1.40-latest-stock-envoyx-v{VERSION}"),
            "-c",
            &format!("cat /modules/{name}.json; ls /modules"),
        ]);
        assert!(
            listing.contains(&format!("\"file\": \"lib{name}.so\""))
                && listing.lines().any(|line| line == format!("lib{name}.so")),
            "{listing}"
        );
    }
    registry_interop(&out);
    let mut served = 0;
    for envoy in ["1.38", "1.39", "1.40"] {
        let image = format!("envoy:v{envoy}-latest-stock-envoyx-v{VERSION}");
        assert!(
            images
                .contains(&format!("images/envoy-v{envoy}-latest-stock-envoyx-v{VERSION}.oci.tar").as_str()),
            "{images:?}"
        );
        serve_from_images(&podman, &image, envoy);
        served += 1;
    }
    assert_eq!(served, 3);
}

/// Envoy in the stock image `image` (of Envoy `minor`): two listeners running the `headers`
/// module from the mounted module image, one through the image's own stock host (by name, on
/// the image's search path), one through the mounted stock-host image's (by file name).
fn serve_from_images(podman: &Podman, image: &str, minor: &str) {
    // The image's layout: what docker/Dockerfile.stock produces too.
    let env = podman.ok(&["image", "inspect", "--format", "{{json .Config.Env}}", image]);
    assert!(env.contains("ENVOY_DYNAMIC_MODULES_SEARCH_PATH=/usr/local/lib/envoyx"), "{env}");
    let version = podman.ok(&["run", "--rm", "--network", "host", image, "--version"]);
    assert!(version.contains(&format!("/{minor}.")), "{image}: {version}");

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
    let name = format!("envoyx-release-test-{}-{minor}", std::process::id());
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
        &format!("type=image,source=module-headers:v{VERSION},destination=/modules"),
        "--mount",
        &format!("type=image,source=stock-host:v{VERSION},destination=/envoyx-host"),
        image,
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
        let log = logs(podman);
        stop(podman);
        panic!("Envoy in the image did not get ready:\n{log}");
    }
    let replies = [by_name, by_file].map(|port| get(port, "/image", &[("x-envoyx-remove-me", "1")]));
    let metadata = podman.run(&["exec", &name, "cat", "/modules/headers.json"]);
    let log = logs(podman);
    stop(podman);

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

/// The module images and `remote.oci` meet through a registry, with skopeo (Debian's package) as
/// the other tool: the `headers` module image the release built, pushed with skopeo (which
/// compresses its layer), is pulled by digest as `remote.oci` pulls it and holds the module its
/// metadata names; an artifact `envoyx push` made reads back with `skopeo inspect` (an OCI image
/// manifest with EnvoyX's annotations).
fn registry_interop(out: &Path) {
    envoyx_harness::ensure_debian_packages(&[("skopeo", "skopeo")]).unwrap();
    let registry = envoyx_harness::Registry::start(&envoyx_harness::RegistryOptions {
        plain_http: true,
        logins: vec![],
    })
    .unwrap();
    let archive = out.join(format!("images/module-headers-v{VERSION}.oci.tar"));
    let skopeo = |args: &[&str]| {
        let output = Command::new("skopeo").args(args).output().unwrap();
        assert!(output.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let image = format!("{}/module-headers:v{VERSION}", registry.host);
    skopeo(&[
        "copy",
        "--dest-tls-verify=false",
        &format!("oci-archive:{}", archive.display()),
        &format!("docker://{image}"),
    ]);
    let manifest: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{image}"),
    ]))
    .unwrap();
    let options = envoyx_core::oci::client::ClientOptions {
        insecure: true,
        timeout: Duration::from_secs(20),
        ..Default::default()
    };
    let pulled = envoyx_core::oci::transfer::pull(
        &envoyx_core::oci::Reference::parse(&image).unwrap(),
        &options,
        1 << 30,
    )
    .unwrap_or_else(|e| panic!("the module image pushed by skopeo: {e}\n{manifest:#}"));
    assert_eq!(pulled.file, "libheaders.so");
    assert_eq!(pulled.annotations.get("io.envoyx.sha256"), Some(&pulled.sha256), "{manifest:#}");
    // And as a configuration names it: `remote.oci` loads the module and it runs.
    let cache = temp_dir();
    let config = json!({ "name": "headers", "filter_config": "", "do_not_dlclose": true,
        "remote": { "oci": { "reference": image, "insecure": true }, "cache_dir": cache.path(), "block_on_cache_miss": true } });
    let host = envoyx_testhost::TestHost::from_json(&config.to_string())
        .unwrap_or_else(|e| panic!("remote.oci of the module image: {e}"));
    let mut stream = host.stream();
    stream.request_headers(&[(":method", "GET"), (":path", "/"), ("x-envoyx-remove-me", "1")], true);
    assert_eq!(
        stream.upstream_request_headers().get("x-envoyx-seen").as_deref(),
        Some("true"),
        "the module ran"
    );

    // The other way: what `envoyx push` makes, read by skopeo.
    let pushed = format!("{}/pushed:v1", registry.host);
    let artifact = envoyx_core::oci::transfer::Artifact {
        file: "libheaders.so",
        bytes: &pulled.bytes,
        annotations: [("io.envoyx.abi".to_string(), "1.2".to_string())].into(),
        architecture: "amd64",
    };
    envoyx_core::oci::transfer::push(
        &envoyx_core::oci::Reference::parse(&pushed).unwrap(),
        &options,
        artifact,
    )
    .unwrap();
    let raw: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{pushed}"),
    ]))
    .unwrap();
    assert_eq!(raw["mediaType"], "application/vnd.oci.image.manifest.v1+json", "{raw:#}");
    assert_eq!(raw["annotations"]["io.envoyx.sha256"], pulled.sha256.as_str(), "{raw:#}");
    let config: Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        "--tls-verify=false",
        &format!("docker://{pushed}"),
    ]))
    .unwrap();
    assert_eq!(config["os"], "linux", "{config:#}");
}
