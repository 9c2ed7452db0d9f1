//! Filter configs created from C++ through the loader, from both wire forms, and every kind of
//! bad input surfacing in the C++ host as a `rust::Error` whose `what()` is the core's message.

mod host;

use envoyx_core::config::ModuleConfig;
use host::{Filter, c_module, config_json, json_load_error, proto_load_error};
use prost::Message;
use std::path::Path;

fn proto(module: &Path, name: &str, filter_config: &str, do_not_dlclose: bool) -> Vec<u8> {
    ModuleConfig {
        file_path: module.to_string_lossy().into_owned(),
        do_not_dlclose,
        filter_config: filter_config.to_string(),
        ..ModuleConfig::in_process(name)
    }
    .to_proto()
    .encode_to_vec()
}

/// After any failure, a good module still loads and serves a stream.
fn host_still_works() {
    let filter = Filter::load(&c_module("good", &[]), "good", "").expect("good module loads");
    let mut stream = filter.stream();
    stream.request_headers(&[(":path", "/")], true);
    assert_eq!(stream.upstream_request_headers().get("x-c-module"), Some("seen"));
}

#[test]
fn protobuf_and_json_configs_load_the_same_module() {
    let module = c_module("forms", &[]);
    let from_proto = Filter::from_proto(&proto(&module, "by-proto", "", true)).expect("protobuf config");
    let from_json = Filter::load(&module, "by-json", "").expect("JSON config");
    assert_eq!(from_proto.name(), "by-proto");
    assert_eq!(from_json.name(), "by-json");
    assert_eq!(from_proto.module_path(), module.display().to_string());
    assert_eq!(from_json.module_path(), from_proto.module_path());
    for filter in [from_proto, from_json] {
        let mut stream = filter.stream();
        stream.request_headers(&[(":path", "/")], true);
        assert_eq!(stream.upstream_request_headers().get("x-c-module"), Some("seen"));
    }
}

#[test]
fn errors_cross_as_cxx_exceptions_with_the_core_message() {
    // Through the bridge's Result: cxx turned the C++ exception back into an error.
    let err = Filter::load(Path::new("/nonexistent/libmissing.so"), "t", "").err().expect("refused");
    assert_eq!(err.what(), "EnvoyX module /nonexistent/libmissing.so: file not found");
    // And caught in C++ as `rust::Error`, as the Envoy extension will.
    let json = config_json(Path::new("/nonexistent/libmissing.so"), "t", "");
    assert_eq!(json_load_error(&json), "EnvoyX module /nonexistent/libmissing.so: file not found");
    let bytes = proto(Path::new("/nonexistent/libmissing.so"), "t", "", false);
    assert_eq!(proto_load_error(&bytes), "EnvoyX module /nonexistent/libmissing.so: file not found");
    host_still_works();
}

#[test]
fn not_a_shared_object() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("loader-not-a-module.so");
    std::fs::write(&path, "#!/bin/sh\necho I am a script\n").unwrap();
    let msg = json_load_error(&config_json(&path, "t", ""));
    assert!(msg.contains("loader-not-a-module.so: not a shared object: not an ELF file"), "{msg}");
    host_still_works();
}

#[test]
fn missing_symbol() {
    let module = c_module("no_destroy", &["-DOMIT_STREAM_DESTROY"]);
    let msg = json_load_error(&config_json(&module, "t", ""));
    assert!(
        msg.ends_with(
            "libc_module_no_destroy.so: missing symbol `envoyx_on_stream_destroy` (every module must export it; see x/abi.h)"
        ),
        "{msg}"
    );
    host_still_works();
}

#[test]
fn abi_version_mismatch() {
    let module = c_module("abi_0_9", &["-DABI_MAJOR=0", "-DABI_MINOR=9"]);
    let msg = json_load_error(&config_json(&module, "t", ""));
    assert!(
        msg.contains(&format!(
            "ABI version mismatch: the module was built for EnvoyX ABI v0.9, this host speaks v1.{}",
            envoyx_abi::ENVOYX_ABI_VERSION_MINOR
        )),
        "{msg}"
    );
    host_still_works();
}

#[test]
fn program_init_failure_carries_the_modules_reason() {
    let module = c_module("fail_init", &["-DFAIL_INIT"]);
    let msg = proto_load_error(&proto(&module, "t", "", false));
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
    let msg = json_load_error(&config_json(&module, "strict", "reject"));
    assert!(
        msg.ends_with(
            "libc_module_reject.so: filter config `strict` rejected by the module: filter_config must not be \"reject\""
        ),
        "{msg}"
    );
    // The same file still serves other configs.
    assert_eq!(json_load_error(&config_json(&module, "fine", "accept")), "");
    host_still_works();
}

#[test]
fn malformed_configs() {
    let msg = json_load_error(r#"{"file_path": "/a.so", "filter_config": }"#);
    assert!(msg.starts_with("EnvoyX config: malformed JSON:"), "{msg}");
    let msg = json_load_error(r#"{"file_path": "/a.so", "do_not_dlclose": "yes"}"#);
    assert_eq!(msg, "EnvoyX config: field `do_not_dlclose`: expected a boolean, got a string");
    let msg = json_load_error(r#"{"name": "x", "file_path": ""}"#);
    assert_eq!(msg, "EnvoyX config `x`: field `file_path` is required and must not be empty");
    let msg = proto_load_error(&[0x12, 0x05, b'a']);
    assert!(msg.starts_with("EnvoyX config: malformed protobuf DynamicModuleConfig:"), "{msg}");
    host_still_works();
}
