//! `envoyx push`, `pull` and `list` against a real registry (Debian's docker-registry, the CNCF
//! distribution registry) started on 127.0.0.1 with TLS from a CA the test makes and htpasswd
//! logins: a module pushed, pulled by digest and by tag byte for byte, listed with its
//! annotations; and each failure refused naming the reference and the reason.

use envoyx_core::oci::credentials::encode_base64;
use envoyx_harness::{Registry, RegistryOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

const USER: &str = "ann";
const PASSWORD: &str = "s3cret-pw";

/// Runs `envoyx ARGS`: the exit code, stdout and stderr.
fn envoyx(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_envoyx"))
        .args(args)
        .env_remove("DOCKER_CONFIG")
        .env("HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .unwrap();
    (
        out.status.code().expect("envoyx never dies of a signal"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A Docker config.json with `user`'s login for `registry`.
fn docker_config(registry: &Registry, user: &str, password: &str) -> PathBuf {
    let path = registry.dir.path().join(format!("config-{user}-{}.json", password.len()));
    let auth = encode_base64(format!("{user}:{password}").as_bytes());
    std::fs::write(&path, format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, registry.host)).unwrap();
    path
}

fn secured() -> Registry {
    Registry::start(&RegistryOptions { plain_http: false, logins: vec![(USER.into(), PASSWORD.into())] })
        .unwrap()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The line of `envoyx push`'s output that starts with `label`.
/// `head` then `tail`, as one argument list.
fn with<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    [head, tail].concat()
}

fn field<'a>(stdout: &'a str, label: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(label).map(str::trim))
        .unwrap_or_else(|| panic!("no `{label}` line in {stdout}"))
}

#[test]
fn push_then_pull_by_digest_and_by_tag_and_list() {
    let registry = secured();
    let config = docker_config(&registry, USER, PASSWORD);
    let ca = registry.ca_file.clone().unwrap();
    let module = envoyx_build::build_package("envoyx-example-helloworld");
    let tag = format!("{}/team/helloworld:v1", registry.host);
    let auth = ["--credentials", s(&config), "--ca-file", s(&ca)];

    let mut args = vec!["push", s(&module), &tag, "--description", "says hello", "--filters", "helloworld"];
    args.extend(auth);
    let (code, stdout, stderr) = envoyx(&args);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("result   ok"), "push runs envoyx check first: {stdout}");
    let digest = field(&stdout, "digest").to_string();
    let by_digest = field(&stdout, "use").to_string();
    assert_eq!(by_digest, format!("{}/team/helloworld@{digest}", registry.host));

    let original = std::fs::read(&module).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    for reference in [&by_digest, &tag] {
        let out = out_dir.path().join("pulled.so");
        let mut args = vec!["pull", reference.as_str(), "-o", s(&out)];
        args.extend(auth);
        let (code, stdout, stderr) = envoyx(&args);
        assert_eq!(code, 0, "{reference}: {stdout}\n{stderr}");
        assert_eq!(std::fs::read(&out).unwrap(), original, "{reference}: the same bytes");
        assert!(stdout.contains(&digest), "{stdout}");
        std::fs::remove_file(&out).unwrap();
    }

    let mut args = vec!["list", registry.host.as_str()];
    args.extend(auth);
    let (code, stdout, stderr) = envoyx(&args);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains(&tag), "{stdout}");
    assert!(stdout.contains(&digest), "{stdout}");
    let abi = format!("{}.{}", envoyx_abi::ENVOYX_ABI_VERSION_MAJOR, envoyx_abi::ENVOYX_ABI_VERSION_MINOR);
    assert!(stdout.lines().any(|l| l.trim() == format!("abi      {abi}")), "{stdout}");
    assert!(stdout.lines().any(|l| l.trim() == "sdk      rust"), "{stdout}");
    assert!(stdout.contains("about    says hello"), "{stdout}");
    assert!(stdout.contains("filters  helloworld"), "{stdout}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
}

#[test]
fn every_failure_is_refused_naming_the_reference_and_the_reason() {
    let mut registry = secured();
    let config = docker_config(&registry, USER, PASSWORD);
    let wrong = docker_config(&registry, USER, "not-the-password");
    let ca = registry.ca_file.clone().unwrap();
    let module = envoyx_build::build_package("envoyx-example-helloworld");
    let tag = format!("{}/m:v1", registry.host);
    let (code, stdout, stderr) =
        envoyx(&["push", s(&module), &tag, "--credentials", s(&config), "--ca-file", s(&ca)]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let digest = field(&stdout, "digest").to_string();
    let other_digest = format!("sha256:{}", "0".repeat(64));

    let refused = |args: &[&str], why: &[&str]| {
        let (code, stdout, stderr) = envoyx(args);
        assert_eq!(code, 1, "{args:?} must fail: {stdout}\n{stderr}");
        for part in why {
            assert!(stderr.contains(part), "{args:?}: `{part}` not in: {stderr}");
        }
        assert!(!stderr.contains(PASSWORD), "credentials never in an error: {stderr}");
    };
    let good = ["--credentials", s(&config), "--ca-file", s(&ca)];
    let unknown_digest = format!("{}/m@{other_digest}", registry.host);
    refused(&with(&["pull", &unknown_digest], &good), &[&unknown_digest, "404", "MANIFEST_UNKNOWN"]);
    let unknown_repo = format!("{}/absent:v1", registry.host);
    refused(&with(&["pull", &unknown_repo], &good), &[&unknown_repo, "404", "manifest v1"]);
    refused(&["pull", &tag, "--credentials", s(&wrong), "--ca-file", s(&ca)], &[&tag, "401"]);
    refused(&["pull", &tag, "--ca-file", s(&ca)], &[&tag, "401", "credentials needed or refused"]);
    refused(
        &["pull", &tag, "--credentials", s(&config)],
        &[&tag, "cannot talk to the registry", "certificate"],
    );
    refused(&with(&["pull", "registry.example.com/m:v1", "--insecure"], &[]), &["this machine only"]);
    // A pushed artifact that is no module: its config and layer are not a tar with a .so.
    let not_module = format!("{}/m:not-a-module", registry.host);
    let options = envoyx_core::oci::client::ClientOptions {
        credentials: Some(config.clone()),
        ca_file: Some(ca.clone()),
        insecure: false,
        timeout: std::time::Duration::from_secs(10),
    };
    let reference = envoyx_core::oci::Reference::parse(&not_module).unwrap();
    let repository = envoyx_core::oci::client::Repository::open(&reference, &options, "pull,push").unwrap();
    let layer = envoyx_core::oci::layout::tar_of(&[("etc/motd", b"hello")]);
    let config_blob = br#"{"architecture": "amd64", "os": "linux"}"#;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": envoyx_core::oci::layout::MANIFEST_TYPE,
        "config": {"mediaType": envoyx_core::oci::layout::CONFIG_TYPE, "digest": repository.push_blob(config_blob).unwrap(), "size": config_blob.len()},
        "layers": [{"mediaType": envoyx_core::oci::layout::LAYER_TYPE, "digest": repository.push_blob(&layer).unwrap(), "size": layer.len()}],
    });
    repository
        .put_manifest(
            "not-a-module",
            envoyx_core::oci::layout::MANIFEST_TYPE,
            &serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
    refused(&with(&["pull", &not_module], &good), &[&not_module, "no EnvoyX module", "lib<name>.so"]);
    // A layer over the bound: the core's pull with a small bound (the CLI's is 1 GiB).
    let e = envoyx_core::oci::transfer::pull(&Reference::parse(&tag).unwrap(), &options, 1000).unwrap_err();
    assert!(e.contains(&tag) && e.contains("over the bound of 1000"), "{e}");
    // A file that fails `envoyx check` is not pushed.
    let junk = registry.dir.path().join("libjunk.so");
    std::fs::write(&junk, b"not an ELF file").unwrap();
    refused(
        &with(&["push", s(&junk), &format!("{}/junk:v1", registry.host)], &good),
        &["did not pass `envoyx check`", "not pushed"],
    );
    // The registry down.
    registry.stop();
    refused(&with(&["pull", &format!("{}/m@{digest}", registry.host)], &good), &["refused the connection"]);
}

use envoyx_core::oci::Reference;

/// `envoyx deploy`: a pushed module's configuration for Envoy Gateway and Istio passes the checks
/// the committed manifests pass (`ci/validate-k8s.sh`: schemas, then the core's rules), naming
/// the module by the digest its tag resolved to; for stock Envoy, an http_filters entry whose
/// EnvoyX configuration the core accepts.
#[test]
fn deploy_prints_configurations_that_validate() {
    let registry = secured();
    let config = docker_config(&registry, USER, PASSWORD);
    let ca = registry.ca_file.clone().unwrap();
    let module = envoyx_build::build_package("envoyx-example-helloworld");
    let tag = format!("{}/team/hello:v2", registry.host);
    let auth = ["--credentials", s(&config), "--ca-file", s(&ca)];
    let (code, stdout, stderr) = envoyx(&with(&["push", s(&module), &tag], &auth));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let digest = field(&stdout, "digest").to_string();
    let pinned = format!("{}/team/hello@{digest}", registry.host);
    let out = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for target in ["gateway", "istio"] {
        let (code, stdout, stderr) = envoyx(&with(
            &["deploy", &tag, "--for", target, "--pull-secret", "regcred", "--filter-config", "hello"],
            &auth,
        ));
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        assert!(stdout.contains(&pinned), "{target}: the tag resolved to its digest: {stdout}");
        assert!(stderr.contains(&format!("{tag} is {digest}")), "{stderr}");
        let file = out.path().join(format!("{target}.yaml"));
        std::fs::write(&file, &stdout).unwrap();
        let check = Command::new("bash").arg(root.join("ci/validate-k8s.sh")).arg(&file).output().unwrap();
        let report =
            format!("{}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
        assert!(check.status.success(), "{target}: {report}\n{stdout}");
        assert!(report.contains("ok    ") && !report.contains("FAIL"), "{target}: {report}");
    }
    let (code, stdout, stderr) = envoyx(&["deploy", &pinned, "--for", "envoy"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let json: String = stdout.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
    let filter: serde_json::Value = serde_json::from_str(&json).unwrap();
    let inner =
        filter["typed_config"]["filter_config"]["value"].as_str().unwrap_or_else(|| panic!("{filter:#}"));
    let parsed = envoyx_core::ModuleConfig::from_json(inner).unwrap();
    assert!(parsed.module_source().starts_with(&format!("oci://{pinned}")), "{}", parsed.module_source());
    // A reference that is no reference is refused before anything is printed.
    let (code, stdout, stderr) = envoyx(&["deploy", "hello:v1", "--for", "istio"]);
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    assert!(stderr.contains("names no registry"), "{stderr}");
}
