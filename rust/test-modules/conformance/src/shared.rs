//! The `shared` module behaviour (ABI 1.2: data and functions shared across the process's
//! modules), in the request headers hook, told back as `x-conf-results`:
//!
//! - `absent`, `first`, `again`, `read`, `stale`, `update`, `removed`: a key of its own (no
//!   other stream or module of the process uses it) read absent, set where absent, not set
//!   again where absent, read back, not set over a stale version, updated, removed;
//! - `bad`: a key with a space refused;
//! - `function`: a function this module registers under its name (the first to register wins,
//!   another module's copy of it included) found and called: `function=42` for 21 doubled.
//!
//! The `shared-cross` behaviour (rust/stock-host/tests/shared.rs, two module files in one
//! Envoy) tells back `x-conf-shared`: the value of `envoyx.conformance.cross` (then sets it to the
//! request's `x-conf-set`, if any), what the function registered by whichever module came first
//! returns for 21, and what `envoyx.test.upstream_triple` (a module's on upstream's ABI, found in
//! Envoy's registry) returns for 7.

use std::sync::atomic::{AtomicU64, Ordering};

use envoyx_sdk::shared::{self, Expect, SharedError};

extern "C" fn double(x: u64) -> u64 {
    x * 2
}

/// The shared function's name and type.
const DOUBLE: &str = "envoyx.conformance.double";
type Double = extern "C" fn(u64) -> u64;

/// Registers the function (true also when a copy of this module registered its own first).
fn register() -> bool {
    shared::register_function(DOUBLE, double as Double) || {
        // Safety: every copy of this module registers `DOUBLE` as `Double`.
        unsafe { shared::function::<Double>(DOUBLE) }.is_some()
    }
}

fn call_double(x: u64) -> String {
    // Safety: registered as `Double` (above).
    match unsafe { shared::function::<Double>(DOUBLE) } {
        Some(f) => f(x).to_string(),
        None => "none".to_string(),
    }
}

/// A key no other stream or module copy of this process uses.
fn own_key() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("envoyx.conformance.shared.{}.{:p}.{n}", std::process::id(), &NEXT)
}

fn shown(result: Result<(), SharedError>) -> &'static str {
    match result {
        Ok(()) => "ok",
        Err(SharedError::Changed) => "changed",
        Err(SharedError::Refused) => "refused",
        Err(SharedError::NoHost) => "no-host",
    }
}

/// The results of the `shared` behaviour.
pub(crate) fn shared_case() -> String {
    let key = own_key();
    let absent = matches!(shared::get(&key), Ok(None));
    let first = shown(shared::set(&key, b"one", Expect::Absent));
    let again = shown(shared::set(&key, b"two", Expect::Absent));
    let read = shared::get(&key).ok().flatten();
    let value = read.as_ref().map_or("none".into(), |r| String::from_utf8_lossy(&r.value).into_owned());
    let version = read.map_or(0, |r| r.version);
    let _ = shared::set(&key, b"two", Expect::Version(version));
    let stale = shown(shared::set(&key, b"three", Expect::Version(version)));
    let update = shared::update(&key, |now| [now.unwrap_or_default(), b"+"].concat())
        .map_or("refused".into(), |v| String::from_utf8_lossy(&v).into_owned());
    let removed = shared::remove(&key).is_ok() && matches!(shared::get(&key), Ok(None));
    let bad = shown(shared::set("has space", b"v", Expect::Any));
    let function = if register() { call_double(21) } else { "unregistered".to_string() };
    format!(
        "absent={absent},first={first},again={again},read={value},stale={stale},update={update},\
         removed={removed},bad={bad},function={function}"
    )
}

/// The results of the `shared-cross` behaviour: what the other module set before, and the
/// shared function's answer.
pub(crate) fn shared_cross(set: Option<&str>) -> String {
    register();
    let key = "envoyx.conformance.cross";
    let before = match shared::get(key) {
        Ok(Some(v)) => String::from_utf8_lossy(&v.value).into_owned(),
        Ok(None) => "none".to_string(),
        Err(e) => e.to_string(),
    };
    if let Some(value) = set {
        let _ = shared::set(key, value.as_bytes(), Expect::Any);
    }
    // Safety: the probe module on upstream's ABI registers it as `Double`'s type (u64 -> u64).
    let upstream = match unsafe { shared::function::<Double>("envoyx.test.upstream_triple") } {
        Some(triple) => triple(7).to_string(),
        None => "none".to_string(),
    };
    format!("before={before},function={},upstream={upstream}", call_double(21))
}
