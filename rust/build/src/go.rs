//! Builds and checks Go modules with the Go toolchain EnvoyX installs
//! (`envoyx_envoy_install::go_path`): no system Go, no module proxy (`GOPROXY=off`, the standard
//! library and cgo only), the build cache under the system's temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds the Go package in `dir` as a shared object named `lib<name>.so` in `out_dir` and
/// returns its path; a failed build is an error with Go's output.
pub fn build_go_module(dir: &Path, name: &str, out_dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(out_dir).map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let out = out_dir.join(format!("lib{name}.so"));
    let out_arg = out.to_string_lossy();
    run_go(dir, &["build", "-buildmode=c-shared", "-trimpath", "-o", &out_arg, "."])?;
    Ok(out)
}

/// Runs `go test <args>` in `dir` with `testhost` (the test host's C library, package
/// `envoyx-testhost-c`) in `ENVOYX_TESTHOST_LIB`, where the SDK's `envoyxtest` loads it.
pub fn go_test(dir: &Path, testhost: &Path, args: &[&str]) -> Result<String, String> {
    let mut command = go_command()?;
    command.env("ENVOYX_TESTHOST_LIB", testhost);
    let args: Vec<&str> = ["test"].into_iter().chain(args.iter().copied()).collect();
    run(command, dir, &args)
}

/// Runs `go <args>` in `dir` with the installed toolchain and returns its standard output; a
/// failure is an error naming the command, with Go's output.
pub fn run_go(dir: &Path, args: &[&str]) -> Result<String, String> {
    run(go_command()?, dir, args)
}

fn run(mut command: Command, dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = command
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if !output.status.success() {
        return Err(format!(
            "`go {}` in {} failed:\n{}{}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The installed `go` with the environment EnvoyX builds with (cgo on, this toolchain only, no
/// module downloads, cgo's pointer checks at their default level).
pub fn go_command() -> Result<Command, String> {
    let go = envoyx_envoy_install::go_path().map_err(|e| format!("cannot install Go: {e}"))?;
    let cache = std::env::temp_dir().join("envoyx-go-build-cache");
    let mut command = Command::new(&go);
    command
        .env("CGO_ENABLED", "1")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GOCACHE", &cache)
        .env("GOPATH", cache.join("gopath"))
        .env("GODEBUG", "cgocheck=1");
    Ok(command)
}

/// The installed `go` for a module author's own module (`envoyx go`): cgo on and this toolchain,
/// the rest of the author's Go environment as it is (the module proxy, GOPATH, the build cache),
/// so the module's requirements, the EnvoyX SDK among them, are downloaded and checked as Go does.
/// Unless GOFLAGS says otherwise, `-mod=mod`: a generated module's first `go test` records the
/// SDK's checksums in go.sum instead of asking for `go mod tidy` first.
pub fn user_go_command() -> Result<Command, String> {
    let go = envoyx_envoy_install::go_path().map_err(|e| format!("cannot install Go: {e}"))?;
    let mut command = Command::new(&go);
    command.env("CGO_ENABLED", "1").env("GOTOOLCHAIN", "local");
    if std::env::var_os("GOFLAGS").is_none() {
        command.env("GOFLAGS", "-mod=mod");
    }
    Ok(command)
}

/// `gofmt` of the installed toolchain.
pub fn gofmt_path() -> Result<PathBuf, String> {
    let go = envoyx_envoy_install::go_path().map_err(|e| format!("cannot install Go: {e}"))?;
    Ok(go.with_file_name("gofmt"))
}
