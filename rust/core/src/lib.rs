//! The EnvoyX runtime, shared by every host (the Envoy extension, the stock-Envoy host, the
//! test host).
//!
//! - [`config`]: `x/config.proto`'s `DynamicModuleConfig`, from protobuf bytes or JSON.
//! - [`ModuleRegistry`]: loads each module file once, checks its symbols and ABI version, runs
//!   its program init.
//! - [`FilterConfig`]: one filter configuration of a module, shared across threads.
//! - [`Stream`]: one HTTP stream, driven by a host through the event methods, in order.
//! - [`HostStream`]: what a host implements so that a module can see and change the stream.
//!
//! ```no_run
//! # use envoyx_core::*;
//! # fn host_for_this_stream() -> Box<dyn HostStream> { unimplemented!() }
//! let config = FilterConfig::from_json(r#"{"file_path": "/path/libmain.so", "filter_config": "x"}"#)?;
//! let mut stream = config.new_stream(host_for_this_stream());
//! let status = stream.on_request_headers(true)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod config;
mod error;
mod filter_config;
mod host;
mod host_api;
pub mod log;
mod module;
mod stream;

pub use config::ModuleConfig;
pub use error::{AbiVersion, ConfigError, Error, EventOrderError, LoadError};
pub use filter_config::FilterConfig;
pub use host::{BodyKind, Direction, HeaderMapKind, HostStream, LocalReply, StreamScheduler};
pub use log::{LogLevel, LogSink, set_log_sink};
pub use module::{Module, ModuleRegistry, accepts, check_file};
pub use stream::{BodyStatus, HeadersStatus, Stream, TrailersStatus};
