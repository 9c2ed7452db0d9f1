//! Every kind of bad input gets a typed error whose message names the file or field and the
//! reason, and the host goes on working.

mod common;

use common::c_module;
use envoyx_core::{ConfigError, Error, LoadError, ModuleRegistry};
use envoyx_testhost::TestHost;

/// After any failure, a good module still loads and serves a stream.
fn host_still_works() {
    let host = TestHost::load(c_module("good", &[]), "good", "").expect("good module loads");
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.upstream_request_headers().get("x-c-module").as_deref(), Some("seen"));
}

fn load_error(result: Result<TestHost, Error>) -> (LoadError, String) {
    match result {
        Err(Error::Load(e)) => {
            let message = e.to_string();
            (e, message)
        }
        Err(other) => panic!("expected a load error, got {other}"),
        Ok(_) => panic!("expected a load error, got a working host"),
    }
}

#[test]
fn missing_file() {
    let (err, msg) = load_error(TestHost::load("/nonexistent/libmissing.so", "t", ""));
    assert!(matches!(err, LoadError::FileMissing { .. }), "{msg}");
    assert_eq!(msg, "EnvoyX module /nonexistent/libmissing.so: file not found");
    host_still_works();
}

#[test]
fn not_a_shared_object() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("not-a-module.so");
    std::fs::write(&path, "#!/bin/sh\necho I am a script\n").unwrap();
    let (err, msg) = load_error(TestHost::load(&path, "t", ""));
    assert!(matches!(err, LoadError::NotSharedObject { .. }), "{msg}");
    assert!(msg.contains("not-a-module.so: not a shared object: not an ELF file"), "{msg}");
    host_still_works();
}

#[test]
fn a_file_cut_short_is_refused_before_it_is_mapped() {
    // Mapped as it was, the first touch past its end would kill the process (SIGBUS).
    let whole = std::fs::read(c_module("good", &[])).unwrap();
    for cut in [4096, 8192, 12288, whole.len() - 1] {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("libcut-{cut}.so"));
        std::fs::write(&path, &whole[..cut]).unwrap();
        let (err, msg) = load_error(TestHost::load(&path, "t", ""));
        assert!(matches!(err, LoadError::Truncated { .. }), "{msg}");
        assert!(msg.contains(&format!("libcut-{cut}.so: the file is cut short")), "{msg}");
        assert!(msg.contains(&format!("but the file has {cut} bytes")), "{msg}");
    }
    host_still_works();
}

/// A module built against a later header — one more host function — says so
/// (`envoyx_module_host_api_size`), and the host, whose table is shorter, refuses it before
/// program init instead of letting it call past the end of the table.
#[test]
fn a_module_needing_a_longer_host_table_is_refused() {
    let later = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("later-abi");
    std::fs::create_dir_all(&later).unwrap();
    let header = std::fs::read_to_string(common::repo_root().join("x/abi.h")).unwrap();
    let appended = header
        .replace("} envoyx_host_api;", "  bool (*a_later_call)(envoyx_stream* stream);\n} envoyx_host_api;");
    assert_ne!(header, appended);
    std::fs::write(later.join("abi.h"), appended).unwrap();
    let module = common::c_module_against(later.to_str().unwrap(), "later_table", &[]);
    let (err, msg) = load_error(TestHost::load(&module, "t", ""));
    assert!(matches!(err, LoadError::HostTableTooShort { .. }), "{msg}");
    let has = std::mem::size_of::<envoyx_abi::envoyx_host_api>();
    assert!(
        msg.contains(&format!("a host function table of {} bytes, this host's has {has}", has + 8)),
        "{msg}"
    );
    let minor = envoyx_abi::ENVOYX_ABI_VERSION_MINOR;
    assert!(msg.contains(&format!("module ABI v1.{minor}, host ABI v1.{minor}")), "{msg}");
    assert!(!envoyx_testhost::logged("later_table"), "program init never ran");
    host_still_works();
}

#[test]
fn missing_symbol() {
    let (err, msg) = load_error(TestHost::load(c_module("no_destroy", &["-DOMIT_STREAM_DESTROY"]), "t", ""));
    assert!(matches!(err, LoadError::MissingSymbol { symbol: "envoyx_on_stream_destroy", .. }), "{msg}");
    assert!(msg.contains("libc_module_no_destroy.so: missing symbol `envoyx_on_stream_destroy`"), "{msg}");
    host_still_works();
}

