//! What the end-to-end tests share, over `envoyx-harness` (the Envoy process, configuration, echo
//! upstream and HTTP client it owns): the test modules, and the harness's calls in forms that
//! panic with Envoy's log, as tests want.

// Each test binary uses a different part of this module.
#![allow(dead_code, unused_imports)]

pub mod h2c;
pub mod lds;

use envoyx_core::sync::lock;
pub use h2c::{H2Reply, h2_cancel_mid_body, h2_request};
pub use lds::LdsEnvoy;
use serde_json::Value;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use envoyx_harness::{
    AuthServer, Form, Message, Upstream, VERSIONS, bootstrap, envoyx_per_route, lds_resources, listener,
    module_config, post_chunked, request,
};

/// The workspace root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The official Envoy binary of `version`, installed into the cache on first use; or, when
/// `ENVOYX_E2E_ENVOY` names a binary, that binary for every version (to run the suite against
/// another Envoy build).
pub fn envoy_binary(version: &str) -> PathBuf {
    if let Some(binary) = std::env::var_os("ENVOYX_E2E_ENVOY").filter(|b| !b.is_empty()) {
        return PathBuf::from(binary);
    }
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

/// The C test module `rust/test-modules/c/module.c` with `-DSTOCK_TEST_FILTER`: the behaviour
/// these tests run (filter_config `basic`, `reply`, `delay`, `reset`; `/__counts`, see the switch
/// list atop module.c), compiled against `x/abi.h` as `libtest_filter.so`.
pub fn c_test_module() -> PathBuf {
    compile_c_module("test_filter", &["-DSTOCK_TEST_FILTER"])
}

/// The same C test module in its default behaviour (the one the core's tests load), compiled
/// with `defines` that make it misbehave (e.g. `-DABI_MAJOR=0`) as `lib<name>.so`.
pub fn misbehaving_c_module(name: &str, defines: &[&str]) -> PathBuf {
    compile_c_module(name, defines)
}

/// Compiles `rust/test-modules/c/module.c` with `defines` against `x/abi.h` into
/// `lib<name>.so`, once per test process and name.
fn compile_c_module(name: &str, defines: &[&str]) -> PathBuf {
    let source = repo_root().join("rust/test-modules/c/module.c");
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    // One compile per name; the lock also keeps two tests from writing the same file at once.
    let mut built = lock(&BUILT);
    if let Some(path) = built.get_or_insert_default().get(name) {
        return path.clone();
    }
    let out = build_dir().join(format!("lib{name}.so"));
    // Written aside and renamed: another test process may be loading the previous build.
    let partial = build_dir().join(format!("lib{name}.so.{}", std::process::id()));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let output = Command::new(&cc)
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread"])
        .args(defines)
        .arg("-I")
        .arg(repo_root().join("x"))
        .arg("-o")
        .arg(&partial)
        .arg(&source)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cc} to build the C module {name}: {e}"));
    assert!(output.status.success(), "{cc} failed:\n{}", String::from_utf8_lossy(&output.stderr));
    std::fs::rename(&partial, &out).unwrap();
    built.get_or_insert_default().insert(name.to_string(), out.clone());
    out
}

/// A directory for files made by a test, e.g. a module that is not a shared object.
pub fn scratch_dir() -> PathBuf {
    build_dir()
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
    start_envoy_with_workers(version, bootstrap, dir, 1)
}

/// Builds the probe module on upstream's own ABI (`tests/probe/attributes.c`), which Envoy loads
/// with its own dynamic-modules filter, beside the stock host.
pub fn upstream_probe_module() -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe/attributes.c");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("probe");
    std::fs::create_dir_all(&out).unwrap();
    let module = out.join("libattributes_probe.so");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-o"])
        .arg(&module)
        .arg(&source)
        .status()
        .expect("cc runs");
    assert!(status.success(), "the probe module did not build");
    module
}

/// Envoy's own dynamic-modules filter running the probe `module` (see [`upstream_probe_module`]).
pub fn upstream_probe_filter(module: &Path) -> Value {
    serde_json::json!({
        "name": "envoy.filters.http.dynamic_modules",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter",
            "dynamic_module_config": { "name": "attributes_probe", "module": { "local": { "filename": module } } },
            "filter_name": "probe",
            "filter_config": { "@type": "type.googleapis.com/google.protobuf.StringValue", "value": "" }
        }
    })
}

/// [`start_envoy`] with `--drain-time-s seconds`: a listener LDS removes is destroyed, its
/// filter configurations with it, after that long.
pub fn start_envoy_draining_in(
    version: &str,
    bootstrap: &Value,
    dir: tempfile::TempDir,
    seconds: u32,
) -> Envoy {
    ready(spawned(version, bootstrap, |command| command.spawn_draining_in(dir, seconds)))
}

/// Starts Envoy without waiting for it.
pub fn spawn_envoy(version: &str, bootstrap: &Value, dir: tempfile::TempDir) -> Envoy {
    spawn_envoy_with(version, bootstrap, dir, 1)
}

