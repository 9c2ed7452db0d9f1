//! Every list of EnvoyX's host table that is not the contract itself, written from the two
//! descriptions: `x/abi.h` (the table C authors read) and the core's `HostStream` trait (the
//! primitives a host provides). `cargo run -p envoyx-codegen` rewrites them; the test
//! `tests/current.rs` fails, naming the file, when a committed one differs from what this writes
//! (someone edited a generated list by hand, or changed a description without running it).
//!
//! What it writes (docs/adding-an-abi-call.md):
//! - `rust/abi/src/host_api.rs`: the Rust `envoyx_host_api` struct, `for_each_host_function!`
//!   with each function's minor, and `ENVOYX_ABI_VERSION_MINOR`, from `x/abi.h` and `x/compat/`;
//! - the plain `HostStream` primitives in the C++ hosts' files, between `@generated begin` and
//!   `@generated end` lines: the cxx bridge (`loader/src/lib.rs`), the forwarding
//!   (`loader/src/host.rs`), the C++ virtuals (`loader/include/envoyx/loader.h`) and the custom
//!   build's override declarations (`envoy/envoyx_stream_host.h`);
//! - the Go SDK's copies of the C headers (`go/envoyx/abi.h`, `go/envoyxtest/envoyx_testhost.h`),
//!   which the published Go module carries.

pub mod c_table;
pub mod host_stream;
mod splice;
pub mod trampolines;

use std::path::Path;

/// Writes a generated region from the primitives, given the region's indentation.
type Render = fn(&[host_stream::Primitive], &str) -> String;

/// One file as it must be.
#[derive(Debug)]
pub struct Output {
    /// Relative to the repository's root.
    pub path: String,
    pub content: String,
}

fn read(root: &Path, path: &str) -> Result<String, String> {
    std::fs::read_to_string(root.join(path)).map_err(|e| format!("{path}: {e}"))
}

/// The frozen headers `x/compat/1.N/abi.h` as `(N, text)`.
fn frozen_headers(root: &Path) -> Result<Vec<(u32, String)>, String> {
    let mut frozen = Vec::new();
    let dir = root.join("x/compat");
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("x/compat: {e}"))? {
        let entry = entry.map_err(|e| format!("x/compat: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(minor) = name.strip_prefix("1.").and_then(|m| m.parse::<u32>().ok()) else { continue };
        frozen.push((minor, read(root, &format!("x/compat/{name}/abi.h"))?));
    }
    frozen.sort();
    Ok(frozen)
}

const FORWARDED: &str = "rust/core/src/stream/host_api/forwarded.rs";

/// The `.rs` files of `dir` (relative to `root`) as `(stem, text)`, sorted, without `except`.
fn rust_files(root: &Path, dir: &str, except: &str) -> Result<Vec<(String, String)>, String> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root.join(dir)).map_err(|e| format!("{dir}: {e}"))? {
        let path = entry.map_err(|e| format!("{dir}: {e}"))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".rs") else { continue };
        if format!("{dir}/{name}") != except {
            files.push((stem.to_string(), read(root, &format!("{dir}/{name}"))?));
        }
    }
    files.sort();
    Ok(files)
}

fn forwarded_trampolines(root: &Path, functions: &[c_table::TableFunction]) -> Result<String, String> {
    let rules = trampolines::rules(&rust_files(root, "rust/core/src/stream", "")?);
    let topics: Vec<String> = rust_files(root, "rust/core/src/stream/host_api", FORWARDED)?
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    let by_hand = trampolines::hand_trampolines(&topics);
    Ok(trampolines::render(&trampolines::forwarded(functions, &rules, &by_hand)))
}

/// Every generated file as it must be, given the repository at `root`.
pub fn outputs(root: &Path) -> Result<Vec<Output>, String> {
    let header = read(root, "x/abi.h")?;
    let minor = c_table::define(&header, "ENVOYX_ABI_VERSION_MINOR").map_err(|e| format!("x/abi.h: {e}"))?;
    let functions = c_table::table_functions(&header).map_err(|e| format!("x/abi.h: {e}"))?;
    let functions = c_table::with_minors(functions, minor, &frozen_headers(root)?)?;
    let rust_table = c_table::render_rust(&functions, minor).map_err(|e| format!("x/abi.h: {e}"))?;
    let mut out = vec![Output {
        path: "rust/abi/src/host_api.rs".into(),
        content: splice::rustfmt(root, &rust_table)?,
    }];
    out.push(Output {
        path: FORWARDED.into(),
        content: splice::rustfmt(root, &forwarded_trampolines(root, &functions)?)?,
    });

    let trait_path = "rust/core/src/stream/host.rs";
    let primitives =
        host_stream::primitives(&read(root, trait_path)?).map_err(|e| format!("{trait_path}: {e}"))?;
    let regions: [(&str, Render); 4] = [
        ("loader/src/lib.rs", |p, _| host_stream::render_bridge(p)),
        ("loader/src/host.rs", |p, _| host_stream::render_forwarding(p)),
        ("loader/include/envoyx/loader.h", host_stream::render_virtuals),
        ("envoy/envoyx_stream_host.h", host_stream::render_overrides),
    ];
    for (path, render) in regions {
        let text = read(root, path)?;
        let spliced = splice::region(&text, |indent| render(&primitives, indent))
            .map_err(|e| format!("{path}: {e}"))?;
        let content = if path.ends_with(".rs") { splice::rustfmt(root, &spliced)? } else { spliced };
        out.push(Output { path: path.into(), content });
    }

    for (copy, original) in [
        ("go/envoyx/abi.h", "x/abi.h"),
        ("go/envoyxtest/envoyx_testhost.h", "rust/testhost-c/include/envoyx_testhost.h"),
    ] {
        out.push(Output { path: copy.into(), content: read(root, original)? });
    }
    Ok(out)
}

/// The generated files that differ from what [`outputs`] writes, each with its first differing
/// line.
pub fn stale(root: &Path) -> Result<Vec<String>, String> {
    let mut stale = Vec::new();
    for output in outputs(root)? {
        let on_disk = std::fs::read_to_string(root.join(&output.path)).unwrap_or_default();
        if let Some(difference) = first_difference(&on_disk, &output.content) {
            stale.push(format!("{}: {difference}", output.path));
        }
    }
    Ok(stale)
}

/// Where `committed` first departs from `generated`, as a sentence; None when equal.
pub fn first_difference(committed: &str, generated: &str) -> Option<String> {
    if committed == generated {
        return None;
    }
    let mut committed_lines = committed.lines();
    let mut generated_lines = generated.lines();
    for line in 1.. {
        match (committed_lines.next(), generated_lines.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(a), Some(b)) => return Some(format!("line {line} is `{a}`, generated `{b}`")),
            (Some(a), None) => return Some(format!("line {line} `{a}` is not generated")),
            (None, Some(b)) => return Some(format!("line {line} is missing, generated `{b}`")),
            (None, None) => break,
        }
    }
    Some("differs in line endings".into())
}
