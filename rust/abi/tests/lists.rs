//! The lists of module exports kept outside this crate agree with `x/abi.h`: a new export that
//! one of them lacks fails here, naming the file and the export (see
//! `docs/adding-an-abi-call.md`). The host table needs no such check: every other list of it is
//! made from `for_each_host_function!` or is a struct literal the compiler checks
//! (`tests/header_matches.rs` checks that list against the header).

use envoyx_abi::{MODULE_SYMBOLS, ModuleExports, OPTIONAL_MODULE_SYMBOLS};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every export of the ABI, required and optional, in the header's order.
fn exports() -> Vec<&'static str> {
    MODULE_SYMBOLS.iter().copied().chain(OPTIONAL_MODULE_SYMBOLS.iter().map(|(name, _)| *name)).collect()
}

/// The `envoyx_*` names between the first `start` line and the next `end` line of `text`.
fn names_in(text: &str, start: &str, end: &str) -> Vec<String> {
    let from = text.find(start).map(|at| &text[at..]).unwrap_or_default();
    let block = &from[..from.find(end).unwrap_or(from.len())];
    block
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("envoyx_on_") || word.starts_with("envoyx_module_"))
        .filter(|word| !word.ends_with("_fn"))
        .map(str::to_string)
        .collect()
}

/// Checks the export lists of the files the lists live in (given as text, so the check can be
/// shown failing on an edited copy). Each error names the file and the export.
fn check_export_lists(core_module_rs: &str, sdk_dispatch_rs: &str, go_exports_c: &str) -> Vec<String> {
    let mut errors = Vec::new();
    // The core resolves every export by name, in resolve_exports.
    let resolve = core_module_rs.split("pub fn resolve_exports").nth(1).unwrap_or_default();
    let resolve = &resolve[..resolve.find("\n}\n").unwrap_or(resolve.len())];
    for export in exports() {
        if !resolve.contains(&format!("\"{export}\"")) {
            errors.push(format!("rust/core/src/load/module.rs: resolve_exports does not look up {export}"));
        }
    }
    // The Rust SDK exports every one of them by name (the route-config pair when asked for).
    for export in exports() {
        if !sdk_dispatch_rs.contains(&format!("fn {export}(")) {
            errors.push(format!("rust/sdk/src/dispatch/export.rs: export_module! does not export {export}"));
        }
    }
    // The Go SDK's in-process export table names exactly the exports exports.c defines.
    let table = names_in(go_exports_c, "static const char* const export_names[]", "};");
    for name in &table {
        if !exports().contains(&name.as_str()) {
            errors.push(format!(
                "go/envoyx/exports.c: export_names lists {name}, which x/abi.h does not export"
            ));
        }
    }
    for export in exports() {
        let defined = go_exports_c.lines().any(|line| {
            !line.starts_with(' ') && line.contains(&format!(" {export}(")) && !line.trim_end().ends_with(';')
        }) || go_exports_c.contains(&format!("#define {export}"))
            || (export == "envoyx_module_host_api_size"
                && go_exports_c.contains("ENVOYX_DECLARE_HOST_API_SIZE()"));
        if defined && !table.iter().any(|name| name == export) {
            errors.push(format!("go/envoyx/exports.c: defines {export} but export_names does not list it"));
        }
    }
    errors
}

