//! What the modules of one proxy process share (ABI 1.2): the shared data, values by key with a
//! version for compare-and-set (`shared_data_get`, `shared_data_set`), and functions by name
//! (`function_register`, `function_get`). Both live here, in the core, so every host serves them
//! the same way and every module the host loads sees one store; a host whose proxy has a
//! function registry of its own (stock Envoy) installs it as [`ProxyFunctions`] so that modules
//! on upstream's SDKs and EnvoyX modules see each other's functions.
//!
//! Lifetimes: a value is the store's copy and outlives the module that set it (hot reloads
//! included). A function lives in a loaded object; registering it pins that object
//! (RTLD_NODELETE, and the core never asks its module to unload: [`holds_functions_of`]), so a
//! pointer handed out stays callable for the life of the process.

use std::collections::HashMap;
use std::ffi::{CStr, c_void};
use std::sync::{Arc, Mutex, RwLock};

use envoyx_abi::*;

use crate::log::{Shown, refused_once};
use crate::sync::lock;
use crate::validate::process_key;

/// A proxy's own process-wide function registry, as its host reaches it. Any thread.
pub trait ProxyFunctions: Send + Sync {
    /// Puts `function` in the proxy's registry under `name`; false when the proxy refused (a
    /// name it already holds).
    fn register(&self, name: &str, function: unsafe extern "C" fn()) -> bool;
    /// The proxy's function under `name`, if any.
    fn get(&self, name: &str) -> envoyx_function;
}

static PROXY_FUNCTIONS: RwLock<Option<Arc<dyn ProxyFunctions>>> = RwLock::new(None);

/// The proxy's function registry, for every module of the process from now on (the last one
/// wins).
pub fn set_proxy_functions(functions: Arc<dyn ProxyFunctions>) {
    *PROXY_FUNCTIONS.write().unwrap_or_else(|e| e.into_inner()) = Some(functions);
}

fn proxy_functions() -> Option<Arc<dyn ProxyFunctions>> {
    PROXY_FUNCTIONS.read().unwrap_or_else(|e| e.into_inner()).clone()
}

// ---------------------------------------------------------------------------------------------
// Shared data

struct Entry {
    value: Box<[u8]>,
    cas: u64,
}

#[derive(Default)]
struct Store {
    entries: HashMap<String, Entry>,
    /// Bytes of keys and values held.
    total: usize,
    /// The last version given out (versions start at 1 and are never reused).
    last_cas: u64,
}

static STORE: RwLock<Option<Store>> = RwLock::new(None);

/// What `shared_data_get` read: the status, the value's length and its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SharedRead {
    pub status: envoyx_shared_status,
    pub len: usize,
    pub cas: u64,
}

/// The rule of `shared_data_get`: copies the value of `key` into `buffer` when it fits.
pub(crate) fn shared_data_get(key: &[u8], buffer: &mut [u8]) -> SharedRead {
    let absent = SharedRead { status: ENVOYX_SHARED_ABSENT, len: 0, cas: ENVOYX_SHARED_CAS_ABSENT };
    let key = match process_key(key) {
        Ok(key) => key,
        Err(reason) => {
            refuse(&format!("shared_data_get of `{}`", Shown(key)), &reason);
            return SharedRead { status: ENVOYX_SHARED_REFUSED, ..absent };
        }
    };
    let store = STORE.read().unwrap_or_else(|e| e.into_inner());
    let Some(entry) = store.as_ref().and_then(|s| s.entries.get(key)) else { return absent };
    let len = entry.value.len();
    if len > buffer.len() {
        return SharedRead { status: ENVOYX_SHARED_TOO_SMALL, len, cas: entry.cas };
    }
    buffer[..len].copy_from_slice(&entry.value);
    SharedRead { status: ENVOYX_SHARED_OK, len, cas: entry.cas }
}

