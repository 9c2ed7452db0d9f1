//! What concerns the whole process: Envoy's logger, which callbacks the running Envoy exports
//! (looked up at run time), keeping this object mapped.

use std::ffi::c_void;

use super::*;

unsafe extern "C" {
    fn envoy_dynamic_module_callback_log(level: LogLevel, message: ModuleBuffer);
    fn envoy_dynamic_module_callback_log_enabled(level: LogLevel) -> bool;
    fn envoy_dynamic_module_callback_get_concurrency() -> u32;
}

/// Envoy's worker count (`--concurrency`). Main thread only: off it, Envoy 1.38 and 1.39 read a
/// main-thread-only context (and 1.40 answers 0 with an Envoy bug).
pub fn concurrency() -> u32 {
    // Safety: called from `envoy_dynamic_module_on_program_init`, on Envoy's main thread.
    unsafe { envoy_dynamic_module_callback_get_concurrency() }
}

/// Writes `message` to Envoy's `dynamic_modules` logger (any thread).
pub fn log(level: LogLevel, message: &[u8]) {
    // Safety: Envoy copies the message during the call; any thread may log.
    unsafe { envoy_dynamic_module_callback_log(level, ModuleBuffer::new(message)) }
}

/// Whether Envoy's `dynamic_modules` logger writes `level` (any thread).
pub fn log_enabled(level: LogLevel) -> bool {
    // Safety: a pure query, callable from any thread.
    unsafe { envoy_dynamic_module_callback_log_enabled(level) }
}

/// Looks `name` up in the running Envoy's dynamic symbol table: tells which callbacks this
/// Envoy exports, without linking to them.
pub(super) fn lookup(name: &std::ffi::CStr) -> *mut c_void {
    // Safety: dlsym with a NUL-terminated name only reads the loader's symbol tables.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

/// Marks the shared object that holds this code RTLD_NODELETE, so that no dlclose unloads it;
/// false if the loader refused.
pub fn pin_this_object() -> bool {
    let mut info = libc::Dl_info {
        dli_fname: std::ptr::null(),
        dli_fbase: std::ptr::null_mut(),
        dli_sname: std::ptr::null(),
        dli_saddr: std::ptr::null_mut(),
    };
    // Safety: dladdr only reads the loader's tables and writes `info`.
    let found = unsafe { libc::dladdr(pin_this_object as *const c_void, &mut info) };
    if found == 0 || info.dli_fname.is_null() {
        return false;
    }
    // Safety: `dli_fname` is the loader's NUL-terminated path of an object that is loaded;
    // RTLD_NOLOAD only takes one more reference to it and marks it NODELETE (never released).
    let handle =
        unsafe { libc::dlopen(info.dli_fname, libc::RTLD_LAZY | libc::RTLD_NOLOAD | libc::RTLD_NODELETE) };
    !handle.is_null()
}

/// The running Envoy's minor version as far as this host tells them apart, by the callbacks
/// each added: 40 with `log_v2` (1.40 and later), 39 with `get_log_level`, else 38.
pub fn envoy_minor() -> u32 {
    static MINOR: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MINOR.get_or_init(|| {
        if !lookup(c"envoy_dynamic_module_callback_log_v2").is_null() {
            40
        } else if !lookup(c"envoy_dynamic_module_callback_get_log_level").is_null() {
            39
        } else {
            38
        }
    })
}

/// Whether the running Envoy can continue a response that a filter stopped inside its own
/// `continue_decoding` call. Envoy 1.38's filter marks itself "continued" *after*
/// `continueDecoding` returns, so when a later filter answers locally inside that call and this
/// filter's response hook stops, `continue_encoding` does nothing from then on. Fixed in 1.39;
/// told apart by `envoy_dynamic_module_callback_get_log_level`, which 1.39 added.
pub fn continue_is_reentrant_safe() -> bool {
    !lookup(c"envoy_dynamic_module_callback_get_log_level").is_null()
}

/// `envoy_dynamic_module_callback_http_has_filter_state` (Envoy 1.40.0 and later), found at run
/// time: `bool (filter, module_buffer key)`, Envoy's `FilterState::hasDataWithName` (read off the
/// 1.40.0 binary: it hands the key's pointer and length straight to that virtual call).
type HasFilterState = unsafe extern "C" fn(FilterEnvoyPtr, ModuleBuffer) -> bool;

pub(super) fn has_filter_state_callback() -> Option<HasFilterState> {
    static CALLBACK: std::sync::OnceLock<Option<HasFilterState>> = std::sync::OnceLock::new();
    *CALLBACK.get_or_init(|| {
        let symbol = lookup(c"envoy_dynamic_module_callback_http_has_filter_state");
        // Safety: the symbol, when present, has the type above.
        (!symbol.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, HasFilterState>(symbol) })
    })
}

