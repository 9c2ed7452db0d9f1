//! Builds Go modules (`go build -buildmode=c-shared`) with the Go toolchain EnvoyX installs
//! (`envoyx_envoy_install::go_path`): no system Go, no module proxy (`GOPROXY=off`, the standard
//! library and cgo only), the build cache under the system's temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the Go package in `dir` as a shared object named `lib<name>.so` in `out_dir` and
/// returns its path; a failed build is an error with Go's output.
pub fn build_go_module(dir: &Path, name: &str, out_dir: &Path) -> Result<PathBuf, String> {
    let go = envoyx_envoy_install::go_path().map_err(|e| format!("cannot install Go: {e}"))?;
    std::fs::create_dir_all(out_dir).map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let out = out_dir.join(format!("lib{name}.so"));
    let cache = std::env::temp_dir().join("envoyx-go-build-cache");
    let output = Command::new(&go)
        .args(["build", "-buildmode=c-shared", "-trimpath", "-o"])
        .arg(&out)
        .arg(".")
        .current_dir(dir)
        .env("CGO_ENABLED", "1")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GOCACHE", &cache)
        .env("GOPATH", cache.join("gopath"))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", go.display()))?;
    if !output.status.success() {
        return Err(format!(
            "building the Go module in {} failed:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(out)
}
