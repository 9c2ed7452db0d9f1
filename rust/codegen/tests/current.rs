//! The generated lists of the host table are what `cargo run -p envoyx-codegen` writes from the
//! two descriptions (x/abi.h and the core's HostStream trait), and the check catches a list
//! edited by hand.

use envoyx_codegen::host_stream;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

#[test]
fn generated_files_are_current() {
    let stale = envoyx_codegen::stale(&repo()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        stale.is_empty(),
        "stale generated files (run `cargo run -p envoyx-codegen`):\n  {}",
        stale.join("\n  ")
    );
}

/// A scratch root, removed when dropped (also when the test fails).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

/// The files the generator reads and writes, copied into a scratch root.
fn scratch_copy(name: &str) -> Scratch {
    let root = std::env::temp_dir().join(format!("envoyx-codegen-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let mut files = vec![
        "x/abi.h",
        "rustfmt.toml",
        "rust/abi/src/host_api.rs",
        "loader/src/lib.rs",
        "loader/src/host.rs",
        "loader/include/envoyx/loader.h",
        "envoy/envoyx_stream_host.h",
        "go/envoyx/abi.h",
        "go/envoyxtest/envoyx_testhost.h",
        "rust/testhost-c/include/envoyx_testhost.h",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    for dir in ["rust/core/src/stream", "rust/core/src/stream/host_api"] {
        for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".rs") {
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    for entry in std::fs::read_dir(repo().join("x/compat")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("1.") {
            files.push(format!("x/compat/{name}/abi.h"));
        }
    }
    for file in files {
        let to = root.join(&file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(repo().join(&file), &to).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
    Scratch(root)
}

fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_hand_edited_list_or_a_changed_description_is_caught_naming_the_file() {
    let root = scratch_copy("edited");
    assert!(envoyx_codegen::stale(&root).unwrap().is_empty(), "the copy starts current");

    // Hand edits of generated lists: a minor in the Rust table list, a C++ default, a forward.
    edit(&root, "rust/abi/src/host_api.rs", "hook_failed 2,", "hook_failed 1,");
    edit(
        &root,
        "loader/include/envoyx/loader.h",
        "virtual bool clear_route_cache() { return false; }",
        "virtual bool clear_route_cache() { return true; }",
    );
    edit(
        &root,
        "go/envoyx/abi.h",
        "#define ENVOYX_ABI_VERSION_MINOR 2",
        "#define ENVOYX_ABI_VERSION_MINOR 3",
    );
    let stale = envoyx_codegen::stale(&root).unwrap().join("\n");
    assert!(stale.contains("rust/abi/src/host_api.rs: line") && stale.contains("hook_failed 1,"), "{stale}");
    assert!(
        stale.contains("loader/include/envoyx/loader.h: line") && stale.contains("return true;"),
        "{stale}"
    );
    assert!(stale.contains("go/envoyx/abi.h: line"), "{stale}");
    assert!(!stale.contains("loader/src/host.rs"), "untouched files are current:\n{stale}");

    // A new plain primitive in the trait reaches the bridge, the forwarding, the virtual and the
    // override; a new table field reaches the Rust table, with the header's minor (1.2 frozen
    // first, as docs/adding-an-abi-call.md says).
    let root = scratch_copy("new-call");
    std::fs::create_dir_all(root.join("x/compat/1.2")).unwrap();
    std::fs::copy(root.join("x/abi.h"), root.join("x/compat/1.2/abi.h")).unwrap();
    edit(
        &root,
        "rust/core/src/stream/host.rs",
        "    /// Capability: whether the proxy",
        "    /// Notes `reason` for the proxy.\n    fn note_reason(&mut self, reason: &str) -> bool {\n        let _ = reason;\n        false\n    }\n\n    /// Capability: whether the proxy",
    );
    edit(
        &root,
        "x/abi.h",
        "} envoyx_host_api;",
        "  bool (*note_reason)(envoyx_stream* stream, envoyx_bytes reason);\n} envoyx_host_api;",
    );
    edit(&root, "x/abi.h", "#define ENVOYX_ABI_VERSION_MINOR 2", "#define ENVOYX_ABI_VERSION_MINOR 3");
    edit(
        &root,
        "rust/core/src/stream/control.rs",
        "\npub(crate) fn ",
        "\npub(crate) fn note_reason(cell: &StreamCell, reason: &[u8]) -> bool {\n    false\n}\n\npub(crate) fn ",
    );
    let outputs = envoyx_codegen::outputs(&root).unwrap();
    let output = |path: &str| &outputs.iter().find(|o| o.path == path).unwrap().content;
    assert!(
        output("loader/src/lib.rs")
            .contains("fn note_reason(self: Pin<&mut StreamHost>, reason: &[u8]) -> bool;")
    );
    assert!(output("loader/src/host.rs").contains("self.host().note_reason(reason.as_bytes())"));
    assert!(output("loader/include/envoyx/loader.h").contains("  // Notes `reason` for the proxy.\n  virtual bool note_reason(Bytes reason) {\n    (void)reason;\n    return false;\n  }\n"));
    assert!(
        output("envoy/envoyx_stream_host.h").contains("  bool note_reason(envoyx::Bytes reason) override;\n")
    );
    let trampolines = output("rust/core/src/stream/host_api/forwarded.rs");
    assert!(
        trampolines.contains("with_stream(stream, \"note_reason\", false, |cell, _| {\n            crate::stream::control::note_reason(cell, view(reason))"),
        "{trampolines}"
    );
    let table = output("rust/abi/src/host_api.rs");
    // Appended last, with the header's new minor; every earlier entry keeps its own (1.2 frozen).
    let header = std::fs::read_to_string(repo().join("x/abi.h")).unwrap();
    let last = envoyx_codegen::c_table::table_functions(&header).unwrap().pop().unwrap().name;
    assert!(table.contains(&format!("{last} 2,\n            note_reason 3,\n        }}")), "{table}");
    assert_eq!(table.matches(" 3,\n").count(), 1, "only the new entry is 1.3: {table}");
    assert!(table.contains(
        "pub note_reason: unsafe extern \"C\" fn(stream: *mut envoyx_stream, reason: envoyx_bytes) -> bool,"
    ));
    assert!(table.contains("pub const ENVOYX_ABI_VERSION_MINOR: u32 = 3;"));
    let stale = envoyx_codegen::stale(&root).unwrap().join("\n");
    for file in [
        "rust/abi/src/host_api.rs",
        "loader/src/lib.rs",
        "loader/src/host.rs",
        "loader/include/envoyx/loader.h",
        "envoy/envoyx_stream_host.h",
        "go/envoyx/abi.h",
    ] {
        assert!(stale.contains(&format!("{file}: ")), "{file} is stale after the change:\n{stale}");
    }
}

/// What the generator leaves to hand: the loader must still forward each such primitive, or the
/// core's default would answer for the C++ hosts unnoticed.
#[test]
fn the_loader_forwards_every_hand_written_primitive() {
    let source = std::fs::read_to_string(repo().join("rust/core/src/stream/host.rs")).unwrap();
    let primitives = host_stream::primitives(&source).unwrap();
    let forwarding = std::fs::read_to_string(repo().join("loader/src/host.rs")).unwrap();
    // Stock Envoy 1.38's quirk: the C++ hosts resume such a response (the trait's default).
    let not_for_cxx = ["resumes_response_stopped_inside_request_continue"];
    let hand = host_stream::hand_written(&primitives);
    assert!(hand.len() >= 10, "the trait was read: {hand:?}");
    for p in hand {
        if not_for_cxx.contains(&p.name.as_str()) {
            continue;
        }
        assert!(
            forwarding.contains(&format!("fn {}(", p.name)),
            "loader/src/host.rs does not forward the hand-written primitive `{}` ({})",
            p.name,
            p.signature
        );
    }
    let plain: Vec<_> = primitives.iter().filter(|p| p.plain.is_some()).map(|p| p.name.as_str()).collect();
    for name in ["header_set", "body_append", "span_set_tag", "callout_stream_reset"] {
        assert!(plain.contains(&name), "{name} is plain: {plain:?}");
    }
    for name in ["body_prepend", "filter_state_exists", "header_values", "scheduler"] {
        assert!(!plain.contains(&name), "{name} is written by hand: {plain:?}");
    }
}

#[test]
fn a_table_form_or_type_the_generator_does_not_know_is_refused_by_name() {
    let header = |field: &str| {
        format!("typedef struct envoyx_host_api {{\n  uint32_t size;\n  {field}\n}} envoyx_host_api;\n")
    };
    let err = envoyx_codegen::c_table::table_functions(&header("int whole[3];")).unwrap_err();
    assert!(err.contains("the table field `int whole[3]` is not of the form"), "{err}");
    let functions =
        envoyx_codegen::c_table::table_functions(&header("bool (*odd)(envoyx_stream* stream, float ratio);"))
            .unwrap();
    let err = envoyx_codegen::c_table::render_rust(&functions, 2).unwrap_err();
    assert!(err.contains("odd: parameter `ratio`: no Rust type for the C type `float`"), "{err}");
}
