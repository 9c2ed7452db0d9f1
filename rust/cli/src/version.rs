//! `envoyx --version`: what this `envoyx` is and speaks, stated from the constants the code runs
//! on (docs/versioning.md says what each promise means).

use envoyx_abi::{ENVOYX_ABI_VERSION_MAJOR as MAJOR, ENVOYX_ABI_VERSION_MINOR as MINOR};

/// The text `envoyx --version` prints.
pub fn text() -> String {
    let version = envoyx_build::VERSION;
    let minors: Vec<String> = (0..=MINOR).map(|minor| format!("{MAJOR}.{minor}")).collect();
    format!(
        "envoyx {version}\n\
         crates:       envoyx-sdk, envoyx-testhost, envoyx-stock-host and the rest at {version}\n\
         Go SDK:       {go_sdk} v{version}\n\
         module ABI:   {MAJOR}.{MINOR}; runs modules built for ABI {accepted}; refuses a module built for a later minor\n\
         Envoy:        {envoys} (official binaries, through the stock host)\n\
         Go toolchain: {go} (`envoyx go`)\n",
        go_sdk = crate::new_go::SDK_MODULE,
        accepted = minors.join(", "),
        envoys = envoyx_envoy_install::VERSIONS.join(", "),
        go = envoyx_envoy_install::GO_VERSION,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn states_the_abi_the_module_sdk_speaks() {
        let text = super::text();
        let abi = envoyx_abi::envoyx_abi_version::CURRENT;
        assert!(text.starts_with(&format!("envoyx {}\n", env!("CARGO_PKG_VERSION"))), "{text}");
        assert!(text.contains(&format!("module ABI:   {}.{};", abi.major, abi.minor)), "{text}");
        assert!(text.contains("runs modules built for ABI 1.0, 1.1,"), "{text}");
        assert!(text.contains("1.40.0"), "{text}");
    }
}
