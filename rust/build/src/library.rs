//! EnvoyX's own native libraries a tool needs at run time: the stock host (`envoyx-stock-host`,
//! which Envoy loads) and the test host's C library (`envoyx-testhost-c`, which Go tests load).
//!
//! Where they come from depends on where this crate came from:
//! - built in an EnvoyX checkout that is still there: built in that checkout, so a change to
//!   the checkout is what runs;
//! - installed from a registry (`cargo install envoyx`): built once from the published crate of
//!   this very version (the crates are released together, at one version), with the cargo and
//!   registry the user has, and kept in a cache keyed by package and version. A published
//!   version never changes, so the cached library is never stale.

use std::path::{Path, PathBuf};

/// The version of the EnvoyX crates this one was released with.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The environment variable that overrides where built libraries are kept.
pub const LIBRARY_CACHE_ENV: &str = "ENVOYX_LIB_CACHE";

/// The EnvoyX checkout this crate was built in (`rust/build/../..`), when it is still there;
/// `None` for a crate built from a registry (its directory holds no workspace).
pub fn checkout() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.join("rust/stock-host/Cargo.toml").is_file().then_some(root)
}

/// The shared object of the EnvoyX cdylib package `package` (see the module's documentation for
/// where it comes from), or why it cannot be had (with cargo's output).
pub fn envoyx_library(package: &str) -> Result<PathBuf, String> {
    match checkout() {
        Some(root) => crate::try_build_workspace_package(&root, package),
        None => published_library(package, &library_cache()?),
    }
}

/// Where built libraries are kept: `$ENVOYX_LIB_CACHE`, or `~/.cache/envoyx/lib`.
pub fn library_cache() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os(LIBRARY_CACHE_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".cache/envoyx/lib")),
        None => Err(format!(
            "no cache directory for EnvoyX's libraries: neither {LIBRARY_CACHE_ENV} nor HOME is set; \
             set {LIBRARY_CACHE_ENV} to a writable directory"
        )),
    }
}

/// `package` at [`VERSION`] from the registry, built into `cache/<package>-<version>/` on first
/// use: a one-package crate depending on exactly that version, and `cargo build -p package`,
/// which builds the dependency's own cdylib. The library is moved into place only once built,
/// so an interrupted build is built again next time.
pub fn published_library(package: &str, cache: &Path) -> Result<PathBuf, String> {
    let dir = cache.join(format!("{package}-{VERSION}"));
    let library = dir.join(format!("lib{}.so", package.replace('-', "_")));
    if library.is_file() {
        return Ok(library);
    }
    let build = dir.join("build");
    let write = |relative: &str, content: String| {
        let path = build.join(relative);
        std::fs::create_dir_all(path.parent().expect("a file in build/"))
            .and_then(|()| std::fs::write(&path, content))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(
        "Cargo.toml",
        format!(
            "# Built by envoyx: the library of {package} {VERSION}, from the registry.\n\
             [package]\nname = \"envoyx-library-build\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[dependencies]\n{package} = \"={VERSION}\"\n\n\
             # Its own workspace, wherever the cache is.\n[workspace]\n"
        ),
    )?;
    write("src/lib.rs", String::new())?;
    eprintln!("envoyx: building {package} {VERSION} from the registry into {} (once)…", dir.display());
    let manifest = build.join("Cargo.toml");
    let built =
        crate::cargo_build(&["--manifest-path", &manifest.to_string_lossy(), "-p", package], package)?;
    let partial = dir.join(format!(".{}.partial", std::process::id()));
    std::fs::copy(&built, &partial)
        .and_then(|_| std::fs::rename(&partial, &library))
        .map_err(|e| format!("cannot put {} at {}: {e}", built.display(), library.display()))?;
    Ok(library)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_crate_knows_its_checkout() {
        // The tests run in the workspace, so the checkout is found and holds this crate.
        let root = checkout().expect("the tests run in the EnvoyX checkout");
        assert!(root.join("rust/build/src/library.rs").is_file());
    }

    #[test]
    fn a_cached_library_is_used_without_building() {
        let cache = std::env::temp_dir().join(format!("envoyx-lib-cache-test-{}", std::process::id()));
        let dir = cache.join(format!("envoyx-testhost-c-{VERSION}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("libenvoyx_testhost_c.so"), b"cached").unwrap();
        let found = published_library("envoyx-testhost-c", &cache).unwrap();
        assert_eq!(std::fs::read(&found).unwrap(), b"cached");
        assert!(!dir.join("build").exists(), "nothing is built for a cached library");
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
