//! `envoyx new <name> [--lang rust|go] [--path DIR] [--sdk-path DIR]`: scaffolds a module (a
//! Rust crate, or with `--lang go` a Go module, `new_go.rs`) that builds, passes its tests and
//! runs in Envoy as generated.
//!
//! The module depends on the EnvoyX SDK of this `envoyx`'s version ([`Sdk`]): from the registry
//! (crates.io, the Go module proxy) for an `envoyx` installed from one, or by path on the EnvoyX
//! checkout this `envoyx` was built in (or `--sdk-path`), for work on EnvoyX itself. The crate is
//! its own workspace, so it builds wherever it is put, also inside another workspace. From a
//! checkout with a `Cargo.lock`, the crate starts from it, so it builds with the dependency
//! versions EnvoyX itself is tested with.

use std::path::PathBuf;

use crate::sdk::{Sdk, sdk_source};

const USAGE: &str = "usage: envoyx new <name> [--lang rust|go] [--path DIR] [--sdk-path DIR]";

const HELP: &str = "\
Creates the module crate DIR/<name> (default ./<name>): Cargo.toml, src/lib.rs (a filter that adds
the response header `x-hello` with its filter_config as the value, and an in-process unit test),
tests/filter.rs (drives the built .so on the test host), envoy.yaml (for `envoyx run --config envoy.yaml`), README.md, .gitignore.
With --lang go: the Go module DIR/<name> (go.mod, filter.go, main.go, filter_test.go with tests
through the real core, README.md, .gitignore), for `envoyx go test ./...` and `envoyx go build`.

  --lang rust|go  the module's language (default: rust)
  --path DIR      where to create the crate's directory (default: the current directory)
  --sdk-path DIR  depend on this EnvoyX checkout by path instead (default: the registry's
                  EnvoyX of this envoyx's version; the checkout this envoyx was built in, if any)";

pub fn run(args: &[String]) -> i32 {
    let options = match Options::parse(args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}\n\n{HELP}");
            return 0;
        }
        Err(message) => {
            eprintln!("envoyx new: {message}\n{USAGE}");
            return 2;
        }
    };
    match create(&options) {
        Ok(created) => {
            let dir = created.dir.display();
            let what = if options.go { "Go module" } else { "module crate" };
            println!("created {what} `{}` in {dir}", options.name);
            println!("  depends on {}", created.sdk.describe());
            println!("next:");
            println!("  cd {dir}");
            let steps = if options.go {
                crate::new_go::next_steps(&created.library)
            } else {
                vec![
                    "cargo test                     # builds the module and runs it on the test host"
                        .to_string(),
                    format!("envoyx check target/debug/{}", created.library),
                    "envoyx run --config envoy.yaml # serves 127.0.0.1:10000 through Envoy".to_string(),
                ]
            };
            for step in steps {
                println!("  {step}");
            }
            0
        }
        Err(message) => {
            eprintln!("envoyx new: {message}");
            1
        }
    }
}

struct Options {
    name: String,
    parent: PathBuf,
    envoyx: Option<PathBuf>,
    /// `--lang go`: a Go module instead of a Rust crate.
    go: bool,
}

impl Options {
    /// `Ok(None)` asks for help. Only the shape of the arguments is checked here (exit 2);
    /// whether the name and directories can be used is checked by `create` (exit 1).
    fn parse(args: &[String]) -> Result<Option<Self>, String> {
        let (mut name, mut parent, mut envoyx, mut go) = (None, None, None, false);
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |flag: &str| args.next().cloned().ok_or(format!("{flag} needs a directory"));
            match arg.as_str() {
                "-h" | "--help" => return Ok(None),
                "--path" => parent = Some(PathBuf::from(value("--path")?)),
                "--sdk-path" => envoyx = Some(PathBuf::from(value("--sdk-path")?)),
                "--lang" => match args.next().map(String::as_str) {
                    Some("rust") => go = false,
                    Some("go") => go = true,
                    Some(other) => return Err(format!("--lang {other}: the languages are `rust` and `go`")),
                    None => return Err("--lang needs a language: rust or go".to_string()),
                },
                flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
                given if name.is_none() => name = Some(given.to_string()),
                extra => return Err(format!("one name at a time (unexpected `{extra}`)")),
            }
        }
        let name = name.ok_or("which name? e.g. `envoyx new my-filter`")?;
        Ok(Some(Self { name, parent: parent.unwrap_or_else(|| PathBuf::from(".")), envoyx, go }))
    }
}

