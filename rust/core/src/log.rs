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

/// `seconds` since the Unix epoch as `YYYY-MM-DD hh:mm:ss UTC`, for log lines (days to civil
/// date after Howard Hinnant's `civil_from_days`).
pub fn utc_time(seconds: i64) -> String {
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02} UTC")
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_time_is_the_civil_date() {
        assert_eq!(super::utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(super::utc_time(1_796_054_154), "2026-11-30 15:55:54 UTC");
        assert_eq!(super::utc_time(-1), "1969-12-31 23:59:59 UTC");
    }
}
