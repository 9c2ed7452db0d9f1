//! What the end-to-end tests share, over `envoyx-harness` (the Envoy process, configuration, echo
//! upstream and HTTP client it owns): the test modules, and the harness's calls in forms that
//! panic with Envoy's log, as tests want.

// Each test binary uses a different part of this module.
#![allow(dead_code, unused_imports)]

use serde_json::Value;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use envoyx_harness::{
    Form, Message, Upstream, VERSIONS, bootstrap, lds_resources, listener, module_config, post_chunked,
    request,
};

/// The workspace root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The official Envoy binary of `version`, installed into the cache on first use.
pub fn envoy_binary(version: &str) -> PathBuf {
    envoyx_envoy_install::envoy_path(version).unwrap_or_else(|e| panic!("Envoy {version}: {e}"))
}

/// `libenvoyx_stock_host.so`, built from the current sources.
pub fn stock_host() -> PathBuf {
    envoyx_harness::stock_host()
}

/// A directory for files built by these tests, next to the test executable.
fn build_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().join("envoyx-stock-host-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The C test module `tests/modules/test_filter.c`, compiled against `x/abi.h`.
pub fn c_test_module() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/modules/test_filter.c");
        let out = build_dir().join("libtest_filter.so");
        let partial = build_dir().join(format!("libtest_filter.so.{}", std::process::id()));
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let output = Command::new(&cc)
            .args(["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-I"])
            .arg(repo_root().join("x"))
            .arg("-o")
            .arg(&partial)
            .arg(&source)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cc} to build the C test module: {e}"));
        assert!(output.status.success(), "{cc} failed:\n{}", String::from_utf8_lossy(&output.stderr));
        std::fs::rename(&partial, &out).unwrap();
        out
    })
    .clone()
}

/// A port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    envoyx_harness::free_port().unwrap()
}

pub fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Message {
    request(port, "GET", path, headers, b"").unwrap_or_else(|e| panic!("GET {path} on port {port}: {e}"))
}

pub fn post(port: u16, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Message {
    request(port, "POST", path, headers, body).unwrap_or_else(|e| panic!("POST {path} on port {port}: {e}"))
}

/// An echo upstream on a free port (see [`envoyx_harness::Upstream`]).
pub fn start_upstream() -> Upstream {
    Upstream::start().expect("cannot start the echo upstream")
}

/// How the filter names the stock host.
#[derive(Clone, Copy, Debug)]
pub enum LoadBy {
    /// By name, through `ENVOY_DYNAMIC_MODULES_SEARCH_PATH`.
    Name,
    /// By file name.
    File,
}

/// The `envoy.filters.http.dynamic_modules` filter running EnvoyX `config` in the stock host.
pub fn envoyx_filter(filter_name: &str, config: Value, load_by: LoadBy, form: Form) -> Value {
    let host = stock_host();
    let load_by = match load_by {
        LoadBy::Name => envoyx_harness::LoadBy::Name,
        LoadBy::File => envoyx_harness::LoadBy::File(&host),
    };
    envoyx_harness::envoyx_filter(filter_name, config, load_by, form)
}

/// Writes `value` to `path` atomically, as Envoy's file watch expects.
pub fn write_atomically(path: &Path, value: &Value) {
    envoyx_harness::write_atomically(path, value)
        .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()))
}

/// A running Envoy whose failures panic with its log; stopped by PID when dropped.
pub struct Envoy(envoyx_harness::Envoy);

/// Starts Envoy `version` on `bootstrap` (written into `dir`) and waits until it is ready.
pub fn start_envoy(version: &str, bootstrap: &Value, dir: tempfile::TempDir) -> Envoy {
    let mut envoy = spawn_envoy(version, bootstrap, dir);
    envoy.0.wait_ready(Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"));
    envoy
}

/// Starts Envoy without waiting for it.
pub fn spawn_envoy(version: &str, bootstrap: &Value, dir: tempfile::TempDir) -> Envoy {
    let host = stock_host();
    let command = envoyx_harness::EnvoyCommand {
        binary: &envoy_binary(version),
        version,
        bootstrap,
        module_search_path: host.parent(),
        log_level: "info",
    };
    Envoy(command.spawn(dir).unwrap_or_else(|e| panic!("{e}")))
}

impl Deref for Envoy {
    type Target = envoyx_harness::Envoy;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Envoy {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Envoy {
    /// Waits for Envoy to exit by itself; returns its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        match self.0.wait_exit(timeout) {
            Some(status) => status.code(),
            None => panic!("Envoy {} still running after {timeout:?}:\n{}", self.version, self.log_tail()),
        }
    }

    /// Waits until `stat` reaches at least `value`.
    pub fn wait_stat(&self, name: &str, value: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.stat(name).unwrap_or(0) < value {
            assert!(
                Instant::now() < deadline,
                "Envoy {}: {name} stayed at {:?} (wanted {value}):\n{}",
                self.version,
                self.stat(name),
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Checks that the stock host logged no error about the stream machinery (events out of
    /// order, re-entered hooks).
    pub fn check_no_host_errors(&self) {
        let log = self.log();
        let bad: Vec<&str> = log
            .lines()
            .filter(|l| {
                l.contains("out of order") || l.contains("re-entered") || l.contains("inside its module hook")
            })
            .collect();
        self.check(bad.is_empty(), &format!("host errors:\n{}", bad.join("\n")));
    }

    /// Panics with Envoy's log if `condition` is false.
    pub fn check(&self, condition: bool, what: &str) {
        assert!(condition, "Envoy {}: {what}\n--- Envoy log (tail) ---\n{}", self.version, self.log_tail());
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- Envoy {} log (tail) ---\n{}", self.version, self.log_tail());
        }
    }
}

/// A fresh temporary directory for one Envoy.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("envoyx-e2e-").tempdir().unwrap()
}
