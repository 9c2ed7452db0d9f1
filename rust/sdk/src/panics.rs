//! Panics as one log line each. The SDK catches every panic of the module's code it calls (and
//! of [`crate::thread::spawn`]'s jobs) and logs it through the host, where it becomes one line
//! of the proxy's log. Rust's default panic hook would also print it to stderr — several lines
//! ("thread … panicked at …", the message, a backtrace note) in the middle of Envoy's log when
//! Envoy logs to stderr, as it does in containers. So at program init the SDK installs a hook
//! that, for a panic the SDK is catching, only remembers where it happened (for its log line);
//! any other panic goes to the hook that was there before (Rust's default), unchanged. A module
//! that sets a panic hook of its own replaces this one. Only a module loaded from its file
//! installs it: linked into a program (the in-process test mode), the module shares the
//! program's standard library, and the program's hook stays as it is.

use crate::log::{LogLevel, log};
use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, UnwindSafe};

thread_local! {
    // Neither has a destructor: a thread-local destructor of module code would keep the module
    // mapped as long as the proxy's thread lives (see `thread.rs`).
    /// How many SDK catches are running on this thread (nested: a hook inside a hook's drop).
    static CATCHING: Cell<u32> = const { Cell::new(0) };
    /// Where the last panic the SDK caught on this thread happened.
    static LOCATION: Cell<Option<Where>> = const { Cell::new(None) };
}

/// A panic's location, copied (a file name of up to 160 bytes, cut beyond).
#[derive(Clone, Copy)]
struct Where {
    file: [u8; 160],
    file_len: u8,
    line: u32,
    column: u32,
}

impl Where {
    fn of(location: &std::panic::Location<'_>) -> Self {
        let name = location.file().as_bytes();
        let mut file = [0; 160];
        let file_len = name.len().min(file.len());
        file[..file_len].copy_from_slice(&name[..file_len]);
        Self { file, file_len: file_len as u8, line: location.line(), column: location.column() }
    }
}

/// The hook that was there before [`install`] (Rust's default in a freshly loaded module).
type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;
static PREVIOUS: std::sync::OnceLock<Hook> = std::sync::OnceLock::new();

/// Installs the hook, once per module (per copy of Rust's standard library). Nothing is
/// allocated: the hook is a plain function and Rust's default hook a zero-sized one, so a module
/// unloaded later leaves no heap block behind (valgrind would count one per load as lost).
pub(crate) fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = PREVIOUS.set(std::panic::take_hook());
        std::panic::set_hook(Box::new(hook));
    });
}

/// For a panic the SDK is catching, remembers where it happened; any other goes on to the hook
/// that was there before.
fn hook(info: &std::panic::PanicHookInfo<'_>) {
    if CATCHING.with(Cell::get) > 0 {
        LOCATION.with(|last| last.set(info.location().map(Where::of)));
    } else if let Some(previous) = PREVIOUS.get() {
        previous(info)
    }
}

/// `std::panic::catch_unwind`, telling the hook that the SDK catches (and logs) what panics.
pub(crate) fn catch_unwind<F: FnOnce() -> R + UnwindSafe, R>(f: F) -> std::thread::Result<R> {
    CATCHING.with(|c| c.set(c.get() + 1));
    let result = std::panic::catch_unwind(f);
    CATCHING.with(|c| c.set(c.get() - 1));
    result
}

/// Where the panic just caught on this thread happened (` (at src/lib.rs:12:5)`), or "".
pub(crate) fn take_location() -> String {
    let Some(at) = LOCATION.with(Cell::take) else { return String::new() };
    let file = String::from_utf8_lossy(&at.file[..usize::from(at.file_len)]);
    format!(" (at {file}:{}:{})", at.line, at.column)
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "(non-string panic payload)"
    }
}

/// Logs a caught panic at error level, then drops its payload (whose own `Drop` could panic too).
/// Returns the panic's message.
pub(crate) fn report_panic(what: &str, payload: Box<dyn Any + Send>) -> String {
    let (message, location) = take_panic(payload);
    log(LogLevel::Error, &format!("envoyx module panicked in {what}: {message}{location}"));
    message
}

/// What a stream hook's caught panic tells the host (`hook_failed`), which logs it and ends the
/// stream: `panicked in <what>: <message> (at <file>:<line>:<column>)`. Drops the payload.
pub(crate) fn panic_reason(what: &str, payload: Box<dyn Any + Send>) -> String {
    let (message, location) = take_panic(payload);
    format!("panicked in {what}: {message}{location}")
}

/// The message and location of the panic just caught on this thread; drops its payload (whose
/// own `Drop` could panic too).
fn take_panic(payload: Box<dyn Any + Send>) -> (String, String) {
    let message = panic_message(&*payload).to_owned();
    let location = take_location();
    if let Err(nested) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(nested);
    }
    (message, location)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caught_panic_leaves_its_location_and_others_reach_the_previous_hook() {
        install();
        let caught = catch_unwind(|| panic!("caught by the SDK"));
        assert!(caught.is_err());
        let location = take_location();
        assert!(location.starts_with(" (at ") && location.contains("panics.rs"), "{location:?}");
        assert_eq!(take_location(), "", "taken once");
        // Outside an SDK catch the previous hook runs (the test harness's own capture).
        let plain = std::panic::catch_unwind(|| panic!("not the SDK's"));
        assert!(plain.is_err());
        assert_eq!(take_location(), "", "not recorded");
    }
}
