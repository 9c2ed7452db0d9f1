//! The core's log sink over the C++ `LogSink` (Envoy's logger), the proxy's worker count and its
//! runtime: what the C++ host tells the core for the whole process.

use envoyx_core::LogLevel;
use std::sync::Arc;

use crate::ffi;

/// Sends every later log message of the core and the modules to a C++ sink (Envoy's logger). A
/// null sink is ignored.
pub fn set_log_sink(sink: cxx::SharedPtr<ffi::LogSink>) {
    if !sink.is_null() {
        envoyx_core::set_log_sink(Arc::new(CxxLog(sink)));
    }
}

/// Tells the core how many worker threads the proxy runs (ABI 1.2 `worker_count`).
pub fn set_worker_count(count: u32) {
    envoyx_core::workers::set_worker_count(count);
}

/// Reads the proxy's runtime through a C++ `Runtime` (ABI 1.2 `runtime_get`). A null one is
/// ignored.
pub fn set_runtime(runtime: cxx::SharedPtr<ffi::Runtime>) {
    if !runtime.is_null() {
        envoyx_core::runtime::set_runtime_source(Arc::new(CxxRuntime(runtime)));
    }
}

/// The core's [`envoyx_core::runtime::RuntimeSource`] over the C++ `Runtime`.
struct CxxRuntime(cxx::SharedPtr<ffi::Runtime>);

impl envoyx_core::runtime::RuntimeSource for CxxRuntime {
    fn boolean(&self, key: &str) -> Result<Option<bool>, String> {
        let mut value = false;
        Ok(self.0.as_ref().is_some_and(|r| r.boolean(key.as_bytes(), &mut value)).then_some(value))
    }
    fn number(&self, key: &str) -> Result<Option<f64>, String> {
        let mut value = 0.0;
        Ok(self.0.as_ref().is_some_and(|r| r.number(key.as_bytes(), &mut value)).then_some(value))
    }
}

/// The core's [`envoyx_core::LogSink`], forwarding to the C++ sink.
struct CxxLog(cxx::SharedPtr<ffi::LogSink>);

impl envoyx_core::LogSink for CxxLog {
    fn enabled(&self, level: LogLevel) -> bool {
        self.0.as_ref().is_some_and(|sink| sink.enabled(ffi::LogLevel { repr: level as u32 }))
    }
    fn log(&self, level: LogLevel, message: &[u8]) {
        if let Some(sink) = self.0.as_ref() {
            sink.log(ffi::LogLevel { repr: level as u32 }, message)
        }
    }
    /// The C++ sink's own source field if it has one, else the core's `[file:line] ` line.
    fn log_at(&self, level: LogLevel, message: &[u8], file: &[u8], line: u32) {
        if let Some(sink) = self.0.as_ref()
            && !sink.log_at(ffi::LogLevel { repr: level as u32 }, message, file, line)
        {
            sink.log(ffi::LogLevel { repr: level as u32 }, &envoyx_core::log::located(message, file, line))
        }
    }
}
