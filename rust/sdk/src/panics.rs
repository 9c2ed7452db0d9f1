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

use std::cell::{Cell, RefCell};
use std::panic::UnwindSafe;

thread_local! {
    /// How many SDK catches are running on this thread (nested: a hook inside a hook's drop).
    static CATCHING: Cell<u32> = const { Cell::new(0) };
    /// Where the last panic the SDK caught on this thread happened.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the hook, once per module (per copy of Rust's standard library).
pub(crate) fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CATCHING.with(Cell::get) > 0 {
                let location = info.location().map(|l| l.to_string());
                LOCATION.with(|last| *last.borrow_mut() = location);
            } else {
                previous(info)
            }
        }));
    });
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
    LOCATION.with(|last| last.borrow_mut().take()).map(|l| format!(" (at {l})")).unwrap_or_default()
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
