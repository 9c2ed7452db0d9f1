//! `envoyx check` on a good Rust module and on deliberately broken files and C modules
//! (rust/test-modules/c/module.c compiled with its -D switches).

use envoyx_core::sync::lock;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The ABI minor this EnvoyX speaks (what `check` reports).
const MINOR: u32 = envoyx_abi::ENVOYX_ABI_VERSION_MINOR;

/// Runs `envoyx check ARGS`; returns the exit code, stdout and stderr.
fn check(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_envoyx")).arg("check").args(args).output().unwrap();
    let code = out.status.code().expect("envoyx check itself must never die from a signal");
    (code, String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn scratch_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("check");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles the C test module with `defines` (and `extra_sources`) into a file named after
/// `variant`, once per test process, under a lock: tests run in parallel, and one must never run
/// a file another is still writing.
fn c_module(variant: &str, defines: &[&str], extra_sources: &[&Path]) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<(String, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut built = lock(&BUILT);
    if let Some((_, path)) = built.iter().find(|(v, _)| v == variant) {
        return path.clone();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = scratch_dir().join(format!("libc_module_{variant}.so"));
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-std=c11", "-Wall", "-Werror", "-O1", "-I"])
        .arg(root.join("x"))
        .args(defines)
        .arg(root.join("rust/test-modules/c/module.c"))
        .args(extra_sources)
        .arg("-o")
        .arg(&out)
        .status()
        .expect("run cc");
    assert!(status.success(), "cc failed for variant {variant}");
    built.push((variant.to_string(), out.clone()));
    out
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn a_good_module_passes_every_check() {
    let module = envoyx_build::build_package("envoyx-example-helloworld");
    let (code, stdout, stderr) = check(&[path_str(&module), "--filter-config", "helloworld"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("module") && lines[0].ends_with("libenvoyx_example_helloworld.so"),
        "{stdout}"
    );
    assert!(lines[1].starts_with("file") && lines[1].contains("shared object") && lines[1].ends_with(": ok"));
    assert!(
        lines[2].starts_with(&format!(
            "abi      1.{MINOR} (this EnvoyX speaks 1.{MINOR}, accepts 1.0 to 1.{MINOR}): ok"
        )),
        "{stdout}"
    );
    assert!(
        lines[3].contains(
            "13 of 13 required present; optional: envoyx_on_stream_scheduled (ABI 1.1), \
             envoyx_on_filter_config_scheduled (ABI 1.1), envoyx_on_stream_callout_done (ABI 1.1), \
             envoyx_on_stream_callout_event (ABI 1.1), envoyx_on_filter_config_callout_done (ABI 1.1), \
             envoyx_on_filter_config_callout_event (ABI 1.1), envoyx_on_program_unload (ABI 1.1), \
             envoyx_module_host_api_size (ABI 1.1), envoyx_on_stream_watermark (ABI 1.2), \
             envoyx_on_stream_local_reply (ABI 1.2); no unknown envoyx_* symbols: ok"
        ),
        "{stdout}"
    );
    assert!(lines[4].contains("envoyx_on_program_init succeeded (in a child process): ok"), "{stdout}");
    assert!(lines[5].contains("filter config \"helloworld\" created and destroyed: ok"), "{stdout}");
    assert!(
        lines[6].starts_with(
            "unload   may be unmapped once nothing of it is left, when its envoyx_on_program_unload"
        ),
        "{stdout}"
    );
    assert!(lines[7].starts_with("result   ok"), "{stdout}");
}

#[test]
fn a_missing_file_is_reported() {
    let missing = scratch_dir().join("no-such-module.so");
    let (code, stdout, _) = check(&[path_str(&missing)]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("file     not found: problem"), "{stdout}");
    assert!(stdout.contains("result   1 problem found"), "{stdout}");
}

#[test]
fn a_text_file_is_not_a_shared_object() {
    let text = scratch_dir().join("notes.so");
    std::fs::write(&text, "this is not a library\n").unwrap();
    let (code, stdout, _) = check(&[path_str(&text)]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("not a shared object: not an ELF file"), "{stdout}");
    // Nothing past the file check is attempted on a file that is not a module.
    assert!(!stdout.contains("symbols"), "{stdout}");
}

#[test]
fn a_missing_symbol_is_named_and_init_is_not_tried() {
    let module = c_module("omit_stream_destroy", &["-DOMIT_STREAM_DESTROY"], &[]);
    let (code, stdout, _) = check(&[path_str(&module)]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout
            .contains("12 of 13 required present; optional: envoyx_module_host_api_size (ABI 1.1): problem"),
        "{stdout}"
    );
    assert!(stdout.contains("missing envoyx_on_stream_destroy"), "{stdout}");
    // The version is still read and reported.
    assert!(
        stdout.contains(&format!(
            "abi      1.{MINOR} (this EnvoyX speaks 1.{MINOR}, accepts 1.0 to 1.{MINOR}): ok"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("init     not tried: the core refuses a module with missing symbols"),
        "{stdout}"
    );
}

#[test]
fn unknown_envoyx_symbols_are_reported_with_a_typo_hint() {
    let extra = scratch_dir().join("extra_exports.c");
    std::fs::write(&extra, "void envoyx_on_stream_destory(void) {}\nvoid envoyx_helper(void) {}\n").unwrap();
    let module = c_module("extra_exports", &[], &[&extra]);
    let (code, stdout, _) = check(&[path_str(&module)]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout
            .contains("13 of 13 required present; optional: envoyx_module_host_api_size (ABI 1.1): problem"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("unknown envoyx_helper (not part of EnvoyX ABI 1.{MINOR}")), "{stdout}");
    assert!(stdout.contains("unknown envoyx_on_stream_destory"), "{stdout}");
    assert!(stdout.contains("a misspelt envoyx_on_stream_destroy?"), "{stdout}");
    // The module itself is fine otherwise: program init still runs.
    assert!(stdout.contains("envoyx_on_program_init succeeded"), "{stdout}");
}

#[test]
fn an_old_abi_is_refused_with_both_versions() {
    let module = c_module("abi_0_9", &["-DABI_MAJOR=0", "-DABI_MINOR=9"], &[]);
    let (code, stdout, _) = check(&[path_str(&module)]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "abi      0.9 (this EnvoyX speaks 1.{MINOR}, accepts 1.0 to 1.{MINOR}): problem: not accepted"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("init     not tried"), "{stdout}");
    assert!(stdout.contains("result   1 problem found"), "{stdout}");
}

#[test]
fn a_failing_program_init_reports_the_module_reason() {
    let module = c_module("fail_init", &["-DFAIL_INIT"], &[]);
    let (code, stdout, _) = check(&[path_str(&module)]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout
            .contains("envoyx_on_program_init failed: license file /etc/c-module.license not found: problem"),
        "{stdout}"
    );
}

#[test]
fn a_crash_in_program_init_is_reported_and_the_checker_survives() {
    let module = c_module("crash_init", &["-DCRASH_INIT"], &[]);
    let (code, stdout, _) = check(&[path_str(&module)]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("program init crashed with SIGSEGV (in a child process): problem"), "{stdout}");
    assert!(stdout.contains("result   1 problem found"), "{stdout}");
}

#[test]
fn a_rejected_filter_config_is_reported() {
    let module = c_module("good", &[], &[]);
    let (code, stdout, _) = check(&[path_str(&module), "--filter-config", "reject"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("envoyx_on_program_init succeeded"), "{stdout}");
    assert!(
        stdout.contains("filter config \"reject\" rejected: filter_config must not be \"reject\": problem"),
        "{stdout}"
    );
    let (code, stdout, _) = check(&[path_str(&module), "--filter-config=fine"]);
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [&[][..], &["a.so", "b.so"], &["--frobnicate", "a.so"], &["a.so", "--filter-config"]] {
        let (code, stdout, stderr) = check(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains("usage: envoyx check <module.so>"), "{stderr}");
    }
    let (code, stdout, _) = check(&["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("program init"), "{stdout}");
}

#[test]
fn a_module_without_the_unload_export_is_said_to_stay_mapped() {
    // The C test module built against the released 1.0 header: no envoyx_on_program_unload.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = scratch_dir().join("libc_module_frozen_1_0_check.so");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-std=c11", "-Wall", "-Werror", "-O1", "-I"])
        .arg(root.join("x/compat/1.0"))
        .arg(root.join("rust/test-modules/c/module.c"))
        .arg("-o")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let (code, stdout, _) = check(&[path_str(&out)]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("unload   never unmapped: it does not export envoyx_on_program_unload"),
        "{stdout}"
    );
}

/// A module that defines metrics while its configuration is created passes the config check (a
/// proxy takes them; check stands for one) and the report names them: the `observe` example.
#[test]
fn a_module_with_metrics_passes_the_config_check() {
    let module = envoyx_build::build_package("envoyx-example-observe");
    let (code, stdout, stderr) = check(&[path_str(&module), "--filter-config", "from=/v1/ to=/v2/"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "filter config \"from=/v1/ to=/v2/\" created and destroyed (metrics defined: requests{route,class}, \
             latency_ms): ok"
        ),
        "{stdout}"
    );
}

/// The same for a Go module whose filter defines a counter: built from a scratch Go module that
/// uses this checkout's SDK.
#[test]
fn a_go_module_with_metrics_passes_the_config_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let source = scratch_dir().join("go-metrics");
    std::fs::create_dir_all(&source).unwrap();
    let go_mod = format!(
        "module checkmetrics\n\ngo 1.27\n\nrequire github.com/envoyx/envoyx/go v0.0.0\n\n\
         replace github.com/envoyx/envoyx/go => {}\n",
        root.join("go").display()
    );
    std::fs::write(source.join("go.mod"), go_mod).unwrap();
    std::fs::write(
        source.join("main.go"),
        r#"package main

import "github.com/envoyx/envoyx/go/envoyx"

type config struct{ requests envoyx.Counter }

func (c *config) NewFilter() envoyx.Filter { return &envoyx.DefaultFilter{} }

func init() {
	envoyx.Register("counted", func(string, []byte) (envoyx.FilterConfig, error) {
		requests, err := envoyx.DefineCounter("requests", "route")
		if err != nil {
			return nil, err
		}
		return &config{requests}, nil
	})
}

func main() {}
"#,
    )
    .unwrap();
    let module =
        envoyx_build::build_go_module(&source, "checkmetrics", &scratch_dir().join("go-metrics-out"))
            .unwrap_or_else(|e| panic!("{e}"));
    let (code, stdout, stderr) = check(&[path_str(&module), "--filter-config", "x"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("filter config \"x\" created and destroyed (metrics defined: requests{route}): ok"),
        "{stdout}"
    );
}
