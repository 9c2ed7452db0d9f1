//! Builds what the variants load: the stock host and the EnvoyX modules (nested cargo, which
//! honours CARGO_TARGET_DIR), the Go bench module (the Go toolchain EnvoyX installs), the C module (`cc`), the Proxy-Wasm modules (WAT text compiled with
//! the `wat` crate) and the ext_proc server (nested cargo).

use crate::variants::Artifacts;
use std::path::{Path, PathBuf};
use std::process::Command;

const C_SOURCE: &str = include_str!("../c/upstream_filter.c");
const WAT_TEMPLATE: &str = include_str!("../wasm/filter.wat");

/// The WAT text of the Proxy-Wasm module for job word `word`.
pub fn wat_for(word: &str) -> Result<String, String> {
    let job = match word {
        "header" => "1",
        "upper" => "2",
        "pass" => "3",
        "respond" => "4",
        other => return Err(format!("no Proxy-Wasm module for job {other:?}")),
    };
    Ok(WAT_TEMPLATE.replace("(i32.const JOB)", &format!("(i32.const {job})")))
}

/// Compiles the Proxy-Wasm module for `word` into `dir`.
pub fn wasm_module(dir: &Path, word: &str) -> Result<PathBuf, String> {
    let binary = wat::parse_str(wat_for(word)?).map_err(|e| format!("wasm/filter.wat ({word}): {e}"))?;
    let path = dir.join(format!("bench_{word}.wasm"));
    std::fs::write(&path, binary).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Compiles the C module against upstream's ABI into `dir` with `$CC` (default `cc`), -O3.
pub fn c_module(dir: &Path) -> Result<PathBuf, String> {
    let source = dir.join("upstream_filter.c");
    std::fs::write(&source, C_SOURCE).map_err(|e| format!("{}: {e}", source.display()))?;
    let out = dir.join("libbench_c.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let output = Command::new(&cc)
        .args(["-shared", "-fPIC", "-O3", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&out)
        .arg(&source)
        .output()
        .map_err(|e| format!("cannot run {cc} (a C compiler is needed for the C module): {e}"))?;
    if !output.status.success() {
        return Err(format!("{cc} failed on the C module:\n{}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(out)
}

/// Builds the binary package `package` of this workspace (release) and returns its executable.
pub fn cargo_binary(package: &str) -> Result<PathBuf, String> {
    let output = envoyx_build::cargo_command()
        .args(["build", "--release", "-p", package, "--message-format=json-render-diagnostics"])
        .output()
        .map_err(|e| format!("cannot run cargo to build {package}: {e}"))?;
    if !output.status.success() {
        return Err(format!("building {package} failed:\n{}", String::from_utf8_lossy(&output.stderr)));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
        .ok_or_else(|| format!("cargo built {package} but reported no executable"))
}

/// Builds everything, printing what it builds.
pub fn all(dir: &Path) -> Result<Artifacts, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    eprintln!("bench: building the stock host and the EnvoyX modules (cargo, release)");
    let stock_host = envoyx_build::build_package("envoyx-stock-host");
    let envoyx_bench_module = envoyx_build::build_package("envoyx-bench-module");
    let envoyx_body_rewrite = envoyx_build::build_package("envoyx-example-body-rewrite");
    let envoyx_auth = envoyx_build::build_package("envoyx-example-auth");
    eprintln!("bench: building the ext_proc server (cargo, release)");
    let extproc_server = cargo_binary("envoyx-bench-extproc")?;
    eprintln!("bench: building the Go bench module (go build -buildmode=c-shared)");
    let go_source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../go/bench/module");
    let go_bench_module = envoyx_build::build_go_module(&go_source, "envoyx_go_bench", dir)?;
    eprintln!("bench: building the C module (cc) and the Proxy-Wasm modules (wat)");
    Ok(Artifacts {
        stock_host,
        envoyx_bench_module,
        envoyx_body_rewrite,
        c_module: c_module(dir)?,
        wasm_header: wasm_module(dir, "header")?,
        wasm_upper: wasm_module(dir, "upper")?,
        wasm_pass: wasm_module(dir, "pass")?,
        wasm_respond: wasm_module(dir, "respond")?,
        extproc_server,
        envoyx_auth,
        go_bench_module,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_word_gives_a_valid_wasm_module_with_the_proxy_wasm_exports() {
        for word in ["header", "upper", "pass", "respond"] {
            let text = wat_for(word).unwrap();
            assert!(!text.contains("JOB)"), "{word}: placeholder left");
            let binary = wat::parse_str(&text).unwrap();
            assert_eq!(&binary[..4], b"\0asm");
            let text = String::from_utf8_lossy(&binary);
            for export in
                ["proxy_abi_version_0_2_1", "proxy_on_memory_allocate", "proxy_on_request_body", "memory"]
            {
                assert!(text.contains(export), "{word}: no export {export}");
            }
        }
        assert!(wat_for("sideways").is_err());
    }

    #[test]
    fn the_c_module_exports_every_hook_envoy_requires() {
        let dir = tempfile::tempdir().unwrap();
        let so = c_module(dir.path()).unwrap();
        let output = Command::new("nm").args(["-D", "--defined-only"]).arg(&so).output().unwrap();
        let symbols = String::from_utf8_lossy(&output.stdout);
        let mandatory = [
            "program_init",
            "http_filter_config_new",
            "http_filter_config_destroy",
            "http_filter_new",
            "http_filter_request_headers",
            "http_filter_request_body",
            "http_filter_request_trailers",
            "http_filter_response_headers",
            "http_filter_response_body",
            "http_filter_response_trailers",
            "http_filter_stream_complete",
            "http_filter_destroy",
            "http_filter_scheduled",
            "http_filter_http_callout_done",
            "http_filter_http_stream_headers",
            "http_filter_http_stream_data",
            "http_filter_http_stream_trailers",
            "http_filter_http_stream_complete",
            "http_filter_http_stream_reset",
            "http_filter_downstream_above_write_buffer_high_watermark",
            "http_filter_downstream_below_write_buffer_low_watermark",
        ];
        for hook in mandatory {
            let name = format!(" envoy_dynamic_module_on_{hook}\n");
            assert!(symbols.contains(&name), "the C module lacks {name:?}:\n{symbols}");
        }
    }

    #[test]
    fn the_c_module_streams_the_respond_job_through_upstreams_own_callbacks() {
        let dir = tempfile::tempdir().unwrap();
        let so = c_module(dir.path()).unwrap();
        let output = Command::new("nm").args(["-D", "--undefined-only"]).arg(&so).output().unwrap();
        let symbols = String::from_utf8_lossy(&output.stdout);
        for callback in ["send_response_headers", "send_response_data"] {
            let name = format!(" envoy_dynamic_module_callback_http_{callback}\n");
            assert!(symbols.contains(&name), "the C module does not call {name:?}:\n{symbols}");
        }
        // The one-shot local reply is not how it answers.
        assert!(!symbols.contains(" envoy_dynamic_module_callback_http_send_response\n"), "{symbols}");
    }

    #[test]
    fn the_wasm_respond_module_sends_a_local_response() {
        let text =
            String::from_utf8_lossy(&wat::parse_str(wat_for("respond").unwrap()).unwrap()).into_owned();
        assert!(text.contains("proxy_send_local_response"), "the respond module lacks the import");
    }
}
