//! Builds the C test module (rust/test-modules/c/module.c) with `cc`, once per variant.
#![allow(dead_code)]

use envoyx_core::sync::lock;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Compiles the C module with `defines` into a file named after `variant`; returns its path.
/// Each variant is compiled once per test process, under a lock: tests run in parallel, and one
/// must never dlopen a file another is still writing.
pub fn c_module(variant: &str, defines: &[&str]) -> PathBuf {
    c_module_against("x", variant, defines)
}

/// [`c_module`] compiled against the header in `header_dir` (relative to the repository), e.g.
/// `x/compat/1.0` for the frozen ABI 1.0 header.
pub fn c_module_against(header_dir: &str, variant: &str, defines: &[&str]) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut built = lock(&BUILT);
    if let Some((_, path)) = built.iter().find(|(v, _)| v == variant) {
        return path.clone();
    }
    let root = repo_root();
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-modules");
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join(format!("libc_module_{variant}.so"));
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-std=c11", "-Wall", "-Werror", "-O1", "-I"])
        .arg(root.join(header_dir))
        .args(defines)
        .arg(root.join("rust/test-modules/c/module.c"))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run cc");
    assert!(status.success(), "cc failed for variant {variant}");
    built.push((variant.to_string(), out.clone()));
    out
}

/// The C module's lifecycle counters: configs created, configs destroyed, streams created,
/// streams completed, streams destroyed. Holds its own dlopen reference, so the counters survive
/// the core unloading the module when its last config goes.
pub struct Counters(libloading::Library);

impl Counters {
    pub fn open(module: &Path) -> Self {
        // Safety: loading our own test module; its initialisers do nothing.
        Self(unsafe { libloading::Library::new(module) }.unwrap())
    }

    pub fn read(&self) -> [u64; 5] {
        // Safety: `c_module_counts` is declared in module.c as taking an array of 5 longs.
        unsafe {
            let f: libloading::Symbol<unsafe extern "C" fn(*mut std::ffi::c_ulong)> =
                self.0.get(b"c_module_counts\0").unwrap();
            let mut out = [0 as std::ffi::c_ulong; 5];
            f(out.as_mut_ptr());
            out.map(u64::from)
        }
    }
}

/// The refusal `json` meets on the test host (panics if it loads).
#[allow(dead_code)] // not every test file refuses configurations
pub fn refused(json: &str) -> String {
    match envoyx_testhost::TestHost::from_json(json) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected a refusal for {json}"),
    }
}

/// Waits until `json` loads on the test host (a remote module's background fetch done) or
/// `deadline` passes: the host, and the refusals met before.
#[allow(dead_code)]
pub fn load_when_fetched(
    json: &str,
    deadline: std::time::Duration,
) -> (envoyx_testhost::TestHost, Vec<String>) {
    let start = std::time::Instant::now();
    let mut refusals = Vec::new();
    loop {
        match envoyx_testhost::TestHost::from_json(json) {
            Ok(host) => return (host, refusals),
            Err(e) => refusals.push(e.to_string()),
        }
        assert!(start.elapsed() < deadline, "not loaded within {deadline:?}: {refusals:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