/// Envoy 1.40's stream timing, `envoy_dynamic_module_callback_http_get_timing_info`, found at run
/// time: `void (filter, timing_info_v2* out)`, which always fills the module's struct (read off
/// the 1.40.0 binary: 19 int64 written at 0x0..0x90, their 19 has-flags at 0x98..0xaa).
#[repr(C)]
pub struct TimingInfoV2 {
    /// Nanoseconds, in upstream's (and EnvoyX's `envoyx_timing`) order; -1 when not known.
    pub ns: [i64; 19],
    /// Whether each is known.
    pub has: [bool; 19],
}

type GetTimingInfo = unsafe extern "C" fn(FilterEnvoyPtr, *mut TimingInfoV2);

pub(super) fn timing_info_callback() -> Option<GetTimingInfo> {
    static CALLBACK: std::sync::OnceLock<Option<GetTimingInfo>> = std::sync::OnceLock::new();
    *CALLBACK.get_or_init(|| {
        let symbol = lookup(c"envoy_dynamic_module_callback_http_get_timing_info");
        // Safety: the symbol, when present, has the type above.
        (!symbol.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, GetTimingInfo>(symbol) })
    })
}

/// Envoy 1.40's list of the upstream hosts a request was sent to:
/// `size_t get_upstream_hosts_attempted_size(filter)` and `bool get_upstream_hosts_attempted(filter,
/// envoy_buffer* out)`, which writes all of them (no capacity: size first); the addresses are
/// Envoy's, valid until the hook returns (upstream's abi.h).
#[derive(Clone, Copy)]
pub(super) struct HostsAttempted {
    pub size: unsafe extern "C" fn(FilterEnvoyPtr) -> usize,
    pub list: unsafe extern "C" fn(FilterEnvoyPtr, *mut EnvoyBuffer) -> bool,
}

pub(super) fn hosts_attempted_callbacks() -> Option<HostsAttempted> {
    static CALLBACKS: std::sync::OnceLock<Option<HostsAttempted>> = std::sync::OnceLock::new();
    *CALLBACKS.get_or_init(|| {
        let size = lookup(c"envoy_dynamic_module_callback_http_get_upstream_hosts_attempted_size");
        let list = lookup(c"envoy_dynamic_module_callback_http_get_upstream_hosts_attempted");
        if size.is_null() || list.is_null() {
            return None;
        }
        // Safety: the symbols, when present, have the types above.
        Some(unsafe {
            HostsAttempted {
                size: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(FilterEnvoyPtr) -> usize>(size),
                list: std::mem::transmute::<
                    *mut c_void,
                    unsafe extern "C" fn(FilterEnvoyPtr, *mut EnvoyBuffer) -> bool,
                >(list),
            }
        })
    })
}

/// Whether the running Envoy serves the upstream hosts attempted to modules (1.40 and later).
pub fn serves_hosts_attempted() -> bool {
    hosts_attempted_callbacks().is_some()
}

/// Envoy 1.40's typed metadata getter, `bool get_typed_metadata(filter, source, module_buffer ns,
/// envoy_buffer* type_url, envoy_buffer* value)`: the Any of `typed_filter_metadata[ns]`, its
/// type URL and payload, valid until the hook returns (upstream's abi.h).
pub(super) type GetTypedMetadata =
    unsafe extern "C" fn(FilterEnvoyPtr, u32, ModuleBuffer, *mut EnvoyBuffer, *mut EnvoyBuffer) -> bool;

