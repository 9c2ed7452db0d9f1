//! The core's plain trampolines (`rust/core/src/stream/host_api/forwarded.rs`): a table function
//! of a stream whose rule has the function's own name and takes the stream's cell and the
//! decoded arguments needs no hand-written trampoline. Each one finds the stream
//! (`with_stream`), reads the module's views and calls the rule; the rule decides.
//!
//! Plain means: the first parameter is `envoyx_stream* stream`; the others are `envoyx_bytes`
//! (read as `&[u8]`), `bool`, `uint32_t`, `uint64_t` or `size_t`; it returns `bool`, `size_t`,
//! `uint64_t` or nothing (answering `false`/0/nothing outside a hook); a function
//! `pub(crate) fn <name>(cell: &StreamCell, …)` exists in a file of `rust/core/src/stream/`;
//! and no topic file of `host_api/` defines the trampoline by hand.

use crate::c_table::TableFunction;

/// A rule the stream wing defines: `(module, name)` for `crate::stream::<module>::<name>`.
pub type Rule = (String, String);

/// The rules in `files` (`(module name, source)` of each `rust/core/src/stream/*.rs`).
pub fn rules(files: &[(String, String)]) -> Vec<Rule> {
    let mut rules = Vec::new();
    for (module, source) in files {
        let collapsed = source.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut rest = collapsed.as_str();
        while let Some(at) = rest.find("pub(crate) fn ") {
            rest = &rest[at + "pub(crate) fn ".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if rest[name.len()..].starts_with("(cell: &StreamCell") {
                rules.push((module.clone(), name));
            }
        }
    }
    rules
}

/// The trampolines the topic files of `host_api/` define by hand, by name.
pub fn hand_trampolines(topic_files: &[String]) -> Vec<String> {
    let mut names = Vec::new();
    for source in topic_files {
        let mut rest = source.as_str();
        while let Some(at) = rest.find("unsafe extern \"C\" fn ") {
            rest = &rest[at + "unsafe extern \"C\" fn ".len()..];
            names.push(rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect());
        }
    }
    names
}

fn plain_param(c: &str) -> Option<(&'static str, bool)> {
    // (Rust type, is a view)
    Some(match c {
        "envoyx_bytes" => ("envoyx_bytes", true),
        "bool" => ("bool", false),
        // The ABI's enums are `uint32_t` typedefs; the rule decodes them (and refuses unknown ones).
        "uint32_t" | "envoyx_header_map" => ("u32", false),
        "uint64_t" => ("u64", false),
        "size_t" => ("usize", false),
        _ => return None,
    })
}

fn plain_return(c: &str) -> Option<(&'static str, &'static str)> {
    // (Rust return, the answer outside a hook)
    Some(match c {
        "void" => ("", "()"),
        "bool" => (" -> bool", "false"),
        "uint64_t" => (" -> u64", "0"),
        "size_t" => (" -> usize", "0"),
        _ => return None,
    })
}

/// The table functions that get a generated trampoline: plain, with a rule, not by hand.
pub fn forwarded<'a>(
    functions: &'a [TableFunction],
    rules: &'a [Rule],
    by_hand: &[String],
) -> Vec<(&'a TableFunction, &'a Rule)> {
    functions
        .iter()
        .filter(|f| !by_hand.contains(&f.name))
        .filter(|f| f.params.first().is_some_and(|(n, t)| n == "stream" && t == "envoyx_stream*"))
        .filter(|f| f.params[1..].iter().all(|(_, t)| plain_param(t).is_some()))
        .filter(|f| plain_return(&f.returns).is_some())
        .filter_map(|f| {
            let matching: Vec<&Rule> = rules.iter().filter(|(_, name)| *name == f.name).collect();
            (matching.len() == 1).then(|| (f, matching[0]))
        })
        .collect()
}

/// `forwarded.rs` (before rustfmt).
pub fn render(forwarded: &[(&TableFunction, &Rule)]) -> String {
    let mut out = String::from(HEADER);
    let any_view = forwarded.iter().any(|(f, _)| f.params.iter().any(|(_, t)| t == "envoyx_bytes"));
    out.push_str(if any_view { "use super::{view, with_stream};\n" } else { "use super::with_stream;\n" });
    out.push_str("use envoyx_abi::*;\n");
    for (f, (module, _)) in forwarded {
        let (returns, otherwise) = plain_return(&f.returns).unwrap();
        let mut params = vec!["stream: *mut envoyx_stream".to_string()];
        let mut args = vec!["cell".to_string()];
        let mut views = false;
        for (name, c) in &f.params[1..] {
            let (rust, is_view) = plain_param(c).unwrap();
            params.push(format!("{name}: {rust}"));
            args.push(if is_view { format!("view({name})") } else { name.clone() });
            views |= is_view;
        }
        let safety = if views {
            "stream pointer per the ABI; the views are valid during the call."
        } else {
            "stream pointer per the ABI."
        };
        out.push_str(&format!(
            "\npub(super) unsafe extern \"C\" fn {name}({params}){returns} {{\n    // Safety: {safety}\n    unsafe {{\n        with_stream(stream, \"{name}\", {otherwise}, |cell, _| crate::stream::{module}::{name}({args}))\n    }}\n}}\n",
            name = f.name,
            params = params.join(", "),
            args = args.join(", "),
        ));
    }
    out
}

const HEADER: &str = "\
//! The table's plain functions: each finds the stream, reads the module's views and calls the
//! rule of its name, which decides (docs/adding-an-abi-call.md).
//!
//! @generated by `cargo run -p envoyx-codegen` from x/abi.h and the rules in
//! `rust/core/src/stream/`: a function of the table whose rule is `pub(crate) fn <name>(cell:
//! &StreamCell, ...)` with plain arguments gets its trampoline here. Do not edit.

";