#[test]
fn every_earlier_minor_of_the_major_is_accepted() {
    // A host at 1.2 (a table appended to twice) runs modules built for 1.0 and 1.1: each finds
    // every function it knows where it expects it.
    let host = envoyx_abi::envoyx_abi_version { major: 1, minor: 2 };
    for minor in [0, 1] {
        let module = c_module(&format!("abi_1_{minor}"), &["-DABI_MAJOR=1", &format!("-DABI_MINOR={minor}")]);
        let loaded = ModuleRegistry::global()
            .load_for_host(&module, false, host)
            .unwrap_or_else(|e| panic!("a module built for 1.{minor} loads on a 1.2 host: {e}"));
        assert_eq!(loaded.abi_version().minor, minor);
    }
    host_still_works();
}

#[test]
fn other_major_or_newer_minor_is_refused() {
    let (err, msg) =
        load_error(TestHost::load(c_module("abi_0_9", &["-DABI_MAJOR=0", "-DABI_MINOR=9"]), "t", ""));
    assert!(matches!(err, LoadError::AbiMismatch { .. }), "{msg}");
    let minor = envoyx_abi::ENVOYX_ABI_VERSION_MINOR;
    assert!(msg.contains(&format!("built for EnvoyX ABI v0.9, this host speaks v1.{minor}")), "{msg}");
    // A module built for a later minor than the host: refused, naming both versions.
    let newer = format!("-DABI_MINOR={}", minor + 1);
    let (_, msg) = load_error(TestHost::load(c_module("abi_newer", &[&newer]), "t", ""));
    assert!(
        msg.contains(&format!(
            "ABI version mismatch: the module was built for EnvoyX ABI v1.{}, this host speaks v1.{minor}",
            minor + 1
        )),
        "{msg}"
    );
    host_still_works();
}

#[test]
fn program_init_failure_carries_the_modules_reason() {
    let (err, msg) = load_error(TestHost::load(c_module("fail_init", &["-DFAIL_INIT"]), "t", ""));
    assert!(matches!(err, LoadError::ProgramInitFailed { .. }), "{msg}");
    assert!(
        msg.ends_with(
            "libc_module_fail_init.so: program init failed: license file /etc/c-module.license not found"
        ),
        "{msg}"
    );
    host_still_works();
}

#[test]
fn module_rejecting_its_config() {
    let module = c_module("reject", &[]);
    match TestHost::load(&module, "strict", "reject") {
        Err(Error::ConfigRejected { name, reason, .. }) => {
            assert_eq!(name, "strict");
            assert_eq!(reason, "filter_config must not be \"reject\"");
        }
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("config was accepted"),
    }
    let msg = TestHost::load(&module, "strict", "reject").err().unwrap().to_string();
    assert!(msg.contains("libc_module_reject.so: filter config `strict` rejected by the module"), "{msg}");
    // The same file still serves other configs.
    TestHost::load(&module, "fine", "accept").expect("another config of the same module");
    host_still_works();
}

#[test]
fn empty_file_path_and_malformed_json() {
    for json in [r#"{"name": "x", "file_path": ""}"#, r#"{"name": "x"}"#] {
        match TestHost::from_json(json) {
            Err(Error::Config(ConfigError::MissingFilePath { name })) => assert_eq!(name, "x"),
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("accepted {json}"),
        }
    }
    let err = TestHost::from_json(r#"{"file_path": "/a.so", "filter_config": }"#).err().unwrap();
    assert!(matches!(err, Error::Config(ConfigError::MalformedJson(_))), "{err}");
    assert!(err.to_string().starts_with("EnvoyX config: malformed JSON:"), "{err}");
    let err = TestHost::from_json(r#"{"file_path": "/a.so", "do_not_dlclose": "yes"}"#).err().unwrap();
    assert_eq!(err.to_string(), "EnvoyX config: field `do_not_dlclose`: expected a boolean, got a string");
    host_still_works();
}

#[test]
fn stream_new_failure_answers_500_and_calls_no_hook() {
    let module = c_module("fail_stream", &[]);
    let host = TestHost::load(&module, "t", "fail-stream").unwrap();
    let mut stream = host.stream();
    stream.request_headers(&[(":path", "/")], true);
    let reply = stream.local_reply().expect("a local reply");
    assert_eq!((reply.status, reply.details.as_str()), (500, "envoyx_stream_new_failed"));
    assert_eq!(stream.upstream_request_headers().get("x-c-module"), None, "no hook ran");
    assert!(envoyx_testhost::logged("stream-new hook of filter `t` returned NULL"));
    drop(stream);
    host_still_works();
}
