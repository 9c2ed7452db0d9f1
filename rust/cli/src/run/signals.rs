//! Ctrl-C and SIGTERM: noted, not fatal, so Envoy and the upstream are stopped cleanly.

use std::sync::atomic::{AtomicBool, Ordering};

/// Exit status when a signal came before Envoy was serving (nothing to stop yet).
pub(super) const INTERRUPTED: i32 = 130;

/// Set by SIGINT or SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    STOP.store(true, Ordering::SeqCst);
}

/// SIGINT (Ctrl-C) and SIGTERM set [`STOP`] instead of killing the process, so Envoy and the
/// upstream are stopped cleanly. Envoy itself gets the default dispositions back when it execs.
pub(super) fn catch_stop_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // Safety: a zeroed `sigaction` is valid (no flags, empty mask once sigemptyset has run);
        // the handler is an `extern "C" fn(c_int)` that only stores to an atomic, which is
        // async-signal-safe; the old action is not asked for (null).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

pub(super) fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}