pub(super) fn typed_metadata_callback() -> Option<GetTypedMetadata> {
    static CALLBACK: std::sync::OnceLock<Option<GetTypedMetadata>> = std::sync::OnceLock::new();
    *CALLBACK.get_or_init(|| {
        let symbol = lookup(c"envoy_dynamic_module_callback_http_get_typed_metadata");
        // Safety: the symbol, when present, has the type above.
        (!symbol.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, GetTypedMetadata>(symbol) })
    })
}

/// Envoy 1.40's `void set_dynamic_metadata_struct(filter, module_buffer ns, module_buffer
/// serialized_struct)`: merges a serialized google.protobuf.Struct into the namespace (a buffer
/// that does not parse is ignored: the core encodes it).
pub(super) type SetMetadataStruct = unsafe extern "C" fn(FilterEnvoyPtr, ModuleBuffer, ModuleBuffer);

pub(super) fn set_metadata_struct_callback() -> Option<SetMetadataStruct> {
    static CALLBACK: std::sync::OnceLock<Option<SetMetadataStruct>> = std::sync::OnceLock::new();
    *CALLBACK.get_or_init(|| {
        let symbol = lookup(c"envoy_dynamic_module_callback_http_set_dynamic_metadata_struct");
        // Safety: the symbol, when present, has the type above.
        (!symbol.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, SetMetadataStruct>(symbol) })
    })
}

/// Envoy 1.40's `void set_dynamic_typed_metadata(filter, module_buffer ns, module_buffer
/// serialized_any)`: parses the Any and puts it in `typed_filter_metadata[ns]`, replacing what was
/// there (read off the 1.40.0 binary; a buffer that does not parse is logged and ignored: the
/// core encodes it).
pub(super) type SetTypedMetadata = unsafe extern "C" fn(FilterEnvoyPtr, ModuleBuffer, ModuleBuffer);

pub(super) fn set_typed_metadata_callback() -> Option<SetTypedMetadata> {
    static CALLBACK: std::sync::OnceLock<Option<SetTypedMetadata>> = std::sync::OnceLock::new();
    *CALLBACK.get_or_init(|| {
        let symbol = lookup(c"envoy_dynamic_module_callback_http_set_dynamic_typed_metadata");
        // Safety: the symbol, when present, has the type above.
        (!symbol.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, SetTypedMetadata>(symbol) })
    })
}

/// Whether the running Envoy takes typed metadata from modules (1.40 and later).
pub fn takes_typed_metadata() -> bool {
    set_typed_metadata_callback().is_some()
}

/// Whether the running Envoy serves typed metadata to modules (1.40 and later).
pub fn serves_typed_metadata() -> bool {
    typed_metadata_callback().is_some()
}

/// Whether the running Envoy serves stream timing to modules (1.40 and later).
pub fn serves_timing() -> bool {
    timing_info_callback().is_some()
}

/// `envoy_dynamic_module_callback_log_v2` (Envoy 1.40.0 and later), found at run time.
#[derive(Clone, Copy)]
pub struct LogV2(unsafe extern "C" fn(LogLevel, ModuleBuffer, ModuleBuffer, u32));

impl LogV2 {
    /// Looks the callback up in the running Envoy's dynamic symbol table.
    pub fn lookup() -> Option<Self> {
        let symbol = lookup(c"envoy_dynamic_module_callback_log_v2");
        if symbol.is_null() {
            return None;
        }
        // Safety: Envoy 1.40's log_v2 has this signature (docs/upstream-abi.md §5, Logging).
        Some(Self(unsafe {
            std::mem::transmute::<*mut c_void, unsafe extern "C" fn(LogLevel, ModuleBuffer, ModuleBuffer, u32)>(
                symbol,
            )
        }))
    }

    /// Writes `message` with a source location (any thread).
    pub fn log(self, level: LogLevel, message: &[u8], file: &[u8], line: u32) {
        // Safety: Envoy copies both buffers during the call; any thread may log.
        unsafe { (self.0)(level, ModuleBuffer::new(message), ModuleBuffer::new(file), line) }
    }
}

/// Envoy 1.40's runtime getters (`envoy_dynamic_module_callback_get_runtime_bool`, `_number`),
/// found at run time: `bool (module_buffer key, bool default)` and `double (module_buffer key,
/// double default)`, any thread; each answers `default` for a key the runtime lacks or holds as
/// another type (upstream's abi.h, Runtime).
#[derive(Clone, Copy)]
pub struct RuntimeGetters {
    boolean: unsafe extern "C" fn(ModuleBuffer, bool) -> bool,
    number: unsafe extern "C" fn(ModuleBuffer, f64) -> f64,
}