/// The rule of `shared_data_set`: stores (or, for an empty `value`, removes) `key` if its
/// version is still `cas` (see x/abi.h for the two special ones), within the store's bounds.
pub(crate) fn shared_data_set(key: &[u8], value: &[u8], cas: u64) -> envoyx_shared_status {
    let what = || format!("shared_data_set of `{}`", Shown(key));
    let key = match process_key(key) {
        Ok(key) => key,
        Err(reason) => return refuse(&what(), &reason),
    };
    if value.len() > ENVOYX_SHARED_MAX_VALUE {
        let reason = format!("a value is at most {ENVOYX_SHARED_MAX_VALUE} bytes, this one {}", value.len());
        return refuse(&what(), &reason);
    }
    let mut store = STORE.write().unwrap_or_else(|e| e.into_inner());
    let store = store.get_or_insert_with(Store::default);
    let held = store.entries.get(key);
    let current = held.map_or(ENVOYX_SHARED_CAS_ABSENT, |e| e.cas);
    if cas != ENVOYX_SHARED_CAS_ANY && cas != current {
        return ENVOYX_SHARED_CAS_MISMATCH;
    }
    let held_bytes = held.map_or(0, |e| key.len() + e.value.len());
    if value.is_empty() {
        if held.is_some() {
            store.entries.remove(key);
            store.total -= held_bytes;
        }
        return ENVOYX_SHARED_OK;
    }
    let total = store.total - held_bytes + key.len() + value.len();
    if total > ENVOYX_SHARED_MAX_TOTAL {
        let reason = format!(
            "the shared data would hold {total} bytes of keys and values, over its bound of \
             {ENVOYX_SHARED_MAX_TOTAL}: remove keys no longer needed"
        );
        return refuse(&what(), &reason);
    }
    if held.is_none() && store.entries.len() >= ENVOYX_SHARED_MAX_KEYS {
        let reason = format!(
            "the shared data holds {ENVOYX_SHARED_MAX_KEYS} keys, its bound: remove keys no longer needed"
        );
        return refuse(&what(), &reason);
    }
    store.last_cas += 1;
    let entry = Entry { value: value.into(), cas: store.last_cas };
    store.entries.insert(key.to_string(), entry);
    store.total = total;
    ENVOYX_SHARED_OK
}

fn refuse(what: &str, reason: &str) -> envoyx_shared_status {
    refused_once(what, reason);
    ENVOYX_SHARED_REFUSED
}

// ---------------------------------------------------------------------------------------------
// Functions

struct Registered {
    function: unsafe extern "C" fn(),
    /// The base address of the object that holds it, which stays loaded from then on.
    object_base: usize,
}

static FUNCTIONS: Mutex<Option<HashMap<String, Registered>>> = Mutex::new(None);

/// The rule of `function_register`.
pub(crate) fn function_register(name: &[u8], function: envoyx_function) -> bool {
    let what = || format!("function_register of `{}`", Shown(name));
    let name = match process_key(name) {
        Ok(name) => name,
        Err(reason) => return function_refused(&what(), &reason),
    };
    let Some(function) = function else {
        return function_refused(&what(), "the function is NULL");
    };
    let mut functions = lock(&FUNCTIONS);
    let functions = functions.get_or_insert_with(HashMap::new);
    if let Some(held) = functions.get(name) {
        if held.function as usize == function as usize {
            return true;
        }
        return function_refused(
            &what(),
            "the name holds another function (the first to register wins; a hot reloaded \
             module keeps its first version's)",
        );
    }
    let object = match pin_object_of(function as *const c_void) {
        Ok(base) => base,
        Err(reason) => return function_refused(&what(), &reason),
    };
    functions.insert(name.to_string(), Registered { function, object_base: object });
    if let Some(proxy) = proxy_functions() {
        // The proxy's registry is a second place to find it (for modules on upstream's SDKs):
        // a name it already holds stays what it was there.
        if !proxy.register(name, function) {
            crate::log::core_log!(
                Info,
                "EnvoyX: shared function `{name}` is registered for EnvoyX modules; the proxy's own \
                 registry already holds that name for its modules"
            );
        }
    }
    true
}

/// The rule of `function_get`: EnvoyX's registry first, then the proxy's.
pub(crate) fn function_get(name: &[u8]) -> envoyx_function {
    let name = match process_key(name) {
        Ok(name) => name,
        Err(reason) => {
            function_refused(&format!("function_get of `{}`", Shown(name)), &reason);
            return None;
        }
    };
    if let Some(held) = lock(&FUNCTIONS).as_ref().and_then(|f| f.get(name)) {
        return Some(held.function);
    }
    proxy_functions().and_then(|proxy| proxy.get(name))
}