/// Why `name` cannot be a package name, in cargo's rules (plus the names of the crates the
/// module depends on, which would clash).
fn invalid_name(name: &str, rust: bool) -> Option<String> {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate", "do",
        "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
        "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return", "self",
        "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe", "unsized", "use",
        "virtual", "where", "while", "yield",
    ];
    // Names of the standard crates and of cargo's own directories in target/.
    const RESERVED: &[&str] =
        &["alloc", "core", "proc_macro", "std", "test", "build", "deps", "examples", "incremental"];
    const DEPENDENCIES: &[&str] =
        &["envoyx_sdk", "envoyx_abi", "envoyx_core", "envoyx_build", "envoyx_testhost"];
    let first = name.chars().next()?;
    let ident = name.replace('-', "_");
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        return Some(format!(
            "invalid character {bad:?}: use ASCII letters, digits, `-` and `_` (to create it elsewhere, use --path DIR)"
        ));
    }
    if !first.is_ascii_alphabetic() {
        return Some("it must start with a letter".to_string());
    }
    if name.len() > 64 {
        return Some("it is longer than 64 characters".to_string());
    }
    if !rust {
        return None; // a Go module path and filter name: the characters above are enough
    }
    if KEYWORDS.contains(&ident.as_str()) {
        return Some("it is a Rust keyword".to_string());
    }
    if RESERVED.contains(&ident.as_str()) {
        return Some("it is reserved by Rust or cargo".to_string());
    }
    if DEPENDENCIES.contains(&ident.as_str()) {
        return Some("it is the name of an EnvoyX crate the module depends on".to_string());
    }
    None
}

struct Created {
    dir: PathBuf,
    sdk: Sdk,
    /// The shared object's file name, e.g. `libmy_filter.so`.
    library: String,
}

fn create(options: &Options) -> Result<Created, String> {
    let name = &options.name;
    if name.is_empty() {
        return Err("the name must not be empty".to_string());
    }
    if let Some(reason) = invalid_name(name, !options.go) {
        let what = if options.go { "a Go module name" } else { "a crate name" };
        return Err(format!("`{name}` cannot be {what}: {reason}"));
    }
    let sdk = sdk_source(options.envoyx.as_deref())?;

    let dir = std::path::absolute(options.parent.join(name))
        .map_err(|e| format!("cannot resolve {}: {e}", options.parent.join(name).display()))?;
    match std::fs::read_dir(&dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(format!(
                    "{} already exists and is not empty; choose another name or --path",
                    dir.display()
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) if dir.exists() => {
            return Err(format!("{} already exists and is not a directory", dir.display()));
        }
        Err(e) => return Err(format!("cannot use {}: {e}", dir.display())),
    }

    let library = format!("lib{}.so", name.replace('-', "_"));
    // Where `cargo build` puts the module unless CARGO_TARGET_DIR says otherwise.
    let module_path = dir.join("target/debug").join(&library);
    let files = if options.go {
        crate::new_go::files(name, &sdk, &library, &dir.join(&library))
    } else {
        vec![
            ("Cargo.toml", cargo_toml(name, &sdk)),
            ("src/lib.rs", lib_rs(name)),
            ("tests/filter.rs", filter_test(name)),
            ("envoy.yaml", crate::envoy_yaml::envoy_yaml(name, &module_path, &CARGO_BUILT)),
            ("README.md", readme(name, &library, &sdk)),
            (".gitignore", "/target\n".to_string()),
        ]
    };
    let write = |relative: &str, content: &[u8]| {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, content).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    for (relative, content) in &files {
        write(relative, content.as_bytes())?;
    }
    // Cargo keeps the locked versions of the packages the crate uses and drops the others.
    if let Sdk::Checkout(envoyx) = &sdk
        && let Some(Ok(lock)) = (!options.go).then(|| std::fs::read(envoyx.join("Cargo.lock")))
    {
        write("Cargo.lock", &lock)?;
    }
    Ok(Created { dir, sdk, library })
}

/// `text` as a TOML basic string, quotes included.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn cargo_toml(name: &str, sdk: &Sdk) -> String {
    let (comment, sdk_dep, testhost_dep) = match sdk {
        Sdk::Registry => {
            let version = toml_string(envoyx_build::VERSION);
            (
                "# EnvoyX's crates, at the version of the `envoyx` that created this crate.".to_string(),
                version.clone(),
                version,
            )
        }
        Sdk::Checkout(envoyx) => (
            format!(
                "# EnvoyX's crates from the EnvoyX checkout `envoyx new` used ({}).\n\
                 # Change the paths if it moves, or use the published versions instead.",
                envoyx.display()
            ),
            format!("{{ path = {} }}", toml_string(&envoyx.join("rust/sdk").to_string_lossy())),
            format!("{{ path = {} }}", toml_string(&envoyx.join("rust/testhost").to_string_lossy())),
        ),
    };
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# cdylib: the .so that EnvoyX loads; rlib: so that tests can link the crate too.
crate-type = ["cdylib", "rlib"]

{comment}
[dependencies]
envoyx-sdk = {sdk_dep}

[dev-dependencies]
envoyx-testhost = {testhost_dep}

# A workspace of its own, so the crate builds wherever it is, even inside another workspace.
[workspace]
"#
    )
}

