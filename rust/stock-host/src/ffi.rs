//! Upstream Envoy's dynamic-modules ABI: the items this host uses, declared here from
//! `docs/upstream-abi.md` (not copied from upstream's `abi.h`), with safe wrappers beside each.
//!
//! Only callbacks that Envoy 1.38.3, 1.39.3 and 1.40.0 all export are declared in the `extern`
//! block: a Rust cdylib is linked with BIND_NOW, so a reference to a callback the running Envoy
//! lacks would make dlopen fail. Version-specific callbacks are looked up at run time
//! ([`LogV2`]).

use std::ffi::{c_char, c_void};
use std::ptr::NonNull;

/// `envoy_dynamic_module_type_http_filter_envoy_ptr`: Envoy's per-stream filter object.
pub type FilterEnvoyPtr = *mut c_void;
/// `envoy_dynamic_module_type_http_filter_module_ptr`: this host's per-stream object.
pub type FilterModulePtr = *const c_void;
/// `envoy_dynamic_module_type_http_filter_config_envoy_ptr`.
pub type ConfigEnvoyPtr = *mut c_void;
/// `envoy_dynamic_module_type_http_filter_config_module_ptr`: this host's filter config.
pub type ConfigModulePtr = *const c_void;
/// `envoy_dynamic_module_type_http_filter_scheduler_module_ptr`.
pub type SchedulerPtr = *mut c_void;

/// `envoy_dynamic_module_type_envoy_buffer`: bytes owned by Envoy.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EnvoyBuffer {
    pub ptr: *const c_char,
    pub length: usize,
}

impl EnvoyBuffer {
    pub const EMPTY: Self = Self { ptr: std::ptr::null(), length: 0 };
}

/// `envoy_dynamic_module_type_module_buffer`: bytes owned by this host, read during the call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ModuleBuffer {
    pub ptr: *const c_char,
    pub length: usize,
}

impl ModuleBuffer {
    pub fn new(bytes: &[u8]) -> Self {
        Self { ptr: bytes.as_ptr().cast(), length: bytes.len() }
    }
    pub const NULL: Self = Self { ptr: std::ptr::null(), length: 0 };
}

/// `envoy_dynamic_module_type_envoy_http_header` and `..._module_http_header` (same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HttpHeader {
    pub key_ptr: *const c_char,
    pub key_length: usize,
    pub value_ptr: *const c_char,
    pub value_length: usize,
}

impl HttpHeader {
    pub const EMPTY: Self =
        Self { key_ptr: std::ptr::null(), key_length: 0, value_ptr: std::ptr::null(), value_length: 0 };
}

// The enumerations are C `enum`s: 4 bytes, numbered from 0.

/// `envoy_dynamic_module_type_http_header_type`. The values equal `envoyx_header_map`'s.
pub type HeaderType = u32;
/// `envoy_dynamic_module_type_http_body_type`: received/buffered × request/response. The values
/// equal `envoyx_body_kind`'s.
pub type BodyType = u32;
/// `envoy_dynamic_module_type_log_level`. The values equal `envoyx_log_level`'s.
pub type LogLevel = u32;
/// `envoy_dynamic_module_type_http_filter_stream_reset_reason`.
pub type StreamResetReason = u32;
pub const RESET_LOCAL_RESET: StreamResetReason = 0;
/// `envoy_dynamic_module_type_http_callout_result` (only in stub signatures).
pub type HttpCalloutResult = u32;
pub const CALLOUT_SUCCESS: HttpCalloutResult = 0;
pub const CALLOUT_RESET: HttpCalloutResult = 1;
pub const CALLOUT_EXCEED_RESPONSE_BUFFER_LIMIT: HttpCalloutResult = 2;
/// `envoy_dynamic_module_type_metrics_result`: 0 Success, 1 MetricNotFound, 2 InvalidLabels,
/// 3 Frozen.
pub type MetricsResult = u32;
pub const METRICS_SUCCESS: MetricsResult = 0;
pub const METRICS_INVALID_LABELS: MetricsResult = 2;

/// `envoy_dynamic_module_type_http_callout_init_result`.
pub type CalloutInitResult = u32;
pub const CALLOUT_INIT_SUCCESS: CalloutInitResult = 0;
pub const CALLOUT_INIT_CLUSTER_NOT_FOUND: CalloutInitResult = 2;
/// `envoy_dynamic_module_type_http_stream_reset_reason` (EnvoyX reports every reason as a reset).
pub type HttpStreamResetReason = u32;

/// The statuses the event hooks return. Header, body and trailer statuses equal Envoy's
/// `FilterHeadersStatus`, `FilterDataStatus` and `FilterTrailersStatus` ordinals, as EnvoyX's do.
pub type HookStatus = u32;
pub const STATUS_CONTINUE: HookStatus = 0;

/// The ABI version strings `envoy_dynamic_module_on_program_init` may return.
pub const ABI_V0_1_0: &std::ffi::CStr = c"v0.1.0";
pub const ABI_V0_2_0: &std::ffi::CStr = c"v0.2.0";

