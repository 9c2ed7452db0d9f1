//! The Go sources (`go/`: the SDK, its test module and the examples) with the Go toolchain
//! EnvoyX installs: formatted as gofmt writes them, clean under `go vet`, and the examples' own
//! `go test` unit tests passing.

use envoyx_build::{gofmt_path, run_go};
use std::path::{Path, PathBuf};
use std::process::Command;

fn go_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go").join(sub)
}

/// The Go modules of the repository (each folder with its own go.mod).
const MODULES: [&str; 3] = ["", "examples", "testmodule"];

#[test]
fn go_sources_are_gofmt_clean() {
    let gofmt = gofmt_path().unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(&gofmt).arg("-l").arg(go_dir("")).output().expect("gofmt runs");
    assert!(output.status.success(), "gofmt failed: {}", String::from_utf8_lossy(&output.stderr));
    let unformatted = String::from_utf8_lossy(&output.stdout);
    assert!(unformatted.trim().is_empty(), "not gofmt-formatted (run gofmt -w):\n{unformatted}");
}

#[test]
fn go_vet_passes_and_the_examples_unit_tests_pass() {
    for module in MODULES {
        run_go(&go_dir(module), &["vet", "./..."]).unwrap_or_else(|e| panic!("{e}"));
    }
    let tested = run_go(&go_dir("examples"), &["test", "-count=1", "./..."]).unwrap_or_else(|e| panic!("{e}"));
    for package in ["bodyreplace", "bodyrewrite", "delay", "jsonvalidate"] {
        assert!(
            tested.lines().any(|l| l.starts_with("ok") && l.contains(&format!("envoyx.dev/examples/{package}"))),
            "go test ran and passed {package}:\n{tested}"
        );
    }
}
