//! Upstream Envoy's dynamic-modules ABI: the items this host uses, declared here from
//! `docs/upstream-abi.md` (not copied from upstream's `abi.h`), with safe wrappers beside each.
//!
//! One file per topic, each callback declared beside the safe wrapper that calls it. Only
//! callbacks that Envoy 1.38.3, 1.39.3 and 1.40.0 all export are declared: a Rust cdylib is
//! linked with BIND_NOW, so a reference to a callback the running Envoy lacks would make dlopen
//! fail. Version-specific callbacks are looked up at run time (`process.rs`: [`LogV2`],
//! `has_filter_state`, runtime, timing; `secrets.rs`).

mod callouts;
mod filter;
mod metrics;
mod process;
mod scheduler;
mod secrets;
mod stream_info;
mod tracing;
mod types;

pub use callouts::*;
pub use filter::*;
pub use metrics::*;
use process::has_filter_state_callback;
pub use process::*;
pub use scheduler::*;
pub use secrets::subscribe_secret;
pub use stream_info::attribute_unserved;
pub use tracing::*;
pub use types::*;
