//! Envoy's runtime for modules (ABI 1.2 `runtime_get`).
//!
//! Envoy 1.40 serves its runtime to modules (`get_runtime_bool`, `_number`) on its main thread
//! only: on a worker its getters answer the caller's default (they find the server context
//! through a thread-local the main thread alone has; read off the 1.40.0 binary). A flag a module
//! reads per request is read on a worker, so this host keeps a **copy**: every key a module asks
//! for, read on the main thread — directly when the module asks there (program init, its
//! configuration hooks), and for workers by a refresh the main thread runs when a worker's read
//! finds the copy older than [`REFRESH_AFTER`] (one at a time, posted through a live filter
//! configuration's scheduler). A worker reads the copy, at most about a second old; a key first
//! asked on a worker is not in it yet (refused once, with the reason) and is there after the
//! refresh that ask starts — a module that reads its keys in its configuration hook has them from
//! the first request. Before 1.40 Envoy lets modules read no runtime: the core's refusal says so.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crate::ffi;
use crate::host::{EnvoyConfigHost, RUNTIME_REFRESH_EVENT};

/// How old the workers' copy may get before a read asks the main thread for a new one.
const REFRESH_AFTER: Duration = Duration::from_secs(1);

/// One key of the copy, as the main thread last read it (None: not there as that type).
#[derive(Clone, Copy, Default)]
struct Copy {
    read: bool,
    boolean: Option<bool>,
    number: Option<f64>,
}

#[derive(Default)]
struct Mirror {
    keys: HashMap<String, Copy>,
    refreshed: Option<Instant>,
    /// A refresh was posted to the main thread and has not run yet.
    pending: bool,
    /// Live filter configurations, whose schedulers can post the refresh.
    configs: Vec<Weak<EnvoyConfigHost>>,
}

static MIRROR: Mutex<Option<Mirror>> = Mutex::new(None);
static MAIN_THREAD: OnceLock<ThreadId> = OnceLock::new();

fn with_mirror<T>(f: impl FnOnce(&mut Mirror) -> T) -> T {
    let mut mirror = MIRROR.lock().unwrap_or_else(|e| e.into_inner());
    f(mirror.get_or_insert_with(Mirror::default))
}

/// The core's runtime source on stock Envoy.
pub(crate) struct EnvoyRuntime {
    getters: Option<ffi::RuntimeGetters>,
}

impl EnvoyRuntime {
    /// Looks the getters up; called at program init, on Envoy's main thread.
    pub(crate) fn new() -> Self {
        MAIN_THREAD.get_or_init(|| std::thread::current().id());
        EnvoyRuntime { getters: ffi::RuntimeGetters::lookup() }
    }

    fn getters(&self) -> Result<ffi::RuntimeGetters, String> {
        self.getters.ok_or_else(|| {
            format!("Envoy 1.{} lets modules read no runtime; Envoy 1.40 and later do", ffi::envoy_minor())
        })
    }

    /// `key` read with `read` on the main thread (the copy updated), or from the copy elsewhere.
    fn get<T: std::marker::Copy>(
        &self,
        key: &str,
        pick: impl Fn(&Copy) -> Option<T>,
    ) -> Result<Option<T>, String> {
        let getters = self.getters()?;
        if MAIN_THREAD.get() == Some(&std::thread::current().id()) {
            let copy = read(getters, key);
            with_mirror(|m| m.keys.insert(key.to_string(), copy));
            return Ok(pick(&copy));
        }
        let copy = with_mirror(|m| {
            let copy = *m.keys.entry(key.to_string()).or_default();
            let stale = m.refreshed.is_none_or(|at| at.elapsed() >= REFRESH_AFTER) || !copy.read;
            if stale && !m.pending {
                m.pending = post_refresh(&mut m.configs);
            }
            copy
        });
        if !copy.read {
            return Err(format!(
                "`{key}` is not in EnvoyX's copy of the runtime yet: Envoy 1.40 serves its runtime to modules \
                 on its main thread only, so worker threads read a copy the main thread refreshes (at most \
                 about a second old); a key joins it when first asked (this ask: from the next refresh on), or \
                 from the first request when the module reads it in its configuration hook"
            ));
        }
        Ok(pick(&copy))
    }
}

impl envoyx_core::runtime::RuntimeSource for EnvoyRuntime {
    fn boolean(&self, key: &str) -> Result<Option<bool>, String> {
        self.get(key, |c| c.boolean)
    }
    fn number(&self, key: &str) -> Result<Option<f64>, String> {
        self.get(key, |c| c.number)
    }
}

/// Both types of `key`, read on the main thread.
fn read(getters: ffi::RuntimeGetters, key: &str) -> Copy {
    Copy { read: true, boolean: getters.boolean(key), number: getters.number(key) }
}

/// Posts a refresh through the first live configuration's scheduler; false when none is live.
fn post_refresh(configs: &mut Vec<Weak<EnvoyConfigHost>>) -> bool {
    configs.retain(|c| c.strong_count() > 0);
    configs.iter().filter_map(Weak::upgrade).any(|config| config.commit(RUNTIME_REFRESH_EVENT))
}

/// A filter configuration was made (main thread): its scheduler can post refreshes.
pub(crate) fn register(config: &Arc<EnvoyConfigHost>) {
    with_mirror(|m| m.configs.push(Arc::downgrade(config)));
}

/// The refresh a worker's read posted, on the main thread: every key of the copy read again.
pub(crate) fn refresh() {
    let Some(getters) = ffi::RuntimeGetters::lookup() else { return };
    let keys: Vec<String> = with_mirror(|m| m.keys.keys().cloned().collect());
    let copies: Vec<(String, Copy)> = keys.into_iter().map(|k| (k.clone(), read(getters, &k))).collect();
    with_mirror(|m| {
        m.keys.extend(copies);
        m.refreshed = Some(Instant::now());
        m.pending = false;
    });
}
