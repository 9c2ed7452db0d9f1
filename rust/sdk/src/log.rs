//! Logging into the host's log, from any thread.

use std::fmt;

use envoyx_abi as abi;
use envoyx_abi::envoyx_bytes;

use crate::host::host;

/// A log level. Values equal `ENVOYX_LOG_*` (and Envoy's levels).
///
/// ```
/// use envoyx_sdk::LogLevel;
///
/// assert!(LogLevel::Debug < LogLevel::Warn);
/// assert_eq!(LogLevel::Error as u32, envoyx_sdk::abi::ENVOYX_LOG_ERROR);
/// ```
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Very detailed tracing.
    Trace = abi::ENVOYX_LOG_TRACE,
    /// Debugging detail.
    Debug = abi::ENVOYX_LOG_DEBUG,
    /// Normal events.
    Info = abi::ENVOYX_LOG_INFO,
    /// Something unexpected that was handled.
    Warn = abi::ENVOYX_LOG_WARN,
    /// Something failed.
    Error = abi::ENVOYX_LOG_ERROR,
    /// Something failed badly.
    Critical = abi::ENVOYX_LOG_CRITICAL,
}

/// Whether the host would write a message at `level`; false before the host initialised the
/// module. The logging macros check this before formatting.
///
/// ```
/// use envoyx_sdk::{LogLevel, log_enabled};
///
/// if log_enabled(LogLevel::Debug) {
///     // build an expensive message only when it will be written
/// }
/// ```
pub fn log_enabled(level: LogLevel) -> bool {
    match host() {
        // Safety: `log_enabled` may be called from any thread at any time (x/abi.h).
        Some(host) => unsafe { (host.log_enabled)(level as u32) },
        None => false,
    }
}

/// Writes `message` to the host's log at `level`. Does nothing before the host initialised the
/// module. Prefer the macros ([`info!`](crate::info) and friends), which format only when the
/// level is enabled.
///
/// ```
/// use envoyx_sdk::{LogLevel, log};
///
/// log(LogLevel::Info, "module ready");
/// ```
pub fn log(level: LogLevel, message: &str) {
    if let Some(host) = host() {
        // Safety: `log` may be called from any thread at any time; the host copies the message
        // during the call (x/abi.h).
        unsafe { (host.log)(level as u32, envoyx_bytes::from_slice(message.as_bytes())) }
    }
}

/// Writes `message` at `level` as from line `line` of the module's source `file` (ABI 1.2
/// `log_at`): Envoy 1.40 shows the location in its own log format's source field, other hosts
/// as a `[file:line] ` prefix. Does nothing before the host initialised the module. The macros
/// pass their caller's location.
///
/// ```
/// use envoyx_sdk::{LogLevel, log_at};
///
/// log_at(LogLevel::Info, file!(), line!(), "module ready");
/// ```
pub fn log_at(level: LogLevel, file: &str, line: u32, message: &str) {
    if let Some(host) = host() {
        // Safety: `log_at` may be called from any thread at any time; the host copies both
        // views during the call (x/abi.h).
        unsafe {
            (host.log_at)(
                level as u32,
                envoyx_bytes::from_slice(message.as_bytes()),
                envoyx_bytes::from_slice(file.as_bytes()),
                line,
            )
        }
    }
}

/// Formats `args` and writes them at `level` as from `file`:`line`, only if the level is
/// enabled. This is what the logging macros call, with their caller's location.
///
/// ```
/// use envoyx_sdk::{LogLevel, log_args_at};
///
/// log_args_at(LogLevel::Warn, file!(), line!(), format_args!("{} retries left", 3));
/// ```
pub fn log_args_at(level: LogLevel, file: &str, line: u32, args: fmt::Arguments<'_>) {
    if !log_enabled(level) {
        return;
    }
    match args.as_str() {
        Some(message) => log_at(level, file, line, message),
        None => log_at(level, file, line, &args.to_string()),
    }
}

/// Formats `args` and writes them at `level`, only if the level is enabled, without a source
/// location ([`log_args_at`] has one).
///
/// ```
/// use envoyx_sdk::{LogLevel, log_args};
///
/// log_args(LogLevel::Warn, format_args!("{} retries left", 3));
/// ```
pub fn log_args(level: LogLevel, args: fmt::Arguments<'_>) {
    if !log_enabled(level) {
        return;
    }
    match args.as_str() {
        Some(message) => log(level, message),
        None => log(level, &args.to_string()),
    }
}

/// Logs at trace level: `trace!("format {}", args)`, with the caller's file and line (as every
/// logging macro here does; see [`log_at`]). Formats only if the level is enabled.
///
/// ```
/// envoyx_sdk::trace!("chunk of {} bytes", 42);
/// ```
#[macro_export]
macro_rules! trace {
    ($($arg:tt)+) => {
        $crate::log_args_at($crate::LogLevel::Trace, ::core::file!(), ::core::line!(), ::core::format_args!($($arg)+))
    };
}

/// Logs at debug level: `debug!("format {}", args)`. Formats only if the level is enabled.
///
/// ```
/// envoyx_sdk::debug!("stream state: {:?}", (1, 2));
/// ```
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => {
        $crate::log_args_at($crate::LogLevel::Debug, ::core::file!(), ::core::line!(), ::core::format_args!($($arg)+))
    };
}

/// Logs at info level: `info!("format {}", args)`. Formats only if the level is enabled.
///
/// ```
/// envoyx_sdk::info!("request to {}", "/index.html");
/// ```
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => {
        $crate::log_args_at($crate::LogLevel::Info, ::core::file!(), ::core::line!(), ::core::format_args!($($arg)+))
    };
}

/// Logs at warn level: `warn!("format {}", args)`. Formats only if the level is enabled.
///
/// ```
/// envoyx_sdk::warn!("ignoring header {:?}", "x-bad");
/// ```
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => {
        $crate::log_args_at($crate::LogLevel::Warn, ::core::file!(), ::core::line!(), ::core::format_args!($($arg)+))
    };
}

/// Logs at error level: `error!("format {}", args)`. Formats only if the level is enabled.
///
/// ```
/// envoyx_sdk::error!("upstream answered {}", 503);
/// ```
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => {
        $crate::log_args_at($crate::LogLevel::Error, ::core::file!(), ::core::line!(), ::core::format_args!($($arg)+))
    };
}

/// Logs at critical level: `critical!("format {}", args)`. Formats only if the level is enabled.
///
/// ```
/// envoyx_sdk::critical!("state corrupted: {}", "details");
/// ```
#[macro_export]
macro_rules! critical {
    ($($arg:tt)+) => {
        $crate::log_args_at($crate::LogLevel::Critical, ::core::file!(), ::core::line!(), ::core::format_args!($($arg)+))
    };
}
