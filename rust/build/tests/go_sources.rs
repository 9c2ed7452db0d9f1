//! The Go sources (`go/`: the SDK, its test module and the examples) with the Go toolchain
//! EnvoyX installs: formatted as gofmt writes them, clean under `go vet`, and the examples' own
//! `go test` unit tests passing: through the real core (`envoyxtest` over the test host's C
//! library), so they are the Go twins of the Rust examples' in-process tests; under Go's race
//! detector and `GODEBUG=cgocheck=1` (envoyx_build's Go environment).

use envoyx_build::{go_test, gofmt_path, run_go};
use std::path::{Path, PathBuf};
use std::process::Command;

fn go_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go").join(sub)
}

/// The Go examples' packages, each with its `go test` unit tests (the filters driven through the
/// real core by `envoyxtest`).
const EXAMPLES: [&str; 10] = [
    "auth",
    "bodyreplace",
    "bodyrewrite",
    "delay",
    "grpccheck",
    "headers",
    "helloworld",
    "jsonvalidate",
    "sendresponse",
    "streamresponse",
];

/// The Go modules of the repository (each folder with its own go.mod).
const MODULES: [&str; 4] = ["", "examples", "testmodule", "bench"];

#[test]
fn go_sources_are_gofmt_clean() {
    let gofmt = gofmt_path().unwrap_or_else(|e| panic!("{e}"));
    let output = Command::new(&gofmt).arg("-l").arg(go_dir("")).output().expect("gofmt runs");
    assert!(output.status.success(), "gofmt failed: {}", String::from_utf8_lossy(&output.stderr));
    let unformatted = String::from_utf8_lossy(&output.stdout);
    assert!(unformatted.trim().is_empty(), "not gofmt-formatted (run gofmt -w):\n{unformatted}");
}

#[test]
fn go_vet_and_go_test_pass() {
    for module in MODULES {
        run_go(&go_dir(module), &["vet", "./..."]).unwrap_or_else(|e| panic!("{e}"));
    }
    let testhost = envoyx_build::build_package("envoyx-testhost-c");
    let tested = go_test(&go_dir("examples"), &testhost, &["-race", "-count=1", "./..."])
        .unwrap_or_else(|e| panic!("{e}"));
    let sdk =
        go_test(&go_dir(""), &testhost, &["-race", "-count=1", "./..."]).unwrap_or_else(|e| panic!("{e}"));
    for package in ["envoyx", "envoyxtest", "internal/pack"] {
        assert!(
            sdk.lines()
                .any(|l| l.starts_with("ok")
                    && l.contains(&format!("github.com/envoyx/envoyx/go/{package}\t"))),
            "go test ran and passed the SDK's {package}:\n{sdk}"
        );
    }
    let bench = go_test(&go_dir("bench"), &testhost, &["-count=1", "-run", "EachJob", "."])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(bench.starts_with("ok"), "go test ran the bench module's test:\n{bench}");
    for package in EXAMPLES {
        assert!(
            tested
                .lines()
                .any(|l| l.starts_with("ok") && l.contains(&format!("envoyx.dev/examples/{package}"))),
            "go test ran and passed {package}:\n{tested}"
        );
    }
}
