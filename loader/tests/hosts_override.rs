//! Every primitive the bridge (`src/lib.rs`) gives the C++ interfaces is overridden by each C++
//! host: the custom build's (`envoy/`) and the C++ test host's. `loader.h` has a default for
//! each (false, null, nothing), so a forgotten override compiles and quietly answers "not
//! available"; the C++ test host's conformance run would show it, but the custom build runs
//! nowhere here, so this check is what catches it there. Errors name the file, the class and
//! the method (see `docs/adding-an-abi-call.md`).

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The methods the bridge declares on the C++ type `interface` (`fn name(self: &interface …`
/// or `self: Pin<&mut interface>`), in order.
fn bridge_methods(bridge: &str, interface: &str) -> Vec<String> {
    let receivers = [format!("self: &{interface}"), format!("self: Pin<&mut {interface}>")];
    let mut methods = Vec::new();
    let mut rest = bridge;
    while let Some(at) = rest.find("fn ") {
        rest = &rest[at + 3..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let after = rest[name.len()..].trim_start();
        let Some(args) = after.strip_prefix('(') else { continue };
        let args = args.trim_start();
        let receiver_ends =
            |r: &String| args.strip_prefix(r.as_str()).is_some_and(|tail| tail.starts_with([',', ')', '\n']));
        if receivers.iter().any(receiver_ends) {
            methods.push(name);
        }
    }
    methods
}

/// The body of `class name` in `text` (from its line to the `};` that ends it).
fn class_body<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let start = text.find(&format!("class {name} "))?;
    let body = &text[start..];
    Some(&body[..body.find("\n};").unwrap_or(body.len())])
}

/// Which of `methods` the class `class` of `file` (its text given) does not declare with
/// `override`; each error names the file, the class and the method.
fn missing_overrides(file: &str, text: &str, class: &str, methods: &[String]) -> Vec<String> {
    let Some(body) = class_body(text, class) else {
        return vec![format!("{file}: no class {class}")];
    };
    methods
        .iter()
        .filter(|method| {
            let overridden = body.match_indices(&format!(" {method}(")).any(|(at, _)| {
                let declaration = &body[at..];
                let end = declaration.find([';', '{']).unwrap_or(declaration.len());
                declaration[..end].contains("override")
            });
            !overridden
        })
        .map(|method| format!("{file}: {class} does not override {method} (loader.h's default would answer)"))
        .collect()
}

/// The C++ hosts: (file, class, the bridge's interface it implements).
const HOSTS: &[(&str, &str, &str)] = &[
    ("envoy/envoyx_stream_host.h", "EnvoyStreamHost", "StreamHost"),
    ("envoy/envoyx_config.cc", "MainThreadConfigHost", "ConfigHost"),
    ("envoy/envoyx_filter.h", "DispatcherScheduler", "Scheduler"),
    ("envoy/envoyx_telemetry.h", "EnvoyLogSink", "LogSink"),
    ("loader/tests/host/test_host.h", "TestStreamHost", "StreamHost"),
    ("loader/tests/host/test_host.h", "WorkerQueue", "ConfigHost"),
    ("loader/tests/host/test_host.h", "WorkerQueue", "Scheduler"),
];

fn check(bridge: &str, read_host: impl Fn(&str) -> String) -> Vec<String> {
    HOSTS
        .iter()
        .flat_map(|(file, class, interface)| {
            let methods = bridge_methods(bridge, interface);
            assert!(!methods.is_empty(), "the bridge declares no method on {interface}");
            missing_overrides(file, &read_host(file), class, &methods)
        })
        .collect()
}

#[test]
fn every_cpp_host_overrides_every_bridge_method() {
    let errors = check(&read("loader/src/lib.rs"), read);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_check_names_a_forgotten_override() {
    let bridge = read("loader/src/lib.rs");
    let methods = bridge_methods(&bridge, "StreamHost");
    assert!(methods.iter().any(|m| m == "span_set_tag") && methods.iter().any(|m| m == "route_config"));
    // The custom build's host without its span_set_tag override.
    let edited = |file: &str| {
        let text = read(file);
        if file != "envoy/envoyx_stream_host.h" {
            return text;
        }
        let line = text.lines().find(|l| l.contains(" span_set_tag(")).expect("declared").to_string();
        text.replace(&line, "")
    };
    assert_eq!(
        check(&bridge, edited),
        [
            "envoy/envoyx_stream_host.h: EnvoyStreamHost does not override span_set_tag (loader.h's default would answer)"
        ]
    );
}
