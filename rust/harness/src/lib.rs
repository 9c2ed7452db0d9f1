//! Runs official Envoy with EnvoyX modules, for `envoyx run`, the end-to-end tests and the
//! benchmarks: the stock-host filter configuration ([`config`]), an Envoy process stopped by PID
//! ([`envoy`]), an echo upstream ([`upstream`]) and a small HTTP/1.1 client ([`http`]).
//!
//! Nothing here panics on bad input or a failing Envoy: errors come back with Envoy's log tail,
//! so the CLI can print them and tests can assert on them.

pub mod config;
pub mod envoy;
pub mod http;
pub mod proxy;
pub mod upstream;

pub use config::{
    Form, LoadBy, bootstrap, envoyx_filter, lds_resources, listener, module_config, write_atomically,
};
pub use envoy::{Envoy, EnvoyCommand, EnvoyConfigFile};
pub use http::{Message, post_chunked, read_message, request};
pub use upstream::Upstream;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use envoyx_envoy_install::VERSIONS;
/// The official Envoy binary of `version`, installed into the cache on first use.
pub use envoyx_envoy_install::envoy_path;

/// A port that was free a moment ago (bound to port 0, then released). Another process may take
/// it before it is used; callers that can should let the server bind port 0 instead.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `libenvoyx_stock_host.so`, built from the workspace's sources (once per process).
pub fn stock_host() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| envoyx_testhost::build_package("envoyx-stock-host")).clone()
}

/// The EnvoyX workspace this crate was built from (where the stock host's sources are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// [`stock_host`] for the CLI: built in the workspace this crate comes from whatever the current
/// directory, and a failed build is an error (with cargo's output), not a panic.
pub fn try_stock_host() -> Result<PathBuf, String> {
    envoyx_testhost::try_build_workspace_package(&workspace_root(), "envoyx-stock-host")
}
