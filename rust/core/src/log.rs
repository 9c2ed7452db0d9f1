//! Where module and core log messages go. A host installs its sink once (Envoy's logger, the
//! test host's recorder); until then messages at info and above go to stderr.
//!
//! One event, one log line: every message, the core's and every module's, reaches the sink with
//! its line breaks and other control characters escaped ([`one_line`]), so bytes a client sent
//! and a module copied into a message (or a header, key, file name or config excerpt the core
//! names in one) cannot split a line or forge another. The same escaping shows bytes in refusal
//! messages ([`Shown`]).

use crate::sync::{read, write};
use envoyx_abi::envoyx_log_level;
use std::borrow::Cow;
use std::fmt;
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
    /// `message` from line `line` of the module's source `file` (ABI 1.2 `log_at`; both already
    /// one line). The default writes `[file:line] message`; a proxy with a source-location field
    /// of its own (Envoy 1.40's `log_v2`) overrides it.
    fn log_at(&self, level: LogLevel, message: &[u8], file: &[u8], line: u32) {
        self.log(level, &located(message, file, line))
    }
}

/// `[file:line] message`: a module's log line with its source location, as a proxy without a
/// source-location field of its own shows it.
pub fn located(message: &[u8], file: &[u8], line: u32) -> Vec<u8> {
    [b"[", file, format!(":{line}] ").as_bytes(), message].concat()
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
    *write(&SINK) = Some(sink);
}

fn with_sink<R>(f: impl FnOnce(&dyn LogSink) -> R) -> R {
    let guard = read(&SINK);
    match guard.as_deref() {
        Some(sink) => f(sink),
        None => f(&Stderr),
    }
}

pub fn enabled(level: LogLevel) -> bool {
    with_sink(|s| s.enabled(level))
}

/// Writes `message` at `level`, as one line ([`one_line`]).
pub fn log(level: LogLevel, message: &[u8]) {
    with_sink(|s| {
        if s.enabled(level) {
            s.log(level, one_line(message).as_bytes())
        }
    })
}

/// Writes `message` at `level` as from line `line` of `file` (ABI 1.2 `log_at`), both as one
/// line.
pub fn log_at(level: LogLevel, message: &[u8], file: &[u8], line: u32) {
    with_sink(|s| {
        if s.enabled(level) {
            s.log_at(level, one_line(message).as_bytes(), one_line(file).as_bytes(), line)
        }
    })
}

/// `bytes` as one line of UTF-8 text: every control character (C0 including tab, DEL, C1), the
/// Unicode line and paragraph separators, and every byte that is not part of valid UTF-8
/// escaped — `\n`, `\r`, `\t`, `\xNN` for a byte, `\u{NNNN}` for a character; everything
/// else, backslashes included, as it is. Borrowed when there is nothing to escape.
pub fn one_line(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text.chars().any(needs_escape)
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    // Writing into a String cannot fail.
    let _ = write_escaped(&mut out, bytes);
    Cow::Owned(out)
}

/// Whether a character is written escaped by [`one_line`].
fn needs_escape(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// Writes `bytes` escaped as [`one_line`] describes.
fn write_escaped(out: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.write_str("\\n")?,
                '\r' => out.write_str("\\r")?,
                '\t' => out.write_str("\\t")?,
                c if c.is_ascii_control() => write!(out, "\\x{:02x}", c as u32)?,
                c if needs_escape(c) => write!(out, "\\u{{{:04x}}}", c as u32)?,
                c => out.write_char(c)?,
            }
        }
        for b in chunk.invalid() {
            write!(out, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

/// Shows bytes a module handed in (a header name or value, a key, a label) inside a message:
/// as [`one_line`] writes them, so what a message quotes stays on its line and every bad byte is
/// visible.
pub struct Shown<'a>(pub &'a [u8]);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0)
    }
}

/// How many distinct lines [`warn_once`] warns about; later ones go to the debug level (a module
/// calling with ever new bad input cannot flood the log).
const MAX_WARNED_ONCE: usize = 64;

/// Logs `line` as a warning the first time this process sees it, at the debug level after: for
/// refusals of calls a module makes per request with no stream to name (the runtime, the
/// shared data), where the same line per request would help no one.
pub fn warn_once(line: &str) {
    static WARNED: std::sync::Mutex<Option<std::collections::HashSet<String>>> = std::sync::Mutex::new(None);
    let first = {
        let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
        let warned = warned.get_or_insert_with(Default::default);
        warned.len() < MAX_WARNED_ONCE && warned.insert(line.to_string())
    };
    log(if first { LogLevel::Warn } else { LogLevel::Debug }, line.as_bytes());
}

/// [`warn_once`] of the refusal of a module's call `what` (no stream to name) for `reason`.
pub(crate) fn refused_once(what: &str, reason: &str) {
    warn_once(&format!("EnvoyX module call {what} refused: {reason}"));
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
    use super::*;

    #[test]
    fn one_line_escapes_controls_separators_and_invalid_utf8() {
        assert!(matches!(
            one_line(b"plain text, a \\ and \xc3\xa9"),
            Cow::Borrowed("plain text, a \\ and \u{e9}")
        ));
        assert_eq!(one_line(b"a\nb\r\nc\td"), "a\\nb\\r\\nc\\td");
        assert_eq!(one_line(b"\0\x1b[31m\x7f"), "\\x00\\x1b[31m\\x7f");
        assert_eq!(one_line("next\u{85}line\u{2028}sep".as_bytes()), "next\\u{0085}line\\u{2028}sep");
        assert_eq!(one_line(b"bad \xff\xfe, cut \xe2\x82"), "bad \\xff\\xfe, cut \\xe2\\x82");
        assert_eq!(Shown(b"x-\r\n").to_string(), "x-\\r\\n");
        for b in 0..=255u8 {
            let bytes = [b'<', b, b'>'];
            let line = one_line(&bytes);
            assert!(!line.chars().any(needs_escape), "byte {b:#x} gave {line:?}");
        }
    }

    #[test]
    fn utc_time_is_the_civil_date() {
        assert_eq!(super::utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(super::utc_time(1_796_054_154), "2026-11-30 15:55:54 UTC");
        assert_eq!(super::utc_time(-1), "1969-12-31 23:59:59 UTC");
    }
}
