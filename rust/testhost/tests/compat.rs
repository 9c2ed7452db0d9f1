//! The compatibility promise (x/abi.h, "Versioning"), with real binaries: a module compiled
//! against each released header (`x/compat/1.<minor>/abi.h`) loads on this host and works. The
//! conformance runners add the Rust conformance module built with each released SDK from git
//! history.

mod common;

use common::{Counters, c_module_against};
use envoyx_testhost::TestHost;

#[test]
fn c_modules_built_against_each_released_header_run_on_this_host() {
    for &(minor, _) in envoyx_build::RELEASES {
        assert!(minor < envoyx_abi::ENVOYX_ABI_VERSION_MINOR, "this host is newer than the 1.{minor} module");
        let module = c_module_against(&format!("x/compat/1.{minor}"), &format!("frozen_1_{minor}"), &[]);
        let counters = Counters::open(&module);
        let host = TestHost::load(&module, "compat", "").unwrap();
        let loaded = host.filter_config().module();
        assert_eq!((loaded.abi_version().major, loaded.abi_version().minor), (1, minor));
        if minor == 0 {
            assert!(loaded.optional_exports().is_empty());
        }
        {
            let mut stream = host.stream();
            stream.request_headers(&[(":path", "/"), (":method", "GET")], true);
            assert_eq!(stream.upstream_request_headers().get("x-c-module").as_deref(), Some("seen"));
            stream.response_headers(&[(":status", "200")], true);
            assert_eq!(stream.client_response_headers().get(":status").as_deref(), Some("200"));
        }
        drop(host);
        // One config created and destroyed; one stream created, completed and destroyed.
        assert_eq!(counters.read(), [1, 1, 1, 1, 1], "the module built against 1.{minor}");
    }
}

/// Each release's sources come from git history; a clone without it (shallow) uses the copy in
/// `x/compat/1.<minor>`, which must be the same tree.
#[test]
fn released_sources_come_from_history_or_from_their_copy() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for &(minor, commit) in envoyx_build::RELEASES {
        let scratch =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("abi-1.{minor}-extract"));
        let _ = std::fs::remove_dir_all(&scratch);
        let fallback = repo.join(format!("x/compat/1.{minor}/source.tar.gz"));
        let (from_history, from_copy) = (scratch.join("history"), scratch.join("copy"));
        envoyx_build::extract_at(&repo, commit, &from_history, &fallback).unwrap();
        // A directory outside any git repository stands for a clone without the history.
        let no_history =
            std::env::temp_dir().join(format!("envoyx-no-history-{}-{minor}", std::process::id()));
        std::fs::create_dir_all(&no_history).unwrap();
        envoyx_build::extract_at(&no_history, commit, &from_copy, &fallback).unwrap();
        std::fs::remove_dir_all(&no_history).unwrap();
        for file in
            ["Cargo.lock", "x/abi.h", "rust/sdk/src/dispatch.rs", "rust/test-modules/conformance/src/lib.rs"]
        {
            let a = std::fs::read(from_history.join(file)).unwrap();
            let b = std::fs::read(from_copy.join(file)).unwrap();
            assert!(a == b, "1.{minor}: {file} differs between the history and the copy");
        }
        let header = std::fs::read_to_string(from_copy.join("x/abi.h")).unwrap();
        assert!(
            header.contains(&format!("#define ENVOYX_ABI_VERSION_MINOR {minor}\n")),
            "the copy is the 1.{minor} tree"
        );
        // The frozen header is that tree's, but for its first comment.
        let frozen = std::fs::read_to_string(repo.join(format!("x/compat/1.{minor}/abi.h"))).unwrap();
        let body = |text: &str| text.split_once("#ifndef ENVOYX_ABI_H").map(|(_, rest)| rest.to_string());
        assert_eq!(body(&frozen), body(&header), "x/compat/1.{minor}/abi.h is the released header");
    }
}

/// A module built for 1.1 that exports none of the optional hooks: what needs them is refused
/// at the call (false, 0, a log line), never delivered to a hook the module does not have.
#[test]
fn a_1_1_module_without_the_optional_exports_is_refused_what_needs_them() {
    let module = common::c_module("try_1_1", &["-DTRY_ABI_1_1"]);
    let host = TestHost::load(&module, "try-1-1", "").unwrap();
    // Only the statement of the table it was built against, which every C module of the tests makes.
    assert_eq!(host.filter_config().module().optional_exports(), ["envoyx_module_host_api_size"]);
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/"), (":method", "GET")], true);
    let upstream = stream.upstream_request_headers();
    assert_eq!(upstream.get("x-c-schedule").as_deref(), Some("false"));
    assert_eq!(upstream.get("x-c-callout").as_deref(), Some("refused"));
    assert_eq!(
        upstream.get("x-c-continue").as_deref(),
        Some("false"),
        "continue_stream outside the async hooks"
    );
    assert_eq!(upstream.get("x-c-route").as_deref(), Some("none"));
    assert_eq!(stream.run_scheduled(), 0, "nothing was queued");
    assert!(stream.pending_callouts().is_empty());
    assert!(envoyx_testhost::logged("does not export envoyx_on_stream_scheduled; nothing scheduled"));
    assert!(envoyx_testhost::logged("refused: the module does not export envoyx_on_stream_callout_done"));
}
