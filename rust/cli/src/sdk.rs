//! Where a module `envoyx new` creates gets its EnvoyX dependencies (the SDK, the test host):
//! the registry, or an EnvoyX checkout by path. Shared by the Rust (`new.rs`) and Go
//! (`new_go.rs`) templates.

use std::path::{Path, PathBuf};

/// Where the generated module's EnvoyX dependencies come from.
pub enum Sdk {
    /// The published crates and Go module at `envoyx_build::VERSION`.
    Registry,
    /// The EnvoyX checkout at this path, by path (its `rust/sdk`, `rust/testhost`, `go/`).
    Checkout(PathBuf),
}

impl Sdk {
    /// What the module depends on, for the message after creating it.
    pub fn describe(&self) -> String {
        match self {
            Sdk::Registry => format!("EnvoyX {} from the registry", envoyx_build::VERSION),
            Sdk::Checkout(dir) => format!("the EnvoyX checkout {}", dir.display()),
        }
    }
}

/// Where the module's EnvoyX comes from: the checkout `given` (which must hold the SDK and the
/// test host), else the checkout this binary was built in, else the registry.
pub fn sdk_source(given: Option<&Path>) -> Result<Sdk, String> {
    let Some(given) = given else {
        return Ok(match envoyx_build::checkout().and_then(|dir| std::fs::canonicalize(dir).ok()) {
            Some(dir) => Sdk::Checkout(dir),
            None => Sdk::Registry,
        });
    };
    std::fs::canonicalize(given)
        .ok()
        .filter(|dir| {
            ["rust/sdk/Cargo.toml", "rust/testhost/Cargo.toml", "go/go.mod"]
                .iter()
                .all(|f| dir.join(f).is_file())
        })
        .map(Sdk::Checkout)
        .ok_or_else(|| {
            format!(
                "--sdk-path {}: not an EnvoyX checkout (no rust/sdk, rust/testhost and go/ in it)",
                given.display()
            )
        })
}
