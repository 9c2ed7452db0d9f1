//! Runs official Envoy with EnvoyX modules, for `envoyx run`, the end-to-end tests and the
//! benchmarks: the stock-host filter configuration ([`config`]), an Envoy process stopped by PID
//! ([`envoy`]), an echo upstream ([`upstream`]) and a small HTTP/1.1 client ([`http`]).
//!
//! Nothing here panics on bad input or a failing Envoy: errors come back with Envoy's log tail,
//! so the CLI can print them and tests can assert on them.

pub mod auth;
pub mod config;
pub mod envoy;
pub mod file_server;
pub mod grpc_health;
pub mod http;
pub mod proxy;
pub mod registry;
pub mod upstream;

pub use auth::AuthServer;
pub use config::{
    Form, LoadBy, bootstrap, envoyx_filter, envoyx_per_route, lds_resources, listener, module_config,
    write_atomically,
};
pub use envoy::{Envoy, EnvoyCommand, EnvoyConfigFile, body_bytes_copied, mapped_files};
pub use file_server::FileServer;
pub use grpc_health::GrpcHealthServer;
pub use http::{Message, keep_alive_until, post_chunked, read_message, request};
pub use registry::{Registry, RegistryOptions, ensure_debian_packages};
pub use upstream::Upstream;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use envoyx_envoy_install::VERSIONS;
/// The official Envoy binary of `version`, installed into the cache on first use.
pub use envoyx_envoy_install::envoy_path;

/// A port of 127.0.0.1 that was free a moment ago, for a server that must be told its port
/// (Envoy's listeners and admin).
///
/// Ports come from below the kernel's ephemeral range (32768 and up on Linux): a port the kernel
/// picked for "bind to 0" is also one it may pick as the source port of an outgoing connection
/// (Envoy's to its upstream), which would then hold it when Envoy binds it. Each process walks
/// the range from its own starting point and never hands out a port twice, so parallel tests in
/// one process never collide and separate processes rarely do.
pub fn free_port() -> std::io::Result<u16> {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 20_000;
    const COUNT: u32 = 12_000; // up to 31999
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let start = std::process::id().wrapping_mul(7919) % COUNT;
    let _ = NEXT.compare_exchange(u32::MAX, start, Ordering::Relaxed, Ordering::Relaxed);
    for _ in 0..COUNT {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % COUNT;
        let port = u16::try_from(FIRST + offset).expect("the range is below 65536");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AddrInUse, "no free port in 127.0.0.1:20000-31999"))
}

/// `libenvoyx_stock_host.so`, built from the workspace's sources (once per process).
pub fn stock_host() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| envoyx_build::build_package("envoyx-stock-host")).clone()
}

/// The EnvoyX workspace this crate was built from (where the stock host's sources are).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// [`stock_host`] for the CLI: built in the EnvoyX checkout this crate comes from whatever the
/// current directory, or, installed from a registry, the published stock host of this version
/// ([`envoyx_build::envoyx_library`]); a failed build is an error (with cargo's output), not a
/// panic.
pub fn try_stock_host() -> Result<PathBuf, String> {
    envoyx_build::envoyx_library("envoyx-stock-host")
}

/// Locks `mutex` even if a thread panicked while holding it (a test's panic must not turn every
/// later request of the shared servers into a second panic). The harness does not depend on the
/// core, whose `envoyx_core::sync::lock` is the same.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
