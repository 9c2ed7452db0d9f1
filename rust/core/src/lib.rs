//! The EnvoyX runtime, shared by every host (the Envoy extension, the stock-Envoy host, the
//! test host).
//!
//! - [`config`]: `x/config.proto`'s `DynamicModuleConfig`, from protobuf bytes or JSON.
//! - [`ModuleRegistry`]: loads each module file once, checks its symbols and ABI version, runs
//!   its program init.
//! - [`FilterConfig`]: one filter configuration of a module, shared across threads; with
//!   `reload_on_file_change`, a new [`ConfigVersion`] each time its file is replaced (hot reload).
//! - [`Stream`]: one HTTP stream, driven by a host through the event methods, in order; the one
//!   place where the stream rules live. Each call returns what the host must carry out
//!   ([`Outcome`], [`Effects`], [`Action`]).
//! - [`HostStream`]: the primitives a host implements so that a module can see and change the
//!   stream (headers, bodies, the scheduler).
//! - [`validate`]: the checks of everything a module hands the host.
//!
//! ```no_run
//! # use envoyx_core::*;
//! # fn host_for_this_stream() -> Box<dyn HostStream> { unimplemented!() }
//! let config = FilterConfig::from_json(r#"{"file_path": "/path/libmain.so", "filter_config": "x"}"#, None)?;
//! let mut stream = config.new_stream(host_for_this_stream());
//! let outcome = stream.on_request_headers(true)?;
//! for action in outcome.effects {
//!     // carry out the action (reset, local reply, continue), then hand outcome.status on
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub mod lifecycle;
mod load;
pub mod log;
pub mod runtime;
pub mod shared;
mod status;
mod stream;
pub mod sync;
mod vocab;
pub mod workers;

pub use load::{config, oci, remote};
pub use stream::validate;

pub use error::{AbiVersion, ConfigError, Error, EventOrderError, LoadError};
pub use load::config::{ModuleConfig, RemoteModule, RemoteSource};
pub use load::config_version::ConfigVersion;
pub use load::elf::build_ids;
pub use load::filter_config::FilterConfig;
pub use load::module::{
    MissingExport, Module, ModuleFile, ModuleRegistry, accepts, check_file, resolve_exports,
};
pub use load::reload::{POLL as RELOAD_POLL, ReloadStats};
pub use log::{LogLevel, LogSink, set_log_sink};
pub use status::{BodyStatus, HeadersStatus, TrailersStatus};
pub use stream::attributes::Attribute;
pub use stream::background::ConfigHost;
pub use stream::callout::Callout;
pub use stream::callout_data::{CalloutEvent, CalloutStatus};
pub use stream::callout_stream::CalloutInbox;
pub use stream::drive::Stream;
pub use stream::effects::{Action, AnswerPart, Effects, Outcome, OwnedLocalReply};
pub use stream::host::{HostStream, StreamScheduler};
pub use stream::metrics::{
    LABEL_LIMIT, MAX_LABEL_COMBINATIONS, MAX_LABEL_VALUE, MetricDef, MetricKind, MetricLimits, MetricOp,
    OVERFLOW_COUNTER,
};
pub use stream::route::RouteConfig;
pub use stream::stream_info::{MetadataSource, MetadataValue, ValueKind};
pub use vocab::{BodyKind, Direction, HeaderMapKind, LocalReplyStatus, ResetReason};
