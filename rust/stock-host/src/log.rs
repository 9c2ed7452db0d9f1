//! Sends EnvoyX's log (the core's and every module's) to Envoy's `dynamic_modules` logger.

use crate::ffi;
use envoyx_core::{LogLevel, LogSink};

/// The source location shown by Envoy 1.40's `log_v2` (older Envoys show none): `[envoyx:1]`.
/// The sink is given no location, and Envoy (spdlog) prints line 0 as an empty `[:]`.
const SOURCE_FILE: &[u8] = b"envoyx";
const SOURCE_LINE: u32 = 1;

/// Envoy's logger: `log_v2` where the running Envoy has it (1.40+), `log` otherwise.
pub struct EnvoyLog {
    v2: Option<ffi::LogV2>,
}

impl EnvoyLog {
    pub fn new(v2: Option<ffi::LogV2>) -> Self {
        Self { v2 }
    }
}

impl LogSink for EnvoyLog {
    fn enabled(&self, level: LogLevel) -> bool {
        ffi::log_enabled(level as ffi::LogLevel)
    }

    fn log(&self, level: LogLevel, message: &[u8]) {
        match self.v2 {
            Some(v2) => v2.log(level as ffi::LogLevel, message, SOURCE_FILE, SOURCE_LINE),
            None => ffi::log(level as ffi::LogLevel, message),
        }
    }

    /// Envoy 1.40 shows the module's location in its own source field; older ones get the
    /// core's `[file:line] ` prefix.
    fn log_at(&self, level: LogLevel, message: &[u8], file: &[u8], line: u32) {
        match self.v2 {
            Some(v2) => v2.log(level as ffi::LogLevel, message, file, line),
            None => ffi::log(level as ffi::LogLevel, &envoyx_core::log::located(message, file, line)),
        }
    }
}

/// Logs a formatted message through the installed sink.
macro_rules! host_log {
    ($level:ident, $($arg:tt)*) => {
        if envoyx_core::log::enabled(envoyx_core::LogLevel::$level) {
            envoyx_core::log::log(envoyx_core::LogLevel::$level, format!($($arg)*).as_bytes());
        }
    };
}
pub(crate) use host_log;
