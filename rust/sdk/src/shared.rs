//! What the modules of one proxy process share (ABI 1.2): values by key, read and changed with
//! compare-and-set, and functions by name. Any thread, from the module's program init on.
//!
//! The shared data is the proxy's (the host keeps copies): a value outlives the module that set
//! it, hot reloads included, until some module removes it. Keys are 1 to 256 bytes of printable
//! ASCII without spaces; start them with your filter's name (`ratelimit.tenant.acme`). A value
//! is at most [`MAX_VALUE`] bytes; the whole store is bounded (x/abi.h).
//!
//! ```
//! use envoyx_sdk::shared;
//!
//! /// Counts requests across every worker and every module of the proxy.
//! fn count_request() -> Option<u64> {
//!     let total = shared::update("my_filter.requests", |now| {
//!         let n = now.and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok()).unwrap_or(0);
//!         (n + 1).to_string().into_bytes()
//!     });
//!     total.ok().and_then(|v| String::from_utf8(v).ok()?.parse().ok())
//! }
//! # let _ = count_request;
//! ```

use crate::host::host;
use envoyx_abi::*;

/// The longest shared value, in bytes.
pub const MAX_VALUE: usize = ENVOYX_SHARED_MAX_VALUE;

/// A shared value as read, with its version (for [`set`] with [`Expect::Version`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versioned {
    /// The value's bytes (a copy).
    pub value: Vec<u8>,
    /// Its version: changes with every set, never reused.
    pub version: u64,
}

/// Which value [`set`] expects under the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Whatever is there: set unconditionally.
    Any,
    /// Nothing: the first of many to set wins.
    Absent,
    /// The value of this version, as [`get`] read it.
    Version(u64),
}

/// Why a shared data call did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedError {
    /// The key holds another value than [`set`] expected: read it again and retry.
    Changed,
    /// The host refused the call: a bad key, a value over [`MAX_VALUE`], a full store (the
    /// proxy's log says which, once).
    Refused,
    /// No host table yet (before the module's program init).
    NoHost,
}

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SharedError::Changed => "the shared value changed since it was read",
            SharedError::Refused => "the host refused the shared data call (its log says why)",
            SharedError::NoHost => "no host yet (before program init)",
        })
    }
}

impl std::error::Error for SharedError {}

/// Reads the shared value of `key`: None when it holds none.
pub fn get(key: &str) -> Result<Option<Versioned>, SharedError> {
    let host = host().ok_or(SharedError::NoHost)?;
    let mut buffer = vec![0u8; 256];
    loop {
        let (mut len, mut version) = (0usize, 0u64);
        // Safety: any thread, any time (x/abi.h); the key is read during the call, the buffer,
        // `len` and `version` are ours to write.
        let status = unsafe {
            (host.shared_data_get)(
                envoyx_bytes::from_slice(key.as_bytes()),
                envoyx_slice::from_mut_slice(&mut buffer),
                &mut len,
                &mut version,
            )
        };
        match status {
            ENVOYX_SHARED_OK => {
                buffer.truncate(len);
                return Ok(Some(Versioned { value: buffer, version }));
            }
            ENVOYX_SHARED_ABSENT => return Ok(None),
            // Another thread may make it longer again before the next read: loop until it fits.
            ENVOYX_SHARED_TOO_SMALL => buffer.resize(len, 0),
            _ => return Err(SharedError::Refused),
        }
    }
}

/// Stores `value` under `key` if the key holds what `expect` says; an empty value removes it.
pub fn set(key: &str, value: &[u8], expect: Expect) -> Result<(), SharedError> {
    let host = host().ok_or(SharedError::NoHost)?;
    let cas = match expect {
        Expect::Any => ENVOYX_SHARED_CAS_ANY,
        Expect::Absent => ENVOYX_SHARED_CAS_ABSENT,
        Expect::Version(version) => version,
    };
    // Safety: any thread, any time (x/abi.h); the host copies the views during the call.
    let status = unsafe {
        (host.shared_data_set)(envoyx_bytes::from_slice(key.as_bytes()), envoyx_bytes::from_slice(value), cas)
    };
    match status {
        ENVOYX_SHARED_OK => Ok(()),
        ENVOYX_SHARED_CAS_MISMATCH => Err(SharedError::Changed),
        _ => Err(SharedError::Refused),
    }
}