unsafe extern "C" {
    fn envoy_dynamic_module_callback_log(level: LogLevel, message: ModuleBuffer);
    fn envoy_dynamic_module_callback_log_enabled(level: LogLevel) -> bool;

    fn envoy_dynamic_module_callback_http_get_header(
        filter: FilterEnvoyPtr,
        header_type: HeaderType,
        key: ModuleBuffer,
        result: *mut EnvoyBuffer,
        index: usize,
        optional_count: *mut usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_headers_size(
        filter: FilterEnvoyPtr,
        header_type: HeaderType,
    ) -> usize;
    fn envoy_dynamic_module_callback_http_get_headers(
        filter: FilterEnvoyPtr,
        header_type: HeaderType,
        result: *mut HttpHeader,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_set_header(
        filter: FilterEnvoyPtr,
        header_type: HeaderType,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_add_header(
        filter: FilterEnvoyPtr,
        header_type: HeaderType,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;

    fn envoy_dynamic_module_callback_http_get_body_size(filter: FilterEnvoyPtr, body_type: BodyType)
    -> usize;
    fn envoy_dynamic_module_callback_http_get_body_chunks_size(
        filter: FilterEnvoyPtr,
        body_type: BodyType,
    ) -> usize;
    fn envoy_dynamic_module_callback_http_get_body_chunks(
        filter: FilterEnvoyPtr,
        body_type: BodyType,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_drain_body(
        filter: FilterEnvoyPtr,
        body_type: BodyType,
        number_of_bytes: usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_append_body(
        filter: FilterEnvoyPtr,
        body_type: BodyType,
        data: ModuleBuffer,
    ) -> bool;

    fn envoy_dynamic_module_callback_http_send_response(
        filter: FilterEnvoyPtr,
        status_code: u32,
        headers: *mut HttpHeader,
        headers_count: usize,
        body: ModuleBuffer,
        details: ModuleBuffer,
    );
    fn envoy_dynamic_module_callback_http_filter_continue_decoding(filter: FilterEnvoyPtr);
    fn envoy_dynamic_module_callback_http_filter_continue_encoding(filter: FilterEnvoyPtr);
    fn envoy_dynamic_module_callback_http_filter_reset_stream(
        filter: FilterEnvoyPtr,
        reason: StreamResetReason,
        details: ModuleBuffer,
    );

    fn envoy_dynamic_module_callback_http_filter_scheduler_new(filter: FilterEnvoyPtr) -> SchedulerPtr;
    fn envoy_dynamic_module_callback_http_filter_scheduler_commit(scheduler: SchedulerPtr, event_id: u64);
    fn envoy_dynamic_module_callback_http_filter_scheduler_delete(scheduler: SchedulerPtr);

    fn envoy_dynamic_module_callback_get_most_specific_route_config(filter: FilterEnvoyPtr) -> *const c_void;

    fn envoy_dynamic_module_callback_http_filter_config_http_callout(
        config: ConfigEnvoyPtr,
        callout_id: *mut u64,
        cluster: ModuleBuffer,
        headers: *mut HttpHeader,
        headers_size: usize,
        body: ModuleBuffer,
        timeout_ms: u64,
    ) -> CalloutInitResult;

    fn envoy_dynamic_module_callback_http_filter_http_callout(
        filter: FilterEnvoyPtr,
        callout_id: *mut u64,
        cluster: ModuleBuffer,
        headers: *mut HttpHeader,
        headers_size: usize,
        body: ModuleBuffer,
        timeout_ms: u64,
    ) -> CalloutInitResult;

    fn envoy_dynamic_module_callback_http_filter_start_http_stream(
        filter: FilterEnvoyPtr,
        stream_id: *mut u64,
        cluster: ModuleBuffer,
        headers: *mut HttpHeader,
        headers_size: usize,
        body: ModuleBuffer,
        end_stream: bool,
        timeout_ms: u64,
    ) -> CalloutInitResult;
    fn envoy_dynamic_module_callback_http_stream_send_data(
        filter: FilterEnvoyPtr,
        stream_id: u64,
        data: ModuleBuffer,
        end_stream: bool,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_stream_send_trailers(
        filter: FilterEnvoyPtr,
        stream_id: u64,
        trailers: *mut HttpHeader,
        trailers_size: usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_reset_http_stream(filter: FilterEnvoyPtr, stream_id: u64);

    fn envoy_dynamic_module_callback_http_filter_config_start_http_stream(
        config: ConfigEnvoyPtr,
        stream_id: *mut u64,
        cluster: ModuleBuffer,
        headers: *mut HttpHeader,
        headers_size: usize,
        body: ModuleBuffer,
        end_stream: bool,
        timeout_ms: u64,
    ) -> CalloutInitResult;
    fn envoy_dynamic_module_callback_http_filter_config_stream_send_data(
        config: ConfigEnvoyPtr,
        stream_id: u64,
        data: ModuleBuffer,
        end_stream: bool,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_config_stream_send_trailers(
        config: ConfigEnvoyPtr,
        stream_id: u64,
        trailers: *mut HttpHeader,
        trailers_size: usize,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_config_reset_http_stream(
        config: ConfigEnvoyPtr,
        stream_id: u64,
    );

    fn envoy_dynamic_module_callback_http_filter_config_define_counter(
        config: ConfigEnvoyPtr,
        name: ModuleBuffer,
        label_names: *mut ModuleBuffer,
        label_names_length: usize,
        id: *mut usize,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_config_define_gauge(
        config: ConfigEnvoyPtr,
        name: ModuleBuffer,
        label_names: *mut ModuleBuffer,
        label_names_length: usize,
        id: *mut usize,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_config_define_histogram(
        config: ConfigEnvoyPtr,
        name: ModuleBuffer,
        label_names: *mut ModuleBuffer,
        label_names_length: usize,
        id: *mut usize,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_increment_counter(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_increment_gauge(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_decrement_gauge(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_set_gauge(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> MetricsResult;
    fn envoy_dynamic_module_callback_http_filter_record_histogram_value(
        filter: FilterEnvoyPtr,
        id: usize,
        label_values: *mut ModuleBuffer,
        label_values_length: usize,
        value: u64,
    ) -> MetricsResult;

    // Metadata, filter state, routing. The setters of dynamic metadata return nothing in the
    // releases EnvoyX supports (declaring them so ignores any value).
    fn envoy_dynamic_module_callback_http_set_dynamic_metadata_string(
        filter: FilterEnvoyPtr,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        value: ModuleBuffer,
    );
    fn envoy_dynamic_module_callback_http_set_dynamic_metadata_number(
        filter: FilterEnvoyPtr,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        value: f64,
    );
    fn envoy_dynamic_module_callback_http_set_dynamic_metadata_bool(
        filter: FilterEnvoyPtr,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        value: bool,
    );
    fn envoy_dynamic_module_callback_http_get_metadata_string(
        filter: FilterEnvoyPtr,
        source: u32,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_metadata_number(
        filter: FilterEnvoyPtr,
        source: u32,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        result: *mut f64,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_metadata_bool(
        filter: FilterEnvoyPtr,
        source: u32,
        ns: ModuleBuffer,
        key: ModuleBuffer,
        result: *mut bool,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_set_filter_state_bytes(
        filter: FilterEnvoyPtr,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_filter_state_bytes(
        filter: FilterEnvoyPtr,
        key: ModuleBuffer,
        result: *mut EnvoyBuffer,
    ) -> bool;
    /// Any object's string form (its `serializeAsString`), where the bytes getter sees only
    /// Envoy's `StringAccessor` (1.38.3 on).
    fn envoy_dynamic_module_callback_http_get_filter_state_typed(
        filter: FilterEnvoyPtr,
        key: ModuleBuffer,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_clear_route_cache(filter: FilterEnvoyPtr);
    fn envoy_dynamic_module_callback_http_set_upstream_override_host(
        filter: FilterEnvoyPtr,
        host: ModuleBuffer,
        strict: bool,
    ) -> bool;

    fn envoy_dynamic_module_callback_http_filter_get_attribute_string(
        filter: FilterEnvoyPtr,
        attribute: u32,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_filter_get_attribute_int(
        filter: FilterEnvoyPtr,
        attribute: u32,
        result: *mut u64,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_cluster_name(
        filter: FilterEnvoyPtr,
        result: *mut EnvoyBuffer,
    ) -> bool;
    fn envoy_dynamic_module_callback_http_get_active_span(filter: FilterEnvoyPtr) -> *mut c_void;
    fn envoy_dynamic_module_callback_http_span_set_tag(
        span: *mut c_void,
        key: ModuleBuffer,
        value: ModuleBuffer,
    );

    fn envoy_dynamic_module_callback_http_filter_config_scheduler_new(config: ConfigEnvoyPtr)
    -> SchedulerPtr;
    fn envoy_dynamic_module_callback_http_filter_config_scheduler_commit(
        scheduler: SchedulerPtr,
        event_id: u64,
    );
    fn envoy_dynamic_module_callback_http_filter_config_scheduler_delete(scheduler: SchedulerPtr);
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
fn lookup(name: &std::ffi::CStr) -> *mut c_void {
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

fn has_filter_state_callback() -> Option<HasFilterState> {
    static CALLBACK: std::sync::OnceLock<Option<HasFilterState>> = std::sync::OnceLock::new();
    *CALLBACK.get_or_init(|| {
        let symbol = lookup(c"envoy_dynamic_module_callback_http_has_filter_state");
        // Safety: the symbol, when present, has the type above.
        (!symbol.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, HasFilterState>(symbol) })
    })
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

/// Envoy's side of one stream (`filter_envoy_ptr`), with safe methods.
///
/// Made only by [`EnvoyFilter::new`], whose contract every method relies on: the pointer is the
/// one Envoy passed to this stream's hooks, Envoy has not yet destroyed the filter, and the call
/// happens on the stream's worker thread.
#[derive(Clone, Copy, Debug)]
pub struct EnvoyFilter(NonNull<c_void>);

impl EnvoyFilter {
    /// # Safety
    /// `ptr` must be a `filter_envoy_ptr` Envoy passed to a hook, and the value (and its copies)
    /// may be used only on that stream's worker thread and only until Envoy calls
    /// `on_http_filter_destroy` for it.
    pub unsafe fn new(ptr: FilterEnvoyPtr) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    fn raw(self) -> FilterEnvoyPtr {
        self.0.as_ptr()
    }

    /// Value `index` of `key` (or `None`), and how many values `key` has.
    pub fn header(self, map: HeaderType, key: &[u8], index: usize) -> (Option<EnvoyBuffer>, usize) {
        let mut value = EnvoyBuffer::EMPTY;
        let mut count = 0usize;
        // Safety: live filter on its worker thread (type contract); `value` and `count` are
        // writable for the call.
        let found = unsafe {
            envoy_dynamic_module_callback_http_get_header(
                self.raw(),
                map,
                ModuleBuffer::new(key),
                &mut value,
                index,
                &mut count,
            )
        };
        (found.then_some(value), count)
    }

    /// Number of entries (one per value) of a header map; 0 when the map is absent.
    pub fn headers_size(self, map: HeaderType) -> usize {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_get_headers_size(self.raw(), map) }
    }

    /// Fills `out` with the map's entries, which must number exactly `out.len()` (the value
    /// [`EnvoyFilter::headers_size`] just returned); false when they do not or the map is absent.
    pub fn headers(self, map: HeaderType, out: &mut [HttpHeader]) -> bool {
        if self.headers_size(map) != out.len() {
            return false;
        }
        // Safety: live filter on its worker thread; `out` has room for every entry (checked).
        unsafe { envoy_dynamic_module_callback_http_get_headers(self.raw(), map, out.as_mut_ptr()) }
    }

    /// Replaces every value of `key` with `value`, which must not be empty (Envoy treats an
    /// empty value as "remove").
    pub fn set_header(self, map: HeaderType, key: &[u8], value: &[u8]) -> bool {
        if value.is_empty() {
            return false;
        }
        // Safety: live filter on its worker thread; Envoy copies both buffers.
        unsafe {
            envoy_dynamic_module_callback_http_set_header(
                self.raw(),
                map,
                ModuleBuffer::new(key),
                ModuleBuffer::new(value),
            )
        }
    }

    /// Removes every value of `key` (a NULL value makes set_header remove).
    pub fn remove_header(self, map: HeaderType, key: &[u8]) -> bool {
        // Safety: live filter on its worker thread; Envoy copies the key.
        unsafe {
            envoy_dynamic_module_callback_http_set_header(
                self.raw(),
                map,
                ModuleBuffer::new(key),
                ModuleBuffer::NULL,
            )
        }
    }

    /// Adds one value of `key`; Envoy refuses an empty value.
    pub fn add_header(self, map: HeaderType, key: &[u8], value: &[u8]) -> bool {
        // Safety: live filter on its worker thread; Envoy copies both buffers.
        unsafe {
            envoy_dynamic_module_callback_http_add_header(
                self.raw(),
                map,
                ModuleBuffer::new(key),
                ModuleBuffer::new(value),
            )
        }
    }

    pub fn body_size(self, body: BodyType) -> usize {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_get_body_size(self.raw(), body) }
    }

    /// Number of slices of a body, empty ones included; 0 when the body is absent.
    pub fn body_chunks_size(self, body: BodyType) -> usize {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_get_body_chunks_size(self.raw(), body) }
    }

    /// Fills `out` with views of the body's slices, which must number exactly `out.len()` (the
    /// value [`EnvoyFilter::body_chunks_size`] just returned); false when they do not or the body
    /// is absent.
    pub fn body_chunks(self, body: BodyType, out: &mut [EnvoyBuffer]) -> bool {
        if self.body_chunks_size(body) != out.len() {
            return false;
        }
        // Safety: live filter on its worker thread; `out` has room for every slice (checked).
        unsafe { envoy_dynamic_module_callback_http_get_body_chunks(self.raw(), body, out.as_mut_ptr()) }
    }

    pub fn drain_body(self, body: BodyType, len: usize) -> bool {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_drain_body(self.raw(), body, len) }
    }

    pub fn append_body(self, body: BodyType, data: &[u8]) -> bool {
        // Safety: live filter on its worker thread; Envoy copies the data.
        unsafe { envoy_dynamic_module_callback_http_append_body(self.raw(), body, ModuleBuffer::new(data)) }
    }

    /// The stream's `attribute` through Envoy's attribute callbacks (`envoy_dynamic_module_type_
    /// attribute_id` values; the cluster's name through its own callback); a string is a view of
    /// Envoy's memory.
    pub fn attribute(self, attribute: envoyx_core::Attribute) -> Option<envoyx_abi::envoyx_value> {
        use envoyx_core::Attribute as A;
        let id: u32 = match attribute {
            A::RequestId => 9,
            A::Protocol => 10,
            A::ResponseCode => 15,
            A::SourceAddress => 24,
            A::SourcePort => 25,
            A::DestinationAddress => 26,
            A::DestinationPort => 27,
            A::ConnectionId => 28,
            A::TlsVersion => 31,
            A::TlsPeerSubject => 33,
            A::TlsPeerDnsSan => 35,
            A::TlsPeerUriSan => 37,
            A::TlsPeerSha256 => 38,
            A::UpstreamAddress => 41,
            A::RouteName => 61,
            A::ClusterName => {
                let mut out = EnvoyBuffer::EMPTY;
                // Safety: live filter on its worker thread; `out` is written only on success.
                let found =
                    unsafe { envoy_dynamic_module_callback_http_get_cluster_name(self.raw(), &mut out) };
                return found.then(|| envoyx_abi::envoyx_value {
                    string: out.view(),
                    ..envoyx_abi::envoyx_value::string(b"")
                });
            }
        };
        // Safety: live filter on its worker thread; the results are written only on success.
        unsafe {
            match attribute.kind() {
                envoyx_core::ValueKind::Number => {
                    let mut out = 0u64;
                    envoy_dynamic_module_callback_http_filter_get_attribute_int(self.raw(), id, &mut out)
                        .then(|| envoyx_abi::envoyx_value::number(out as f64))
                }
                _ => {
                    let mut out = EnvoyBuffer::EMPTY;
                    envoy_dynamic_module_callback_http_filter_get_attribute_string(self.raw(), id, &mut out)
                        .then(|| envoyx_abi::envoyx_value {
                            string: out.view(),
                            ..envoyx_abi::envoyx_value::string(b"")
                        })
                }
            }
        }
    }

    /// Adds a tag to the stream's active span; false when there is none (no tracer: Envoy's
    /// null span).
    pub fn set_span_tag(self, key: &str, value: &str) -> bool {
        // Safety: live filter on its worker thread; the span lives as long as the stream; Envoy
        // copies the tag.
        unsafe {
            let span = envoy_dynamic_module_callback_http_get_active_span(self.raw());
            if span.is_null() {
                return false;
            }
            envoy_dynamic_module_callback_http_span_set_tag(
                span,
                ModuleBuffer::new(key.as_bytes()),
                ModuleBuffer::new(value.as_bytes()),
            );
        }
        true
    }

    /// Sets `key` of namespace `ns` in the stream's dynamic metadata.
    pub fn set_metadata(self, ns: &str, key: &str, value: envoyx_core::MetadataValue<'_>) {
        use envoyx_core::MetadataValue as V;
        let (ns, key) = (ModuleBuffer::new(ns.as_bytes()), ModuleBuffer::new(key.as_bytes()));
        // Safety: live filter on its worker thread; Envoy copies the names and the value.
        unsafe {
            match value {
                V::String(s) => envoy_dynamic_module_callback_http_set_dynamic_metadata_string(
                    self.raw(),
                    ns,
                    key,
                    ModuleBuffer::new(s.as_bytes()),
                ),
                V::Number(n) => {
                    envoy_dynamic_module_callback_http_set_dynamic_metadata_number(self.raw(), ns, key, n)
                }
                V::Bool(b) => {
                    envoy_dynamic_module_callback_http_set_dynamic_metadata_bool(self.raw(), ns, key, b)
                }
            }
        }
    }

    /// `key` of namespace `ns` from `source` when it is of `kind` (a string: a view of Envoy's
    /// metadata, valid until it changes or the hook returns).
    pub fn metadata(
        self,
        source: envoyx_core::MetadataSource,
        ns: &str,
        key: &str,
        kind: envoyx_core::ValueKind,
    ) -> Option<envoyx_abi::envoyx_value> {
        use envoyx_abi::envoyx_value as V;
        use envoyx_core::ValueKind as K;
        // EnvoyX's metadata sources equal Envoy's.
        let (source, ns, key) =
            (source as u32, ModuleBuffer::new(ns.as_bytes()), ModuleBuffer::new(key.as_bytes()));
        // Safety: live filter on its worker thread; the results are written only on success.
        unsafe {
            match kind {
                K::String => {
                    let mut out = EnvoyBuffer::EMPTY;
                    envoy_dynamic_module_callback_http_get_metadata_string(
                        self.raw(),
                        source,
                        ns,
                        key,
                        &mut out,
                    )
                    .then(|| V { string: out.view(), ..V::string(b"") })
                }
                K::Number => {
                    let mut out = 0.0;
                    envoy_dynamic_module_callback_http_get_metadata_number(
                        self.raw(),
                        source,
                        ns,
                        key,
                        &mut out,
                    )
                    .then(|| V::number(out))
                }
                K::Bool => {
                    let mut out = false;
                    envoy_dynamic_module_callback_http_get_metadata_bool(
                        self.raw(),
                        source,
                        ns,
                        key,
                        &mut out,
                    )
                    .then(|| V::boolean(out))
                }
            }
        }
    }

    /// Sets the stream's filter state `key` (read-only) to `value`.
    pub fn set_filter_state(self, key: &str, value: &[u8]) -> bool {
        // Safety: live filter on its worker thread; Envoy copies both.
        unsafe {
            envoy_dynamic_module_callback_http_set_filter_state_bytes(
                self.raw(),
                ModuleBuffer::new(key.as_bytes()),
                ModuleBuffer::new(value),
            )
        }
    }

    /// The stream's filter state `key` as bytes: a view of Envoy's.
    pub fn filter_state(self, key: &str) -> Option<envoyx_abi::envoyx_bytes> {
        let mut out = EnvoyBuffer::EMPTY;
        // Safety: live filter on its worker thread; `out` is written only on success.
        unsafe {
            envoy_dynamic_module_callback_http_get_filter_state_bytes(
                self.raw(),
                ModuleBuffer::new(key.as_bytes()),
                &mut out,
            )
            .then(|| out.view())
        }
    }

    /// Whether the stream's filter state has `key`. Envoy 1.40 answers for any object
    /// (`has_filter_state`); 1.38 and 1.39 can only be asked for a value: any object with a
    /// string form (the typed getter), a `StringAccessor` (the bytes getter). An object that has
    /// neither reads as absent there (docs/upstream-abi.md).
    pub fn has_filter_state(self, key: &str) -> bool {
        let key = ModuleBuffer::new(key.as_bytes());
        if let Some(has) = has_filter_state_callback() {
            // Safety: live filter on its worker thread; Envoy reads the key during the call.
            return unsafe { has(self.raw(), key) };
        }
        let mut out = EnvoyBuffer::EMPTY;
        // Safety: live filter on its worker thread; `out` is written only on success.
        unsafe {
            envoy_dynamic_module_callback_http_get_filter_state_typed(self.raw(), key, &mut out)
                || envoy_dynamic_module_callback_http_get_filter_state_bytes(self.raw(), key, &mut out)
        }
    }

    /// Has Envoy pick the route again when the request headers go on.
    pub fn clear_route_cache(self) {
        // Safety: live filter on its worker thread.
        unsafe { envoy_dynamic_module_callback_http_clear_route_cache(self.raw()) }
    }

    /// Pins the upstream host (an IP address with port).
    pub fn set_upstream_override_host(self, host: &str, strict: bool) -> bool {
        // Safety: live filter on its worker thread; Envoy copies the host.
        unsafe {
            envoy_dynamic_module_callback_http_set_upstream_override_host(
                self.raw(),
                ModuleBuffer::new(host.as_bytes()),
                strict,
            )
        }
    }

    /// Applies `op` to Envoy's metric `id` (of `kind`) of this filter's config for these label
    /// values (as many as it was defined with); Envoy's refusal otherwise.
    pub fn record_metric(
        self,
        kind: envoyx_core::MetricKind,
        op: envoyx_core::MetricOp,
        id: usize,
        label_values: &[&[u8]],
        value: u64,
    ) -> Result<(), MetricsResult> {
        use envoyx_core::{MetricKind as K, MetricOp as O};
        let call = match (kind, op) {
            (K::Counter, O::Add) => envoy_dynamic_module_callback_http_filter_increment_counter,
            (K::Gauge, O::Add) => envoy_dynamic_module_callback_http_filter_increment_gauge,
            (K::Gauge, O::Subtract) => envoy_dynamic_module_callback_http_filter_decrement_gauge,
            (K::Gauge, O::Set) => envoy_dynamic_module_callback_http_filter_set_gauge,
            (K::Histogram, O::Record) => envoy_dynamic_module_callback_http_filter_record_histogram_value,
            // The core passes only operations that suit the kind.
            _ => return Err(METRICS_INVALID_LABELS),
        };
        let mut labels: Vec<ModuleBuffer> = label_values.iter().map(|l| ModuleBuffer::new(l)).collect();
        // Safety: live filter on its worker thread; Envoy copies the label values.
        let result = unsafe { call(self.raw(), id, labels.as_mut_ptr(), labels.len(), value) };
        if result == METRICS_SUCCESS { Ok(()) } else { Err(result) }
    }

    /// Sends a local reply. Envoy may complete and destroy the filter before this returns.
    /// Starts an HTTP callout to `cluster`; Envoy's id for it, or the init result that refused
    /// it. Envoy answers through `on_http_filter_http_callout_done` on this worker thread, and
    /// cancels it if the filter is destroyed first.
    pub fn http_callout(
        self,
        cluster: &[u8],
        headers: &[(&[u8], &[u8])],
        body: &[u8],
        timeout_ms: u64,
    ) -> Result<u64, CalloutInitResult> {
        // Safety: live filter on its worker thread, inside one of its hooks (type contract).
        unsafe {
            callout(cluster, headers, body, timeout_ms, |id, cluster, headers, count, body, timeout| {
                envoy_dynamic_module_callback_http_filter_http_callout(
                    self.raw(),
                    id,
                    cluster,
                    headers,
                    count,
                    body,
                    timeout,
                )
            })
        }
    }

    /// Opens an HTTP stream to `cluster`: sends the headers, `body` if not empty, and ends the
    /// request if `end_stream`. Envoy's id for it, or the init result that refused it. Envoy
    /// reports on it through the `on_http_filter_http_stream_*` hooks on this worker thread,
    /// possibly inside this call (a request it fails at once), and resets it when the filter is
    /// destroyed (after the destroy hook, so no hook follows).
    pub fn start_http_stream(
        self,
        cluster: &[u8],
        headers: &[(&[u8], &[u8])],
        body: &[u8],
        end_stream: bool,
        timeout_ms: u64,
    ) -> Result<u64, CalloutInitResult> {
        // Safety: live filter on its worker thread, inside one of its hooks (type contract).
        unsafe {
            callout(cluster, headers, body, timeout_ms, |id, cluster, headers, count, body, timeout| {
                envoy_dynamic_module_callback_http_filter_start_http_stream(
                    self.raw(),
                    id,
                    cluster,
                    headers,
                    count,
                    body,
                    end_stream,
                    timeout,
                )
            })
        }
    }

    /// Sends request body bytes on Envoy's HTTP stream `stream_id`; false when Envoy no longer
    /// has it open. Envoy may report a reset inside this call.
    pub fn http_stream_send_data(self, stream_id: u64, data: &[u8], end_stream: bool) -> bool {
        // Safety: live filter on its worker thread; Envoy copies the data.
        unsafe {
            envoy_dynamic_module_callback_http_stream_send_data(
                self.raw(),
                stream_id,
                ModuleBuffer::new(data),
                end_stream,
            )
        }
    }

    /// Ends the request of Envoy's HTTP stream `stream_id` with trailers; false when Envoy no
    /// longer has it open.
    pub fn http_stream_send_trailers(self, stream_id: u64, trailers: &[(&[u8], &[u8])]) -> bool {
        let mut list = HttpHeader::list(trailers.iter().map(|(k, v)| (*k, *v)));
        // Safety: live filter on its worker thread; Envoy copies the trailers.
        unsafe {
            envoy_dynamic_module_callback_http_stream_send_trailers(
                self.raw(),
                stream_id,
                list.as_mut_ptr(),
                list.len(),
            )
        }
    }

    /// Resets Envoy's HTTP stream `stream_id` (Envoy reports the reset through its hook, inside
    /// this call).
    pub fn reset_http_stream(self, stream_id: u64) {
        // Safety: live filter on its worker thread.
        unsafe { envoy_dynamic_module_callback_http_filter_reset_http_stream(self.raw(), stream_id) }
    }

    /// Sends the module's local reply (the core checked it): `status`, `headers`, `body`, and
    /// `details` as the response-code details.
    pub fn send_response(self, status: u32, headers: &[(Vec<u8>, Vec<u8>)], body: &[u8], details: &[u8]) {
        let mut headers = HttpHeader::list(headers.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
        // Safety: live filter on its worker thread; Envoy copies the headers, body and details,
        // which outlive the call.
        unsafe {
            envoy_dynamic_module_callback_http_send_response(
                self.raw(),
                status,
                headers.as_mut_ptr(),
                headers.len(),
                ModuleBuffer::new(body),
                ModuleBuffer::new(details),
            )
        }
    }

    /// Resumes decoding. Envoy may run later filters, and even this filter's response hooks,
    /// before this returns.
    pub fn continue_decoding(self) {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_filter_continue_decoding(self.raw()) }
    }

    /// Resumes encoding (see [`EnvoyFilter::continue_decoding`]).
    pub fn continue_encoding(self) {
        // Safety: live filter on its worker thread (type contract).
        unsafe { envoy_dynamic_module_callback_http_filter_continue_encoding(self.raw()) }
    }

    /// Resets the stream. Envoy may complete and destroy the filter before this returns.
    pub fn reset_stream(self, details: &[u8]) {
        // Safety: live filter on its worker thread; Envoy copies the details.
        unsafe {
            envoy_dynamic_module_callback_http_filter_reset_stream(
                self.raw(),
                RESET_LOCAL_RESET,
                ModuleBuffer::new(details),
            )
        }
    }

    /// The per-route config object (what this host's `per_route_config_new` returned) Envoy
    /// resolves as the most specific for this stream's route; NULL when none.
    pub fn most_specific_route_config(self) -> *const c_void {
        // Safety: live filter on its worker thread, inside one of its hooks.
        unsafe { envoy_dynamic_module_callback_get_most_specific_route_config(self.raw()) }
    }

    /// A scheduler that wakes this stream on its worker thread. Must be called inside an event
    /// hook (Envoy reads the stream's dispatcher, which `on_http_filter_new` does not have yet).
    pub fn new_scheduler(self) -> Option<Scheduler> {
        // Safety: live filter on its worker thread, inside an event hook (see above).
        NonNull::new(unsafe { envoy_dynamic_module_callback_http_filter_scheduler_new(self.raw()) })
            .map(|ptr| Scheduler { ptr, of: SchedulerOf::Stream })
    }
}

/// A scheduler that wakes the main thread for a filter configuration (`on_http_filter_config_
/// scheduled`). Main thread, with the `config_envoy` pointer Envoy passed to config_new.
pub fn new_config_scheduler(config_envoy: ConfigEnvoyPtr) -> Option<Scheduler> {
    // Safety: Envoy's live filter config, on the main thread (config_new).
    NonNull::new(unsafe { envoy_dynamic_module_callback_http_filter_config_scheduler_new(config_envoy) })
        .map(|ptr| Scheduler { ptr, of: SchedulerOf::Config })
}

/// Whose scheduler: a stream's (worker thread) or a filter configuration's (main thread).
#[derive(Clone, Copy)]
enum SchedulerOf {
    Stream,
    Config,
}

/// An Envoy HTTP-filter scheduler: [`Scheduler::commit`] from any thread makes Envoy call
/// `on_http_filter_scheduled` on the stream's worker thread (or `on_http_filter_config_scheduled`
/// on the main thread), or nothing once the filter (config) is gone. Dropping it deletes it.
pub struct Scheduler {
    ptr: NonNull<c_void>,
    of: SchedulerOf,
}

// Safety: Envoy's scheduler commit may be called from any thread; delete happens once, in Drop.
unsafe impl Send for Scheduler {}
// Safety: as above; `commit` takes `&self` and Envoy's commit only posts to a dispatcher.
unsafe impl Sync for Scheduler {}

impl Scheduler {
    pub fn commit(&self, event_id: u64) {
        let commit = match self.of {
            SchedulerOf::Stream => envoy_dynamic_module_callback_http_filter_scheduler_commit,
            SchedulerOf::Config => envoy_dynamic_module_callback_http_filter_config_scheduler_commit,
        };
        // Safety: the scheduler is alive until Drop; commit is callable from any thread.
        unsafe { commit(self.ptr.as_ptr(), event_id) }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        let delete = match self.of {
            SchedulerOf::Stream => envoy_dynamic_module_callback_http_filter_scheduler_delete,
            SchedulerOf::Config => envoy_dynamic_module_callback_http_filter_config_scheduler_delete,
        };
        // Safety: made by the matching scheduler_new, deleted exactly once, here.
        unsafe { delete(self.ptr.as_ptr()) }
    }
}

impl HttpHeader {
    /// Envoy's views of `headers` (which must outlive their use).
    pub fn list<'a>(headers: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Vec<HttpHeader> {
        headers
            .map(|(k, v)| HttpHeader {
                key_ptr: k.as_ptr().cast(),
                key_length: k.len(),
                value_ptr: v.as_ptr().cast(),
                value_length: v.len(),
            })
            .collect()
    }

    /// The same header as EnvoyX's view (Envoy's memory, no copy).
    pub fn view(&self) -> envoyx_abi::envoyx_header {
        envoyx_abi::envoyx_header {
            key: envoyx_abi::envoyx_bytes { ptr: self.key_ptr.cast(), len: self.key_length },
            value: envoyx_abi::envoyx_bytes { ptr: self.value_ptr.cast(), len: self.value_length },
        }
    }
}

impl EnvoyBuffer {
    /// The same bytes as EnvoyX's view (Envoy's memory, no copy).
    pub fn view(&self) -> envoyx_abi::envoyx_bytes {
        envoyx_abi::envoyx_bytes { ptr: self.ptr.cast(), len: self.length }
    }
}

/// `len` entries at `ptr` (empty for NULL).
///
/// # Safety
/// `ptr` is NULL or points at `len` readable entries for `'a`.
pub unsafe fn raw_list<'a, T>(ptr: *const T, len: usize) -> &'a [T] {
    if ptr.is_null() || len == 0 {
        &[]
    } else {
        // Safety: per the caller.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

/// Starts an HTTP callout for the filter configuration `config` (main thread): Envoy's id for
/// it, or the init result that refused it. Envoy answers through
/// `on_http_filter_config_http_callout_done` on the main thread and cancels it with the config.
///
/// # Safety
/// `config` is Envoy's live filter config; called on the main thread.
pub unsafe fn config_http_callout(
    config: ConfigEnvoyPtr,
    cluster: &[u8],
    headers: &[(&[u8], &[u8])],
    body: &[u8],
    timeout_ms: u64,
) -> Result<u64, CalloutInitResult> {
    // Safety: per the caller.
    unsafe {
        callout(cluster, headers, body, timeout_ms, |id, cluster, headers, count, body, timeout| {
            envoy_dynamic_module_callback_http_filter_config_http_callout(
                config, id, cluster, headers, count, body, timeout,
            )
        })
    }
}

/// Opens an HTTP stream for the filter config `config` (main thread), as
/// [`EnvoyFilter::start_http_stream`] does for a filter; Envoy reports on it through the optional
/// `on_http_filter_config_http_stream_*` hooks and resets it when it destroys the config.
///
/// # Safety
/// `config` is Envoy's live filter config; called on the main thread.
pub unsafe fn config_start_http_stream(
    config: ConfigEnvoyPtr,
    cluster: &[u8],
    headers: &[(&[u8], &[u8])],
    body: &[u8],
    end_stream: bool,
    timeout_ms: u64,
) -> Result<u64, CalloutInitResult> {
    // Safety: per the caller.
    unsafe {
        callout(cluster, headers, body, timeout_ms, |id, cluster, headers, count, body, timeout| {
            envoy_dynamic_module_callback_http_filter_config_start_http_stream(
                config, id, cluster, headers, count, body, end_stream, timeout,
            )
        })
    }
}

/// Sends request body bytes on the config's HTTP stream `stream_id`.
///
/// # Safety
/// As for [`config_start_http_stream`].
pub unsafe fn config_stream_send_data(
    config: ConfigEnvoyPtr,
    stream_id: u64,
    data: &[u8],
    end_stream: bool,
) -> bool {
    // Safety: per the caller; Envoy copies the data.
    unsafe {
        envoy_dynamic_module_callback_http_filter_config_stream_send_data(
            config,
            stream_id,
            ModuleBuffer::new(data),
            end_stream,
        )
    }
}

/// Ends the request of the config's HTTP stream `stream_id` with trailers.
///
/// # Safety
/// As for [`config_start_http_stream`].
pub unsafe fn config_stream_send_trailers(
    config: ConfigEnvoyPtr,
    stream_id: u64,
    trailers: &[(&[u8], &[u8])],
) -> bool {
    let mut list = HttpHeader::list(trailers.iter().map(|(k, v)| (*k, *v)));
    // Safety: per the caller; Envoy copies the trailers.
    unsafe {
        envoy_dynamic_module_callback_http_filter_config_stream_send_trailers(
            config,
            stream_id,
            list.as_mut_ptr(),
            list.len(),
        )
    }
}

/// Resets the config's HTTP stream `stream_id` (Envoy reports it inside this call).
///
/// # Safety
/// As for [`config_start_http_stream`].
pub unsafe fn config_reset_http_stream(config: ConfigEnvoyPtr, stream_id: u64) {
    // Safety: per the caller.
    unsafe { envoy_dynamic_module_callback_http_filter_config_reset_http_stream(config, stream_id) }
}

/// Defines a metric of the filter config `config` (main thread, inside Envoy's config-new hook:
/// Envoy freezes stat creation after it): Envoy's id for it, or Envoy's refusal.
///
/// # Safety
/// `config` is Envoy's live filter config, being created; called on the main thread.
pub unsafe fn config_define_metric(
    config: ConfigEnvoyPtr,
    kind: envoyx_core::MetricKind,
    name: &[u8],
    label_names: &[&[u8]],
) -> Result<usize, MetricsResult> {
    use envoyx_core::MetricKind;
    let mut labels: Vec<ModuleBuffer> = label_names.iter().map(|l| ModuleBuffer::new(l)).collect();
    let define = match kind {
        MetricKind::Counter => envoy_dynamic_module_callback_http_filter_config_define_counter,
        MetricKind::Gauge => envoy_dynamic_module_callback_http_filter_config_define_gauge,
        MetricKind::Histogram => envoy_dynamic_module_callback_http_filter_config_define_histogram,
    };
    let mut id = 0usize;
    // Safety: per the caller; Envoy copies the names.
    let result =
        unsafe { define(config, ModuleBuffer::new(name), labels.as_mut_ptr(), labels.len(), &mut id) };
    if result == METRICS_SUCCESS { Ok(id) } else { Err(result) }
}

/// One callout through `call` (Envoy's filter or config callout): the views it needs, Envoy's id.
///
/// # Safety
/// `call` must be callable now (a live filter or config on its thread).
unsafe fn callout(
    cluster: &[u8],
    headers: &[(&[u8], &[u8])],
    body: &[u8],
    timeout_ms: u64,
    call: impl FnOnce(*mut u64, ModuleBuffer, *mut HttpHeader, usize, ModuleBuffer, u64) -> CalloutInitResult,
) -> Result<u64, CalloutInitResult> {
    let mut headers = HttpHeader::list(headers.iter().map(|(k, v)| (*k, *v)));
    let mut id = 0u64;
    // Envoy copies the cluster name, headers and body, which outlive the call; `id` is writable.
    let result = call(
        &mut id,
        ModuleBuffer::new(cluster),
        headers.as_mut_ptr(),
        headers.len(),
        ModuleBuffer::new(body),
        timeout_ms,
    );
    if result == CALLOUT_INIT_SUCCESS { Ok(id) } else { Err(result) }
}