impl RuntimeGetters {
    /// Looks both up in the running Envoy's dynamic symbol table; None before 1.40.
    pub fn lookup() -> Option<Self> {
        let boolean = lookup(c"envoy_dynamic_module_callback_get_runtime_bool");
        let number = lookup(c"envoy_dynamic_module_callback_get_runtime_number");
        if boolean.is_null() || number.is_null() {
            return None;
        }
        // Safety: Envoy 1.40's getters have these signatures (the doc comment above).
        Some(unsafe {
            Self {
                boolean: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(ModuleBuffer, bool) -> bool>(
                    boolean,
                ),
                number: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(ModuleBuffer, f64) -> f64>(
                    number,
                ),
            }
        })
    }

    /// `key` as a boolean, None when the runtime has none there: Envoy answers the default for a
    /// missing key, so a key is there only when both defaults give the same answer.
    pub fn boolean(self, key: &str) -> Option<bool> {
        let key = ModuleBuffer::new(key.as_bytes());
        // Safety: Envoy reads the key during the call; any thread.
        let (when_false, when_true) = unsafe { ((self.boolean)(key, false), (self.boolean)(key, true)) };
        (when_false == when_true).then_some(when_false)
    }

    /// `key` as a number, None when the runtime has none there (NaN as the default: a stored
    /// number is never NaN).
    pub fn number(self, key: &str) -> Option<f64> {
        // Safety: as in `boolean`.
        let value = unsafe { (self.number)(ModuleBuffer::new(key.as_bytes()), f64::NAN) };
        (!value.is_nan()).then_some(value)
    }
}

/// Envoy's process-wide function registry (1.38 and later; looked up, never linked):
/// `bool register_function(module_buffer key, void* function)`, where the first to register a
/// key wins, and `bool get_function(module_buffer key, void** out)` (upstream's abi.h). Modules on
/// upstream's SDKs share functions there; EnvoyX's core puts its modules' there too and looks
/// there for names it does not hold.
pub struct EnvoyFunctions {
    register: RegisterFunction,
    get: GetFunction,
}

type RegisterFunction = unsafe extern "C" fn(ModuleBuffer, *mut c_void) -> bool;
type GetFunction = unsafe extern "C" fn(ModuleBuffer, *mut *mut c_void) -> bool;

impl EnvoyFunctions {
    /// The running Envoy's registry, if it has one.
    pub fn lookup() -> Option<Self> {
        let register = lookup(c"envoy_dynamic_module_callback_register_function");
        let get = lookup(c"envoy_dynamic_module_callback_get_function");
        if register.is_null() || get.is_null() {
            return None;
        }
        // Safety: the symbols, when present, have the types above.
        Some(unsafe {
            EnvoyFunctions {
                register: std::mem::transmute::<*mut c_void, RegisterFunction>(register),
                get: std::mem::transmute::<*mut c_void, GetFunction>(get),
            }
        })
    }
}

impl envoyx_core::shared::ProxyFunctions for EnvoyFunctions {
    fn register(&self, name: &str, function: unsafe extern "C" fn()) -> bool {
        // Safety: Envoy copies the key during the call and keeps the pointer, which the core has
        // pinned for the life of the process; any thread (Envoy takes a lock).
        unsafe { (self.register)(ModuleBuffer::new(name.as_bytes()), function as *mut c_void) }
    }

    fn get(&self, name: &str) -> envoyx_abi::envoyx_function {
        let mut out: *mut c_void = std::ptr::null_mut();
        // Safety: Envoy reads the key during the call and writes `out`, ours; any thread.
        let found = unsafe { (self.get)(ModuleBuffer::new(name.as_bytes()), &mut out) };
        // Safety: a non-null entry of Envoy's registry is a function pointer a module put there
        // (upstream's contract: a valid function for the life of the process).
        (found && !out.is_null())
            .then(|| unsafe { std::mem::transmute::<*mut c_void, unsafe extern "C" fn()>(out) })
    }
}