/// Removes `key` (whatever it holds).
pub fn remove(key: &str) -> Result<(), SharedError> {
    set(key, &[], Expect::Any)
}

/// Replaces the value of `key` by `f` of it (None when absent), retrying while another thread
/// or module changes it in between; returns what was stored. `f` may run more than once.
pub fn update(key: &str, mut f: impl FnMut(Option<&[u8]>) -> Vec<u8>) -> Result<Vec<u8>, SharedError> {
    loop {
        let now = get(key)?;
        let next = f(now.as_ref().map(|v| v.value.as_slice()));
        let expect = now.map_or(Expect::Absent, |v| Expect::Version(v.version));
        match set(key, &next, expect) {
            Ok(()) => return Ok(next),
            Err(SharedError::Changed) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A C function one module shares with the others ([`register_function`], [`function`]):
/// `extern "C" fn` and `unsafe extern "C" fn` of up to four arguments.
pub trait SharedFunction: Copy {
    /// The function as the ABI carries it.
    fn erase(self) -> unsafe extern "C" fn();
    /// The function back from the ABI.
    ///
    /// # Safety
    /// `f` must have been this very type when it was registered.
    unsafe fn restore(f: unsafe extern "C" fn()) -> Self;
}

macro_rules! shared_function {
    ($($arg:ident),*) => {
        shared_function!(@one extern "C" fn($($arg),*) -> R; $($arg),*);
        shared_function!(@one unsafe extern "C" fn($($arg),*) -> R; $($arg),*);
    };
    (@one $ty:ty; $($arg:ident),*) => {
        impl<R, $($arg),*> SharedFunction for $ty {
            fn erase(self) -> unsafe extern "C" fn() {
                // Safety: a function pointer to another function pointer type, only stored; it is
                // transmuted back before any call (`restore`).
                unsafe { std::mem::transmute::<$ty, unsafe extern "C" fn()>(self) }
            }
            unsafe fn restore(f: unsafe extern "C" fn()) -> Self {
                // Safety: the caller promises `f` was registered as this type.
                unsafe { std::mem::transmute::<unsafe extern "C" fn(), $ty>(f) }
            }
        }
    };
}
shared_function!();
shared_function!(A);
shared_function!(A, B);
shared_function!(A, B, C);
shared_function!(A, B, C, D);

/// Shares `function` with every module of the process under `name` (checked as a shared data
/// key). Its module file then stays loaded for the life of the process. True when registered,
/// or when `name` already holds this function; false when another holds it (the first to
/// register wins, a hot reloaded version included) or the host refused (logged). On stock Envoy
/// modules on upstream's SDKs find it too.
///
/// ```
/// extern "C" fn tenant_limit(tenant: u64) -> u64 { if tenant == 1 { 100 } else { 10 } }
///
/// fn share() -> bool {
///     envoyx_sdk::shared::register_function("my_filter.tenant_limit", tenant_limit as extern "C" fn(u64) -> u64)
/// }
/// # let _ = share;
/// ```
pub fn register_function<F: SharedFunction>(name: &str, function: F) -> bool {
    let Some(host) = host() else { return false };
    // Safety: any thread, any time; the name is read during the call; the function is in this
    // module's code, which the host keeps loaded from now on.
    unsafe { (host.function_register)(envoyx_bytes::from_slice(name.as_bytes()), Some(function.erase())) }
}

/// The function registered under `name`, as `F`; None when none is (yet).
///
/// # Safety
/// `F` must be the type the function was registered with: the registry keeps no types (as
/// dlsym), so a wrong one calls it with the wrong arguments.
///
/// ```
/// fn limit_of(tenant: u64) -> Option<u64> {
///     // Safety: "my_filter.tenant_limit" is registered as `extern "C" fn(u64) -> u64`.
///     let f = unsafe { envoyx_sdk::shared::function::<extern "C" fn(u64) -> u64>("my_filter.tenant_limit") }?;
///     Some(f(tenant))
/// }
/// # let _ = limit_of;
/// ```
pub unsafe fn function<F: SharedFunction>(name: &str) -> Option<F> {
    let host = host()?;
    // Safety: any thread, any time; the name is read during the call.
    let found = unsafe { (host.function_get)(envoyx_bytes::from_slice(name.as_bytes())) }?;
    // Safety: the caller promises the type.
    Some(unsafe { F::restore(found) })
}
