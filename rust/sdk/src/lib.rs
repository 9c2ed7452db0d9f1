//! Write EnvoyX HTTP filters in safe Rust.
//!
//! A module is a `cdylib` that implements two traits and calls one macro:
//!
//! - [`FilterConfig`]: built once per filter configuration (on the main thread) from the
//!   configuration's `name` and `filter_config` bytes, then shared by every stream on every worker
//!   thread, so it is `Send + Sync`. It makes one [`Filter`] per HTTP stream.
//! - [`Filter`]: the per-stream state. Its hooks get a [`Stream`], the view of the host's stream
//!   (headers, bodies, local replies), and return a status such as [`HeadersStatus::Continue`].
//!   Every hook has a default that passes the stream through, so a filter writes only the hooks it
//!   needs.
//! - [`export_module!`]: exports the 13 `envoyx_*` functions of `x/abi.h` for the config type.
//!
//! ```rust,standalone_crate
//! use envoyx_sdk::{Filter, FilterConfig, HeadersStatus, Stream};
//!
//! /// Shared by all streams: the value to put in `x-greeting`.
//! struct GreetingConfig {
//!     greeting: String,
//! }
//!
//! impl FilterConfig for GreetingConfig {
//!     type Filter = GreetingFilter;
//!
//!     fn new(_name: &str, config: &[u8]) -> Result<Self, String> {
//!         let greeting = std::str::from_utf8(config).map_err(|e| e.to_string())?;
//!         Ok(GreetingConfig { greeting: greeting.to_owned() })
//!     }
//!
//!     fn new_filter(&self) -> GreetingFilter {
//!         GreetingFilter { greeting: self.greeting.clone() }
//!     }
//! }
//!
//! /// One per stream.
//! struct GreetingFilter {
//!     greeting: String,
//! }
//!
//! impl Filter for GreetingFilter {
//!     fn on_request_headers(&mut self, stream: &mut Stream, _end_of_stream: bool) -> HeadersStatus {
//!         stream.request_headers().set("x-greeting", &self.greeting);
//!         envoyx_sdk::info!("greeted with {}", self.greeting);
//!         HeadersStatus::Continue
//!     }
//! }
//!
//! envoyx_sdk::export_module!(GreetingConfig);
//! ```
//!
//! # What the SDK guarantees
//!
//! - **No panic crosses into the host.** A panic in a stream hook (and in
//!   [`FilterConfig::new_filter`]) is caught and reported to the host (`hook_failed`, ABI 1.2),
//!   which ends the stream as it does for every module: a 500 local reply (details
//!   `envoyx_module_panic`) from a request-path hook while the response has not started, a reset
//!   from a response-path hook, a 500 for a stream whose filter could not be made; it logs one
//!   error line with the hook's name, the message and where the panic happened, and calls no
//!   further hook of that filter (the filter is still dropped). In [`FilterConfig::new`] a panic
//!   rejects the configuration (`panicked: <message>`). Each panic is one log line: for the panics it catches, the
//!   SDK's panic hook (installed at program init of a module loaded from its file) keeps Rust's
//!   default hook from also printing them to stderr, where they would split the proxy's log;
//!   other panics reach the hook that was there before. A panic hook the module sets replaces
//!   the SDK's.
//! - **Views cannot dangle.** [`HeaderMap`] and [`Body`] borrow the [`Stream`] mutably, and every
//!   view they hand out borrows them, so the borrow checker rejects changing a map or a body while
//!   a view into it is alive, and no view can outlive the hook.
//! - **Threads.** A [`Stream`] is neither `Send` nor `Sync`: it stays on the stream's worker
//!   thread inside the hook. A [`ContinueHandle`] goes anywhere.
//! - **Re-entry.** If the host calls a hook of a stream while another hook of the same stream is
//!   running (for example when a local reply passes back through this filter), the inner hook is
//!   not delivered to the filter and returns `Continue`, so the filter is never borrowed twice.
//!
//! Logging works from any thread once the host has initialised the module, through [`log()`] and
//! the macros [`trace!`], [`debug!`], [`info!`], [`warn!`], [`error!`] and [`critical!`].
#![warn(missing_docs)]

mod answer;
mod body;
mod callout;
#[doc(hidden)]
pub mod dispatch;
mod filter;
mod flow_control;
mod goaway;
pub mod grpc;
mod handle;
mod headers;
mod host;
mod log;
mod metrics;
mod panics;
mod recreate;
mod runtime;
pub mod shared;
mod status;
mod stream;
mod stream_info;
pub mod thread;
mod timing;
mod tracing;
mod workers;

/// The raw ABI (`x/abi.h` mirrored in Rust), for the rare escape hatch such as
/// [`Stream::as_raw`]. Filters never need it.
pub use envoyx_abi as abi;

pub use body::{Body, BodyReader, Chunks, ChunksMut};
pub use callout::{CalloutBody, CalloutError, CalloutEvent, CalloutHeaders, CalloutId, CalloutResponse};
pub use dispatch::{module_exports, module_exports_with_routes};
pub use filter::{Filter, FilterConfig, RouteConfig};
pub use handle::{ConfigHandle, ContinueHandle, StreamHandle};
pub use headers::{HeaderIter, HeaderMap};
pub use log::{LogLevel, log, log_args, log_args_at, log_at, log_enabled};
pub use metrics::{Counter, Gauge, Histogram, INLINE_LABELS, LABEL_LIMIT};
pub use runtime::{runtime_bool, runtime_number};
pub use status::{
    BodyKind, BodyStatus, Direction, HeaderMapKind, HeadersStatus, LocalReplyStatus, ResetReason,
    TrailersStatus,
};
pub use stream::Stream;
pub use stream_info::{Attribute, MetadataSource, MetadataValue};
pub use timing::Timing;
pub use tracing::SpanId;
pub use workers::worker_count;

/// The host's function table (`x/abi.h`'s `envoyx_host_api`), once the host has initialised
/// the module; None before. For a call the safe API cannot express, such as handing the host
/// bytes that are not UTF-8 where the ABI takes bytes (what a C module can do, and the host must
/// refuse). Calling its functions is `unsafe` and follows `x/abi.h`; a stream's pointer is
/// [`Stream::as_raw`].
pub fn host_api() -> Option<&'static abi::envoyx_host_api> {
    host::host()
}
