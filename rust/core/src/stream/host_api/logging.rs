//! The table's logging and error functions (`log_enabled`, `log`, `error_set`, `log_at`).

use super::{lent_sink, view};
use crate::log::LogLevel;
use envoyx_abi::*;

pub(super) unsafe extern "C" fn log_enabled(level: envoyx_log_level) -> bool {
    crate::log::enabled(LogLevel::from_abi(level))
}

pub(super) unsafe extern "C" fn log(level: envoyx_log_level, message: envoyx_bytes) {
    // Safety: the module passes a view valid during the call.
    crate::log::log(LogLevel::from_abi(level), unsafe { view(message) });
}

pub(super) unsafe extern "C" fn log_at(
    level: envoyx_log_level,
    message: envoyx_bytes,
    file: envoyx_bytes,
    line: u32,
) {
    // Safety: the module passes views valid during the call.
    let (message, file) = unsafe { (view(message), view(file)) };
    crate::log::log_at(LogLevel::from_abi(level), message, file, line);
}

pub(super) unsafe extern "C" fn error_set(error: *mut envoyx_error, message: envoyx_bytes) {
    // Safety: used during this call only.
    let Some(sink) = (unsafe { lent_sink(error, "error_set") }) else { return };
    // Safety: the module passes a view valid during the call.
    sink.message = Some(crate::log::Shown(unsafe { view(message) }).to_string());
}