fn lib_rs(name: &str) -> String {
    // The generated code is laid out as rustfmt's defaults would, so `cargo fmt` leaves it alone.
    format!(
        r#"//! `{name}`: an EnvoyX module. It adds the response header `x-hello` to every response,
//! with the filter's `filter_config` as the value (`hello from {name}` when the config is empty).

use envoyx_sdk::{{Filter, FilterConfig, HeadersStatus, Stream}};
use std::sync::Arc;

/// The response header this filter adds.
pub const HEADER: &str = "x-hello";

/// The value used when `filter_config` is empty.
pub const DEFAULT_VALUE: &str = "hello from {name}";

/// Built once per filter configuration, shared by every stream on every worker thread.
pub struct HelloConfig {{
    value: Arc<str>,
}}

/// One per HTTP stream.
pub struct HelloFilter {{
    value: Arc<str>,
}}

impl FilterConfig for HelloConfig {{
    type Filter = HelloFilter;

    fn new(_name: &str, config: &[u8]) -> Result<Self, String> {{
        let value =
            std::str::from_utf8(config).map_err(|e| format!("filter_config is not UTF-8: {{e}}"))?;
        // Envoy would refuse such a header value on every response: refuse the config instead.
        if value.chars().any(|c| c.is_control() && c != '\t') {{
            return Err(format!(
                "filter_config {{value:?}} cannot be a header value (control characters)"
            ));
        }}
        let value = if value.is_empty() {{
            DEFAULT_VALUE
        }} else {{
            value
        }};
        Ok(HelloConfig {{
            value: value.into(),
        }})
    }}

    fn new_filter(&self) -> HelloFilter {{
        HelloFilter {{
            value: self.value.clone(),
        }}
    }}
}}

impl Filter for HelloFilter {{
    fn on_response_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {{
        stream.response_headers().set(HEADER, &*self.value);
        HeadersStatus::Continue
    }}
}}

envoyx_sdk::export_module!(HelloConfig);

/// Unit tests: the filter's own types run in-process through the real EnvoyX core (the same
/// stream rules and validation as in Envoy), with no `.so` built. `tests/filter.rs` tests the
/// built `.so` itself.
#[cfg(test)]
mod tests {{
    use super::*;
    use envoyx_testhost::TestHost;

    #[test]
    fn adds_the_configured_header_in_process() {{
        let exports = envoyx_sdk::module_exports::<HelloConfig>();
        let host = TestHost::in_process(exports, "{name}", "hi").unwrap();
        let mut stream = host.stream();
        stream.request_headers(&[(":path", "/")], true);
        stream.response_headers(&[(":status", "200")], true);
        assert_eq!(stream.client_response_headers().get(HEADER).as_deref(), Some("hi"));
    }}
}}
"#
    )
}

fn filter_test(name: &str) -> String {
    let ident = name.replace('-', "_");
    format!(
        r#"//! Drives the real compiled module (lib{ident}.so) on the in-process EnvoyX test host.

use envoyx_testhost::{{HeadersStatus, TestHost, build_module}};
use {ident}::{{DEFAULT_VALUE, HEADER}};

/// The filter's name in the tests (Envoy's config gives it one too).
const NAME: &str = "{name}";

/// Loads the module with `filter_config`; the error is the host's message.
fn host(filter_config: &str) -> Result<TestHost, String> {{
    let module = build_module(env!("CARGO_MANIFEST_DIR"));
    TestHost::load(module, NAME, filter_config).map_err(|e| e.to_string())
}}

/// One request and response through the filter; returns the header the client sees.
fn hello_header(host: &TestHost) -> Option<String> {{
    let mut stream = host.stream();
    let status = stream.request_headers(&[(":path", "/")], true);
    assert_eq!(status, HeadersStatus::Continue);
    let status = stream.response_headers(&[(":status", "200")], true);
    assert_eq!(status, HeadersStatus::Continue);
    stream.client_response_headers().get(HEADER)
}}

#[test]
fn adds_the_configured_header_to_responses() {{
    let host = host("hi there").unwrap();
    assert_eq!(hello_header(&host).as_deref(), Some("hi there"));
}}

#[test]
fn an_empty_config_uses_the_default_value() {{
    let host = host("").unwrap();
    assert_eq!(hello_header(&host).as_deref(), Some(DEFAULT_VALUE));
}}

#[test]
fn a_config_that_cannot_be_a_header_value_is_rejected() {{
    let Err(error) = host("two\nlines") else {{
        panic!("the config should be rejected")
    }};
    assert!(error.contains("cannot be a header value"), "{{error}}");
}}
"#
    )
}

