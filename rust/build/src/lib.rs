//! Builds EnvoyX module crates with cargo and finds their shared objects.
//!
//! Each function runs `cargo build` (the same cargo that runs the caller, through `CARGO`) on a
//! `cdylib` crate and returns the path of the `.so` cargo reports, so a test, the `envoyx`
//! command or a benchmark always loads the module's current code. Builds are serialized and each
//! crate is built once per process.
//!
//! ```no_run
//! let so = envoyx_build::build_package("envoyx-example-headers");
//! assert!(so.exists());
//! ```

mod go;
mod library;
pub use go::{build_go_module, go_command, go_test, gofmt_path, run_go, user_go_command};
pub use library::{LIBRARY_CACHE_ENV, VERSION, checkout, envoyx_library, library_cache, published_library};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Builds the cdylib crate whose `Cargo.toml` is in `manifest_dir` (with the same cargo that runs
/// the tests) and returns the path of its shared object. Module authors call it from their own
/// tests as `build_module(env!("CARGO_MANIFEST_DIR"))`.
///
/// Panics with cargo's output if the build fails: a test cannot go on without its module.
pub fn build_module(manifest_dir: impl AsRef<Path>) -> PathBuf {
    let manifest = manifest_dir.as_ref().join("Cargo.toml");
    cargo_build(&["--manifest-path", &manifest.to_string_lossy()], &manifest.to_string_lossy())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Builds the cdylib crate whose `Cargo.toml` is in `manifest_dir` again, even if this process
/// built it before (`envoyx run --watch` after a source change); a failed build is an error with
/// cargo's output.
pub fn rebuild_module(manifest_dir: &Path) -> Result<PathBuf, String> {
    let manifest = manifest_dir.join("Cargo.toml");
    let manifest = manifest.to_string_lossy();
    // One build at a time; the new build replaces what the cache held.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    run_cargo_build(&["--manifest-path", &manifest], &manifest, built.get_or_insert_default())
}

/// Builds the cdylib package `package` of the workspace the tests run in and returns the path of
/// its shared object.
pub fn build_package(package: &str) -> PathBuf {
    try_build_package(package).unwrap_or_else(|e| panic!("{e}"))
}

/// [`build_package`] returning a failed build as an error (with cargo's output), for callers
/// that report it instead of panicking (the `envoyx` command).
pub fn try_build_package(package: &str) -> Result<PathBuf, String> {
    cargo_build(&["-p", package], package)
}

/// Builds the cdylib package `package` of the workspace whose root is `workspace` (wherever the
/// current directory is) and returns the path of its shared object, or the error with cargo's
/// output.
pub fn try_build_workspace_package(workspace: &Path, package: &str) -> Result<PathBuf, String> {
    let manifest = workspace.join("Cargo.toml");
    cargo_build(&["--manifest-path", &manifest.to_string_lossy(), "-p", package], package)
}

/// The released minors of ABI 1, each with the last commit of its contract (x/abi.h and the SDK
/// as released; `x/compat/1.<minor>/` holds its header and a `git archive` of that commit). The
/// compatibility tests build modules from them to prove that this tree's hosts still run them.
pub const RELEASES: &[(u32, &str)] =
    &[(0, "d149545675fd9f7baa62caf3f35b0d83fc199486"), (1, "a971dc9f00494f497a825409a75b631f3dc15c86")];

/// Builds the cdylib package `package` of this repository (`repo`) as ABI 1.`minor` released it
/// (see [`RELEASES`] and [`try_build_package_at`]), in `scratch_root/abi-1.<minor>`.
pub fn build_released(
    repo: &Path,
    minor: u32,
    package: &str,
    scratch_root: &Path,
) -> Result<PathBuf, String> {
    let (_, commit) = RELEASES
        .iter()
        .find(|(m, _)| *m == minor)
        .ok_or_else(|| format!("ABI 1.{minor} is not a released minor (envoyx_build::RELEASES)"))?;
    let scratch = scratch_root.join(format!("abi-1.{minor}"));
    let fallback = repo.join(format!("x/compat/1.{minor}/source.tar.gz"));
    try_build_package_at(repo, commit, package, &scratch, &fallback)
}

/// Builds the cdylib package `package` as it was at `commit` of the git repository `repo`
/// (extracted with `git archive` into `scratch`, built with its own `Cargo.lock` into its own
/// target directory) and returns the path of its shared object. For compatibility tests: a
/// module built from an earlier release's sources, not a patched version number. A clone
/// without that history (a shallow one) extracts `fallback` instead: a `.tar.gz` that
/// `git archive` made of the same commit.
pub fn try_build_package_at(
    repo: &Path,
    commit: &str,
    package: &str,
    scratch: &Path,
    fallback: &Path,
) -> Result<PathBuf, String> {
    let tree = scratch.join(format!("src-{commit}"));
    if !tree.join("Cargo.toml").exists() {
        extract_at(repo, commit, &tree, fallback)?;
    }
    let manifest = tree.join("Cargo.toml");
    let target = scratch.join(format!("target-{commit}"));
    cargo_build(
        &[
            "--manifest-path",
            &manifest.to_string_lossy(),
            "--target-dir",
            &target.to_string_lossy(),
            "-p",
            package,
        ],
        &format!("{package}@{commit}"),
    )
}

/// Extracts the tree of `commit` of the git repository `repo` into `tree`, or, when `repo` lacks
/// that history, the `.tar.gz` `fallback` (which `git archive` made of it).
pub fn extract_at(repo: &Path, commit: &str, tree: &Path, fallback: &Path) -> Result<(), String> {
    std::fs::create_dir_all(tree).map_err(|e| format!("cannot create {}: {e}", tree.display()))?;
    let archive = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["archive", "--format=tar", commit])
        .output()
        .map_err(|e| format!("cannot run git to extract {commit}: {e}"))?;
    let (bytes, gzip) = if archive.status.success() {
        (archive.stdout, false)
    } else {
        let bytes = std::fs::read(fallback).map_err(|e| {
            format!(
                "git archive {commit} failed in {} ({}) and its copy {} cannot be read: {e}",
                repo.display(),
                String::from_utf8_lossy(&archive.stderr).trim(),
                fallback.display()
            )
        })?;
        (bytes, true)
    };
    let mut tar = Command::new("tar")
        .arg(if gzip { "-xz" } else { "-x" })
        .arg("-C")
        .arg(tree)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    use std::io::Write;
    tar.stdin.take().expect("piped").write_all(&bytes).map_err(|e| format!("tar: {e}"))?;
    if !tar.wait().map_err(|e| format!("tar: {e}"))?.success() {
        return Err(format!("tar could not extract {commit} into {}", tree.display()));
    }
    if !tree.join("Cargo.toml").exists() {
        return Err(format!(
            "{commit} extracted into {} holds no Cargo.toml (is {} the repository's root?)",
            tree.display(),
            repo.display()
        ));
    }
    Ok(())
}

fn cargo_build(selector: &[&str], what: &str) -> Result<PathBuf, String> {
    // One build at a time, and each module once per test process.
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let built = built.get_or_insert_default();
    if let Some(path) = built.get(what) {
        return Ok(path.clone());
    }
    run_cargo_build(selector, what, built)
}

static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);