fn function_refused(what: &str, reason: &str) -> bool {
    refused_once(what, reason);
    false
}

/// Whether the loaded object at `object_base` holds a registered function (so its module must
/// neither be asked to unload nor unmapped).
pub(crate) fn holds_functions_of(object_base: usize) -> bool {
    lock(&FUNCTIONS).as_ref().is_some_and(|f| f.values().any(|r| r.object_base == object_base))
}

/// The loaded object that holds `address`: its base address and its name as the dynamic loader
/// knows it. None for an address inside no loaded object (the heap, a stack, garbage).
pub(crate) fn object_of(address: *const c_void) -> Option<(usize, &'static CStr)> {
    let mut info = libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    // Safety: dladdr only reads the loader's tables and writes `info`.
    let found = unsafe { libc::dladdr(address, &mut info) };
    if found == 0 || info.dli_fbase.is_null() || info.dli_fname.is_null() {
        return None;
    }
    // Safety: the loader's name of a loaded object, NUL-terminated; it lives as long as the
    // object, which the caller pins or only compares.
    Some((info.dli_fbase as usize, unsafe { CStr::from_ptr(info.dli_fname) }))
}

/// Keeps the object that holds `function` loaded for good; its base address.
fn pin_object_of(function: *const c_void) -> Result<usize, String> {
    let (base, name) = object_of(function)
        .ok_or_else(|| "the function lies inside no loaded object (not a function's address)".to_string())?;
    // Safety: getauxval only reads the process's auxiliary vector.
    let program_headers = unsafe { libc::getauxval(libc::AT_PHDR) } as *const c_void;
    if object_of(program_headers).is_some_and(|(program, _)| program == base) {
        return Ok(base); // the program itself: never unloaded
    }
    // Safety: `name` is the loader's name of a loaded object; RTLD_NOLOAD only takes one more
    // reference to it and marks it NODELETE (the reference is never released, on purpose).
    let handle =
        unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD | libc::RTLD_NODELETE) };
    if handle.is_null() {
        return Err(format!("the dynamic loader would not keep {} loaded", name.to_string_lossy()));
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(key: &str, cap: usize) -> (SharedRead, Vec<u8>) {
        let mut buffer = vec![0u8; cap];
        let read = shared_data_get(key.as_bytes(), &mut buffer);
        buffer.truncate(read.len.min(cap));
        (read, buffer)
    }

    #[test]
    fn values_are_compared_and_set_by_version() {
        let key = "core_test.shared.cas";
        let (read, _) = get(key, 16);
        assert_eq!((read.status, read.cas), (ENVOYX_SHARED_ABSENT, ENVOYX_SHARED_CAS_ABSENT));
        assert_eq!(shared_data_set(key.as_bytes(), b"one", ENVOYX_SHARED_CAS_ABSENT), ENVOYX_SHARED_OK);
        assert_eq!(
            shared_data_set(key.as_bytes(), b"again", ENVOYX_SHARED_CAS_ABSENT),
            ENVOYX_SHARED_CAS_MISMATCH,
            "only where nothing is"
        );
        let (read, value) = get(key, 16);
        assert_eq!((read.status, value.as_slice()), (ENVOYX_SHARED_OK, &b"one"[..]));
        assert_eq!(shared_data_set(key.as_bytes(), b"two", read.cas), ENVOYX_SHARED_OK);
        assert_eq!(shared_data_set(key.as_bytes(), b"stale", read.cas), ENVOYX_SHARED_CAS_MISMATCH);
        let (small, _) = get(key, 2);
        assert_eq!((small.status, small.len), (ENVOYX_SHARED_TOO_SMALL, 3));
        let (read, value) = get(key, 3);
        assert_eq!(value, b"two");
        assert!(read.cas > 0 && read.cas != ENVOYX_SHARED_CAS_ABSENT);
        assert_eq!(shared_data_set(key.as_bytes(), b"", ENVOYX_SHARED_CAS_ANY), ENVOYX_SHARED_OK);
        assert_eq!(get(key, 16).0.status, ENVOYX_SHARED_ABSENT, "an empty value removes");
        assert_eq!(shared_data_set(key.as_bytes(), b"three", ENVOYX_SHARED_CAS_ABSENT), ENVOYX_SHARED_OK);
        assert!(get(key, 16).0.cas > read.cas, "a version is never reused");
    }

    #[test]
    fn bad_keys_and_values_and_a_full_store_are_refused() {
        let big = vec![b'v'; ENVOYX_SHARED_MAX_VALUE + 1];
        for (key, value) in [(&b""[..], &b"v"[..]), (b"has space", b"v"), (b"line\nbreak", b"v")] {
            assert_eq!(shared_data_set(key, value, ENVOYX_SHARED_CAS_ANY), ENVOYX_SHARED_REFUSED);
            assert_eq!(shared_data_get(key, &mut [0; 4]).status, ENVOYX_SHARED_REFUSED);
        }
        assert_eq!(
            shared_data_set(b"core_test.shared.big", &big, ENVOYX_SHARED_CAS_ANY),
            ENVOYX_SHARED_REFUSED
        );
        // Fill toward the byte bound with 1 MiB values; the first that would pass it is refused
        // and the store stays within it. (Removed after, for the other tests of this process.)
        let value = vec![b'v'; ENVOYX_SHARED_MAX_VALUE];
        let mut stored = Vec::new();
        for i in 0.. {
            let key = format!("core_test.shared.fill.{i}");
            match shared_data_set(key.as_bytes(), &value, ENVOYX_SHARED_CAS_ANY) {
                ENVOYX_SHARED_OK => stored.push(key),
                status => {
                    assert_eq!(status, ENVOYX_SHARED_REFUSED);
                    break;
                }
            }
        }
        let total = STORE.read().unwrap().as_ref().unwrap().total;
        assert!(
            total <= ENVOYX_SHARED_MAX_TOTAL && stored.len() >= 60,
            "{} stored, {total} bytes",
            stored.len()
        );
        for key in stored {
            assert_eq!(shared_data_set(key.as_bytes(), b"", ENVOYX_SHARED_CAS_ANY), ENVOYX_SHARED_OK);
        }
    }

    extern "C" fn forty_two() -> u64 {
        42
    }
    extern "C" fn other() -> u64 {
        7
    }

    fn as_shared(f: extern "C" fn() -> u64) -> envoyx_function {
        // Safety: only the pointer's type changes; it is cast back before any call.
        Some(unsafe { std::mem::transmute::<extern "C" fn() -> u64, unsafe extern "C" fn()>(f) })
    }

    #[test]
    fn a_name_holds_the_first_function_registered() {
        let name = b"core_test.forty_two";
        assert!(function_get(name).is_none());
        assert!(function_register(name, as_shared(forty_two)));
        assert!(function_register(name, as_shared(forty_two)), "the same function again");
        assert!(!function_register(name, as_shared(other)), "another function under the name");
        let found = function_get(name).expect("registered");
        // Safety: registered above as `extern "C" fn() -> u64`.
        let call = unsafe { std::mem::transmute::<unsafe extern "C" fn(), extern "C" fn() -> u64>(found) };
        assert_eq!(call(), 42);
        let (base, _) = object_of(forty_two as *const c_void).unwrap();
        assert!(holds_functions_of(base));
        assert!(!function_register(b"core_test.null", None));
        let heap = Box::into_raw(Box::new(0u64)) as *const c_void;
        // Safety: never called: the rule refuses it before.
        let not_code = unsafe { std::mem::transmute::<*const c_void, unsafe extern "C" fn()>(heap) };
        assert!(!function_register(b"core_test.heap", Some(not_code)), "no loaded object holds it");
        assert!(function_get(b"core_test.heap").is_none());
        assert!(!function_register(b"bad name", as_shared(forty_two)));
        // Safety: the box from above, unused since.
        drop(unsafe { Box::from_raw(heap as *mut u64) });
    }
}
