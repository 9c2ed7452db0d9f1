//! `envoyx run`: EnvoyX modules served through official Envoy, via the stock host.
//!
//! - With no `--module`: the demo. Every example module, built from the workspace, in one filter
//!   chain on 127.0.0.1:10000, each enabled only on its own path prefix (`/helloworld`,
//!   `/headers`, ...), in front of a built-in echo upstream; the curl lines to try are printed.
//! - `--module PATH[=FILTER_CONFIG]` (repeatable): those modules, chained in order, on every path.
//! - `--watch DIR[=FILTER_CONFIG]`: the module crate in DIR, built, served, and rebuilt and swapped
//!   in (hot reload) each time one of its files changes ([`watch`]).
//! - `--config FILE`: the user's own Envoy config, run as it is, with the stock host findable by
//!   name (`ENVOY_DYNAMIC_MODULES_SEARCH_PATH`).
//!
//! Envoy is installed on first use, started with its log in a temporary directory (module log
//! lines and warnings are copied to stderr), and stopped with SIGTERM on Ctrl-C or SIGTERM.
//!
//! The parts: [`options`] reads the command line; [`serve`] builds the modules and the Envoy
//! config and starts Envoy (the examples come from [`crate::catalogue`]); [`supervise`] waits for
//! it, then stops it on a signal ([`signals`]) or reports its failure; [`banner`] prints what to
//! try once it is ready; [`log_follow`] copies Envoy's log to stderr meanwhile.

mod banner;
mod log_follow;
mod options;
mod serve;
mod signals;
mod supervise;
mod watch;

#[cfg(test)]
pub use banner::client_base;
#[cfg(test)]
pub use options::DEFAULT_LISTEN;

use options::{Options, Parsed, USAGE};
use signals::{INTERRUPTED, catch_stop_signals, stop_requested};

pub fn run(args: &[String]) -> i32 {
    let options = match Options::parse(args) {
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return 0;
        }
        Ok(Parsed::Run(options)) => options,
        Err(e) => {
            eprintln!("envoyx run: {e}\n(see `envoyx run --help`)");
            return 2;
        }
    };
    catch_stop_signals();
    match serve::serve(&options) {
        Ok(code) => code,
        // Ctrl-C during a build reaches cargo too, which fails: that is the interruption, not
        // an error to report.
        Err(_) if stop_requested() => {
            eprintln!("envoyx run: interrupted");
            INTERRUPTED
        }
        Err(e) => {
            eprintln!("envoyx run: {e}");
            1
        }
    }
}