/// `cargo` (`$CARGO`, or the one on PATH) for a nested build, with the variables cargo sets for
/// the package that is running (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, …) removed: build scripts
/// that track one of them (ring's tracks `CARGO_MANIFEST_DIR`) would otherwise see a value a
/// build from a shell never has, and the next build would compile them, and all that depends on
/// them, again.
pub fn cargo_command() -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(cargo);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_the_running_package = name.starts_with("CARGO_PKG_")
            || matches!(
                &*name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_TARGET_TMPDIR"
            );
        if set_for_the_running_package {
            command.env_remove(&*name);
        }
    }
    command
}

/// Runs `cargo build` on `selector` and records the shared object in `built`.
fn run_cargo_build(
    selector: &[&str],
    what: &str,
    built: &mut HashMap<String, PathBuf>,
) -> Result<PathBuf, String> {
    let mut command = cargo_command();
    command.arg("build").args(selector).arg("--message-format=json-render-diagnostics");
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let output = command.output().map_err(|e| {
        format!(
            "cannot run cargo ({:?}) to build {what}: {e}; install Rust (https://rustup.rs) or set CARGO",
            command.get_program()
        )
    })?;
    if !output.status.success() {
        return Err(format!("building module {what} failed:\n{}", String::from_utf8_lossy(&output.stderr)));
    }
    let path = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact")
        .filter(|msg| msg["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "cdylib")))
        .filter_map(|msg| {
            msg["filenames"]
                .as_array()?
                .iter()
                .filter_map(|f| f.as_str())
                .find(|f| f.ends_with(".so"))
                .map(PathBuf::from)
        })
        .next_back()
        .ok_or_else(|| {
            format!("cargo built {what} but reported no cdylib; is crate-type = [\"cdylib\"] set?")
        })?;
    built.insert(what.to_string(), path.clone());
    Ok(path)
}
