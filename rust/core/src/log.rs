//! Where module and core log messages go. A host installs its sink once (Envoy's logger, the
//! test host's recorder); until then messages at info and above go to stderr.

use envoyx_abi::envoyx_log_level;
use std::sync::{Arc, RwLock};

/// Log levels; values equal Envoy's and `envoyx_log_level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u32)]
pub enum LogLevel {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
    Critical = 5,
}

impl LogLevel {
    /// The level for an ABI value; unknown values count as errors so they are not lost.
    pub fn from_abi(value: envoyx_log_level) -> Self {
        match value {
            0 => Self::Trace,
            1 => Self::Debug,
            2 => Self::Info,
            3 => Self::Warn,
            5 => Self::Critical,
            _ => Self::Error,
        }
    }
}

/// A destination for log messages. Called from any thread.
pub trait LogSink: Send + Sync {
    fn enabled(&self, level: LogLevel) -> bool;
    fn log(&self, level: LogLevel, message: &[u8]);
}

struct Stderr;

impl LogSink for Stderr {
    fn enabled(&self, level: LogLevel) -> bool {
        level >= LogLevel::Info
    }
    fn log(&self, level: LogLevel, message: &[u8]) {
        eprintln!("[envoyx][{level:?}] {}", String::from_utf8_lossy(message));
    }
}

static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);

/// Sends every later message to `sink`.
pub fn set_log_sink(sink: Arc<dyn LogSink>) {
    *SINK.write().unwrap_or_else(|e| e.into_inner()) = Some(sink);
}

fn with_sink<R>(f: impl FnOnce(&dyn LogSink) -> R) -> R {
    let guard = SINK.read().unwrap_or_else(|e| e.into_inner());
    match guard.as_deref() {
        Some(sink) => f(sink),
        None => f(&Stderr),
    }
}

pub fn enabled(level: LogLevel) -> bool {
    with_sink(|s| s.enabled(level))
}

pub fn log(level: LogLevel, message: &[u8]) {
    with_sink(|s| {
        if s.enabled(level) {
            s.log(level, message)
        }
    })
}

/// Logs a formatted message from the core itself.
macro_rules! core_log {
    ($level:ident, $($arg:tt)*) => {
        if $crate::log::enabled($crate::log::LogLevel::$level) {
            $crate::log::log($crate::log::LogLevel::$level, format!($($arg)*).as_bytes());
        }
    };
}
pub(crate) use core_log;
