//! Config parsing: the `DynamicModuleConfig` as protobuf bytes and as JSON text (filter and
//! per-route forms), and what the stock host turns Envoy's per-route `Any` value into (JSON,
//! a `StringValue` holding JSON, or a `Struct`). Invariants: nothing panics; an accepted config
//! names a module file; a refusal says why (a non-empty message); a `Struct` becomes JSON that
//! parses.

#![no_main]

use envoyx_core::ModuleConfig;
use libfuzzer_sys::fuzz_target;

#[path = "../../rust/stock-host/src/any_value.rs"]
mod any_value;

fn check(parsed: Result<ModuleConfig, envoyx_core::ConfigError>, route: bool) {
    match parsed {
        Ok(config) => assert!(route || !config.file_path.is_empty(), "accepted without a file: {config:?}"),
        Err(e) => assert!(!e.to_string().trim().is_empty(), "a refusal without a reason"),
    }
}

fuzz_target!(|data: &[u8]| {
    check(ModuleConfig::from_proto_bytes(data), false);
    if let Ok(text) = std::str::from_utf8(data) {
        check(ModuleConfig::from_json(text), false);
        check(ModuleConfig::route_from_json(text), true);
    }
    match any_value::any_value_json(data) {
        Ok(text) => {
            if !text.trim_start().starts_with('{') {
                panic!("any_value_json gave something that is not a JSON object: {text:?}");
            }
            check(ModuleConfig::route_from_json(&text), true);
        }
        Err(e) => assert!(!e.is_empty()),
    }
});