#[test]
fn every_export_list_agrees_with_the_header() {
    let errors = check_export_lists(
        &read("rust/core/src/load/module.rs"),
        &read("rust/sdk/src/dispatch/export.rs"),
        &read("go/envoyx/exports.c"),
    );
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_export_check_catches_hand_edited_lists() {
    let (core, sdk, go) = (
        read("rust/core/src/load/module.rs"),
        read("rust/sdk/src/dispatch/export.rs"),
        read("go/envoyx/exports.c"),
    );
    let core_edit = core.replace("\"envoyx_on_stream_callout_event\"", "\"envoyx_on_stream_callout_evnt\"");
    let errors = check_export_lists(&core_edit, &sdk, &go);
    assert!(
        errors.contains(
            &"rust/core/src/load/module.rs: resolve_exports does not look up envoyx_on_stream_callout_event"
                .into()
        ),
        "{errors:?}"
    );
    let go_edit = go.replacen("\"envoyx_on_stream_scheduled\",", "", 1);
    let errors = check_export_lists(&core, &sdk, &go_edit);
    assert_eq!(
        errors,
        ["go/envoyx/exports.c: defines envoyx_on_stream_scheduled but export_names does not list it"],
        "{errors:?}"
    );
    let sdk_edit = sdk.replace("fn envoyx_on_program_unload(", "fn envoyx_on_program_unloaded(");
    let errors = check_export_lists(&core, &sdk_edit, &go);
    assert!(errors.iter().any(|e| e.contains("does not export envoyx_on_program_unload")), "{errors:?}");
}

#[test]
fn module_exports_name_its_optional_fields_in_the_lists_order() {
    let none: ModuleExports = ModuleExports {
        module_abi_version: dummy_version,
        on_program_init: dummy_init,
        on_filter_config_new: dummy_config_new,
        on_filter_config_destroy: dummy_config_destroy,
        on_stream_new: dummy_stream_new,
        on_request_headers: dummy_headers,
        on_request_body: dummy_body,
        on_request_trailers: dummy_trailers,
        on_response_headers: dummy_headers,
        on_response_body: dummy_body,
        on_response_trailers: dummy_trailers,
        on_stream_complete: dummy_complete,
        on_stream_destroy: dummy_destroy,
        on_stream_scheduled: None,
        on_filter_config_scheduled: None,
        on_route_config_new: None,
        on_route_config_destroy: None,
        on_stream_callout_done: None,
        on_stream_callout_event: None,
        on_filter_config_callout_done: None,
        on_filter_config_callout_event: None,
        on_program_unload: None,
        module_host_api_size: None,
        on_stream_watermark: None,
        on_stream_local_reply: None,
    };
    let names: Vec<&str> = none.optional_present().iter().map(|(name, _)| *name).collect();
    let listed: Vec<&str> = OPTIONAL_MODULE_SYMBOLS.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, listed);
    assert!(none.optional_present().iter().all(|(_, present)| !present));
    let with = ModuleExports { module_host_api_size: Some(dummy_size), ..none };
    assert_eq!(with.optional_present().iter().filter(|(_, p)| *p).count(), 1);
    assert!(with.optional_present().contains(&("envoyx_module_host_api_size", true)));
}

use envoyx_abi::*;
unsafe extern "C" fn dummy_version() -> envoyx_abi_version {
    envoyx_abi_version::CURRENT
}
unsafe extern "C" fn dummy_init(_: *const envoyx_host_api, _: *mut envoyx_error) -> bool {
    true
}
unsafe extern "C" fn dummy_config_new(
    _: envoyx_bytes,
    _: envoyx_bytes,
    _: *mut envoyx_error,
) -> *mut envoyx_module_config {
    std::ptr::null_mut()
}
unsafe extern "C" fn dummy_config_destroy(_: *mut envoyx_module_config) {}
unsafe extern "C" fn dummy_stream_new(
    _: *mut envoyx_module_config,
    _: *mut envoyx_stream,
) -> *mut envoyx_module_stream {
    std::ptr::null_mut()
}
unsafe extern "C" fn dummy_headers(
    _: *mut envoyx_stream,
    _: *mut envoyx_module_stream,
    _: bool,
) -> envoyx_headers_status {
    0
}
unsafe extern "C" fn dummy_body(
    _: *mut envoyx_stream,
    _: *mut envoyx_module_stream,
    _: bool,
) -> envoyx_body_status {
    0
}
unsafe extern "C" fn dummy_trailers(
    _: *mut envoyx_stream,
    _: *mut envoyx_module_stream,
) -> envoyx_trailers_status {
    0
}
unsafe extern "C" fn dummy_complete(_: *mut envoyx_stream, _: *mut envoyx_module_stream) {}
unsafe extern "C" fn dummy_destroy(_: *mut envoyx_module_stream) {}
unsafe extern "C" fn dummy_size() -> usize {
    0
}
