//! `envoyx new`: the generated crate passes its own tests, builds its `.so` (which `envoyx check`
//! accepts), and its envoy.yaml is accepted by the real Envoy 1.40.0 with the stock host loading
//! the module; plus the error cases.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn envoyx(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_envoyx")).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A fresh, empty directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("new").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs cargo in `crate_dir` with a target directory shared by every run of this test, so the
/// EnvoyX crates and their dependencies are compiled once, not per run.
fn cargo(crate_dir: &Path, args: &[&str]) -> Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    Command::new(cargo)
        .args(args)
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", shared_target_dir())
        // A scaffolded crate has no profile of ours; line tables keep its throwaway build small.
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .output()
        .unwrap()
}

fn shared_target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("new-crates-target")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_generated_crate_tests_builds_checks_and_validates_in_envoy() {
    let parent = scratch("generated");
    let (code, stdout, stderr) = envoyx(&["new", "hello-module", "--path", parent.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("created module crate `hello-module`"), "{stdout}");
    let crate_dir = parent.join("hello-module");
    for file in
        ["Cargo.toml", "Cargo.lock", "src/lib.rs", "tests/filter.rs", "envoy.yaml", "README.md", ".gitignore"]
    {
        assert!(crate_dir.join(file).is_file(), "{file} not generated");
    }
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).unwrap();
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    assert!(manifest.contains(&format!("path = \"{}/rust/sdk\"", checkout.display())), "{manifest}");
    assert!(manifest.contains("\n[workspace]\n"), "{manifest}");

    // Its own tests pass as generated.
    let test = cargo(&crate_dir, &["test"]);
    let test_output = text(&test.stdout) + &text(&test.stderr);
    assert!(test.status.success(), "cargo test failed in the generated crate:\n{test_output}");
    // The in-process unit test (src/lib.rs) and the three tests of the built .so (tests/filter.rs).
    assert!(test_output.contains("test result: ok. 1 passed"), "{test_output}");
    assert!(test_output.contains("adds_the_configured_header_in_process ... ok"), "{test_output}");
    assert!(test_output.contains("test result: ok. 3 passed"), "{test_output}");

    // `cargo build` makes the module's .so, and `envoyx check` is content with it.
    let build = cargo(&crate_dir, &["build"]);
    assert!(build.status.success(), "cargo build failed:\n{}", text(&build.stderr));
    let module = shared_target_dir().join("debug/libhello_module.so");
    assert!(module.is_file(), "{} not built", module.display());
    let (code, stdout, _) = envoyx(&["check", module.to_str().unwrap(), "--filter-config", "hi"]);
    assert_eq!(code, 0, "{stdout}");

    // The generated envoy.yaml names the module in cargo's default target directory; this test
    // builds into a shared one, so point it there before Envoy reads it.
    let yaml = std::fs::read_to_string(crate_dir.join("envoy.yaml")).unwrap();
    let default_path = crate_dir.join("target/debug/libhello_module.so");
    assert!(yaml.contains(&format!("file_path: \"{}\"", default_path.display())), "{yaml}");
    assert!(yaml.contains("port_value: 10000") && yaml.contains("name: envoyx_stock_host"), "{yaml}");
    let yaml = yaml.replace(&default_path.display().to_string(), &module.display().to_string());
    let config = crate_dir.join("envoy-test.yaml");
    std::fs::write(&config, yaml).unwrap();

    // Envoy's validate mode builds every filter config without serving: the stock host is
    // loaded by name from the search path, and it loads the module through the core.
    let envoy = envoyx_harness::envoy_path("1.40.0").expect("install Envoy 1.40.0");
    let stock_host = envoyx_harness::stock_host();
    let validate = Command::new(&envoy)
        .args(["--mode", "validate", "-c"])
        .arg(&config)
        .env("ENVOY_DYNAMIC_MODULES_SEARCH_PATH", stock_host.parent().unwrap())
        .output()
        .unwrap();
    let log = text(&validate.stdout) + &text(&validate.stderr);
    assert!(validate.status.success(), "Envoy 1.40.0 rejected the generated envoy.yaml:\n{log}");
    assert!(log.contains("OK"), "{log}");
    assert!(log.contains("filter `hello-module`") && log.contains("libhello_module.so ready"), "{log}");
}

#[test]
fn an_existing_directory_is_refused_unless_empty() {
    let parent = scratch("existing");
    std::fs::create_dir_all(parent.join("taken")).unwrap();
    std::fs::write(parent.join("taken/notes.txt"), "mine").unwrap();
    let (code, _, stderr) = envoyx(&["new", "taken", "--path", parent.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("taken already exists and is not empty"), "{stderr}");
    assert_eq!(std::fs::read_dir(parent.join("taken")).unwrap().count(), 1, "nothing may be written");

    std::fs::write(parent.join("a-file"), "").unwrap();
    let (code, _, stderr) = envoyx(&["new", "a-file", "--path", parent.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("a-file already exists and is not a directory"), "{stderr}");

    // An empty directory is fine (e.g. one made for the purpose).
    std::fs::create_dir_all(parent.join("empty")).unwrap();
    let (code, stdout, stderr) = envoyx(&["new", "empty", "--path", parent.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(parent.join("empty/src/lib.rs").is_file());
}

#[test]
fn invalid_names_and_checkouts_are_refused() {
    let parent = scratch("invalid");
    let at = parent.to_str().unwrap();
    for (name, reason) in [
        ("1st-filter", "must start with a letter"),
        ("my/filter", "invalid character '/'"),
        ("my filter", "invalid character ' '"),
        ("struct", "Rust keyword"),
        ("envoyx-sdk", "EnvoyX crate"),
    ] {
        let (code, _, stderr) = envoyx(&["new", name, "--path", at]);
        assert_eq!(code, 1, "{name}: {stderr}");
        assert!(stderr.contains(&format!("`{name}` cannot be a crate name: ")), "{stderr}");
        assert!(stderr.contains(reason), "{name}: {stderr}");
    }
    let (code, _, stderr) = envoyx(&["new", "fine", "--path", at, "--sdk-path", at]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not an EnvoyX checkout"), "{stderr}");
    assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 0, "nothing may be created");

    for args in [
        &["new"][..],
        &["new", "a", "b"],
        &["new", "a", "--path"],
        &["new", "a", "--bogus"],
        &["new", "a", "--lang"],
    ] {
        let (code, _, stderr) = envoyx(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains("usage: envoyx new <name>"), "{stderr}");
    }
    let (code, _, stderr) = envoyx(&["new", "a", "--lang", "cobol"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--lang cobol: the languages are `rust` and `go`"), "{stderr}");
}