/// The Rust crate's: `cargo build`, into cargo's default target directory.
const CARGO_BUILT: crate::envoy_yaml::EnvoyYamlFor<'static> = crate::envoy_yaml::EnvoyYamlFor {
    build: "cargo build",
    module_is: "this crate's module from\n# `file_path` (cargo's default target directory; change it when CARGO_TARGET_DIR is set)",
};

fn readme(name: &str, library: &str, sdk: &Sdk) -> String {
    let dependencies = match sdk {
        Sdk::Registry => format!(
            "`envoyx-sdk` and `envoyx-testhost` {} come from crates.io; `envoyx` of the same version runs \
             the module (`envoyx --version` says which ABI it speaks).",
            envoyx_build::VERSION
        ),
        Sdk::Checkout(dir) => format!(
            "`Cargo.toml` points at the EnvoyX checkout `envoyx new` used ({}): edit those paths if it \
             moves, or depend on the published `envoyx-sdk` and `envoyx-testhost` instead.",
            dir.display()
        ),
    };
    format!(
        r#"# {name}

An EnvoyX module: an Envoy HTTP filter as a native shared object. It adds the response header
`x-hello` to every response, with its `filter_config` as the value.

## Build

```sh
cargo build                               # -> target/debug/{library}
envoyx check target/debug/{library}       # symbols, ABI version, program init
```

## Test

```sh
cargo test
```

Two kinds of test run: the unit test in `src/lib.rs` drives the filter's own types in-process
through the real EnvoyX core (`TestHost::in_process(envoyx_sdk::module_exports::<HelloConfig>(), ..)`:
same rules and validation as in Envoy, no `.so` built), and `tests/filter.rs` builds the module and
drives requests through the real `.so` on EnvoyX's test host (`envoyx-testhost`).

## Run in Envoy

```sh
python3 -m http.server 8080 &             # any upstream on 127.0.0.1:8080
cargo build
envoyx run --config envoy.yaml
curl -i http://127.0.0.1:10000/           # ... x-hello: hello from envoy.yaml
```

`envoy.yaml` is a plain Envoy config: the `envoy.filters.http.dynamic_modules` filter loads the
EnvoyX stock host, which loads `target/debug/{library}` with the `filter_config` given there.

## Dependencies

{dependencies}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_follow_cargo_rules() {
        for good in ["my-filter", "auth_v2", "x"] {
            assert_eq!(invalid_name(good, true), None, "{good}");
        }
        for (bad, reason) in [
            ("1st", "start with a letter"),
            ("-x", "start with a letter"),
            ("a/b", "invalid character '/'"),
            ("héllo", "invalid character 'é'"),
            ("fn", "keyword"),
            ("test", "reserved"),
            ("envoyx-sdk", "EnvoyX crate"),
        ] {
            let message = invalid_name(bad, true).unwrap_or_default();
            assert!(message.contains(reason), "{bad}: {message}");
        }
    }

    #[test]
    fn go_module_names_skip_the_rust_only_rules() {
        for good in ["fn", "test", "envoyx-sdk", "my-filter"] {
            assert_eq!(invalid_name(good, false), None, "{good}");
        }
        for bad in ["1st", "a/b", "héllo"] {
            assert!(invalid_name(bad, false).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_registry_crate_depends_on_this_version_and_no_path() {
        let version = format!("\"{}\"", envoyx_build::VERSION);
        let manifest = cargo_toml("my-filter", &Sdk::Registry);
        assert!(manifest.contains(&format!("\nenvoyx-sdk = {version}\n")), "{manifest}");
        assert!(manifest.contains(&format!("\nenvoyx-testhost = {version}\n")), "{manifest}");
        assert!(!manifest.contains("path"), "{manifest}");
        let checkout = cargo_toml("my-filter", &Sdk::Checkout(PathBuf::from("/src/envoyx")));
        assert!(checkout.contains(r#"envoyx-sdk = { path = "/src/envoyx/rust/sdk" }"#), "{checkout}");
    }

    #[test]
    fn strings_are_quoted_for_toml_and_yaml() {
        assert_eq!(toml_string(r#"/a "b"\c"#), r#""/a \"b\"\\c""#);
        assert_eq!(crate::envoy_yaml::yaml_string("/x/y.so"), "\"/x/y.so\"");
    }
}