/// [`start_envoy`] with `--concurrency workers`.
pub fn start_envoy_with_workers(
    version: &str,
    bootstrap: &Value,
    dir: tempfile::TempDir,
    workers: u32,
) -> Envoy {
    ready(spawn_envoy_with(version, bootstrap, dir, workers))
}

fn spawn_envoy_with(version: &str, bootstrap: &Value, dir: tempfile::TempDir, workers: u32) -> Envoy {
    spawned(version, bootstrap, |command| command.spawn_with_workers(dir, workers))
}

/// Envoy `version` on `bootstrap` (the stock host findable by name), started by `spawn`.
fn spawned(
    version: &str,
    bootstrap: &Value,
    spawn: impl FnOnce(&envoyx_harness::EnvoyCommand<'_>) -> std::io::Result<envoyx_harness::Envoy>,
) -> Envoy {
    let host = stock_host();
    let binary = envoy_binary(version);
    let command = envoyx_harness::EnvoyCommand {
        binary: &binary,
        version,
        bootstrap,
        module_search_path: host.parent(),
        log_level: "info",
    };
    Envoy(spawn(&command).unwrap_or_else(|e| panic!("{e}")))
}

/// `envoy` once it is ready.
fn ready(mut envoy: Envoy) -> Envoy {
    envoy.0.wait_ready(Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"));
    envoy
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
    /// order, re-entered hooks), that every log line is whole ([`Envoy::check_log_lines_whole`])
    /// and that Envoy counted no bug of its own ([`Envoy::check_no_envoy_bugs`]).
    pub fn check_no_host_errors(&self) {
        self.check_stream_machinery();
        self.check_log_lines_whole();
        self.check_no_envoy_bugs();
    }

    /// The first check of [`Envoy::check_no_host_errors`]: no error about the stream machinery.
    pub fn check_stream_machinery(&self) {
        let log = self.log();
        let bad: Vec<&str> = log
            .lines()
            .filter(|l| {
                l.contains("out of order") || l.contains("re-entered") || l.contains("inside its module hook")
            })
            .collect();
        self.check(bad.is_empty(), &format!("host errors:\n{}", bad.join("\n")));
    }

    /// Checks that no log line was split or forged: each starts as Envoy starts a line (`[` and
    /// its timestamp) or continues one of Envoy's own indented blocks, and none holds a control
    /// byte other than tab (a module's bytes reach the log only escaped).
    pub fn check_log_lines_whole(&self) {
        let log = self.log();
        let bad: Vec<&str> = log.lines().filter(|line| !whole_log_line(line)).collect();
        self.check(
            bad.is_empty(),
            &format!("log lines split, forged or holding control bytes:\n{}", bad.join("\n")),
        );
    }

    /// Checks that Envoy counted no bug of its own (`server.envoy_bug_failures`, which a filter
    /// state set over an existing key would raise; such bugs are fatal in Envoy's debug builds).
    pub fn check_no_envoy_bugs(&self) {
        let bugs = self.stat("server.envoy_bug_failures");
        self.check(bugs == Some(0), &format!("server.envoy_bug_failures is {bugs:?}, not 0"));
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

/// One Envoy with one listener per `(filter_config, load_by, form)` of the C test module.
pub struct Setup {
    pub upstream: Upstream,
    pub envoy: Envoy,
    pub ports: Vec<u16>,
}

pub fn setup(version: &str, filters: &[(&str, LoadBy, Form)]) -> Setup {
    let upstream = start_upstream();
    let module = c_test_module();
    let mut ports = Vec::new();
    let listeners = filters
        .iter()
        .enumerate()
        .map(|(i, (mode, load_by, form))| {
            let port = free_port();
            ports.push(port);
            let config = module_config(&format!("test_{mode}"), &module, mode);
            listener(&format!("l{i}"), port, vec![envoyx_filter(mode, config, *load_by, *form)])
        })
        .collect();
    let envoy = start_envoy(version, &bootstrap(free_port(), upstream.port, listeners, None), temp_dir());
    Setup { upstream, envoy, ports }
}

/// The C test module's stream counters, from its `/__counts` reply (see `-DSTOCK_TEST_FILTER` atop
/// `rust/test-modules/c/module.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub new: u64,
    pub complete: u64,
    pub destroy: u64,
    pub complete_twice: u64,
    pub destroy_twice: u64,
    pub untracked: u64,
    /// Streams whose stream-new hook could read a response (there is none yet).
    pub response_at_start: u64,
}

impl Counts {
    fn parse(text: &str) -> Option<Self> {
        let field = |name: &str| {
            text.split_whitespace().find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
        };
        Some(Self {
            new: field("new")?,
            complete: field("complete")?,
            destroy: field("destroy")?,
            complete_twice: field("complete_twice")?,
            destroy_twice: field("destroy_twice")?,
            untracked: field("untracked")?,
            response_at_start: field("response_at_start")?,
        })
    }
}

/// The C test module's counters, asked through the listener on `port` (any mode of the module).
pub fn fetch_counts(port: u16) -> Result<Counts, String> {
    let reply = request(port, "GET", "/__counts", &[], b"").map_err(|e| format!("GET /__counts: {e}"))?;
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    match Counts::parse(&text) {
        Some(counts) if reply.status() == 200 => Ok(counts),
        _ => Err(format!("/__counts answered {} {text:?}", reply.status())),
    }
}

impl Envoy {
    /// [`fetch_counts`], panicking with Envoy's log.
    pub fn counts(&self, port: u16) -> Counts {
        fetch_counts(port).unwrap_or_else(|e| {
            self.check(false, &e);
            unreachable!()
        })
    }

    /// Turns on debug logging of Envoy's `dynamic_modules` logger, where the stock host reports
    /// each stream's zero-copy counter as the stream ends.
    pub fn log_modules_at_debug(&self) {
        self.0.log_modules_at_debug().unwrap_or_else(|e| self.check(false, &e));
    }

    /// Waits until `count` streams of filter config `filter` have ended (the stock host logs a
    /// stream's counter when Envoy destroys its filter, which can be just after the client got
    /// the reply), then returns each one's body bytes copied, in the order they ended.
    pub fn wait_bytes_copied(&self, filter: &str, count: usize) -> Vec<u64> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let copied = envoyx_harness::body_bytes_copied(&self.log(), filter);
            if copied.len() >= count || Instant::now() >= deadline {
                self.check(
                    copied.len() == count,
                    &format!("{} stream(s) of `{filter}` reported bytes copied, not {count}", copied.len()),
                );
                return copied;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until every stream of the C test module but the `/__counts` one asking has been
    /// destroyed (Envoy finishes reset streams on its own time), then checks that each was
    /// destroyed exactly once and completed exactly once. Returns the counts.
    pub fn check_streams_destroyed_once(&self, port: u16) -> Counts {
        let deadline = Instant::now() + Duration::from_secs(20);
        let counts = loop {
            let counts = self.counts(port);
            // The asking stream is counted in `new` and is still running.
            if counts.destroy + 1 >= counts.new || Instant::now() >= deadline {
                break counts;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        self.check(counts.untracked == 0, &format!("more streams than tracked: {counts:?}"));
        self.check(
            counts.response_at_start == 0,
            &format!("a stream read a response in its stream-new hook: {counts:?}"),
        );
        self.check(counts.destroy + 1 == counts.new, &format!("every stream destroyed once: {counts:?}"));
        self.check(counts.destroy_twice == 0, &format!("a stream destroyed twice: {counts:?}"));
        self.check(counts.complete_twice == 0, &format!("a stream completed twice: {counts:?}"));
        // The core completes a stream (if Envoy did not) before destroying it.
        self.check(counts.complete == counts.destroy, &format!("each stream completed once: {counts:?}"));
        counts
    }
}

/// Whether `line` of Envoy's log is whole: `[2026-…` as Envoy starts every line, or the
/// indented continuation of a block Envoy writes itself (its list of extensions at start), and
/// without control bytes other than tab.
pub fn whole_log_line(line: &str) -> bool {
    let starts = line.starts_with("[2") || line.starts_with(' ') || line.is_empty();
    starts && !line.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f)
}

/// The `set_filter_state` filter that gives each stream, in front of the conformance filter,
/// the filter state every host of the suite presets (`envoyx_conformance::PRESET_*`): a string,
/// and Envoy's upstream-SNI object (not a string).
pub fn preset_filter_state_filter() -> Value {
    use envoyx_conformance::{PRESET_OBJECT, PRESET_OBJECT_VALUE, PRESET_STRING, PRESET_STRING_VALUE};
    let format = |text: &str| serde_json::json!({ "text_format_source": { "inline_string": text } });
    serde_json::json!({
        "name": "envoy.filters.http.set_filter_state",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.set_filter_state.v3.Config",
            "on_request_headers": [
                { "object_key": PRESET_STRING, "factory_key": "envoy.string", "format_string": format(PRESET_STRING_VALUE) },
                { "object_key": PRESET_OBJECT, "format_string": format(PRESET_OBJECT_VALUE) },
            ]
        }
    })
}

/// Adds to `listener`'s HTTP connection manager a file access log at `path` with `format`
/// (Envoy's substitution format; a line per request).
pub fn with_access_log(mut listener: Value, path: &Path, format: &str) -> Value {
    listener["filter_chains"][0]["filters"][0]["typed_config"]["access_log"] = serde_json::json!([{
        "name": "envoy.access_loggers.file",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
            "path": path,
            "log_format": { "text_format_source": { "inline_string": format } }
        }
    }]);
    listener
}

/// A fresh temporary directory for one Envoy.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("envoyx-e2e-").tempdir().unwrap()
}
